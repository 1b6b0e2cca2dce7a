"""SMTP on the three SMTP listeners, driven by Python's smtplib, curl, swaks and openssl s_client."""

import base64
import smtplib
import ssl
import time

import pytest

from conftest import USERS
from helpers import LineSocket, message, run, tls_context

ALICE = "alice@example.test"
PASSWORD = USERS[ALICE]


def test_port25_accepts_local_mail_in_plaintext(sevenport):
    with smtplib.SMTP("127.0.0.1", sevenport.port("smtp"), timeout=10) as smtp:
        code, _ = smtp.ehlo("client.test")
        assert code == 250
        assert smtp.has_extn("starttls")
        assert not smtp.has_extn("auth"), "AUTH must not be offered before TLS"
        refused = smtp.sendmail("sender@client.test", [ALICE], message("port 25 plaintext"))
        assert refused == {}
    line = sevenport.wait_log(r"smtp .* delivered: message \d+ accepted, \d+ octets, for alice@example.test")
    assert "smtp" in line


def test_port25_starttls_verifies_against_the_ca(sevenport):
    with smtplib.SMTP("localhost", sevenport.port("smtp"), timeout=10) as smtp:
        smtp.ehlo("client.test")
        code, _ = smtp.starttls(context=tls_context(sevenport.ca_file))
        assert code == 220
        smtp.ehlo("client.test")
        assert not smtp.has_extn("starttls")
        assert smtp.has_extn("auth")
        assert smtp.sendmail("sender@client.test", [ALICE], message("port 25 starttls")) == {}
    sevenport.wait_log(r"smtp .* tls: TLSv1\.3 \S+ \(after STARTTLS\)")


def test_port25_refuses_relaying(sevenport):
    with smtplib.SMTP("127.0.0.1", sevenport.port("smtp"), timeout=10) as smtp:
        smtp.ehlo("client.test")
        smtp.mail("sender@client.test")
        code, text = smtp.rcpt("someone@elsewhere.test")
        assert code == 554
        assert text.startswith(b"5.7.1")


def test_port587_starttls_then_auth_then_relay(sevenport):
    with smtplib.SMTP("localhost", sevenport.port("submission"), timeout=10) as smtp:
        smtp.ehlo("client.test")
        assert not smtp.has_extn("auth")
        smtp.starttls(context=tls_context(sevenport.ca_file))
        smtp.ehlo("client.test")
        assert "PLAIN" in smtp.esmtp_features["auth"]
        code, _ = smtp.login(ALICE, PASSWORD)
        assert code == 235
        assert smtp.sendmail(ALICE, ["friend@elsewhere.test"], message("587 relay", to="friend@elsewhere.test")) == {}
    sevenport.wait_log(r"submission .* auth: authenticated alice@example.test with PLAIN over TLS")
    sevenport.wait_log(r"submission .* delivered: .* for friend@elsewhere.test")


def test_port587_auth_login_mechanism(sevenport):
    with smtplib.SMTP("localhost", sevenport.port("submission"), timeout=10) as smtp:
        smtp.starttls(context=tls_context(sevenport.ca_file))
        smtp.ehlo("client.test")
        smtp.user, smtp.password = ALICE, PASSWORD
        code, _ = smtp.auth("LOGIN", smtp.auth_login)
        assert code == 235
    sevenport.wait_log(r"auth: authenticated alice@example.test with LOGIN over TLS")


def test_port587_auth_before_starttls_is_refused(sevenport):
    with smtplib.SMTP("127.0.0.1", sevenport.port("submission"), timeout=10) as smtp:
        smtp.ehlo("client.test")
        creds = base64.b64encode(f"\0{ALICE}\0{PASSWORD}".encode()).decode()
        code, text = smtp.docmd("AUTH", "PLAIN " + creds)
        assert code == 538
        assert text.startswith(b"5.7.11")


def test_port587_mail_before_auth_is_refused(sevenport):
    with smtplib.SMTP("localhost", sevenport.port("submission"), timeout=10) as smtp:
        smtp.starttls(context=tls_context(sevenport.ca_file))
        smtp.ehlo("client.test")
        code, text = smtp.mail("sender@client.test")
        assert code == 530
        assert text.startswith(b"5.7.0")


def test_port465_implicit_tls(sevenport):
    with smtplib.SMTP_SSL("localhost", sevenport.port("submissions"), timeout=10,
                          context=tls_context(sevenport.ca_file)) as smtp:
        smtp.ehlo("client.test")
        assert not smtp.has_extn("starttls")
        smtp.login("alice", PASSWORD)  # the local part alone is a valid login
        assert smtp.sendmail(ALICE, [ALICE], message("465 implicit")) == {}
    sevenport.wait_log(r"submissions .* tls: TLSv1\.3 \S+ \(implicit TLS\)")


def test_wrong_password_is_535(sevenport):
    with smtplib.SMTP_SSL("localhost", sevenport.port("submissions"), timeout=10,
                          context=tls_context(sevenport.ca_file)) as smtp:
        smtp.ehlo("client.test")
        with pytest.raises(smtplib.SMTPAuthenticationError) as err:
            smtp.login(ALICE, "not-the-password")
        assert err.value.smtp_code == 535
        assert err.value.smtp_error.startswith(b"5.7.8")
    log = sevenport.wait_log(r"auth: authentication failed for alice@example.test")
    assert "not-the-password" not in sevenport.log_text()
    assert "PLAIN" in log


def test_overlong_line_is_500_and_session_goes_on(sevenport):
    with smtplib.SMTP("127.0.0.1", sevenport.port("smtp"), timeout=10) as smtp:
        smtp.ehlo("client.test")
        code, text = smtp.docmd("NOOP " + "x" * 1100)
        assert (code, text[:5]) == (500, b"5.5.2")
        assert smtp.noop()[0] == 250
        assert smtp.sendmail("s@client.test", [ALICE], message("after long line")) == {}


def test_size_declared_too_big_is_552(sevenport):
    with smtplib.SMTP("127.0.0.1", sevenport.port("smtp"), timeout=10) as smtp:
        smtp.ehlo("client.test")
        limit = int(smtp.esmtp_features["size"])
        code, text = smtp.mail("s@client.test", [f"SIZE={limit + 1}"])
        assert (code, text[:5]) == (552, b"5.3.4")


def test_message_over_size_is_552_and_not_stored(start_sevenport):
    server = start_sevenport(config_text=SMALL_LIMIT_CONFIG)
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=10) as smtp:
        smtp.ehlo("client.test")
        assert smtp.esmtp_features["size"] == "4096"
        # Declaring SIZE would be refused at MAIL; this client does not declare it.
        assert smtp.mail("s@client.test")[0] == 250
        assert smtp.rcpt(ALICE)[0] == 250
        code, text = smtp.data(message("too big", body="y" * 8000))
        assert (code, text[:5]) == (552, b"5.3.4")
        assert smtp.sendmail("s@client.test", [ALICE], message("small enough")) == {}
    # Log lines are flushed after the reply is written: wait for the session's end, then count.
    server.wait_log(r"#1 smtp \S+ close: ")
    assert server.log_text().count("delivered:") == 1


SMALL_LIMIT_CONFIG = """
hostname = "localhost"
local_domains = ["example.test"]
[limits]
max_message_size = 4096
[listeners.smtp]
protocol = "smtp"
port = 25
security = "starttls"
"""


def test_disconnect_mid_data_stores_nothing(sevenport):
    conn = LineSocket(sevenport.port("smtp"))
    assert conn.reply()[0] == 220
    conn.send("EHLO client.test\r\n")
    assert conn.reply()[0] == 250
    conn.send("MAIL FROM:<s@client.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
    assert conn.reply()[0] == 250
    assert conn.reply()[0] == 250
    assert conn.reply()[0] == 354
    conn.send("Subject: half a message\r\n\r\nthe first half, and then the client goes away")
    conn.close()
    closed = sevenport.wait_log(r"#(\d+) smtp \S+ close: client closed the connection")
    session = closed.split()[1]
    assert not [l for l in sevenport.log_lines if session + " " in l and "delivered" in l]


def test_commands_pipelined_after_starttls_are_not_executed(sevenport):
    conn = LineSocket(sevenport.port("smtp"))
    assert conn.reply()[0] == 220
    conn.send("EHLO client.test\r\n")
    assert conn.reply()[0] == 250
    # A man in the middle could append these to the client's STARTTLS; they must be discarded.
    conn.send("STARTTLS\r\nEHLO injected.test\r\nMAIL FROM:<evil@injected.test>\r\n")
    assert conn.reply()[0] == 220
    conn.starttls(tls_context(sevenport.ca_file))
    conn.send("RCPT TO:<alice@example.test>\r\n")
    code, _ = conn.reply()
    assert code == 503, "the injected MAIL FROM must not have been executed"
    conn.send("NOOP\r\n")
    assert conn.reply() == (250, ["2.0.0 Ok"])
    conn.close()
    assert "injected" not in sevenport.log_text()


def test_tls_client_on_starttls_port_fails_fast_with_diagnosis(sevenport):
    start = time.monotonic()
    with pytest.raises((ssl.SSLError, ConnectionError, smtplib.SMTPServerDisconnected, OSError)):
        smtplib.SMTP_SSL("localhost", sevenport.port("submission"), timeout=5,
                         context=tls_context(sevenport.ca_file))
    assert time.monotonic() - start < 1.0
    line = sevenport.wait_log(r"submission .* diagnosis: client started a TLS handshake")
    assert "set to SSL/TLS" in line
    assert f"use port {sevenport.port('submissions')} for SSL/TLS" in line


def test_plaintext_client_on_implicit_port_fails_fast_with_diagnosis(sevenport):
    conn = LineSocket(sevenport.port("submissions"))
    start = time.monotonic()
    conn.send("EHLO client.test\r\n")
    assert conn.closed_within(1.0)
    assert time.monotonic() - start < 1.0
    line = sevenport.wait_log(r"submissions .* diagnosis: client sent plaintext \(\"EHLO client.test\"\)")
    assert "expects TLS from the first byte" in line
    assert f"use port {sevenport.port('submission')} with STARTTLS" in line


def test_curl_submits_over_starttls_and_implicit_tls(sevenport, tmp_path):
    mail = tmp_path / "mail.txt"
    mail.write_text(message("sent by curl"))
    for url in (f"smtp://127.0.0.1:{sevenport.port('submission')}",
                f"smtps://127.0.0.1:{sevenport.port('submissions')}"):
        result = run(["curl", "--silent", "--show-error", "--url", url, "--ssl-reqd",
                      "--cacert", sevenport.ca_file, "--user", f"{ALICE}:{PASSWORD}",
                      "--mail-from", ALICE, "--mail-rcpt", "bob@example.test",
                      "--upload-file", str(mail)])
        assert result.returncode == 0, result.stderr
    sevenport.wait_log(r"delivered: .* for bob@example.test", count=2)


def test_swaks_starttls_and_tls_on_connect(sevenport):
    for flags, port in ((["--tls"], sevenport.port("submission")),
                        (["--tlsc"], sevenport.port("submissions"))):
        result = run(["swaks", "--server", "127.0.0.1", "--port", str(port), *flags,
                      "--tls-verify", "--tls-ca-path", sevenport.ca_file,
                      "--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", PASSWORD,
                      "--from", ALICE, "--to", "bob@example.test", "--header", "Subject: swaks"])
        assert result.returncode == 0, result.stdout + result.stderr
        assert "250 2.0.0 Ok: queued as" in result.stdout


def test_openssl_s_client_starttls_smtp(sevenport):
    result = run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                  f"127.0.0.1:{sevenport.port('smtp')}", "-CAfile", sevenport.ca_file,
                  "-verify_return_error", "-verify_hostname", "localhost", "-quiet", "-crlf"],
                 input_text="EHLO s-client.test\nQUIT\n")
    assert result.returncode == 0, result.stderr
    assert "250-localhost Hello s-client.test" in result.stdout
    assert "221 2.0.0" in result.stdout
