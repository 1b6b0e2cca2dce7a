#!/usr/bin/env python3
"""SMTP benchmark for sevenport, with Postfix's smtp-sink measured beside it.

A benchmark, not a test: it prints figures and only fails when a run cannot be completed.
Everything runs over 127.0.0.1; every server it starts is stopped before it exits.

Measured, for sevenport and (unless --skip-sink) for smtp-sink:
  * plaintext throughput: 1 KB messages over N concurrent connections, driven by Postfix's
    smtp-source for both servers, once with one message per connection and once with
    connections reused for many messages (smtp-source -d): wall time and messages/s;
  * the server's CPU time per message (utime+stime from /proc/<pid>/stat);
  * memory per idle connection: VmRSS of the server before and after opening K connections
    that read the greeting and then stay idle (plaintext; for sevenport also implicit TLS).
For sevenport alone (smtp-sink speaks neither TLS nor AUTH):
  * STARTTLS + AUTH PLAIN throughput on the submission listener, from this script's own load
    generator (worker processes running concurrent asyncio sessions), in messages/s, and in
    sessions/s with one message per session;
  * the same load generator in plaintext on the smtp listener, to tell the client's cost from
    the cost of TLS;
  * the memory each stored message adds (sevenport keeps mail in memory).

Run scripts/bench-setup.sh first (it installs postfix for smtp-sink and smtp-source).
Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import multiprocessing
import os
import platform
import poplib
import queue
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SMTP_SINK = "/usr/sbin/smtp-sink"
SMTP_SOURCE = "/usr/sbin/smtp-source"
HOST = "127.0.0.1"
TLS_NAME = "localhost"  # the generated server certificate names localhost and 127.0.0.1
MAIL_FROM = "from@example.test"
RCPT_TO = "alice@example.test"
PASSWORD = "alice-password"
CLK_TCK = os.sysconf("SC_CLK_TCK")
IO_TIMEOUT = 20.0  # seconds, for every single socket operation
SINK_BACKLOG = 511  # sevenport listens with a backlog of 511; give smtp-sink the same


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# /proc readings


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the ")" that ends comm: state is field 3, utime field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise BenchError(f"no {key} in /proc/{pid}/status")


def rss_kib(pid: int) -> int:
    return proc_status(pid, "VmRSS")


def proc_children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
            kids += [int(x) for x in f.read().split()]
    return kids


def proc_shape(pid: int) -> str:
    """'1 process, 1 thread': to check that a server does its work in the process we measure."""
    threads = proc_status(pid, "Threads")
    kids = proc_children(pid)
    return f"{1 + len(kids)} process{'es' if kids else ''}, {threads} thread{'s' if threads != 1 else ''}"


def machine_busy_seconds() -> float:
    """CPU seconds spent by the whole machine (every CPU, every process) outside idle and iowait."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / CLK_TCK


def children_cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def self_cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def machine_info() -> dict:
    model = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": os.getloadavg(),
    }


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------
# servers


class Server:
    name = "?"
    pid = 0
    proc: subprocess.Popen | None = None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Sevenport(Server):
    name = "sevenport"

    def __init__(self, binary: Path, state_dir: Path, work: Path, max_connections: int,
                 log_path: Path | None):
        self.work = Path(tempfile.mkdtemp(prefix="sevenport-", dir=work))
        config = subprocess.run([str(binary), "--print-default-config"], capture_output=True,
                                text=True, timeout=30, check=True).stdout
        if "\nmax_connections = " not in config:
            raise BenchError("the default config has no max_connections line to raise")
        lines = [f"max_connections = {max_connections}" if l.startswith("max_connections = ") else l
                 for l in config.splitlines()]
        cfg = self.work / "bench.toml"
        cfg.write_text("\n".join(lines) + "\n")
        ready = self.work / "ready.json"
        self.log_file = open(log_path, "ab") if log_path else None
        self.proc = subprocess.Popen(
            [str(binary), "--ephemeral", "--ready-file", str(ready), "--state-dir", str(state_dir),
             "--config", str(cfg)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.log_file or subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            info = None
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise BenchError(f"sevenport exited with {self.proc.returncode} while starting")
                if ready.exists():
                    with contextlib.suppress(ValueError):
                        info = json.loads(ready.read_text())
                        break
                time.sleep(0.05)
            if info is None:
                raise BenchError("sevenport wrote no ready file within 30 s")
            self.pid = int(info["pid"])
            if self.pid != self.proc.pid:
                raise BenchError(f"ready file pid {self.pid} is not the started process {self.proc.pid}")
            self.ca_file = info["ca_file"]
            self.ports = {name: l["port"] for name, l in info["listeners"].items() if l.get("port")}
            for needed in ("smtp", "submission", "submissions", "pop3"):
                if needed not in self.ports:
                    raise BenchError(f"sevenport has no {needed} listener")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        super().stop()
        if self.log_file:
            self.log_file.close()
            self.log_file = None
        shutil.rmtree(self.work, ignore_errors=True)

    @property
    def smtp_port(self) -> int:
        return self.ports["smtp"]

    def stored_messages(self) -> int:
        """Counts alice's messages over POP3 (STLS, USER/PASS, STAT): proof the mail arrived."""
        ctx = ssl.create_default_context(cafile=self.ca_file)
        pop = poplib.POP3(HOST, self.ports["pop3"], timeout=60)
        try:
            pop.stls(ctx)
            pop.user(RCPT_TO)
            pop.pass_(PASSWORD)
            count, _size = pop.stat()
            return count
        finally:
            with contextlib.suppress(Exception):
                pop.quit()
            with contextlib.suppress(Exception):
                pop.close()


class SmtpSink(Server):
    name = "smtp-sink"

    def __init__(self, max_connections: int):
        self.port = free_port()
        cmd = [SMTP_SINK]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]  # smtp-sink refuses to run as root without it
        cmd += ["-m", str(max_connections), f"{HOST}:{self.port}", str(SINK_BACKLOG)]
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        try:
            deadline = time.monotonic() + 15
            while True:
                if self.proc.poll() is not None:
                    raise BenchError(f"smtp-sink exited with {self.proc.returncode} while starting")
                try:
                    with socket.create_connection((HOST, self.port), timeout=2) as s:
                        s.settimeout(5)
                        if s.recv(512).startswith(b"220"):
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise BenchError("smtp-sink did not greet within 15 s")
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise

    @property
    def smtp_port(self) -> int:
        return self.port


# --------------------------------------------------------------------------------------------
# results


@dataclass
class Run:
    section: str     # "throughput" (smtp-source), "own-client" (plaintext) or "tls"
    server: str
    client: str
    mode: str
    connections: int
    messages: int
    sessions: int
    wall_s: float
    server_cpu_s: float
    client_cpu_s: float
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    verified: str = ""
    process_shape: str = ""
    loadavg: float = 0.0
    machine_cpu_s: float = 0.0  # every CPU, every process, during the run
    client_procs: int = 1       # processes of the client (smtp-source is one)
    errors: int = 0
    note: str = ""

    @property
    def msgs_per_s(self) -> float:
        return self.messages / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def sessions_per_s(self) -> float:
        return self.sessions / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def server_us_per_msg(self) -> float:
        return self.server_cpu_s * 1e6 / self.messages if self.messages else 0.0

    @property
    def server_util(self) -> float:  # of one core
        return self.server_cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def client_util(self) -> float:  # of one core
        return self.client_cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def others_util(self) -> float:  # CPU taken by other processes on the machine, in cores
        if self.wall_s <= 0:
            return 0.0
        return max(0.0, (self.machine_cpu_s - self.server_cpu_s - self.client_cpu_s) / self.wall_s)

    @property
    def bottleneck(self) -> str:
        """A guess at what limited the run: the server's one thread, the client, or the CPUs."""
        cpus = os.cpu_count() or 1
        server = self.server_util >= 0.85
        client = self.client_util >= 0.85 * min(cpus, max(1, self.client_procs))
        if server or client:
            return "server+client" if server and client else "server" if server else "client"
        if self.wall_s > 0 and self.machine_cpu_s / self.wall_s >= 0.85 * cpus:
            return "CPUs" if self.others_util < 0.25 else "CPUs+others"
        return "latency"

    def as_dict(self) -> dict:
        d = asdict(self)
        d.update(msgs_per_s=round(self.msgs_per_s, 1), sessions_per_s=round(self.sessions_per_s, 1),
                 server_us_per_msg=round(self.server_us_per_msg, 1),
                 server_cpu_pct=round(100 * self.server_util, 1),
                 client_cpu_pct=round(100 * self.client_util, 1),
                 others_cpu_pct=round(100 * self.others_util, 1), bottleneck=self.bottleneck)
        return d


@dataclass
class Idle:
    server: str
    kind: str
    connections: int
    rss_before_kib: int
    rss_after_kib: int
    process_shape: str = ""

    @property
    def kib_per_conn(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / self.connections

    def as_dict(self) -> dict:
        d = asdict(self)
        d["kib_per_connection"] = round(self.kib_per_conn, 2)
        return d


@dataclass
class Results:
    runs: list[Run] = field(default_factory=list)
    idle: list[Idle] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# smtp-source runs


def smtp_source(server: Server, sessions: int, messages: int, reuse: bool, size: int,
                timeout: float, verify) -> Run:
    cmd = [SMTP_SOURCE, "-s", str(sessions), "-m", str(messages), "-l", str(size),
           "-f", MAIL_FROM, "-t", RCPT_TO]
    if reuse:
        cmd.append("-d")
    cmd.append(f"{HOST}:{server.smtp_port}")
    load = os.getloadavg()[0]
    rss0 = rss_kib(server.pid)
    cpu0, ccpu0, mcpu0 = proc_cpu_seconds(server.pid), children_cpu_seconds(), machine_busy_seconds()
    t0 = time.monotonic()
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"smtp-source against {server.name} took over {timeout:.0f} s") from None
    wall = time.monotonic() - t0
    cpu1, ccpu1, mcpu1 = proc_cpu_seconds(server.pid), children_cpu_seconds(), machine_busy_seconds()
    rss1 = rss_kib(server.pid)
    shape = proc_shape(server.pid)
    if done.returncode != 0:
        raise BenchError(f"smtp-source against {server.name} failed ({done.returncode}): "
                         f"{(done.stderr or done.stdout).strip()[-500:]}")
    run = Run("throughput", server.name, "smtp-source",
              "reuse connection" if reuse else "1 msg/connection", sessions, messages,
              sessions if reuse else messages, wall, cpu1 - cpu0, ccpu1 - ccpu0, rss0, rss1,
              process_shape=shape, loadavg=load, machine_cpu_s=mcpu1 - mcpu0)
    run.verified = verify(messages)
    return run


# --------------------------------------------------------------------------------------------
# own load generator (STARTTLS + AUTH, or plaintext), asyncio sessions in worker processes


def message_body(size: int) -> bytes:
    head = (f"From: <{MAIL_FROM}>\r\nTo: <{RCPT_TO}>\r\nSubject: sevenport benchmark\r\n"
            "Message-ID: <bench@bench.example.test>\r\n\r\n").encode()
    line = b"x" * 76 + b"\r\n"
    payload = (line * (size // len(line) + 1))[:size]
    if not payload.endswith(b"\r\n"):
        payload = payload[:-2] + b"\r\n"
    return head + payload + b".\r\n"


class SmtpReplyError(Exception):
    pass


async def _session(port: int, ctx: ssl.SSLContext | None, auth: bytes | None, nmsg: int,
                   body: bytes, counts: dict) -> None:
    async with asyncio.timeout(IO_TIMEOUT) as deadline:
        loop = asyncio.get_running_loop()

        def rearm():  # a fresh IO_TIMEOUT for each step: a per-operation timeout, cheaply
            deadline.reschedule(loop.time() + IO_TIMEOUT)

        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            async def reply(expect: int) -> None:
                rearm()
                while True:
                    line = await reader.readline()
                    if len(line) < 4:
                        raise SmtpReplyError(f"connection closed or short reply {line!r}")
                    if line[3:4] != b"-":
                        break
                if int(line[:3]) != expect:
                    raise SmtpReplyError(f"expected {expect}, got {line.strip()!r}")

            async def command(text: bytes, expect: int) -> None:
                writer.write(text)
                await reply(expect)

            await reply(220)
            await command(b"EHLO bench.example.test\r\n", 250)
            if ctx is not None:
                await command(b"STARTTLS\r\n", 220)
                rearm()
                await writer.start_tls(ctx, server_hostname=TLS_NAME)
                await command(b"EHLO bench.example.test\r\n", 250)
            if auth is not None:
                await command(b"AUTH PLAIN " + auth + b"\r\n", 235)
            mail = f"MAIL FROM:<{MAIL_FROM}>\r\n".encode()
            rcpt = f"RCPT TO:<{RCPT_TO}>\r\n".encode()
            for _ in range(nmsg):
                await command(mail, 250)
                await command(rcpt, 250)
                await command(b"DATA\r\n", 354)
                await command(body, 250)
                counts["messages"] += 1
            await command(b"QUIT\r\n", 221)
            counts["sessions"] += 1
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                rearm()
                await writer.wait_closed()


async def _drive(port, ctx, auth, sessions, nmsg, concurrency, body, stop_at) -> dict:
    counts = {"messages": 0, "sessions": 0, "errors": 0, "first_error": ""}
    todo = [sessions]

    async def slot():
        while todo[0] > 0 and time.monotonic() < stop_at:
            todo[0] -= 1
            try:
                await _session(port, ctx, auth, nmsg, body, counts)
            except Exception as e:  # counted and reported; the run goes on
                counts["errors"] += 1
                if not counts["first_error"]:
                    counts["first_error"] = f"{type(e).__name__}: {e}"
                if counts["errors"] > max(10, sessions // 100):
                    todo[0] = 0

    await asyncio.gather(*(slot() for _ in range(concurrency)))
    return counts


def _worker(port, ca_file, use_tls, sessions, nmsg, concurrency, size, stop_in, go, results):
    try:
        ctx = ssl.create_default_context(cafile=ca_file) if use_tls else None
        auth = base64.b64encode(f"\0{RCPT_TO}\0{PASSWORD}".encode()) if use_tls else None
        body = message_body(size)
        if not go.wait(60):
            results.put({"error": "never told to start"})
            return
        cpu0 = self_cpu_seconds()
        counts = asyncio.run(_drive(port, ctx, auth, sessions, nmsg, concurrency, body,
                                    time.monotonic() + stop_in))
        counts["cpu_s"] = self_cpu_seconds() - cpu0
        results.put(counts)
    except BaseException as e:  # report, never hang the parent
        results.put({"error": f"{type(e).__name__}: {e}"})


def own_client(server: Sevenport, port: int, use_tls: bool, connections: int, messages: int,
               per_session: int, size: int, procs: int, timeout: float, mode: str) -> Run:
    sessions = max(1, messages // per_session)
    procs = max(1, min(procs, connections))
    mp = multiprocessing.get_context("fork")
    go, results = mp.Event(), mp.Queue()
    workers = []
    for i in range(procs):
        share = sessions // procs + (1 if i < sessions % procs else 0)
        conc = connections // procs + (1 if i < connections % procs else 0)
        workers.append(mp.Process(target=_worker, daemon=True,
                                  args=(port, server.ca_file, use_tls, share, per_session, conc,
                                        size, timeout, go, results)))
    try:
        for w in workers:
            w.start()
        time.sleep(0.3)  # let the workers build their contexts before the clock starts
        load = os.getloadavg()[0]
        rss0 = rss_kib(server.pid)
        cpu0, mcpu0 = proc_cpu_seconds(server.pid), machine_busy_seconds()
        t0 = time.monotonic()
        go.set()
        got = []
        for _ in workers:
            left = t0 + timeout + 30 - time.monotonic()
            try:
                got.append(results.get(timeout=max(1.0, left)))
            except queue.Empty:
                raise BenchError(f"{mode}: the load generator did not finish within "
                                 f"{timeout + 30:.0f} s") from None
        wall = time.monotonic() - t0
        cpu1, mcpu1 = proc_cpu_seconds(server.pid), machine_busy_seconds()
        rss1 = rss_kib(server.pid)
        shape = proc_shape(server.pid)
    finally:
        for w in workers:
            w.join(timeout=10)
            if w.is_alive():
                w.kill()
                w.join(timeout=5)
    for g in got:
        if "error" in g:
            raise BenchError(f"load generator worker failed: {g['error']}")
    msgs = sum(g["messages"] for g in got)
    done_sessions = sum(g["sessions"] for g in got)
    errors = sum(g["errors"] for g in got)
    first = next((g["first_error"] for g in got if g["first_error"]), "")
    if msgs == 0:
        raise BenchError(f"{mode}: no message went through ({first or 'no error reported'})")
    run = Run("tls" if use_tls else "own-client", "sevenport", f"python asyncio x{procs}", mode,
              connections, msgs, done_sessions, wall, cpu1 - cpu0,
              sum(g["cpu_s"] for g in got), rss0, rss1, process_shape=shape, loadavg=load,
              machine_cpu_s=mcpu1 - mcpu0, client_procs=procs, errors=errors, note=first)
    return run


# --------------------------------------------------------------------------------------------
# idle connections


def _read_greeting(sock) -> None:
    buf = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            raise BenchError("server closed an idle connection before its greeting")
        buf += chunk
        for line in buf.split(b"\r\n")[:-1]:
            if line.startswith(b"220 "):
                return
            if not line.startswith(b"220-"):
                raise BenchError(f"unexpected greeting {line[:80]!r}")


def _open(port: int, ctx: ssl.SSLContext | None):
    raw = socket.create_connection((HOST, port), timeout=IO_TIMEOUT)
    try:
        sock = ctx.wrap_socket(raw, server_hostname=TLS_NAME) if ctx else raw
        _read_greeting(sock)
        return sock
    except BaseException:
        raw.close()
        raise


def idle_connections(server: Server, port: int, count: int, ctx: ssl.SSLContext | None,
                     kind: str) -> Idle:
    socks = []
    try:
        for _ in range(16):  # warm-up: first-use allocations are not per-connection cost
            _open(port, ctx).close()
        time.sleep(0.5)
        before = rss_kib(server.pid)
        for _ in range(count):
            socks.append(_open(port, ctx))
        time.sleep(0.5)
        after = rss_kib(server.pid)
        for s in socks[:: max(1, count // 20)]:  # still open, not closed by the server
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    raise BenchError(f"{server.name} closed an idle {kind} connection")
            except (BlockingIOError, ssl.SSLWantReadError):
                pass
        return Idle(server.name, kind, count, before, after, proc_shape(server.pid))
    finally:
        for s in socks:
            with contextlib.suppress(OSError):
                s.close()


# --------------------------------------------------------------------------------------------
# the benchmark


def bench(args, results: Results, work: Path) -> None:
    state_dir = work / "state"  # one local CA for every sevenport started by this run
    log_path = Path(args.server_log).resolve() if args.server_log else None
    max_conn = max(1000, args.idle + max(args.connections) + 200)

    binary = work / "sevenport"  # main() copied it there

    def sevenport():
        return Sevenport(binary, state_dir, work, max_conn, log_path)

    def sink():
        return SmtpSink(max(256, args.idle + max(args.connections) + 64))

    timeout = args.run_timeout
    say = lambda text: print(text, file=sys.stderr, flush=True)

    # Throughput with smtp-source: a fresh server for every run, the two servers alternating.
    for reuse in [m == "reuse" for m in ("single", "reuse") if f"source-{m}" in args.only]:
        messages = args.messages if reuse else args.messages_single
        for conns in args.connections:
            for _ in range(args.repeat):
                for which in ("sevenport", "smtp-sink"):
                    if which == "smtp-sink" and args.skip_sink:
                        continue
                    mode = "reuse" if reuse else "1 msg/conn"
                    say(f"  {which}: smtp-source, {mode}, {conns} connections, {messages} messages")
                    with (sevenport() if which == "sevenport" else sink()) as srv:
                        if which == "sevenport":
                            def verify(n, srv=srv):
                                got = srv.stored_messages()
                                if got != n:
                                    raise BenchError(f"sevenport stored {got} of {n} messages")
                                return f"POP3 STAT: {got}"
                        else:
                            verify = lambda n: "smtp-source exit 0"
                        results.runs.append(smtp_source(srv, conns, messages, reuse, args.size,
                                                        timeout, verify))

    # Own load generator: plaintext on smtp, STARTTLS + AUTH PLAIN on submission.
    for conns in args.connections if "own" in args.only else []:
        for _ in range(args.repeat):
            for label, use_tls, per_session, total in (
                    ("plaintext, reuse", False, max(1, args.messages // conns), args.messages),
                    ("STARTTLS+AUTH, reuse", True, max(1, args.tls_messages // conns),
                     args.tls_messages),
                    ("STARTTLS+AUTH, 1 msg/session", True, 1, args.tls_sessions)):
                say(f"  sevenport: own client, {label}, {conns} connections, {total} messages")
                with sevenport() as srv:
                    port = srv.ports["submission"] if use_tls else srv.ports["smtp"]
                    run = own_client(srv, port, use_tls, conns, total, per_session, args.size,
                                     args.client_procs, timeout, label)
                    got = srv.stored_messages()
                    if got != run.messages:
                        raise BenchError(f"sevenport stored {got}, the client counted {run.messages}")
                    run.verified = f"POP3 STAT: {got}"
                    results.runs.append(run)

    # Idle connections, each on a fresh server that has stored nothing.
    if "idle" not in args.only:
        return
    with sevenport() as srv:
        say(f"  sevenport: {args.idle} idle plaintext connections")
        results.idle.append(idle_connections(srv, srv.ports["smtp"], args.idle, None, "plaintext"))
    with sevenport() as srv:
        say(f"  sevenport: {args.idle} idle implicit-TLS connections")
        ctx = ssl.create_default_context(cafile=srv.ca_file)
        results.idle.append(idle_connections(srv, srv.ports["submissions"], args.idle, ctx,
                                             "implicit TLS"))
    if not args.skip_sink:
        with sink() as srv:
            say(f"  smtp-sink: {args.idle} idle plaintext connections")
            results.idle.append(idle_connections(srv, srv.port, args.idle, None, "plaintext"))


# --------------------------------------------------------------------------------------------
# report


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    right = [i >= 3 for i in range(len(headers))]
    fmt = lambda cells: "  ".join(c.rjust(w) if right[i] else c.ljust(w)
                                  for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([fmt(headers), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def report(args, results: Results, info: dict) -> str:
    out = []
    log = args.server_log or "/dev/null"
    out.append(f"sevenport SMTP benchmark: {info['cpus']} CPUs ({info['cpu_model']}), "
               f"Linux {info['kernel']}, Python {info['python']}")
    out.append(f"binary {info['binary']}")
    out.append(f"session log to {log}; {args.size}-byte message payload; "
               f"load average {info['loadavg_at_start'][0]:.2f} at start, "
               f"{info['loadavg_at_end'][0]:.2f} at end")
    if any(r.section == "throughput" for r in results.runs):
        out.append("")
        out.append("Throughput, plaintext, client smtp-source (same client for both servers)")
        rows = []
        for r in results.runs:
            if r.section != "throughput":
                continue
            rows.append([r.server, r.mode, str(r.connections), str(r.messages), f"{r.wall_s:.2f}",
                         f"{r.msgs_per_s:,.0f}", f"{r.server_us_per_msg:.1f}",
                         f"{100 * r.server_util:.0f}%", f"{100 * r.client_util:.0f}%",
                         f"{100 * r.others_util:.0f}%", r.bottleneck])
        out.append(table(["server", "mode", "conns", "msgs", "wall s", "msgs/s", "srv CPU us/msg",
                          "srv CPU", "client CPU", "others", "bound by"], rows))
    if any(r.section != "throughput" for r in results.runs):
        out.append("")
        out.append("sevenport with this script's load generator "
                   f"({args.client_procs} asyncio worker processes)")
        rows = []
        for r in results.runs:
            if r.section == "throughput":
                continue
            rows.append([r.server, r.mode, str(r.connections), str(r.messages),
                         f"{r.wall_s:.2f}", f"{r.msgs_per_s:,.0f}", f"{r.sessions_per_s:,.0f}",
                         f"{r.server_us_per_msg:.1f}", f"{100 * r.server_util:.0f}%",
                         f"{100 * r.client_util:.0f}%", f"{100 * r.others_util:.0f}%",
                         r.bottleneck, str(r.errors) if r.errors else ""])
        out.append(table(["server", "mode", "conns", "msgs", "wall s", "msgs/s", "sessions/s",
                          "srv CPU us/msg", "srv CPU", "client CPU", "others", "bound by",
                          "errors"], rows))
    if results.runs:
        out.append("(CPU columns: share of one core during the run; \"others\" = every other "
                   "process on the machine. \"bound by\": server = its one thread saturated, "
                   "client = the client saturated, CPUs = all cores busy, +others = much of it by "
                   "other processes, latency = nothing saturated)")
    if results.idle:
        out.append("")
        out.append("Memory per idle connection (server VmRSS, after - before, / connections)")
        rows = [[i.server, i.kind, str(i.connections), f"{i.rss_before_kib:,}",
                 f"{i.rss_after_kib:,}", f"{i.kib_per_conn:.2f}"] for i in results.idle]
        out.append(table(["server", "kind", "conns", "RSS before KiB", "RSS after KiB",
                          "KiB/conn"], rows))
    stored = [r for r in results.runs if r.server == "sevenport" and r.section == "throughput"
              and r.mode == "reuse connection"]
    if stored:
        out.append("")
        per = [(r.rss_after_kib - r.rss_before_kib) * 1024 / r.messages for r in stored]
        out.append(f"sevenport keeps mail in memory: RSS grows by {statistics.median(per):,.0f} "
                   f"bytes per stored {args.size}-byte message (median of {len(per)} reuse runs; "
                   f"a message is stored with its headers and a Received line)")
    if results.runs:
        out.append("")
        out += side_by_side(results)
    out.append("")
    out.append("Targets")
    out += targets(results)
    shapes = sorted({f"{r.server}: {r.process_shape}" for r in results.runs} |
                    {f"{i.server}: {i.process_shape}" for i in results.idle})
    out.append("")
    out.append("Processes measured (children would escape the CPU figures): " + "; ".join(shapes))
    return "\n".join(out)


def side_by_side(results: Results) -> list[str]:
    """One line per (client, mode, connections): medians, sevenport beside smtp-sink."""
    groups: dict[tuple, dict] = {}
    for r in results.runs:
        groups.setdefault((r.client, r.mode, r.connections), {}).setdefault(r.server, []).append(r)
    med = lambda runs, f: statistics.median(f(r) for r in runs) if runs else None
    num = lambda v, spec: "-" if v is None else format(v, spec)
    rows = []
    for (client, mode, conns), by in groups.items():
        s, k = by.get("sevenport", []), by.get("smtp-sink", [])
        rows.append([client, mode, str(conns), str(max(len(s), len(k))),
                     num(med(s, lambda r: r.msgs_per_s), ",.0f"),
                     num(med(k, lambda r: r.msgs_per_s), ",.0f"),
                     num(med(s, lambda r: r.server_us_per_msg), ".1f"),
                     num(med(k, lambda r: r.server_us_per_msg), ".1f"),
                     num(med(s, lambda r: r.sessions_per_s), ",.0f") if "session" in mode else ""])
    lines = ["Summary (medians; 1 KB messages; srv CPU = server CPU time per message)"]
    lines.append(table(["client", "mode", "conns", "runs", "sevenport msgs/s", "smtp-sink msgs/s",
                        "sevenport us/msg", "smtp-sink us/msg", "sessions/s"], rows))
    return lines


def targets(results: Results) -> list[str]:
    lines = []
    pairs: dict[tuple, dict] = {}
    for r in results.runs:
        if r.section == "throughput":
            pairs.setdefault((r.mode, r.connections), {}).setdefault(r.server, []).append(r)
    for (mode, conns), by in sorted(pairs.items()):
        if "sevenport" not in by or "smtp-sink" not in by:
            continue
        s = statistics.median(r.msgs_per_s for r in by["sevenport"])
        k = statistics.median(r.msgs_per_s for r in by["smtp-sink"])
        sc = statistics.median(r.server_us_per_msg for r in by["sevenport"])
        kc = statistics.median(r.server_us_per_msg for r in by["smtp-sink"])
        ok_rate = "met" if s >= k * 0.97 else "MISSED"
        ok_cpu = "met" if sc <= kc * 1.03 else "MISSED"
        lines.append(f"  {mode}, {conns} conns: msgs/s {s:,.0f} vs smtp-sink {k:,.0f} ({ok_rate}); "
                     f"CPU {sc:.1f} vs {kc:.1f} us/msg ({ok_cpu})")
    for i in results.idle:
        if i.server != "sevenport":
            continue
        limit = 8 if i.kind == "plaintext" else 40
        lines.append(f"  idle {i.kind}: {i.kib_per_conn:.2f} KiB/conn, target < {limit} KiB "
                     f"({'met' if i.kib_per_conn < limit else 'MISSED'})")
    lines.append("  (\"met\" allows 3% measurement noise)")
    return lines


# --------------------------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="SMTP benchmark: sevenport beside Postfix's smtp-sink (run "
                    "scripts/bench-setup.sh first).")
    p.add_argument("--binary", type=Path, default=REPO / "build" / "sevenport",
                   help="the sevenport binary (default: build/sevenport in the repository)")
    p.add_argument("--connections", default="20,50",
                   help="concurrent connections, comma-separated list (default 20,50)")
    p.add_argument("--messages", type=int, default=20000,
                   help="messages per run when connections are reused (default 20000)")
    p.add_argument("--messages-single", type=int, default=None,
                   help="messages per run in the one-message-per-connection mode (default: --messages/2)")
    p.add_argument("--tls-messages", type=int, default=None,
                   help="messages per STARTTLS+AUTH run with reused sessions (default: --messages/2)")
    p.add_argument("--tls-sessions", type=int, default=None,
                   help="one-message STARTTLS+AUTH sessions per run (default: --messages/10)")
    p.add_argument("--idle", type=int, default=1000,
                   help="idle connections for the memory figures (default 1000)")
    p.add_argument("--size", type=int, default=1024, help="message payload in bytes (default 1024)")
    p.add_argument("--repeat", type=int, default=None,
                   help="run every throughput measurement this many times; the summary shows "
                        "medians (default 3, with --quick 1)")
    p.add_argument("--client-procs", type=int, default=os.cpu_count() or 1,
                   help="worker processes of the own load generator (default: one per CPU)")
    p.add_argument("--skip-sink", action="store_true", help="measure sevenport only")
    p.add_argument("--quick", action="store_true",
                   help="short run: 2000 messages, 300 idle connections, 20 connections, "
                        "no repeats")
    p.add_argument("--server-log", metavar="FILE",
                   help="append sevenport's session log here (default: /dev/null)")
    p.add_argument("--run-timeout", type=float, default=300,
                   help="seconds one run may take before it is abandoned (default 300)")
    p.add_argument("--only", default="source-single,source-reuse,own,idle",
                   help="comma-separated parts to run: source-single (smtp-source, one message "
                        "per connection), source-reuse (smtp-source -d), own (own load generator: "
                        "plaintext and STARTTLS+AUTH), idle (idle-connection memory); default all")
    p.add_argument("--json", metavar="FILE", help="also write every figure to FILE as JSON")
    args = p.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.quick:
        args.messages, args.idle = min(args.messages, 2000), min(args.idle, 300)
        if args.connections == "20,50":
            args.connections = "20"
    try:
        args.connections = [int(x) for x in str(args.connections).split(",") if x.strip()]
    except ValueError:
        p.error("--connections takes numbers separated by commas")
    if not args.connections or min(args.connections) < 1:
        p.error("--connections needs at least one positive number")
    args.only = {x.strip() for x in args.only.split(",") if x.strip()}
    unknown = args.only - {"source-single", "source-reuse", "own", "idle"}
    if unknown or not args.only:
        p.error(f"--only: unknown part {', '.join(sorted(unknown)) or '(none given)'}")
    args.messages_single = args.messages_single or max(1, args.messages // 2)
    args.tls_messages = args.tls_messages or max(1, args.messages // 2)
    args.tls_sessions = args.tls_sessions or max(1, args.messages // 10)
    for name in ("messages", "idle", "size", "repeat", "client_procs"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    args.binary = args.binary.resolve()
    return args


def main(argv=None) -> int:
    if sys.version_info < (3, 11):
        print("bench_smtp: needs Python 3.11 or later (asyncio.timeout, StreamWriter.start_tls)",
              file=sys.stderr)
        return 2
    args = parse_args(argv)
    if not os.access(args.binary, os.X_OK):
        print(f"bench_smtp: no sevenport binary at {args.binary} (build it, or pass --binary)",
              file=sys.stderr)
        return 2
    if not os.access(SMTP_SOURCE, os.X_OK) or (not args.skip_sink and not os.access(SMTP_SINK, os.X_OK)):
        print(f"bench_smtp: {SMTP_SOURCE} and {SMTP_SINK} are needed: run scripts/bench-setup.sh",
              file=sys.stderr)
        return 2
    nofile = raise_nofile()
    need = args.idle + max(args.connections) * 2 + 200
    if nofile < need:
        print(f"bench_smtp: RLIMIT_NOFILE is {nofile}, {need} needed; lower --idle",
              file=sys.stderr)
        return 2

    def terminate(signum, _frame):  # unwind through every finally: servers stopped, files removed
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    info = machine_info()
    results = Results()
    work = Path(tempfile.mkdtemp(prefix="bench-smtp-"))
    print(f"bench_smtp: running (binary {args.binary})", file=sys.stderr, flush=True)
    try:
        # A private copy of the binary: a rebuild during the run cannot change what is measured.
        shutil.copy2(args.binary, work / "sevenport")
        digest = hashlib.sha256((work / "sevenport").read_bytes()).hexdigest()[:12]
        built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(args.binary.stat().st_mtime))
        info["binary"] = f"{args.binary} (built {built}, sha256 {digest})"
        bench(args, results, work)
    except BenchError as e:
        print(f"bench_smtp: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    info["loadavg_at_end"] = os.getloadavg()
    text = report(args, results, info)
    print(text)
    if args.json:
        doc = {"machine": info, "binary": str(args.binary),
               "session_log": args.server_log or "/dev/null",
               "settings": {k: v for k, v in vars(args).items() if k not in ("binary",)},
               "runs": [r.as_dict() for r in results.runs],
               "idle": [i.as_dict() for i in results.idle]}
        Path(args.json).write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
