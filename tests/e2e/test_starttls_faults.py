"""STARTTLS faults (docs/BEHAVIOURS.md, "STARTTLS faults"), one listener per protocol and fault:
SMTP as on 587 (submission), IMAP as on 143, POP3 as on 110. Each fault is met by real clients:
Python's smtplib, imaplib and poplib, curl and openssl s_client, and a raw socket where only the
bytes on the wire can tell. Every test also finds the behaviour in the session log and in the
session the API shows (its "behaviours" list and a transcript note)."""

import base64
import imaplib
import json
import poplib
import re
import smtplib
import ssl
import subprocess
import urllib.parse
import urllib.request

import pytest

from conftest import BIN, USERS, Sevenport
from helpers import (LineSocket, api_get, check_behaviour, message, new_log, run,
                     tls_context)

ALICE = "alice@example.test"
BOB = "bob@example.test"

FAULTS = ["not-advertised", "refused", "abort-handshake", "inject-response"]
PROTOCOLS = ["smtp", "imap", "pop3"]
# The listener of each protocol that plays the fault: SMTP like 587, IMAP like 143, POP3 like 110.
PREFIX = {"smtp": "submission", "imap": "imap", "pop3": "pop3"}


def listener(protocol, fault):
    return f"{PREFIX[protocol]}-{fault}"


def _config():
    text = """hostname = "localhost"
local_domains = ["example.test"]

# Port 25 as usual: mail for the IMAP and POP3 tests comes in here.
[listeners.smtp]
protocol = "smtp"
port = 0
security = "starttls"
role = "mx"
"""
    for fault in FAULTS:
        for protocol in PROTOCOLS:
            text += f"""
[listeners.{listener(protocol, fault)}]
protocol = "{protocol}"
port = 0
security = "starttls"
starttls_fault = "{fault}"
"""
            if protocol == "smtp":
                text += 'role = "submission"\n'
    return text


CONFIG = _config()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Sevenport(tmp_path_factory.mktemp("starttls-faults"), config_text=CONFIG)
    yield s
    assert s.stop() == 0, "sevenport did not exit cleanly:\n" + s.log_text()


# ---- helpers: the log, the API ----









def closed_session(server, mark, name, text_pattern):
    """check_behaviour, then waits for that session's close and returns its final state."""
    session = check_behaviour(server, mark, name, text_pattern)
    new_log(server, mark, rf" #{session['id']} {re.escape(name)} \S+ close: ")
    return api_get(server, f"/sessions/{session['id']}")


LOGIN_VERBS = {"AUTH", "AUTHENTICATE", "LOGIN", "USER", "PASS", "APOP"}


def assert_no_login_sent(session):
    """Nothing in the session tried to log in: no AUTH, LOGIN, USER or PASS from the client."""
    client = [t["text"] for t in session["transcript"] if t["direction"] == "client"]
    assert client, "the client said nothing at all: " + json.dumps(session["transcript"])
    for text in client:
        assert not LOGIN_VERBS & set(text.upper().split()[:2]), f"login attempted: {text!r}"
    assert session["auth"] == []


def fault_note(fault):
    return rf'.*\(starttls_fault = "{re.escape(fault)}"\)'


def messages_with_subject(server, subject):
    return api_get(server, "/messages?subject=" + urllib.parse.quote(subject))


def deliver(server, to, subject):
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=10) as smtp:
        smtp.ehlo("client.test")
        assert smtp.sendmail("sender@client.test", [to], message(subject, to=to)) == {}


def curl(server, protocol, fault, tmp_path, *extra):
    """curl with --ssl-reqd against the fault's listener: for SMTP it sends a message, for IMAP it
    lists the mailboxes, for POP3 the messages; it logs in (only ever after TLS)."""
    port = server.port(listener(protocol, fault))
    args = ["curl", "--silent", "--show-error", "--max-time", "10", "--ssl-reqd",
            "--cacert", server.ca_file, *extra]
    if protocol == "smtp":
        mail = tmp_path / "mail.txt"
        mail.write_text(message(f"curl {fault}", to=BOB))
        args += ["--user", f"{ALICE}:{USERS[ALICE]}", "--mail-from", ALICE, "--mail-rcpt", BOB,
                 "--upload-file", str(mail), f"smtp://127.0.0.1:{port}"]
    elif protocol == "imap":
        args += ["--user", f"{ALICE}:{USERS[ALICE]}", f"imap://127.0.0.1:{port}/"]
    else:
        args += ["--user", f"{BOB}:{USERS[BOB]}", f"pop3://127.0.0.1:{port}/"]
    return run(args)


def connect(server, protocol, fault, host="localhost"):
    port = server.port(listener(protocol, fault))
    if protocol == "smtp":
        client = smtplib.SMTP(host, port, timeout=10)
        client.ehlo("client.test")
        return client
    if protocol == "imap":
        return imaplib.IMAP4(host, port, timeout=10)
    return poplib.POP3(host, port, timeout=10)


def starttls(client, server):
    ctx = tls_context(server.ca_file)
    if isinstance(client, smtplib.SMTP):
        return client.starttls(context=ctx)
    if isinstance(client, imaplib.IMAP4):
        return client.starttls(ssl_context=ctx)
    return client.stls(context=ctx)


def drop(client):
    """Closes the client's connection without a word (imaplib's close() is the CLOSE command)."""
    # After a failed handshake the socket may be closed already (ssl took it over).
    try:
        if isinstance(client, imaplib.IMAP4):
            client.shutdown()
        else:
            client.close()
    except OSError:
        pass


# ---- not-advertised ----

def test_not_advertised_smtp_smtplib(server):
    mark = len(server.log_lines)
    smtp = connect(server, "smtp", "not-advertised")
    assert not smtp.has_extn("starttls")
    assert not smtp.has_extn("auth"), "no login may be offered without TLS"
    with pytest.raises(smtplib.SMTPNotSupportedError, match="STARTTLS extension not supported by server"):
        starttls(smtp, server)
    # Sent anyway, as if the command did not exist.
    assert smtp.docmd("STARTTLS") == (502, b"5.5.1 Command not implemented")
    assert smtp.noop()[0] == 250
    smtp.quit()
    session = closed_session(server, mark, "submission-not-advertised", fault_note("not-advertised"))
    assert len(session["behaviours"]) >= 2, "left out of EHLO, and STARTTLS refused: " + repr(
        session["behaviours"])
    assert all('starttls_fault = "not-advertised"' in b for b in session["behaviours"])


def test_not_advertised_imap_imaplib(server):
    mark = len(server.log_lines)
    imap = connect(server, "imap", "not-advertised")
    assert "STARTTLS" not in imap.capabilities
    assert "AUTH=PLAIN" not in imap.capabilities
    # imaplib's own words (an IMAP4.abort, which is an IMAP4.error).
    with pytest.raises(imaplib.IMAP4.abort, match="TLS not supported by server"):
        starttls(imap, server)
    with pytest.raises(imaplib.IMAP4.error, match=r"STARTTLS command error: BAD"):
        imap._simple_command("STARTTLS")  # sent anyway
    assert imap.noop()[0] == "OK"
    imap.logout()
    session = closed_session(server, mark, "imap-not-advertised", fault_note("not-advertised"))
    assert len(session["behaviours"]) >= 2, session["behaviours"]
    assert all('starttls_fault = "not-advertised"' in b for b in session["behaviours"])


def test_not_advertised_pop3_poplib(server):
    mark = len(server.log_lines)
    pop = connect(server, "pop3", "not-advertised")
    caps = pop.capa()
    assert "STLS" not in caps and "USER" not in caps
    with pytest.raises(poplib.error_proto, match="-ERR STLS not supported by server"):
        starttls(pop, server)
    with pytest.raises(poplib.error_proto) as err:
        pop._shortcmd("STLS")  # sent anyway
    assert err.value.args[0].startswith(b"-ERR ")
    assert "STLS" not in pop.capa(), "the session goes on"
    pop.quit()
    session = closed_session(server, mark, "pop3-not-advertised", fault_note("not-advertised"))
    assert len(session["behaviours"]) >= 2, session["behaviours"]
    assert all('starttls_fault = "not-advertised"' in b for b in session["behaviours"])


@pytest.mark.parametrize("protocol, words", [("smtp", "STARTTLS not supported."),
                                             ("imap", "STARTTLS not available."),
                                             ("pop3", "STLS not supported.")])
def test_not_advertised_curl_ssl_reqd_stops_before_any_login(server, protocol, words, tmp_path):
    mark = len(server.log_lines)
    result = curl(server, protocol, "not-advertised", tmp_path)
    # CURLE_USE_SSL_FAILED: --ssl-reqd and no STARTTLS on offer.
    assert result.returncode == 64, (result.returncode, result.stderr)
    assert words in result.stderr
    session = closed_session(server, mark, listener(protocol, "not-advertised"),
                             fault_note("not-advertised"))
    assert_no_login_sent(session)
    assert session["tls"] is None
    text = server.log_text()
    assert not re.search(rf" #{session['id']} \S+ \S+ auth: ", text)


# ---- refused ----

def test_refused_smtp_smtplib(server):
    mark = len(server.log_lines)
    smtp = connect(server, "smtp", "refused")
    assert smtp.has_extn("starttls")
    with pytest.raises(smtplib.SMTPResponseException) as err:
        starttls(smtp, server)
    assert (err.value.smtp_code, err.value.smtp_error) == (
        454, b"4.7.0 TLS not available due to temporary reason")
    assert smtp.noop()[0] == 250, "the session goes on in plaintext after 454"
    smtp.quit()
    check_behaviour(server, mark, "submission-refused", r"STARTTLS refused with 454 4\.7\.0" + fault_note("refused"))


def test_refused_imap_imaplib(server):
    mark = len(server.log_lines)
    imap = connect(server, "imap", "refused")
    assert "STARTTLS" in imap.capabilities
    with pytest.raises(imaplib.IMAP4.error, match="Couldn't establish TLS session"):
        starttls(imap, server)
    # imaplib drops the server's text; asked directly, it is NO [UNAVAILABLE].
    typ, data = imap._simple_command("STARTTLS")
    assert typ == "NO" and data[0].startswith(b"[UNAVAILABLE] "), (typ, data)
    imap.logout()
    check_behaviour(server, mark, "imap-refused", r"STARTTLS refused with NO \[UNAVAILABLE\]" + fault_note("refused"))


def test_refused_pop3_poplib(server):
    mark = len(server.log_lines)
    pop = connect(server, "pop3", "refused")
    assert "STLS" in pop.capa()
    with pytest.raises(poplib.error_proto) as err:
        starttls(pop, server)
    assert err.value.args[0].startswith(b"-ERR [SYS/TEMP] "), err.value.args
    assert "STLS" in pop.capa(), "the session goes on in plaintext after -ERR"
    pop.quit()
    check_behaviour(server, mark, "pop3-refused", r"STLS refused with -ERR \[SYS/TEMP\]" + fault_note("refused"))


@pytest.mark.parametrize("protocol, words", [("smtp", "STARTTLS denied, code 454"),
                                             ("imap", "STARTTLS denied"),
                                             ("pop3", "STARTTLS denied")])
def test_refused_curl_ssl_reqd_gives_up(server, protocol, words, tmp_path):
    mark = len(server.log_lines)
    result = curl(server, protocol, "refused", tmp_path)
    assert result.returncode == 64, (result.returncode, result.stderr)  # CURLE_USE_SSL_FAILED
    assert words in result.stderr
    session = closed_session(server, mark, listener(protocol, "refused"), fault_note("refused"))
    assert_no_login_sent(session)


# ---- abort-handshake ----

@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_abort_handshake_python_sees_the_alert(server, protocol):
    mark = len(server.log_lines)
    client = connect(server, protocol, "abort-handshake")
    with pytest.raises(ssl.SSLError) as err:
        starttls(client, server)
    assert err.value.reason == "SSLV3_ALERT_HANDSHAKE_FAILURE", err.value
    assert "handshake failure" in str(err.value)
    drop(client)
    session = closed_session(server, mark, listener(protocol, "abort-handshake"),
                             r"answered the client's TLS ClientHello with a handshake_failure "
                             r"alert and closed" + fault_note("abort-handshake"))
    assert session["tls"] is None


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_abort_handshake_curl_exit_35(server, protocol, tmp_path):
    mark = len(server.log_lines)
    result = curl(server, protocol, "abort-handshake", tmp_path)
    assert result.returncode == 35, (result.returncode, result.stderr)  # CURLE_SSL_CONNECT_ERROR
    assert "alert handshake failure" in result.stderr
    session = closed_session(server, mark, listener(protocol, "abort-handshake"),
                             r"answered the client's TLS ClientHello" + fault_note("abort-handshake"))
    assert_no_login_sent(session)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_abort_handshake_openssl_s_client_shows_the_alert(server, protocol):
    mark = len(server.log_lines)
    result = run(["openssl", "s_client", "-starttls", protocol, "-connect",
                  f"127.0.0.1:{server.port(listener(protocol, 'abort-handshake'))}",
                  "-CAfile", server.ca_file, "-verify_hostname", "localhost"], input_text="")
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "alert handshake failure" in out and "SSL alert number 40" in out, out
    check_behaviour(server, mark, listener(protocol, "abort-handshake"),
                    r"answered the client's TLS ClientHello" + fault_note("abort-handshake"))


# ---- inject-response ----

INJECT_NOTE = r'.*forged .*INJECTED.*' + fault_note("inject-response")


def test_inject_response_smtplib_ignores_the_forged_line_and_sends(server):
    mark = len(server.log_lines)
    smtp = connect(server, "smtp", "inject-response")
    assert smtp.has_extn("starttls")
    assert starttls(smtp, server)[0] == 220
    code, text = smtp.ehlo("client.test")
    assert code == 250
    assert b"INJECTED" not in smtp.ehlo_resp, smtp.ehlo_resp
    assert text.startswith(b"localhost")
    assert "PLAIN" in smtp.esmtp_features["auth"]
    assert smtp.login(ALICE, USERS[ALICE])[0] == 235
    assert smtp.sendmail(ALICE, [BOB], message("inject-response smtplib", to=BOB)) == {}
    smtp.quit()
    session = check_behaviour(server, mark, "submission-inject-response", INJECT_NOTE)
    new_log(server, mark, rf" #{session['id']} submission-inject-response \S+ delivered: ")
    found = messages_with_subject(server, "inject-response smtplib")
    assert found["total"] == 1
    assert found["messages"][0]["arrival"]["tls_mode"] == "starttls"
    assert found["messages"][0]["arrival"]["auth_user"] == ALICE


def test_inject_response_imaplib_ignores_the_forged_line_and_reads(server):
    deliver(server, ALICE, "inject-response imaplib")
    mark = len(server.log_lines)
    imap = connect(server, "imap", "inject-response")
    assert "STARTTLS" in imap.capabilities
    typ, _ = starttls(imap, server)
    assert typ == "OK"
    # imaplib asked CAPABILITY again inside TLS.
    assert "INJECTED" not in imap.capabilities, imap.capabilities
    assert "AUTH=PLAIN" in imap.capabilities and "LOGINDISABLED" not in imap.capabilities
    imap.login(ALICE, USERS[ALICE])
    typ, listing = imap.list()
    assert typ == "OK" and any(b"INBOX" in line for line in listing)
    imap.select("INBOX", readonly=True)
    typ, data = imap.search(None, "SUBJECT", '"inject-response imaplib"')
    assert typ == "OK" and data[0].split(), data
    imap.logout()
    session = check_behaviour(server, mark, "imap-inject-response", INJECT_NOTE)
    assert session["tls_mode"] == "starttls"


def test_inject_response_poplib_ignores_the_forged_line_and_fetches(server):
    deliver(server, BOB, "inject-response poplib")
    mark = len(server.log_lines)
    pop = connect(server, "pop3", "inject-response")
    assert "STLS" in pop.capa()
    assert starttls(pop, server).startswith(b"+OK")
    caps = pop.capa()
    assert not any("INJECTED" in key for key in caps), caps
    assert "USER" in caps and "STLS" not in caps
    pop.user(BOB)
    pop.pass_(USERS[BOB])
    count, _ = pop.stat()
    assert count >= 1
    _, lines, _ = pop.retr(count)
    assert b"Subject: inject-response poplib" in lines
    pop.quit()
    check_behaviour(server, mark, "pop3-inject-response", INJECT_NOTE)


# What each protocol asks first inside TLS, and what a genuine answer looks like.
RAW = {
    "smtp": {"greeting": "220 ", "before": "EHLO raw.test\r\n", "starttls": "STARTTLS\r\n",
             "ok": "220 2.0.0 Ready to start TLS", "probe": "EHLO raw.test\r\n"},
    "imap": {"greeting": "* OK ", "before": "", "starttls": "a STARTTLS\r\n",
             "ok": "a OK ", "probe": "b CAPABILITY\r\n"},
    "pop3": {"greeting": "+OK ", "before": "", "starttls": "STLS\r\n",
             "ok": "+OK ", "probe": "CAPA\r\n"},
}


def read_answer(conn, protocol):
    """The lines of one answer to RAW[protocol]["probe"]."""
    lines = []
    while True:
        line = conn.line()
        lines.append(line)
        if protocol == "smtp" and (len(line) < 4 or line[3] != "-"):
            return lines
        if protocol == "imap" and line.startswith("b "):
            return lines
        if protocol == "pop3" and (line == "." or line.startswith("-ERR")):
            return lines


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_inject_response_forged_line_arrives_with_the_ok(server, protocol):
    """On the wire: the forged plaintext line comes in the same read as the STARTTLS answer. A
    client that throws it away, as this one does, then gets genuine answers inside TLS."""
    raw = RAW[protocol]
    mark = len(server.log_lines)
    conn = LineSocket(server.port(listener(protocol, "inject-response")))
    assert conn.line().startswith(raw["greeting"])
    if raw["before"]:
        conn.send(raw["before"])
        assert conn.reply()[0] == 250
    conn.send(raw["starttls"])
    ok = conn.line()
    assert ok.startswith(raw["ok"]), ok
    # No further read: the forged line must already be here, behind the answer.
    pending = conn.buf
    assert pending.endswith(b"\r\n") and pending.count(b"\r\n") == 1, pending
    forged = pending[:-2].decode()
    assert "INJECTED" in forged
    if protocol == "smtp":
        assert re.match(r"^\d{3}[ -]", forged), forged
    elif protocol == "imap":
        assert forged.startswith("* CAPABILITY "), forged
    else:
        assert forged.startswith("+OK "), forged
    conn.buf = b""  # what a correct client does (RFC 3207 4.2, RFC 3501 6.2.1, RFC 2595 4)
    conn.starttls(tls_context(server.ca_file))
    conn.send(raw["probe"])
    answer = read_answer(conn, protocol)
    assert not any("INJECTED" in line for line in answer), answer
    if protocol == "smtp":
        assert answer[0].startswith("250-localhost") and any("AUTH PLAIN" in l for l in answer), answer
    elif protocol == "imap":
        assert answer[0].startswith("* CAPABILITY IMAP4rev1") and answer[-1].startswith("b OK"), answer
    else:
        assert answer[0].startswith("+OK") and "USER" in answer, answer
    conn.close()
    check_behaviour(server, mark, listener(protocol, "inject-response"), INJECT_NOTE)


S_CLIENT_INPUT = {
    "smtp": "EHLO s-client.test\nAUTH PLAIN "
            + base64.b64encode(f"\0{ALICE}\0{USERS[ALICE]}".encode()).decode() + "\nQUIT\n",
    "imap": f'a CAPABILITY\nb LOGIN {ALICE} {USERS[ALICE]}\nc LIST "" "*"\nd LOGOUT\n',
    "pop3": f"CAPA\nUSER {BOB}\nPASS {USERS[BOB]}\nSTAT\nQUIT\n",
}
S_CLIENT_EXPECT = {
    "smtp": ["250-localhost Hello s-client.test", "235 2.7.0", "221 2.0.0"],
    "imap": ["* CAPABILITY IMAP4rev1", "b OK", '"INBOX"', "d OK"],
    "pop3": ["+OK Capability list follows", "SASL PLAIN", "+OK"],
}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_inject_response_openssl_s_client_discards_the_forged_line(server, protocol):
    mark = len(server.log_lines)
    result = run(["openssl", "s_client", "-starttls", protocol, "-connect",
                  f"127.0.0.1:{server.port(listener(protocol, 'inject-response'))}",
                  "-CAfile", server.ca_file, "-verify_return_error", "-verify_hostname",
                  "localhost", "-quiet", "-crlf"], input_text=S_CLIENT_INPUT[protocol])
    assert result.returncode == 0, result.stderr
    assert "INJECTED" not in result.stdout, result.stdout
    for expected in S_CLIENT_EXPECT[protocol]:
        assert expected in result.stdout, result.stdout
    session = check_behaviour(server, mark, listener(protocol, "inject-response"), INJECT_NOTE)
    new_log(server, mark, rf" #{session['id']} \S+ \S+ auth: authenticated .* over TLS")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_inject_response_curl_rejects_the_pipelined_answer(server, protocol, tmp_path):
    """curl (since 7.79, CVE-2021-22947) refuses a STARTTLS answer with anything behind it:
    CURLE_WEIRD_SERVER_REPLY, before the handshake, and no login, no message."""
    mark = len(server.log_lines)
    result = curl(server, protocol, "inject-response", tmp_path)
    assert result.returncode == 8, (result.returncode, result.stderr)
    assert "Weird server reply" in result.stderr
    session = closed_session(server, mark, listener(protocol, "inject-response"), INJECT_NOTE)
    assert_no_login_sent(session)
    assert session["messages"] == []


# ---- configuration ----

@pytest.mark.parametrize("fault", FAULTS)
def test_starttls_fault_needs_a_starttls_listener(tmp_path, fault):
    cfg = tmp_path / "sevenport.toml"
    cfg.write_text(f'[listeners.smtps]\nprotocol = "smtp"\nport = 0\nsecurity = "implicit"\n'
                   f'starttls_fault = "{fault}"\n')
    result = subprocess.run([BIN, "--check-config", "--config", str(cfg)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode != 0
    assert "starttls_fault" in result.stderr, result.stderr


def test_unknown_starttls_fault_is_refused(tmp_path):
    cfg = tmp_path / "sevenport.toml"
    cfg.write_text('[listeners.imap]\nprotocol = "imap"\nport = 0\nsecurity = "starttls"\n'
                   'starttls_fault = "sometimes"\n')
    result = subprocess.run([BIN, "--check-config", "--config", str(cfg)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode != 0
    assert "starttls_fault" in result.stderr, result.stderr
