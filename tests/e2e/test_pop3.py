"""POP3 on 110 (STLS) and 995 (implicit TLS): mail sent over SMTP, fetched by poplib, curl and
openssl s_client."""

import poplib
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import USERS
from helpers import LineSocket, run, tls_context

BOB = "bob@example.test"
PASSWORD = USERS[BOB]

# Lines that start with a dot, 8-bit bytes, a long line: everything must come back byte-exact.
TRICKY = (b"From: <sender@client.test>\r\nTo: <bob@example.test>\r\nSubject: byte-exact\r\n"
          b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
          b"Content-Transfer-Encoding: 8bit\r\n\r\n"
          b".a line that starts with a dot\r\n..two dots\r\n.\r\nbetween\r\n"
          b"gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln \xe2\x82\xac\r\n" + b"z" * 900 + b"\r\n")


def send(server, raw, to=BOB):
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=10) as smtp:
        smtp.ehlo("client.test")
        assert smtp.sendmail("sender@client.test", [to], raw, mail_options=["BODY=8BITMIME"]) == {}


def body_after_received(lines):
    """The message as the client sent it: the stored copy starts with our Received header."""
    raw = b"\r\n".join(lines) + b"\r\n"
    assert raw.startswith(b"Received: from client.test")
    return raw[raw.index(b"\r\nFrom: ") + 2:]


def pop3_stls(server):
    pop = poplib.POP3("localhost", server.port("pop3"), timeout=10)
    pop.stls(context=tls_context(server.ca_file))
    return pop


@pytest.fixture
def server(start_sevenport):
    return start_sevenport()


def test_fetch_byte_exact_over_stls_on_110(server):
    send(server, TRICKY)
    pop = pop3_stls(server)
    assert "USER" in pop.capa() and "STLS" not in pop.capa()
    pop.user(BOB)
    pop.pass_(PASSWORD)
    count, size = pop.stat()
    assert count == 1
    _, lines, octets = pop.retr(1)
    assert body_after_received(lines) == TRICKY
    assert octets == size
    pop.quit()
    server.wait_log(r"pop3 .* auth: authenticated bob@example.test with USER over TLS")


def test_fetch_byte_exact_over_implicit_tls_on_995(server):
    send(server, TRICKY)
    pop = poplib.POP3_SSL("localhost", server.port("pop3s"), timeout=10, context=tls_context(server.ca_file))
    pop.user("bob")
    pop.pass_(PASSWORD)
    _, lines, _ = pop.retr(1)
    assert body_after_received(lines) == TRICKY
    uidl = pop.uidl(1)
    pop.quit()
    pop = poplib.POP3_SSL("localhost", server.port("pop3s"), timeout=10, context=tls_context(server.ca_file))
    pop.user(BOB)
    pop.pass_(PASSWORD)
    assert pop.uidl(1) == uidl, "UIDL must be stable across sessions"
    pop.quit()
    server.wait_log(r"pop3s .* tls: TLSv1\.3 \S+ \(implicit TLS\)")


def test_dele_then_quit_removes_and_dele_then_drop_keeps(server):
    send(server, b"Subject: one\r\n\r\nfirst\r\n")
    send(server, b"Subject: two\r\n\r\nsecond\r\n")
    pop = pop3_stls(server)
    pop.user(BOB)
    pop.pass_(PASSWORD)
    pop.dele(1)
    pop.sock.shutdown(socket.SHUT_RDWR)  # the connection drops before QUIT: nothing may be deleted
    pop.sock.close()
    server.wait_log(r"pop3 .* close: client closed the connection")
    pop = pop3_stls(server)
    pop.user(BOB)
    pop.pass_(PASSWORD)
    assert pop.stat()[0] == 2
    pop.dele(1)
    assert pop.quit().startswith(b"+OK")
    pop = pop3_stls(server)
    pop.user(BOB)
    pop.pass_(PASSWORD)
    assert pop.stat()[0] == 1
    _, lines, _ = pop.retr(1)
    assert b"Subject: two" in lines
    pop.quit()


def test_second_session_gets_in_use(server):
    first = pop3_stls(server)
    first.user(BOB)
    first.pass_(PASSWORD)
    second = pop3_stls(server)
    second.user(BOB)
    with pytest.raises(poplib.error_proto) as err:
        second.pass_(PASSWORD)
    assert b"[IN-USE]" in err.value.args[0]
    first.quit()
    second.quit()


def test_user_before_stls_is_refused(server):
    pop = poplib.POP3("127.0.0.1", server.port("pop3"), timeout=10)
    caps = pop.capa()
    assert "STLS" in caps and "USER" not in caps
    with pytest.raises(poplib.error_proto) as err:
        pop.user(BOB)
    assert b"TLS" in err.value.args[0]
    pop.quit()


def test_wrong_password_is_refused(server):
    pop = pop3_stls(server)
    pop.user(BOB)
    with pytest.raises(poplib.error_proto) as err:
        pop.pass_("wrong")
    assert b"[AUTH]" in err.value.args[0]
    pop.quit()
    server.wait_log(r"pop3 .* auth: authentication failed for bob@example.test")


def test_tls_client_on_110_fails_fast_with_diagnosis(server):
    start = time.monotonic()
    with pytest.raises((ssl.SSLError, OSError)):
        poplib.POP3_SSL("localhost", server.port("pop3"), timeout=5, context=tls_context(server.ca_file))
    assert time.monotonic() - start < 1.0
    line = server.wait_log(r"pop3 .* diagnosis: client started a TLS handshake")
    assert f"use port {server.port('pop3s')} for SSL/TLS" in line


def test_plaintext_client_on_995_fails_fast_with_diagnosis(server):
    conn = LineSocket(server.port("pop3s"))
    conn.send("CAPA\r\n")
    assert conn.closed_within(1.0)
    line = server.wait_log(r"pop3s .* diagnosis: client sent plaintext \(\"CAPA\"\)")
    assert f"use port {server.port('pop3')} with STARTTLS" in line


def test_curl_lists_and_retrieves(server):
    send(server, TRICKY)
    for url in (f"pop3://127.0.0.1:{server.port('pop3')}/", f"pop3s://127.0.0.1:{server.port('pop3s')}/"):
        common = ["curl", "--silent", "--show-error", "--cacert", server.ca_file, "--user", f"{BOB}:{PASSWORD}"]
        if url.startswith("pop3:"):
            common.append("--ssl-reqd")
        listing = run(common + [url])
        assert listing.returncode == 0, listing.stderr
        assert listing.stdout.split()[0] == "1"
        message = subprocess.run(common + [url + "1"], capture_output=True, timeout=30)
        assert message.returncode == 0, message.stderr
        assert body_after_received(message.stdout.split(b"\r\n")[:-1]) == TRICKY


def test_openssl_s_client_starttls_pop3(server):
    result = run(["openssl", "s_client", "-starttls", "pop3", "-connect", f"127.0.0.1:{server.port('pop3')}",
                  "-CAfile", server.ca_file, "-verify_return_error", "-verify_hostname", "localhost",
                  "-quiet", "-crlf"],
                 input_text=f"CAPA\nUSER {BOB}\nPASS {PASSWORD}\nSTAT\nQUIT\n")
    assert result.returncode == 0, result.stderr
    assert "+OK Logged in" in result.stdout or "+OK" in result.stdout
    assert "SASL PLAIN" in result.stdout
    assert "+OK 0 0" in result.stdout
