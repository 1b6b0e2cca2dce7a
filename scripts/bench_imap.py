#!/usr/bin/env python3
"""IMAP benchmark for sevenport, with Dovecot measured beside it.

A benchmark, not a test: it prints figures and only fails when a run cannot be completed.
Everything runs over 127.0.0.1; every server it starts is stopped before it exits, and its
temporary directory (certificates, Dovecot's config, maildirs, logs) is removed.

Measured, for sevenport and (unless --skip-dovecot) for Dovecot, each in plaintext (LOGIN allowed
without TLS) and over implicit TLS (the imaps port):
  * IMAP sessions per second: --concurrency sessions at a time, each one connect, (TLS
    handshake), LOGIN, SELECT INBOX, FETCH 1 (BODY[]), LOGOUT; sessions/s, and the server's CPU
    time per session;
  * FETCH throughput: 1 and N sessions, each logged in and selected on a mailbox of --messages
    messages of about --message-size bytes, sending FETCH 1:* (BODY.PEEK[]) again and again;
    MB/s and messages/s of message data received, and the server's CPU time per MB.

Server CPU time is utime+stime from /proc: for sevenport its one process; for Dovecot the whole
process tree under the master (imap-login, auth, config, log, anvil, stats and every imap
process), including processes that exited during the run (their time is in the master's
cutime/cstime once it has reaped them). See tree_cpu_seconds().

Dovecot (Debian's dovecot-imapd) runs privately in the foreground as `dovecot -F -c CONF`, with
its own config, maildirs and logs in a temporary directory, on free loopback ports; never the
system service. It is measured in two configurations (--dovecot-mode):
  * "default": Dovecot's stock process model, service_count = 1 for imap-login and imap (a
    fresh login process and a fresh imap process for every connection);
  * "performance": imap-login in high-performance mode (service_count = 0, process_min_avail =
    one per CPU), imap processes reused (service_count = 0) and pre-started (process_min_avail =
    concurrency), auth cache on, mail_fsync = never.
The summary compares sevenport with Dovecot's better configuration for each figure.

Run scripts/bench-setup.sh first (it installs dovecot-imapd). Needs root for Dovecot (it runs
its processes as dovenull/dovecot and the mail user nobody). Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import imaplib
import json
import logging
import multiprocessing
import os
import platform
import pwd
import grp
import resource
import shutil
import signal
import smtplib
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
DOVECOT = "/usr/sbin/dovecot"
DOVECOT_DH = Path("/usr/share/dovecot/dh.pem")
HOST = "127.0.0.1"
TLS_NAME = "localhost"  # sevenport's generated server certificate names localhost and 127.0.0.1
DOMAIN = "example.test"
PASSWORD = "bench-password"
BULK_USER = f"bulk@{DOMAIN}"  # the mailbox of the FETCH throughput runs
MAIL_FROM = f"sender@{DOMAIN}"
CLK_TCK = os.sysconf("SC_CLK_TCK")
IO_TIMEOUT = 20.0  # seconds, for every single command (connect and handshake included)
MB = 1e6


class BenchError(Exception):
    pass


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# /proc readings


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def _own_and_reaped_ticks(pid: int) -> tuple[int, int]:
    """(utime+stime, cutime+cstime) of a process, in clock ticks. After the ')' that ends comm,
    fields[0] is the state (field 3 of proc(5)), so utime, stime, cutime, cstime (fields 14-17)
    are fields[11:15]."""
    f = _stat_fields(pid)
    return int(f[11]) + int(f[12]), int(f[13]) + int(f[14])


def proc_children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(x) for x in f.read().split()]
    return sorted(kids)


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used by a process and every process it ever started.

    = the process's own utime+stime
    + its cutime+cstime: every child it has already reaped (with their reaped children)
    + for each live (or not yet reaped) child: its utime+stime+cutime+cstime.
    Dovecot's master starts every Dovecot process itself (imap-login, auth, imap, ...), so this is
    all of Dovecot. A child reaped while we read would be counted twice or not at all, so the
    reading is repeated until the master's figures and its list of children are the same before
    and after reading the children: a consistent snapshot."""
    for _ in range(200):
        own0, reaped0 = _own_and_reaped_ticks(pid)
        kids = proc_children(pid)
        total, vanished = 0, False
        for k in kids:
            try:
                a, b = _own_and_reaped_ticks(k)
                total += a + b
            except (OSError, IndexError, ValueError):
                vanished = True
                break
        own1, reaped1 = _own_and_reaped_ticks(pid)
        if not vanished and reaped0 == reaped1 and kids == proc_children(pid):
            return (own1 + reaped1 + total) / CLK_TCK
        time.sleep(0.002)
    raise BenchError(f"no consistent CPU reading of process tree {pid}")


def tree_shape(pid: int) -> str:
    """'dovecot + 3 imap-login, 20 imap, auth, ...': what the figures were summed over."""
    names: dict[str, int] = {}
    for k in proc_children(pid):
        with contextlib.suppress(OSError):
            with open(f"/proc/{k}/comm") as f:
                n = f.read().strip()
            names[n] = names.get(n, 0) + 1
    with open(f"/proc/{pid}/comm") as f:
        me = f.read().strip()
    with open(f"/proc/{pid}/status") as f:
        threads = next((l.split()[1] for l in f if l.startswith("Threads:")), "?")
    if not names:
        return f"{me}: 1 process, {threads} thread{'s' if threads != '1' else ''}"
    kids = ", ".join(f"{c} {n}" if c > 1 else n for n, c in sorted(names.items()))
    return f"{me} + {sum(names.values())} children ({kids})"


def tree_rss_kib(pid: int) -> int:
    total = 0
    for p in [pid] + proc_children(pid):
        with contextlib.suppress(OSError), open(f"/proc/{p}/status") as f:
            total += next((int(l.split()[1]) for l in f if l.startswith("VmRSS:")), 0)
    return total


def machine_busy_seconds() -> float:
    """CPU seconds spent by the whole machine (every CPU, every process) outside idle and iowait."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / CLK_TCK


def wait_for_quiet(limit: float, threshold: float = 0.15, span: float = 2.0) -> bool:
    """Waits (at most limit seconds) until the whole machine has used less than `threshold` of a
    core for `span` seconds: another build or benchmark would otherwise share the CPUs with the
    run. Called while the servers are idle. False if the machine never went quiet."""
    deadline = time.monotonic() + limit
    prev, tprev, quiet_since = machine_busy_seconds(), time.monotonic(), None
    while time.monotonic() < deadline:
        time.sleep(0.25)
        cur, now = machine_busy_seconds(), time.monotonic()
        if (cur - prev) / (now - tprev) < threshold:
            quiet_since = quiet_since or tprev
            if now - quiet_since >= span:
                return True
        else:
            quiet_since = None
        prev, tprev = cur, now
    return False


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
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "python": platform.python_version(), "loadavg_at_start": os.getloadavg()}


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
# test mail


WORDS = ("the quick brown fox jumps over a lazy dog while sevenport serves mail to many clients "
         "over loopback and every message here is made up for a benchmark of imap sessions "
         "fetch throughput tls handshakes login select logout").split()


def make_message(n: int, size: int, to: str) -> bytes:
    """A plain-text message of about `size` bytes, CRLF line ends, deterministic content."""
    head = (f"From: Benchmark <{MAIL_FROM}>\r\nTo: <{to}>\r\n"
            f"Subject: benchmark message {n}\r\nDate: Sat, 01 Jan 2000 00:00:00 +0000\r\n"
            f"Message-ID: <bench-{n}@{DOMAIN}>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n").encode()
    lines, length, i = [], len(head), n
    while length < size:
        words = []
        while sum(len(w) + 1 for w in words) < 66:
            words.append(WORDS[(i * 7 + len(words) * 13) % len(WORDS)])
            i += 1
        line = (" ".join(words) + "\r\n").encode()
        lines.append(line)
        length += len(line)
    return head + b"".join(lines)


# --------------------------------------------------------------------------------------------
# servers


class Server:
    name = "?"
    label = "?"  # name plus configuration
    pid = 0
    proc: subprocess.Popen | None = None
    ports: dict[str, int]
    ca_file = ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def quiesce(self) -> None:
        """Waits until the work of the last run is over (processes that exit after LOGOUT)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def sevenport_config(max_connections: int) -> str:
    return f"""\
# sevenport, as the IMAP benchmark runs it: SMTP to deliver the test mail, IMAP with LOGIN
# allowed in plaintext, and IMAP over implicit TLS. --ephemeral replaces every port.
hostname = "localhost"
local_domains = ["{DOMAIN}"]
max_connections = {max_connections}

[listeners.smtp]
protocol = "smtp"
port = 25
security = "none"
role = "mx"

[listeners.imap]
protocol = "imap"
port = 143
security = "none"
auth_requires_tls = false

[listeners.imaps]
protocol = "imap"
port = 993
security = "implicit"
"""


class Sevenport(Server):
    name = label = "sevenport"

    def __init__(self, binary: Path, state_dir: Path, work: Path, users: list[str],
                 max_connections: int, log_path: Path | None):
        self.work = Path(tempfile.mkdtemp(prefix="sevenport-", dir=work))
        cfg = self.work / "bench.toml"
        cfg.write_text(sevenport_config(max_connections))
        ready = self.work / "ready.json"
        self.log_file = open(log_path, "ab") if log_path else None
        cmd = [str(binary), "--ephemeral", "--ready-file", str(ready), "--state-dir",
               str(state_dir), "--config", str(cfg)]
        for u in users:
            cmd += ["--user", f"{u}:{PASSWORD}"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
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
            for needed in ("smtp", "imap", "imaps"):
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

    def deliver(self, user: str, messages: list[bytes]) -> None:
        with smtplib.SMTP(HOST, self.ports["smtp"], timeout=60) as smtp:
            smtp.ehlo("bench.example.test")
            for m in messages:
                smtp.sendmail(MAIL_FROM, [user], m)


DOVECOT_MODES = {
    # Dovecot's stock process model: one login process and one imap process per connection.
    "default": {
        "login": {"service_count": 1},
        "imap": {"service_count": 1},
        "auth": {},
        "global": {},
    },
    # Dovecot's own advice for speed: login processes in high-performance mode (each serves many
    # connections), imap processes reused (all users share one uid, so this is allowed) and
    # started in advance, authentication results cached, no fsync.
    "performance": {
        "login": {"service_count": 0, "process_min_avail": "{cpus}", "vsz_limit": "1G"},
        "imap": {"service_count": 0, "process_min_avail": "{concurrency}"},
        "auth": {"client_limit": 4096},  # room for every reused process (else Dovecot warns)
        "global": {"auth_cache_size": "10M", "mail_fsync": "never"},
    },
}


class Dovecot(Server):
    name = "dovecot"

    def __init__(self, work: Path, mode: str, users: list[str], cert: Path, key: Path,
                 ca_file: str, concurrency: int):
        self.mode = mode
        self.label = f"dovecot ({mode})"
        self.ca_file = ca_file
        self.dir = Path(tempfile.mkdtemp(prefix=f"dovecot-{mode}-", dir=work))
        self.dir.chmod(0o755)  # its processes run as dovenull, dovecot and nobody
        nobody = pwd.getpwnam("nobody")
        uid, gid = nobody.pw_uid, grp.getgrgid(nobody.pw_gid).gr_gid
        mail = self.dir / "mail"
        mail.mkdir()
        os.chown(mail, uid, gid)
        shutil.copyfile(cert, self.dir / "server.pem")
        shutil.copyfile(key, self.dir / "server-key.pem")
        (self.dir / "server-key.pem").chmod(0o600)
        (self.dir / "users").write_text("".join(
            f"{u}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{mail}/{u}::\n" for u in users))
        self.ports = {"imap": free_port(), "imaps": free_port()}
        self.conf = self.dir / "dovecot.conf"
        self.conf.write_text(self.config(mode, concurrency))
        self.log = self.dir / "dovecot.log"
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def config(self, mode: str, concurrency: int) -> str:
        m = DOVECOT_MODES[mode]
        fill = lambda v: str(v).format(cpus=os.cpu_count() or 1, concurrency=concurrency)
        block = lambda d, ind: "".join(f"{ind}{k} = {fill(v)}\n" for k, v in d.items())
        d = self.dir
        dh = f"ssl_dh = <{DOVECOT_DH}\n" if DOVECOT_DH.exists() else ""
        return f"""\
# Dovecot for the sevenport IMAP benchmark ("{mode}" mode): private, loopback only.
protocols = imap
listen = {HOST}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = yes
ssl_cert = <{d}/server.pem
ssl_key = <{d}/server-key.pem
{dh}ssl_min_protocol = TLSv1.2
auth_mechanisms = plain
disable_plaintext_auth = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/users
}}
userdb {{
  driver = passwd-file
  args = {d}/users
}}
mail_location = maildir:{d}/mail/%u
default_process_limit = {max(100, 4 * concurrency)}
{block(m["global"], "")}protocol imap {{
  mail_max_userip_connections = 10000
}}
service imap-login {{
  inet_listener imap {{
    port = {self.ports["imap"]}
  }}
  inet_listener imaps {{
    port = {self.ports["imaps"]}
    ssl = yes
  }}
{block(m["login"], "  ")}}}
service imap {{
{block(m["imap"], "  ")}}}
service auth {{
{block(m["auth"], "  ")}}}
"""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise BenchError(f"dovecot exited with {self.proc.returncode} while starting: "
                                 f"{err.strip()[-800:]} {self.log_tail()}")
            try:
                with socket.create_connection((HOST, self.ports["imap"]), timeout=2) as s:
                    s.settimeout(5)
                    if s.recv(512).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"dovecot did not greet within 20 s. {self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            lines = [l for l in self.log.read_text(errors="replace").splitlines()
                     if "Error" in l or "Fatal" in l or "Warning" in l]
            return " | ".join(lines[-5:])
        return ""

    def quiesce(self) -> None:
        """Processes that serve one connection exit after LOGOUT; wait until they have."""
        deadline = time.monotonic() + 10
        last, stable_since = None, time.monotonic()
        while time.monotonic() < deadline:
            now = (proc_children(self.pid), _own_and_reaped_ticks(self.pid)[1])
            if now != last:
                last, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since >= 0.3:
                return
            time.sleep(0.05)

    def stop(self) -> None:
        kids = proc_children(self.pid) if self.proc and self.proc.poll() is None else []
        super().stop()
        for k in kids:  # the master stops its children; any that outlived it are ours to end
            with contextlib.suppress(OSError):
                os.kill(k, signal.SIGKILL)
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def deliver(self, user: str, messages: list[bytes]) -> None:
        imap = imaplib.IMAP4(HOST, self.ports["imap"], timeout=60)
        try:
            imap.login(user, PASSWORD)
            for m in messages:
                typ, data = imap.append("INBOX", None, None, m)
                if typ != "OK":
                    raise BenchError(f"dovecot APPEND failed: {data!r}")
        finally:
            with contextlib.suppress(Exception):
                imap.logout()


def mailbox_check(server: Server, user: str) -> tuple[int, int]:
    """(messages, octets) in user's INBOX, over IMAP: proof the mail is there on both servers."""
    imap = imaplib.IMAP4(HOST, server.ports["imap"], timeout=60)
    try:
        imap.login(user, PASSWORD)
        typ, data = imap.select("INBOX", readonly=True)
        if typ != "OK":
            raise BenchError(f"{server.label}: SELECT failed: {data!r}")
        count = int(data[0])
        octets = 0
        if count:
            typ, data = imap.fetch("1:*", "(RFC822.SIZE)")
            for item in data:
                if item:
                    octets += int(item.split(b"RFC822.SIZE ")[1].split(b")")[0])
        return count, octets
    finally:
        with contextlib.suppress(Exception):
            imap.logout()


# --------------------------------------------------------------------------------------------
# the load generator: worker processes, each running concurrent asyncio IMAP conversations


class ImapError(Exception):
    pass


class ImapConn(asyncio.Protocol):
    """A minimal IMAP client connection: sends a command, resolves a future with the tagged
    reply, counts literals (message data) in between. Literals are skipped by length, never
    searched, so a message body cannot be mistaken for a reply."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.transport = None
        self.buf = bytearray()
        self.pos = 0
        self.literal_left = 0
        self.continued = False   # the next line ends a response whose first line had a literal
        self.tag: bytes | None = None
        self.waiter = loop.create_future()  # first: the greeting
        self.lost = loop.create_future()
        self.literals = 0
        self.literal_bytes = 0
        self.exists = -1

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        if not self.lost.done():
            self.lost.set_result(None)
        if not self.waiter.done():
            self.waiter.set_exception(ImapError(f"connection closed ({exc or 'by the server'})"))

    def data_received(self, data):
        buf = self.buf
        buf += data
        while True:
            if self.literal_left:
                take = min(len(buf) - self.pos, self.literal_left)
                self.pos += take
                self.literal_left -= take
                if self.literal_left:
                    break
            eol = buf.find(b"\r\n", self.pos)
            if eol < 0:
                break
            line = bytes(buf[self.pos:eol])
            self.pos = eol + 2
            if not self.continued:
                self._response(line)
            self.continued = False
            if line.endswith(b"}"):
                i = line.rfind(b"{")
                n = int(line[i + 1:-1].rstrip(b"+"))
                self.literal_left = n
                self.literals += 1
                self.literal_bytes += n
                self.continued = True
        if self.pos:
            del buf[:self.pos]
            self.pos = 0

    def _response(self, line: bytes) -> None:
        if self.tag is None:  # the greeting
            if not self.waiter.done():
                if line.startswith(b"* OK"):
                    self.waiter.set_result(line)
                else:
                    self.waiter.set_exception(ImapError(f"greeting {line[:80]!r}"))
            return
        if line.startswith(self.tag):
            if not self.waiter.done():
                if line[len(self.tag):len(self.tag) + 3] == b"OK ":
                    self.waiter.set_result(line)
                else:
                    self.waiter.set_exception(ImapError(f"reply {line[:120]!r}"))
        elif line.endswith(b" EXISTS") and line.startswith(b"* "):
            self.exists = int(line.split()[1])

    def command(self, tag: bytes, text: bytes) -> asyncio.Future:
        self.tag = tag + b" "
        self.waiter = self.loop.create_future()
        self.literals = self.literal_bytes = 0
        self.transport.write(tag + b" " + text + b"\r\n")
        return self.waiter


async def _open(port: int, ctx: ssl.SSLContext | None) -> ImapConn:
    loop = asyncio.get_running_loop()
    _t, conn = await loop.create_connection(
        lambda: ImapConn(loop), HOST, port, ssl=ctx,
        server_hostname=TLS_NAME if ctx else None)
    await conn.waiter  # greeting
    return conn


async def _close(conn: ImapConn) -> None:
    if conn.transport is not None:
        conn.transport.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(conn.lost), 5)


def _login(user: str) -> bytes:
    return f'LOGIN "{user}" "{PASSWORD}"'.encode()


async def _session(port, ctx, user, min_octets, counts) -> None:
    """connect, (TLS), LOGIN, SELECT INBOX, FETCH 1 (BODY[]), LOGOUT."""
    async with asyncio.timeout(IO_TIMEOUT * 4):
        conn = await _open(port, ctx)
        try:
            await conn.command(b"a1", _login(user))
            await conn.command(b"a2", b"SELECT INBOX")
            if conn.exists < 1:
                raise ImapError(f"SELECT: {conn.exists} messages")
            await conn.command(b"a3", b"FETCH 1 (BODY[])")
            if conn.literals != 1 or conn.literal_bytes < min_octets:
                raise ImapError(f"FETCH 1 returned {conn.literals} literals, "
                                f"{conn.literal_bytes} octets")
            counts["octets"] += conn.literal_bytes
            await conn.command(b"a4", b"LOGOUT")
            counts["sessions"] += 1
        finally:
            await _close(conn)


async def _fetcher(port, ctx, user, stop_at, counts) -> None:
    """One session: LOGIN, SELECT, then FETCH 1:* (BODY.PEEK[]) until stop_at, then LOGOUT."""
    conn = await asyncio.wait_for(_open(port, ctx), IO_TIMEOUT)
    try:
        await asyncio.wait_for(conn.command(b"a1", _login(user)), IO_TIMEOUT)
        await asyncio.wait_for(conn.command(b"a2", b"EXAMINE INBOX"), IO_TIMEOUT)
        if conn.exists < 1:
            raise ImapError(f"EXAMINE: {conn.exists} messages")
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            await asyncio.wait_for(conn.command(b"f%d" % n, b"FETCH 1:* (BODY.PEEK[])"),
                                   IO_TIMEOUT * 3)
            if conn.literals != conn.exists:
                raise ImapError(f"FETCH 1:* returned {conn.literals} of {conn.exists} messages")
            counts["fetches"] += 1
            counts["messages"] += conn.literals
            counts["octets"] += conn.literal_bytes
        await asyncio.wait_for(conn.command(b"a3", b"LOGOUT"), IO_TIMEOUT)
        counts["sessions"] += 1
    finally:
        await _close(conn)


async def _drive(kind, port, ctx, users, slot_base, concurrency, budget, min_octets,
                 stop_at) -> dict:
    counts = {"sessions": 0, "fetches": 0, "messages": 0, "octets": 0, "errors": 0,
              "first_error": ""}
    todo = [budget if budget > 0 else 1 << 62]

    def failed(e: BaseException) -> None:
        counts["errors"] += 1
        if not counts["first_error"]:
            counts["first_error"] = f"{type(e).__name__}: {e}"

    async def session_slot(slot: int):
        user = users[(slot_base + slot) % len(users)]  # one mailbox per slot: no lock contention
        while todo[0] > 0 and time.monotonic() < stop_at:
            todo[0] -= 1
            try:
                await _session(port, ctx, user, min_octets, counts)
            except Exception as e:  # counted and reported; the run goes on
                failed(e)
                if counts["errors"] > max(20, counts["sessions"] // 100):
                    todo[0] = 0

    async def fetch_slot(slot: int):
        try:
            await _fetcher(port, ctx, users[0], stop_at, counts)
        except Exception as e:
            failed(e)

    slot = session_slot if kind == "sessions" else fetch_slot
    await asyncio.gather(*(slot(i) for i in range(concurrency)))
    return counts


def _worker(kind, port, ca_file, use_tls, users, slot_base, concurrency, budget, min_octets,
            duration, go, results):
    try:
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # no SSL-shutdown chatter
        ctx = ssl.create_default_context(cafile=ca_file) if use_tls else None
        if not go.wait(60):
            results.put({"error": "never told to start"})
            return
        cpu0 = self_cpu_seconds()
        counts = asyncio.run(_drive(kind, port, ctx, users, slot_base, concurrency, budget,
                                    min_octets, time.monotonic() + duration))
        counts["cpu_s"] = self_cpu_seconds() - cpu0
        results.put(counts)
    except BaseException as e:  # report, never hang the parent
        results.put({"error": f"{type(e).__name__}: {e}"})


@dataclass
class Run:
    kind: str          # "sessions" or "fetch"
    server: str        # "sevenport", "dovecot (default)", "dovecot (performance)"
    security: str      # "plaintext" or "TLS"
    concurrency: int
    client_procs: int
    wall_s: float
    server_cpu_s: float
    client_cpu_s: float
    machine_cpu_s: float
    sessions: int = 0
    fetches: int = 0
    messages: int = 0
    octets: int = 0
    errors: int = 0
    first_error: str = ""
    process_shape: str = ""
    rss_kib: int = 0
    loadavg: float = 0.0
    quiet_start: bool = True  # the machine was quiet before the run (see --quiet-wait)
    attempts: int = 1         # 2 or more: earlier attempts were disturbed (see --retries)

    @property
    def sessions_per_s(self) -> float:
        return self.sessions / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def us_per_session(self) -> float:
        return self.server_cpu_s * 1e6 / self.sessions if self.sessions else 0.0

    @property
    def client_us_per_session(self) -> float:
        return self.client_cpu_s * 1e6 / self.sessions if self.sessions else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.octets / MB / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def msgs_per_s(self) -> float:
        return self.messages / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def ms_per_mb(self) -> float:
        return self.server_cpu_s * 1e3 / (self.octets / MB) if self.octets else 0.0

    def util(self, cpu: float) -> float:  # in cores
        return cpu / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def others_util(self) -> float:
        return max(0.0, self.util(self.machine_cpu_s - self.server_cpu_s - self.client_cpu_s))

    @property
    def bottleneck(self) -> str:
        """A guess at what limited the run. sevenport is one thread: saturated at one core.
        Dovecot is many processes, and the client is --client-procs processes: either is the
        limit when it takes most of the machine; otherwise the CPUs are shared out."""
        cpus = os.cpu_count() or 1
        srv, cli = self.util(self.server_cpu_s), self.util(self.client_cpu_s)
        if self.server == "sevenport" and srv >= 0.85:
            return "server (its one thread)"
        if cli >= 0.85 * min(cpus, self.client_procs):
            return "client"
        if self.util(self.machine_cpu_s) >= 0.8 * cpus:  # the CPUs are shared out
            if self.others_util >= 0.25:
                return "CPUs (+ other processes)"
            if cli >= 1.5 * srv:
                return "CPUs, mostly client"
            if srv >= 1.5 * cli:
                return "CPUs, mostly server" if self.server == "sevenport" else "server"
            return "CPUs (server + client)"
        return "latency"

    def as_dict(self) -> dict:
        d = asdict(self)
        per_session = self.kind == "sessions"  # a FETCH run has a handful of long sessions
        d.update(sessions_per_s=round(self.sessions_per_s, 1) if per_session else None,
                 server_us_per_session=round(self.us_per_session, 1) if per_session else None,
                 client_us_per_session=round(self.client_us_per_session, 1) if per_session else None,
                 mb_per_s=round(self.mb_per_s, 2), msgs_per_s=round(self.msgs_per_s, 1),
                 server_ms_per_mb=round(self.ms_per_mb, 3),
                 server_cpu_pct=round(100 * self.util(self.server_cpu_s), 1),
                 client_cpu_pct=round(100 * self.util(self.client_cpu_s), 1),
                 others_cpu_pct=round(100 * self.others_util, 1), bottleneck=self.bottleneck)
        return d


def load(server: Server, kind: str, use_tls: bool, users: list[str], concurrency: int,
         procs: int, duration: float, budget: int, min_octets: int, measure: bool,
         quiet_wait: float = 0) -> Run | None:
    """Runs the load generator once against server; returns the figures if measure."""
    port = server.ports["imaps" if use_tls else "imap"]
    quiet = True
    if measure and quiet_wait > 0:
        server.quiesce()
        quiet = wait_for_quiet(quiet_wait)
    procs = max(1, min(procs, concurrency))
    mp = multiprocessing.get_context("fork")
    go, results = mp.Event(), mp.Queue()
    workers, base = [], 0
    for i in range(procs):
        conc = concurrency // procs + (1 if i < concurrency % procs else 0)
        share = budget // procs + (1 if i < budget % procs else 0) if budget > 0 else 0
        workers.append(mp.Process(target=_worker, daemon=True,
                                  args=(kind, port, server.ca_file, use_tls, users, base, conc,
                                        share, min_octets, duration, go, results)))
        base += conc
    got = []
    try:
        for w in workers:
            w.start()
        time.sleep(0.3)  # let the workers start before the clock does
        server.quiesce()
        loadavg = os.getloadavg()[0]
        cpu0, mcpu0 = tree_cpu_seconds(server.pid), machine_busy_seconds()
        t0 = time.monotonic()
        go.set()
        for _ in workers:
            left = t0 + duration + 4 * IO_TIMEOUT + 30 - time.monotonic()
            got.append(results.get(timeout=max(1.0, left)))
        wall = time.monotonic() - t0
        mcpu1 = machine_busy_seconds()
        rss = tree_rss_kib(server.pid)
        shape = tree_shape(server.pid)
        server.quiesce()  # Dovecot's per-connection processes still exiting count too
        cpu1 = tree_cpu_seconds(server.pid)
    finally:
        for w in workers:
            w.join(timeout=10)
            if w.is_alive():
                w.kill()
                w.join(timeout=5)
    for g in got:
        if "error" in g:
            raise BenchError(f"load generator worker failed: {g['error']}")
    total = {k: sum(g[k] for g in got) for k in ("sessions", "fetches", "messages", "octets",
                                                  "errors")}
    first = next((g["first_error"] for g in got if g["first_error"]), "")
    if (kind == "sessions" and total["sessions"] == 0) or (kind == "fetch" and total["fetches"] == 0):
        raise BenchError(f"{server.label}, {kind}, {'TLS' if use_tls else 'plaintext'}: nothing "
                         f"completed ({first or 'no error reported'})")
    if not measure:
        return None
    return Run(kind, server.label, "TLS" if use_tls else "plaintext", concurrency, procs, wall,
               cpu1 - cpu0, sum(g["cpu_s"] for g in got), mcpu1 - mcpu0, total["sessions"],
               total["fetches"], total["messages"], total["octets"], total["errors"], first,
               shape, rss, loadavg, quiet)


# --------------------------------------------------------------------------------------------
# the benchmark


@dataclass
class Results:
    runs: list[Run] = field(default_factory=list)
    mailboxes: dict[str, dict] = field(default_factory=dict)
    dovecot_configs: dict[str, str] = field(default_factory=dict)


def bench(args, results: Results, work: Path) -> None:
    state_dir = work / "state"  # one local CA and server certificate for both servers
    log_path = Path(args.server_log).resolve() if args.server_log else None
    users = [f"user{i:02d}@{DOMAIN}" for i in range(1, args.concurrency + 1)]
    all_users = users + [BULK_USER]
    bulk = [make_message(n, args.message_size, BULK_USER) for n in range(1, args.messages + 1)]
    small = [make_message(n, args.message_size, "user@" + DOMAIN)
             for n in range(1, args.session_messages + 1)]
    min_octets = args.message_size

    # A private copy of the binary: a rebuild during the run cannot change what is measured.
    binary = work / "sevenport"
    shutil.copy2(args.binary, binary)

    def start(which: str) -> Server:
        if which == "sevenport":
            return Sevenport(binary, state_dir, work, all_users,
                             max(1000, 4 * args.concurrency + 100), log_path)
        return Dovecot(work, which.split(":")[1], all_users, state_dir / "server.pem",
                       state_dir / "server-key.pem", str(state_dir / "ca.pem"), args.concurrency)

    def fill(srv: Server) -> None:
        t0 = time.monotonic()
        srv.deliver(BULK_USER, bulk)
        for u in users:
            srv.deliver(u, small)
        for u, want in ((BULK_USER, len(bulk)), (users[0], len(small)), (users[-1], len(small))):
            count, octets = mailbox_check(srv, u)
            if count != want:
                raise BenchError(f"{srv.label}: {u} has {count} messages, {want} delivered")
            if u == BULK_USER:
                results.mailboxes[srv.label] = {"messages": count, "octets": octets}
        say(f"    {len(bulk) + len(users) * len(small)} messages delivered in "
            f"{time.monotonic() - t0:.1f} s; {BULK_USER}: {len(bulk)} messages, "
            f"{results.mailboxes[srv.label]['octets']:,} octets")

    names = ["sevenport"] + ([] if args.skip_dovecot else [f"dovecot:{m}" for m in args.dovecot_modes])
    figures = []  # (kind, TLS?, concurrency)
    for use_tls in (False, True):
        if "sessions" in args.only:
            figures.append(("sessions", use_tls, args.concurrency))
        if "fetch" in args.only:
            figures += [("fetch", use_tls, n) for n in args.fetch_sessions]

    def measure(srv: Server, kind: str, use_tls: bool, conc: int) -> Run:
        """One figure for one server: warm-up, then the measured run; a run that other processes
        disturbed (others >= 25% of a core) is done again, up to --retries times, and the least
        disturbed one kept."""
        sessions = kind == "sessions"
        who = users if sessions else [BULK_USER]
        best = None
        for attempt in range(1 + args.retries):
            if args.warmup > 0:
                load(srv, kind, use_tls, who, conc, args.client_procs,
                     args.warmup if sessions else min(args.warmup, 1.0), 0,
                     min_octets if sessions else 0, measure=False)
            run = load(srv, kind, use_tls, who, conc, args.client_procs, args.duration,
                       args.sessions if sessions else 0, min_octets if sessions else 0,
                       measure=True, quiet_wait=args.quiet_wait)
            run.attempts = attempt + 1
            if best is None or run.others_util < best.others_util:
                best = run
            if best.others_util < 0.25:
                break
            say(f"      disturbed (others {100 * run.others_util:.0f}% of a core)"
                f"{', again' if attempt < args.retries else ''}")
        return best

    # Every server runs for the whole benchmark (an idle one costs nothing), and each figure is
    # measured on all of them one after the other, so that a change in the machine's load falls
    # on the servers alike. sevenport starts first: it makes the certificate Dovecot uses too.
    with contextlib.ExitStack() as stack:
        servers = []
        for which in names:
            say(f"  {which.replace(':', ' ')}: starting")
            srv = stack.enter_context(start(which))
            if isinstance(srv, Dovecot):
                results.dovecot_configs[srv.mode] = srv.conf.read_text()
            fill(srv)
            servers.append(srv)
        for rep in range(args.repeat):
            for kind, use_tls, conc in figures:
                sec = "TLS" if use_tls else "plaintext"
                for srv in servers:
                    if kind == "sessions":
                        say(f"  {srv.label}: sessions, {sec}, {conc} at a time, {args.duration:g} s"
                            f"{f' or {args.sessions} sessions' if args.sessions else ''}"
                            f"{f' (round {rep + 1})' if args.repeat > 1 else ''}")
                        run = measure(srv, kind, use_tls, conc)
                        say(f"      {run.sessions_per_s:,.0f} sessions/s, server "
                            f"{run.us_per_session:,.0f} us/session, others "
                            f"{100 * run.others_util:.0f}%"
                            f"{f', {run.errors} errors: {run.first_error}' if run.errors else ''}")
                    else:
                        say(f"  {srv.label}: FETCH 1:* (BODY.PEEK[]), {sec}, {conc} "
                            f"session{'s' if conc > 1 else ''}, {args.duration:g} s"
                            f"{f' (round {rep + 1})' if args.repeat > 1 else ''}")
                        run = measure(srv, kind, use_tls, conc)
                        say(f"      {run.mb_per_s:,.1f} MB/s, server {run.ms_per_mb:.2f} ms/MB, "
                            f"others {100 * run.others_util:.0f}%"
                            f"{f', {run.errors} errors: {run.first_error}' if run.errors else ''}")
                    results.runs.append(run)
        for srv in servers:
            if isinstance(srv, Dovecot) and (problems := srv.log_tail()):
                say(f"  {srv.label} log: {problems}")


# --------------------------------------------------------------------------------------------
# report


def table(headers: list[str], rows: list[list[str]], left: int = 3) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    fmt = lambda cells: "  ".join(c.ljust(w) if i < left else c.rjust(w)
                                  for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([fmt(headers), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def pct(v: float) -> str:
    return f"{100 * v:.0f}%"


def report(args, results: Results, info: dict) -> str:
    out = [f"sevenport IMAP benchmark: {info['cpus']} CPUs ({info['cpu_model']}), "
           f"Linux {info['kernel']}, Python {info['python']}",
           f"binary {info['binary']}",
           f"{info.get('dovecot', 'Dovecot not measured')}",
           f"load average {info['loadavg_at_start'][0]:.2f} at start, "
           f"{info['loadavg_at_end'][0]:.2f} at end; client: {args.client_procs} asyncio worker "
           f"processes; {args.duration:g} s per figure after {args.warmup:g} s of warm-up"]
    for label, mb in results.mailboxes.items():
        out.append(f"  {label}: {BULK_USER} holds {mb['messages']} messages, {mb['octets']:,} "
                   f"octets ({mb['octets'] / max(1, mb['messages']):,.0f} per message)")
    sess = [r for r in results.runs if r.kind == "sessions"]
    if sess:
        out += ["", f"IMAP sessions (connect, [TLS], LOGIN, SELECT INBOX, FETCH 1 (BODY[]), LOGOUT), "
                f"{args.concurrency} at a time"]
        rows = [[r.server, r.security, str(r.concurrency), str(r.sessions), f"{r.wall_s:.2f}",
                 f"{r.sessions_per_s:,.0f}", f"{r.us_per_session:,.0f}",
                 f"{r.client_us_per_session:,.0f}", pct(r.util(r.server_cpu_s)),
                 pct(r.util(r.client_cpu_s)), pct(r.others_util), r.bottleneck,
                 str(r.errors) if r.errors else "", str(r.attempts) if r.attempts > 1 else ""]
                for r in sess]
        out.append(table(["server", "security", "conc", "sessions", "wall s", "sessions/s",
                          "srv us/session", "client us/session", "srv CPU", "client CPU",
                          "others", "bound by", "errors", "tries"], rows))
    fetch = [r for r in results.runs if r.kind == "fetch"]
    if fetch:
        out += ["", "FETCH 1:* (BODY.PEEK[]) repeated over one mailbox (MB = 10^6 octets of "
                "message data)"]
        rows = [[r.server, r.security, str(r.concurrency), str(r.fetches), f"{r.wall_s:.2f}",
                 f"{r.mb_per_s:,.1f}", f"{r.msgs_per_s:,.0f}", f"{r.ms_per_mb:.2f}",
                 pct(r.util(r.server_cpu_s)), pct(r.util(r.client_cpu_s)), pct(r.others_util),
                 r.bottleneck, str(r.errors) if r.errors else "",
                 str(r.attempts) if r.attempts > 1 else ""] for r in fetch]
        out.append(table(["server", "security", "sessions", "FETCHes", "wall s", "MB/s", "msgs/s",
                          "srv ms/MB", "srv CPU", "client CPU", "others", "bound by", "errors",
                          "tries"], rows))
    if results.runs:
        out.append("(CPU columns: share of one core; server = the whole process tree; "
                   "others = every other process on the machine; tries: attempts, when other "
                   "processes disturbed the first)")
        busy = [r for r in results.runs if r.others_util >= 0.25]
        if busy:
            out.append(f"WARNING: other processes took a quarter of a core or more during "
                       f"{len(busy)} of {len(results.runs)} runs (column 'others'): those figures "
                       "are disturbed; run again on a quiet machine")
        noisy = sum(1 for r in results.runs if not r.quiet_start)
        if noisy and args.quiet_wait > 0:
            out.append(f"({noisy} run{'s' if noisy > 1 else ''} started without the machine "
                       "being quiet: "
                       f"--quiet-wait {args.quiet_wait:g} s ran out)")
        out += ["", *side_by_side(args, results)]
    last_shape = {r.server: r.process_shape for r in results.runs}
    shapes = [f"{server}: {shape}" for server, shape in last_shape.items()]
    if shapes:
        out += ["", "Processes at the end of a run (CPU figures cover all of them and those "
                "that exited):"] + [f"  {s}" for s in shapes]
    return "\n".join(out)


def side_by_side(args, results: Results) -> list[str]:
    """Medians, sevenport beside Dovecot's better configuration for each figure."""
    med = lambda runs, f: statistics.median(f(r) for r in runs)
    figures = []  # (title, kind, security, concurrency, rate getter, rate unit, cost getter, unit)
    for sec in ("plaintext", "TLS"):
        figures.append((f"sessions, {sec}", "sessions", sec, args.concurrency,
                        lambda r: r.sessions_per_s, "sessions/s", lambda r: r.us_per_session,
                        "us/session"))
    for n in args.fetch_sessions:
        for sec in ("plaintext", "TLS"):
            figures.append((f"FETCH, {sec}, {n} session{'s' if n > 1 else ''}", "fetch", sec, n,
                            lambda r: r.mb_per_s, "MB/s", lambda r: r.ms_per_mb, "ms/MB"))
    rows, verdicts = [], []
    for title, kind, sec, conc, rate, unit, cost, cunit in figures:
        pick = lambda server: [r for r in results.runs if r.kind == kind and r.security == sec
                               and r.concurrency == conc and r.server == server]
        s = pick("sevenport")
        if not s:
            continue
        s_rate, s_cost = med(s, rate), med(s, cost)
        best = None
        for mode in args.dovecot_modes:
            d = pick(f"dovecot ({mode})")
            if d and (best is None or med(d, rate) > best[1]):
                best = (mode, med(d, rate), med(d, cost))
        rspec, cspec = (",.0f", ",.0f") if kind == "sessions" else (",.1f", ".2f")
        if best is None:
            rows.append([title, unit, format(s_rate, rspec), "-", "-", "-",
                         f"{format(s_cost, cspec)} {cunit}", "-", "-"])
            continue
        mode, d_rate, d_cost = best
        rows.append([title, unit, format(s_rate, rspec), format(d_rate, rspec), mode,
                     f"{s_rate / d_rate:.1f}x" if d_rate else "-",
                     f"{format(s_cost, cspec)} {cunit}", f"{format(d_cost, cspec)} {cunit}",
                     f"{d_cost / s_cost:.1f}x" if s_cost else "-"])
        if kind == "sessions":
            verdicts.append(f"  {title}: rate {s_rate / d_rate:.1f}x Dovecot's, CPU per session "
                            f"{d_cost / s_cost:.1f}x less; target 20x: rate "
                            f"{'met' if s_rate >= 20 * d_rate else 'not met'}, CPU "
                            f"{'met' if d_cost >= 20 * s_cost else 'not met'}")
            if any("client" in r.bottleneck for r in s):
                verdicts.append(f"    sevenport's rate was limited by the client (see 'bound by'); "
                                f"at {s_cost:,.0f} us per session one core of sevenport serves "
                                f"about {1e6 / s_cost:,.0f} sessions/s, Dovecot's {d_cost:,.0f} us "
                                f"make {1e6 / d_cost:,.0f} per core")
    lines = ["Summary (medians over --repeat rounds; Dovecot: its faster configuration for each "
             "figure)",
             table(["figure", "unit", "sevenport", "Dovecot", "Dovecot config",
                    "rate sevenport/Dovecot", "srv CPU sevenport", "srv CPU Dovecot",
                    "CPU Dovecot/sevenport"], rows, left=2),
             "(the last column: how many times less server CPU sevenport needs for the same "
             "work)"]
    if verdicts:
        lines += ["", "Target: sevenport at least 20x Dovecot's session rate"] + verdicts
    return lines


# --------------------------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="IMAP benchmark: sevenport beside Dovecot (run scripts/bench-setup.sh first; "
                    "Dovecot needs root).")
    p.add_argument("--binary", type=Path, default=REPO / "build" / "sevenport",
                   help="the sevenport binary (default: build/sevenport in the repository)")
    p.add_argument("--concurrency", type=int, default=20,
                   help="sessions at a time in the session-rate runs (default 20); as many "
                        "users, one per concurrent session")
    p.add_argument("--sessions", type=int, default=0,
                   help="stop a session-rate run after this many sessions (default: none, "
                        "the run lasts --duration)")
    p.add_argument("--duration", type=float, default=10.0,
                   help="seconds per measured run (default 10)")
    p.add_argument("--warmup", type=float, default=2.0,
                   help="seconds of unmeasured load before each session-rate run (default 2)")
    p.add_argument("--fetch-sessions", default="1,4",
                   help="concurrent sessions of the FETCH runs, comma-separated (default 1,4)")
    p.add_argument("--messages", type=int, default=200,
                   help="messages in the FETCH mailbox (default 200)")
    p.add_argument("--message-size", type=int, default=10240,
                   help="approximate size of every message in octets (default 10240)")
    p.add_argument("--session-messages", type=int, default=10,
                   help="messages in each session user's mailbox (default 10)")
    p.add_argument("--client-procs", type=int, default=os.cpu_count() or 1,
                   help="load generator worker processes (default: one per CPU)")
    p.add_argument("--dovecot-mode", default="default,performance",
                   help="Dovecot configurations to measure, comma-separated: default, "
                        "performance (default both)")
    p.add_argument("--skip-dovecot", action="store_true", help="measure sevenport only")
    p.add_argument("--repeat", type=int, default=1,
                   help="run everything this many times; the summary shows medians (default 1)")
    p.add_argument("--only", default="sessions,fetch",
                   help="comma-separated parts: sessions, fetch (default both)")
    p.add_argument("--quick", action="store_true",
                   help="short run: 3 s per figure, 1 s warm-up, 100 messages, FETCH with 1 "
                        "session")
    p.add_argument("--quiet-wait", type=float, default=120,
                   help="before each measured run, wait up to this many seconds for the machine "
                        "to be idle (other processes under 0.15 of a core for 2 s); 0: do not "
                        "wait (default 120)")
    p.add_argument("--retries", type=int, default=2,
                   help="measure a run again, up to this many times, when other processes took "
                        "a quarter of a core or more during it; the least disturbed attempt is "
                        "kept (default 2)")
    p.add_argument("--server-log", metavar="FILE",
                   help="append sevenport's session log here (default: /dev/null)")
    p.add_argument("--json", metavar="FILE", help="also write every figure to FILE as JSON")
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = min(args.duration, 3.0), min(args.warmup, 1.0)
        args.messages = min(args.messages, 100)
        if args.fetch_sessions == "1,4":
            args.fetch_sessions = "1"
    try:
        args.fetch_sessions = [int(x) for x in args.fetch_sessions.split(",") if x.strip()]
    except ValueError:
        p.error("--fetch-sessions takes numbers separated by commas")
    args.dovecot_modes = [m.strip() for m in args.dovecot_mode.split(",") if m.strip()]
    bad = [m for m in args.dovecot_modes if m not in DOVECOT_MODES]
    if bad or not args.dovecot_modes:
        p.error(f"--dovecot-mode: unknown {', '.join(bad) or '(none given)'}")
    args.only = {x.strip() for x in args.only.split(",") if x.strip()}
    if not args.only or args.only - {"sessions", "fetch"}:
        p.error("--only takes sessions and/or fetch")
    for name in ("concurrency", "messages", "message_size", "session_messages", "client_procs",
                 "repeat"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if not args.fetch_sessions or min(args.fetch_sessions) < 1:
        p.error("--fetch-sessions needs positive numbers")
    if args.duration <= 0 or args.warmup < 0 or args.sessions < 0 or args.quiet_wait < 0 \
            or args.retries < 0:
        p.error("--duration must be positive; --warmup, --sessions, --quiet-wait not negative")
    args.binary = args.binary.resolve()
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if not os.access(args.binary, os.X_OK):
        print(f"bench_imap: no sevenport binary at {args.binary} (build it, or pass --binary)",
              file=sys.stderr)
        return 2
    if not args.skip_dovecot:
        if not os.access(DOVECOT, os.X_OK):
            print(f"bench_imap: {DOVECOT} is missing: run scripts/bench-setup.sh, or pass "
                  "--skip-dovecot", file=sys.stderr)
            return 2
        if os.geteuid() != 0:
            print("bench_imap: Dovecot must be started as root (it switches to its own users); "
                  "run as root, or pass --skip-dovecot", file=sys.stderr)
            return 2
    nofile = raise_nofile()
    need = 4 * (args.concurrency + max(args.fetch_sessions)) + 200
    if nofile < need:
        print(f"bench_imap: RLIMIT_NOFILE is {nofile}, {need} needed", file=sys.stderr)
        return 2

    def terminate(signum, _frame):  # unwind through every finally: servers stopped, files removed
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    info = machine_info()
    digest = hashlib.sha256(args.binary.read_bytes()).hexdigest()[:12]
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(args.binary.stat().st_mtime))
    info["binary"] = f"{args.binary} (built {built}, sha256 {digest})"
    if not args.skip_dovecot:
        version = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout.strip()
        info["dovecot"] = f"Dovecot {version}, configurations: {', '.join(args.dovecot_modes)}"
    results = Results()
    work = Path(tempfile.mkdtemp(prefix="bench-imap-"))
    work.chmod(0o711)  # Dovecot's unprivileged processes reach their directory inside
    say(f"bench_imap: running (binary {args.binary})")
    try:
        bench(args, results, work)
    except BenchError as e:
        print(f"bench_imap: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    info["loadavg_at_end"] = os.getloadavg()
    text = report(args, results, info)
    print(text)
    if args.json:
        doc = {"machine": info,
               "settings": {k: v for k, v in vars(args).items() if k != "binary"},
               "mailboxes": results.mailboxes,
               "dovecot_configs": results.dovecot_configs,
               "runs": [r.as_dict() for r in results.runs]}
        Path(args.json).write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
