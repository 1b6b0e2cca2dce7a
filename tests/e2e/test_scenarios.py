"""Scenario files (scenarios/*.toml): each one started with --scenario NAME and reproduced with the
commands its [scenario] table gives, run as written (curl, Python's standard library, openssl
s_client) against this run's ports; each must fail with exactly the error the file documents and
docs/SCENARIOS.md quotes. Only port numbers and timings are normalised."""

import re
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import BIN, Sevenport
from helpers import run

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "SCENARIOS.md"
SCENARIOS = {p.stem: tomllib.loads(p.read_text())["scenario"]
             for p in sorted((ROOT / "scenarios").glob("*.toml"))}
CA_IN_COMMANDS = "~/.local/state/sevenport/ca.pem"
# The documented Python errors are Debian 12's Python 3.11 (/usr/bin/python3); the _ssl.c line
# numbers in them, like curl's OpenSSL version, are compared loosely (see normalise).
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable

# What the session log says when each scenario's first commands run: the server's side of it.
LOG = {
    "app-password-required": [r"auth: authentication failed for alice@example\.test .*app password required"],
    "auth-failed": [r"auth: authentication failed for alice@example\.test .*wrong user name or password"],
    "cert-expired": [r"submissions .* diagnosis: the client rejected the server certificate .*\"expired\""],
    "cert-hostname-mismatch": [
        r"submissions .* diagnosis: the client rejected the server certificate .*\"wrong-host\""],
    "cert-self-signed": [
        r"submissions .* diagnosis: the client rejected the server certificate .*\"self-signed\""],
    "cert-unknown-ca": [
        r"submissions .* diagnosis: the client rejected the server certificate .*\"untrusted-ca\""],
    "connection-refused": [],  # nothing listens: no session at all
    "connection-timed-out": [r"smtp .* behaviour: accepted the connection and will never greet"],
    "greylisting": [r"smtp .* behaviour: greylisted <alice@example\.test>",
                    r"smtp .* behaviour: greylisted <bob@example\.test>"],
    "mailbox-full": [r"smtp .* behaviour: refused <carol@example\.test> with 452 4\.2\.2",
                     r"smtp .* behaviour: refused <dave@example\.test> with 552 5\.2\.2"],
    "relay-denied": [r"smtp .* error: RCPT TO:<someone@elsewhere\.test>: 554 5\.7\.1 .*Relay access denied"],
    "starttls-not-supported": [r"submission .* behaviour: STARTTLS left out of the EHLO reply"],
    "wrong-tls-mode": [r"submissions .* behaviour: told the plaintext client in plaintext: \"554 5\.7\.0",
                       r"submission .* diagnosis: client started a TLS handshake on SMTP port \d+"],
}

# Further commands of a scenario's `try` list (by index) and the exact line each prints last;
# docs/SCENARIOS.md quotes these too.
MORE = {
    "wrong-tls-mode": [
        (2, "curl: (35) OpenSSL/3.0.19: error:0A00010B:SSL routines::wrong version number"),
        (3, "ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:992)"),
    ],
    "app-password-required": [
        (2, "imaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Application-specific password required: "
            "log in with an app password'"),
        (3, "poplib.error_proto: b'-ERR [AUTH] Application-specific password required: log in with "
            "an app password'"),
    ],
    "auth-failed": [
        (2, "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Authentication failed: account locked')"),
        (3, "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Authentication failed: password expired, "
            "change it and log in again')"),
    ],
}


@pytest.fixture(scope="module")
def default_ports():
    """Default port -> listener name, from the built-in config the try commands are written for."""
    cfg = tomllib.loads(run([BIN, "--print-default-config"]).stdout)
    ports = {l["port"]: name for name, l in cfg["listeners"].items()}
    ports[cfg["http"]["port"]] = "http"
    return ports


class ScenarioServer(Sevenport):
    """conftest's Sevenport without its --user accounts (a scenario brings its own users, which
    --user would replace) and, given a port offset, on fixed ports instead of --ephemeral."""

    def __init__(self, tmp: Path, scenario, port_offset=None):
        ports = ("--ephemeral",) if port_offset is None else ("--port-offset", str(port_offset))
        super().__init__(tmp, extra_args=("--scenario", scenario), users=None, ports=ports)

    def try_commands(self):
        """The commands the banner printed under "Try:"."""
        lines = self.stdout_lines
        start = next(i for i, l in enumerate(lines) if l.startswith("  Try")) + 1
        commands = []
        for line in lines[start:]:
            if not line.startswith("    "):
                break
            commands.append(line[4:])
        return commands


@pytest.fixture
def scenario_server(tmp_path):
    servers = []

    def start(name, port_offset=None):
        s = ScenarioServer(tmp_path / f"s{len(servers)}", name, port_offset)
        servers.append(s)
        return s

    yield start
    for s in servers:
        assert s.stop() == 0, "sevenport did not exit cleanly:\n" + s.log_text()


def port_map(server, default_ports):
    """Default port -> this run's port, for every listener that listens."""
    now = {name: l["port"] for name, l in server.info["listeners"].items()}  # "http" included
    return {port: now[name] for port, name in default_ports.items() if name in now}


def adjust(command, ports, ca_file):
    """A try command as written (default ports, default CA path) made to fit this run."""
    command = re.sub(r"(:|['\"], )(\d+)\b",
                     lambda m: m[1] + str(ports.get(int(m[2]), m[2])), command)
    return command.replace(CA_IN_COMMANDS, ca_file)


def normalise(text, ports):
    """This run's ports back to the default ones, and every duration to N."""
    back = {str(now): str(default) for default, now in ports.items()}
    text = re.sub(r"\b(\d+)\b", lambda m: back.get(m[1], m[1]), text)
    # Versions and source lines of the installed Python and OpenSSL are as documented on the
    # machine the docs were written on; a Debian point release may move them.
    text = re.sub(r"\(_ssl\.c:\d+\)", "(_ssl.c:N)", text)
    text = re.sub(r"OpenSSL/\d+\.\d+\.\d+[a-z]?", "OpenSSL/N", text)
    return re.sub(r"\b\d+( ms| milliseconds| seconds)\b", r"N\1", text)


def run_command(command, timeout=60):
    """Runs one try command through the shell, with Debian's Python for python3."""
    if command.startswith("python3 "):
        command = PYTHON + command[len("python3"):]
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=timeout,
                          errors="replace")


def shorter(command):
    """The connection-timed-out commands wait 10 s; 2 s shows the same (timings are normalised)."""
    return command.replace("--max-time 10", "--max-time 2").replace("timeout=10", "timeout=2")


def last_line(result):
    lines = [l for l in (result.stdout + result.stderr).splitlines() if l.strip()]
    return lines[-1] if lines else ""


def curl_line(result):
    return next((l for l in result.stderr.splitlines() if l.startswith("curl: (")), "")


def first(commands, tool):
    return next(i for i, c in enumerate(commands) if c.startswith(tool + " "))


def check_documented_errors(server, name, ports):
    scenario = SCENARIOS[name]
    written = scenario["try"]
    shown = server.try_commands()
    assert shown == [adjust(c, ports, server.ca_file) for c in written], \
        "the banner's try commands are the file's, on this run's ports and CA"
    curl = run_command(shorter(shown[first(written, "curl")]))
    assert curl.returncode != 0
    assert normalise(curl_line(curl), ports) == normalise(scenario["curl_error"], ports), curl.stderr
    python = run_command(shorter(shown[first(written, "python3")]))
    assert python.returncode == 1
    assert normalise(last_line(python), ports) == normalise(scenario["python_error"], ports), python.stderr
    return shown


ON_EPHEMERAL_PORTS = sorted(set(SCENARIOS) - {"connection-refused"})


@pytest.mark.parametrize("name", ON_EPHEMERAL_PORTS)
def test_scenario_fails_as_documented(scenario_server, default_ports, name):
    server = scenario_server(name)
    ports = port_map(server, default_ports)
    shown = check_documented_errors(server, name, ports)
    for index, expected in MORE.get(name, []):
        result = run_command(shown[index])
        assert normalise(last_line(result), ports) == normalise(expected, ports), result.stderr
    for pattern in LOG[name]:
        server.wait_log(pattern)


def test_connection_refused_nothing_listens_on_587(scenario_server, default_ports):
    # Nothing may listen where 587 lands: a socket bound to that port but not listening holds it,
    # and the kernel refuses connections to it; --port-offset puts 587 there.
    for _ in range(20):
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        offset = holder.getsockname()[1] - 587
        if offset < 0 or offset + max(default_ports) > 65535:
            holder.close()
            continue
        try:
            server = scenario_server("connection-refused", port_offset=offset)
        except RuntimeError:  # another of the listeners' ports was taken: try elsewhere
            holder.close()
            continue
        break
    else:
        pytest.skip("no free port range for --port-offset")
    try:
        assert "submission" not in server.info["listeners"]
        assert f"  submission   disabled: nothing listens on port {587 + offset}" in server.stdout_lines
        ports = {port: port + offset for port in default_ports}
        check_documented_errors(server, "connection-refused", ports)
        assert not re.search(r" submission .* connect:", server.log_text())
    finally:
        holder.close()


# Commands beyond a scenario's `try` list, as docs/SCENARIOS.md shows them (default ports, default
# CA path), and the exact line each prints; the docs quote these lines too.
PY_CA = "ssl.create_default_context(cafile='" + CA_IN_COMMANDS + "')"
EXTRA = {
    "wrong-tls-mode": [
        ("python3 -c \"import imaplib; imaplib.IMAP4('127.0.0.1', 993)\"",
         "imaplib.IMAP4.error: b'* BYE This port expects TLS from the first byte: choose SSL/TLS, or "
         "use port 143 with STARTTLS'"),
        ("python3 -c \"import poplib; poplib.POP3('127.0.0.1', 995)\"",
         "poplib.error_proto: b'-ERR This port expects TLS from the first byte: choose SSL/TLS, or "
         "use port 110 with STARTTLS'"),
        ("curl -sS imap://127.0.0.1:993", "curl: (8) Got unexpected imap-server response"),
    ],
    "starttls-not-supported": [
        (f"curl -sS --cacert {CA_IN_COMMANDS} smtp://127.0.0.1:587 --user alice@example.test:alice-password "
         "--mail-from alice@example.test --mail-rcpt bob@example.test -T /dev/null",
         "curl: (55) MAIL failed: 530"),
    ],
    "cert-expired": [
        (f"curl -sS --ssl-reqd --cacert {CA_IN_COMMANDS} smtp://localhost:587",
         "curl: (60) SSL certificate problem: certificate has expired"),
        (f"curl -sS --cacert {CA_IN_COMMANDS} imaps://localhost:993",
         "curl: (60) SSL certificate problem: certificate has expired"),
    ],
    "auth-failed": [
        (f"python3 -c \"import imaplib, ssl; imaplib.IMAP4_SSL('127.0.0.1', 993, ssl_context={PY_CA})"
         ".login('alice@example.test', 'alice-password')\"",
         "imaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Authentication failed'"),
        (f"python3 -c \"import poplib, ssl; p = poplib.POP3_SSL('127.0.0.1', 995, context={PY_CA}); "
         "p.user('alice@example.test'); p.pass_('alice-password')\"",
         "poplib.error_proto: b'-ERR [AUTH] Authentication failed'"),
        (f"python3 -c \"import imaplib, ssl; imaplib.IMAP4_SSL('127.0.0.1', 993, ssl_context={PY_CA})"
         ".login('carol@example.test', 'carol-password')\"",
         "imaplib.IMAP4.error: b'[CONTACTADMIN] Account locked: contact your administrator'"),
        (f"python3 -c \"import imaplib, ssl; imaplib.IMAP4_SSL('127.0.0.1', 993, ssl_context={PY_CA})"
         ".login('dave@example.test', 'dave-password')\"",
         "imaplib.IMAP4.error: b'[EXPIRED] Password expired: change it and log in again'"),
    ],
}


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_more_clients_fail_as_documented(scenario_server, default_ports, name):
    server = scenario_server(name)
    ports = port_map(server, default_ports)
    docs = DOCS.read_text()
    for command, expected in EXTRA[name]:
        result = run_command(adjust(command, ports, server.ca_file))
        printed = [normalise(l, ports) for l in (result.stdout + result.stderr).splitlines()]
        assert expected in printed, result.stderr
        assert expected in docs


def test_app_password_logs_in_and_bob_is_unaffected(scenario_server, default_ports):
    server = scenario_server("app-password-required")
    ports = port_map(server, default_ports)
    for user, password in (("alice@example.test", "alice-app-password"), ("bob@example.test", "bob-password")):
        command = ("python3 -c \"import smtplib, ssl; s = smtplib.SMTP_SSL('127.0.0.1', 465, "
                   "context=ssl.create_default_context(cafile='" + CA_IN_COMMANDS + "')); "
                   f"print(s.login('{user}', '{password}'))\"")
        result = run_command(adjust(command, ports, server.ca_file))
        assert result.returncode == 0 and "235" in result.stdout, result.stderr


def test_starttls_not_supported_openssl_says_so(scenario_server):
    server = scenario_server("starttls-not-supported")
    result = run_command(server.try_commands()[2])
    assert "Didn't find STARTTLS in server response, trying anyway..." in result.stderr
    assert "Didn't find STARTTLS in server response, trying anyway..." in DOCS.read_text()
    server.wait_log(r"submission .* behaviour: STARTTLS answered with 502 5\.5\.1")


@pytest.mark.parametrize("name,verify_error", [
    ("cert-self-signed", "self-signed certificate"),
    ("cert-expired", "certificate has expired"),
    ("cert-hostname-mismatch", "hostname mismatch"),
    ("cert-unknown-ca", "unable to verify the first certificate"),
])
def test_openssl_reports_the_certificate(scenario_server, name, verify_error):
    if not shutil.which("openssl"):
        pytest.skip("no openssl")
    server = scenario_server(name)
    result = run_command(server.try_commands()[2])
    assert f"Verification error: {verify_error}" in result.stderr, result.stderr
    assert f"Verification error: {verify_error}" in DOCS.read_text()


@pytest.mark.parametrize("name", ["cert-expired"])
def test_starttls_listeners_serve_the_scenario_certificate_too(scenario_server, default_ports, name):
    server = scenario_server(name)
    ports = port_map(server, default_ports)
    command = adjust(f"curl -sS --ssl-reqd --cacert {CA_IN_COMMANDS} smtp://localhost:587", ports,
                     server.ca_file)
    assert curl_line(run_command(command)) == SCENARIOS[name]["curl_error"]
    command = adjust(f"curl -sS --cacert {CA_IN_COMMANDS} imaps://localhost:993", ports, server.ca_file)
    assert curl_line(run_command(command)) == SCENARIOS[name]["curl_error"]


def test_list_scenarios_lists_every_file():
    result = run([BIN, "--list-scenarios"])
    assert result.returncode == 0, result.stderr
    listed = dict(re.match(r"(\S+)\s+(.*)", line).groups() for line in result.stdout.splitlines())
    assert listed == {name: s["summary"] for name, s in SCENARIOS.items()}


def test_unknown_scenario_exits_2_and_names_them_all():
    result = run([BIN, "--scenario", "no-such-thing", "--ephemeral"])
    assert result.returncode == 2
    assert "--scenario no-such-thing: no such scenario" in result.stderr
    for name in SCENARIOS:
        assert name in result.stderr


def test_help_documents_the_scenario_options():
    out = run([BIN, "--help"]).stdout
    assert "--scenario" in out and "--list-scenarios" in out


def test_every_scenario_has_a_documented_server_side():
    assert set(LOG) == set(SCENARIOS)


def test_docs_quote_every_scenario_and_its_exact_errors():
    docs = DOCS.read_text()
    for name, scenario in SCENARIOS.items():
        assert f"\n## {name}\n" in docs, f"docs/SCENARIOS.md has no section for {name}"
        section = docs.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        assert f"--scenario {name}" in section
        assert scenario["curl_error"] in section, f"{name}: curl error not quoted"
        assert scenario["python_error"] in section, f"{name}: Python error not quoted"
        for _, expected in MORE.get(name, []):
            assert expected in section, f"{name}: {expected!r} not quoted"
        for command in scenario["try"]:
            assert command in section, f"{name}: try command not shown: {command}"


def test_check_config_with_a_scenario():
    result = run([BIN, "--scenario", "greylisting", "--check-config"])
    assert result.returncode == 0 and "scenarios/greylisting.toml: OK" in result.stdout, result.stderr


def test_readme_and_learn_name_the_scenarios():
    readme = (ROOT / "README.md").read_text()
    learn = (ROOT / "docs" / "LEARN.md").read_text()
    for name in SCENARIOS:
        assert name in readme, f"README.md does not name {name}"
        assert f"--scenario {name}" in learn or name in learn, f"docs/LEARN.md does not use {name}"
    for name in ("cert-self-signed", "cert-expired", "cert-hostname-mismatch", "cert-unknown-ca"):
        assert SCENARIOS[name]["curl_error"].removeprefix("curl: (60) ") in learn


def test_commands_stay_on_default_ports_when_a_disabled_listener_has_no_port(scenario_server):
    server = scenario_server("connection-refused")  # --ephemeral: 587 lands nowhere in particular
    assert "  submission   disabled" in server.stdout_lines
    assert any(l.startswith("  Try (written for the default ports") for l in server.stdout_lines)
    assert server.try_commands() == SCENARIOS["connection-refused"]["try"]
