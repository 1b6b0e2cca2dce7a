"""Server-level behaviour of the real binary: command line, config errors, bind errors, limits,
backpressure, the session log formats, and graceful shutdown."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BIN, SANITIZED
from helpers import LineSocket, run

ONE_SMTP_LISTENER = """
hostname = "localhost"
local_domains = ["example.test"]
max_connections = {max_connections}
[http]
enabled = false
[listeners.smtp]
protocol = "smtp"
port = {port}
security = "starttls"
idle_timeout_seconds = {idle}
"""


def smtp_config(port=0, max_connections=1000, idle=300):
    return ONE_SMTP_LISTENER.format(port=port, max_connections=max_connections, idle=idle)


def test_help_and_version():
    result = run([BIN, "--help"])
    assert result.returncode == 0
    for option in ("--config", "--port-offset", "--ephemeral", "--ready-file", "--state-dir", "--user",
                   "--log-format", "--print-default-config", "--version"):
        assert option in result.stdout
    result = run([BIN, "--version"])
    assert result.returncode == 0 and result.stdout.startswith("sevenport ")


def test_default_config_is_printed_and_valid(tmp_path):
    printed = run([BIN, "--print-default-config"]).stdout
    for name, port in (("smtp", 25), ("submission", 587), ("submissions", 465), ("imap", 143),
                       ("imaps", 993), ("pop3", 110), ("pop3s", 995)):
        assert f"[listeners.{name}]" in printed
        assert f"port = {port}" in printed
    cfg = tmp_path / "default.toml"
    cfg.write_text(printed)
    result = run([BIN, "--config", str(cfg), "--check-config"])
    assert result.returncode == 0, result.stderr


def test_bad_config_names_file_line_column_and_exits_2(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('hostname = "localhost"\n[listeners.smtp]\nprotocol = "smtp"\nport = 25\nsecurity = "tls"\n')
    result = run([BIN, "--config", str(cfg)])
    assert result.returncode == 2
    assert f"{cfg}:5:" in result.stderr
    assert "listeners.smtp.security" in result.stderr


def test_port_in_use_says_which(tmp_path):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    cfg = tmp_path / "c.toml"
    cfg.write_text(smtp_config(port=port))
    result = run([BIN, "--config", str(cfg), "--state-dir", str(tmp_path / "state")])
    blocker.close()
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr and "already in use" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to drop privileges")
def test_privileged_port_without_privilege_explains_the_fix():
    # An unprivileged user must be able to reach the files: a world-readable directory of its own.
    work = Path(tempfile.mkdtemp(prefix="sevenport-unprivileged-"))
    try:
        os.chmod(work, 0o777)
        cfg = work / "c.toml"
        cfg.write_text(smtp_config(port=25))
        os.chmod(cfg, 0o644)
        binary = shutil.copy(BIN, work / "sevenport")  # the checkout may sit where nobody can reach
        result = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                      "--bounding-set=-net_bind_service", binary, "--config", str(cfg),
                      "--state-dir", str(work / "state")])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert result.returncode == 1, result.stderr
    assert "permission denied" in result.stderr
    assert "--port-offset" in result.stderr and "setcap cap_net_bind_service=+ep" in result.stderr


def test_port_offset_moves_every_port(start_sevenport, tmp_path):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    base = probe.getsockname()[1]
    probe.close()
    cfg = tmp_path / "c.toml"
    cfg.write_text(smtp_config(port=25))
    ready = tmp_path / "ready.json"
    offset = base - 25
    proc = subprocess.Popen([BIN, "--config", str(cfg), "--port-offset", str(offset), "--ready-file", str(ready),
                             "--state-dir", str(tmp_path / "state")], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("Ready."):
                break
        assert json.loads(ready.read_text())["listeners"]["smtp"]["port"] == base
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    assert not ready.exists(), "the ready file is removed on exit"


def test_max_connections(start_sevenport):
    server = start_sevenport(config_text=smtp_config(max_connections=2))
    first, second = LineSocket(server.port("smtp")), LineSocket(server.port("smtp"))
    assert first.reply()[0] == 220 and second.reply()[0] == 220
    third = LineSocket(server.port("smtp"))
    assert third.closed_within(2.0)
    server.wait_log(r"refused: max_connections \(2\) reached")
    first.close()
    server.wait_log(r"close: client closed the connection")
    fourth = LineSocket(server.port("smtp"))
    assert fourth.reply()[0] == 220
    second.close()
    fourth.close()


def test_idle_timeout_says_goodbye(start_sevenport):
    server = start_sevenport(config_text=smtp_config(idle=1))
    conn = LineSocket(server.port("smtp"), timeout=5)
    assert conn.reply()[0] == 220
    start = time.monotonic()
    code, texts = conn.reply()
    assert code == 421 and texts[0].startswith("4.4.2")
    assert 0.8 < time.monotonic() - start < 4
    assert conn.closed_within(2.0)


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(SANITIZED, reason="AddressSanitizer's quarantine makes RSS meaningless")
def test_client_that_never_reads_cannot_make_the_server_buffer_without_bound(start_sevenport):
    server = start_sevenport(config_text=smtp_config())
    conn = LineSocket(server.port("smtp"))
    assert conn.reply()[0] == 220
    before = vm_rss_kib(server.proc.pid)
    conn.sock.settimeout(2.0)
    burst = b"NOOP\r\n" * 10000
    sent = 0
    try:
        while sent < 200 * 1024 * 1024:
            conn.sock.sendall(burst)
            sent += len(burst)
    except (socket.timeout, TimeoutError):
        pass
    # The server stopped reading once its replies backed up: far less was accepted than offered,
    # and its memory grew by a bounded amount.
    assert sent < 200 * 1024 * 1024
    assert vm_rss_kib(server.proc.pid) - before < 16 * 1024
    other = LineSocket(server.port("smtp"))
    assert other.reply()[0] == 220, "the server stays responsive"
    other.close()
    conn.close()


def test_json_log_format(start_sevenport):
    server = start_sevenport(extra_args=["--log-format", "json"], config_text=smtp_config())
    conn = LineSocket(server.port("smtp"))
    assert conn.reply()[0] == 220
    conn.send("QUIT\r\n")
    assert conn.reply()[0] == 221
    conn.close()
    line = server.wait_log(r'"event":"close"')
    record = json.loads(line)
    assert record["listener"] == "smtp" and record["session"] >= 1 and record["peer"].startswith("127.0.0.1:")


def test_sigterm_with_open_sessions_says_goodbye_and_exits_0(start_sevenport):
    server = start_sevenport(config_text=smtp_config())
    conn = LineSocket(server.port("smtp"))
    assert conn.reply()[0] == 220
    server.proc.send_signal(signal.SIGTERM)
    code, texts = conn.reply()
    assert code == 421 and texts[0].startswith("4.3.2")
    assert server.proc.wait(timeout=10) == 0


def test_garbage_gets_errors_then_421_and_the_server_lives_on(start_sevenport):
    server = start_sevenport(config_text=smtp_config())
    conn = LineSocket(server.port("smtp"))
    assert conn.reply()[0] == 220
    garbage = bytes(b % 251 + 1 for b in os.urandom(64 * 1024)).replace(b"\x16", b"x")
    conn.send(b"X" + garbage + b"\r\n" + b"\x00\xff garbage\r\n" * 50)
    codes = []
    try:
        while True:
            codes.append(conn.reply()[0])
    except ConnectionError:
        pass
    assert codes and all(c >= 500 for c in codes[:-1])
    assert codes[-1] == 421
    other = LineSocket(server.port("smtp"))
    assert other.reply()[0] == 220
    other.close()


def test_a_client_that_sends_one_byte_at_a_time_is_understood(start_sevenport):
    server = start_sevenport(config_text=smtp_config())
    conn = LineSocket(server.port("smtp"))
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    assert conn.reply()[0] == 220
    for byte in b"EHLO slow.client.test\r\nMAIL FROM:<s@client.test>\r\n":
        conn.send(bytes([byte]))
    assert conn.reply()[0] == 250
    assert conn.reply()[0] == 250
    conn.close()


def test_abrupt_disconnects_during_tls_handshake_and_data_leave_the_server_healthy(start_sevenport):
    server = start_sevenport()
    # Half a ClientHello on the implicit-TLS port, then gone.
    conn = LineSocket(server.port("submissions"))
    conn.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 20)
    conn.close()
    server.wait_log(r"submissions .* close: client closed the connection")
    # STARTTLS accepted, then the client vanishes before its ClientHello.
    conn = LineSocket(server.port("submission"))
    assert conn.reply()[0] == 220
    conn.send("EHLO c\r\nSTARTTLS\r\n")
    assert conn.reply()[0] == 250
    assert conn.reply()[0] == 220
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    conn.close()  # linger 0: a reset, not a FIN
    server.wait_log(r"submission .* close: ")
    ok = LineSocket(server.port("smtp"))
    assert ok.reply()[0] == 220
    ok.close()
