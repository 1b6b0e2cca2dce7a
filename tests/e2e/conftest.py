"""Fixtures for end-to-end tests: the real sevenport binary on ephemeral loopback ports.

The server is started with --ephemeral --ready-file; tests wait on its stdout ("Ready.") and on
session-log lines read from its stderr by a background thread, never on a sleep.
"""

import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

# Set when the binary is built with AddressSanitizer: memory figures are not meaningful then.
SANITIZED = os.environ.get("SEVENPORT_SANITIZED") == "1"

BIN = os.environ.get("SEVENPORT_BIN") or str(Path(__file__).resolve().parents[2] / "build" / "sevenport")

USERS = {"alice@example.test": "alice-secret", "bob@example.test": "bob-secret"}


class Sevenport:
    """A running sevenport process and what it said."""

    def __init__(self, tmp: Path, extra_args=(), config_text=None, users=USERS, ports=("--ephemeral",)):
        """users: the --user accounts to add (None: the config's own); ports: how ports are
        chosen (--ephemeral, or --port-offset N)."""
        self.tmp = tmp
        tmp.mkdir(parents=True, exist_ok=True)
        self.state_dir = tmp / "state"
        self.ready_file = tmp / "ready.json"
        args = [BIN, *ports, "--ready-file", str(self.ready_file), "--state-dir", str(self.state_dir)]
        if config_text is not None:
            cfg = tmp / "sevenport.toml"
            cfg.write_text(config_text)
            args += ["--config", str(cfg)]
        for address, password in (users or {}).items():
            args += ["--user", f"{address}:{password}"]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        self.log_lines = []
        self.stdout_lines = []
        self._cond = threading.Condition()
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.log_lines), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout_lines), daemon=True),
        ]
        for t in self._readers:
            t.start()
        if not self._wait(lambda: any(l.startswith("Ready.") for l in self.stdout_lines), 30):
            self.stop()
            raise RuntimeError("sevenport did not start:\n" + "\n".join(self.stdout_lines + self.log_lines))
        self.info = json.loads(self.ready_file.read_text())
        self.ca_file = self.info["ca_file"]

    def _pump(self, stream, sink):
        for line in stream:
            with self._cond:
                sink.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _wait(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not any(t.is_alive() for t in self._readers)):
                    return predicate()
                self._cond.wait(min(left, 0.5))
            return True

    def port(self, name):
        return self.info["listeners"][name]["port"]

    def wait_log(self, pattern, timeout=5.0, count=1):
        """Waits until `count` session-log lines match `pattern` (a regex); returns the first.

        Log lines are flushed once per loop iteration, after the replies of that iteration were
        written: a client can see a reply before the line about it, so tests wait for lines."""
        rx = re.compile(pattern)
        found = []

        def match():
            found[:] = [line for line in self.log_lines if rx.search(line)]
            return len(found) >= count

        if not self._wait(match, timeout):
            raise AssertionError(f"fewer than {count} log lines matching {pattern!r}; log:\n"
                                 + "\n".join(self.log_lines[-40:]))
        return found[0]

    def log_text(self):
        with self._cond:
            return "\n".join(self.log_lines)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self._readers:
            t.join(timeout=5)
        # UBSan reports and carries on: any report fails the run like a crash would.
        reports = [l for l in self.log_lines if "runtime error:" in l or "Sanitizer" in l]
        assert not reports, "sanitizer reports:\n" + "\n".join(reports)
        return self.proc.returncode


@pytest.fixture(scope="module")
def sevenport(tmp_path_factory):
    server = Sevenport(tmp_path_factory.mktemp("sevenport"))
    yield server
    assert server.stop() == 0, "sevenport did not exit cleanly:\n" + server.log_text()


@pytest.fixture
def start_sevenport(tmp_path):
    """Starts a server with its own arguments/config for one test."""
    servers = []

    def start(extra_args=(), config_text=None):
        s = Sevenport(tmp_path / f"s{len(servers)}", extra_args, config_text)
        servers.append(s)
        return s

    yield start
    for s in servers:
        assert s.stop() == 0, "sevenport did not exit cleanly:\n" + s.log_text()
