"""IMAP on 143 (STARTTLS) and 993 (implicit TLS): mail sent over SMTP, read and managed with
imaplib, curl, openssl s_client, and neomutt in a terminal."""

import imaplib
import shutil
import smtplib
import ssl
import subprocess
import time

import pytest

from conftest import USERS
from helpers import LineSocket, run, tls_context

ALICE = "alice@example.test"
PASSWORD = USERS[ALICE]

MULTIPART = (b"From: Sender <sender@client.test>\r\nTo: Alice <alice@example.test>\r\n"
             b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and an attachment\r\n"
             b"Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <multi@client.test>\r\n"
             b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
             b"--outer\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n"
             b"--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain body line\r\n"
             b"--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html body</p>\r\n"
             b"--inner--\r\n"
             b"--outer\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n"
             b"Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
             b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--outer--\r\n")


def send(server, raw, to=ALICE):
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=10) as smtp:
        smtp.ehlo("client.test")
        assert smtp.sendmail("sender@client.test", [to], raw) == {}


def imap_starttls(server):
    imap = imaplib.IMAP4("localhost", server.port("imap"), timeout=10)
    imap.starttls(ssl_context=tls_context(server.ca_file))
    return imap


def imap_ssl(server):
    return imaplib.IMAP4_SSL("localhost", server.port("imaps"), ssl_context=tls_context(server.ca_file), timeout=10)


@pytest.fixture
def server(start_sevenport):
    return start_sevenport()


@pytest.mark.parametrize("connect", [imap_starttls, imap_ssl], ids=["starttls-143", "implicit-993"])
def test_find_fetch_flag_copy_move_expunge(server, connect):
    send(server, MULTIPART)
    imap = connect(server)
    imap.login(ALICE, PASSWORD)
    typ, data = imap.select("INBOX")
    assert typ == "OK" and data == [b"1"]
    typ, data = imap.search(None, "FROM", "sender@client.test", "SUBJECT", "attachment")
    assert data == [b"1"]
    # Whole message, byte-exact after our Received header.
    typ, data = imap.fetch("1", "(BODY.PEEK[])")
    raw = data[0][1]
    assert raw.endswith(MULTIPART) and raw.startswith(b"Received: from client.test")
    # By section, and partial.
    typ, data = imap.fetch("1", "(BODY.PEEK[1.1])")
    assert data[0][1] == b"plain body line"
    typ, data = imap.fetch("1", "(BODY.PEEK[1.2]<3.4>)")
    assert data[0][1] == b"html"
    typ, data = imap.fetch("1", "(BODYSTRUCTURE ENVELOPE FLAGS)")
    meta = data[0].decode()
    assert '("TEXT" "PLAIN"' in meta and '"ALTERNATIVE"' in meta and '"report.pdf"' in meta
    assert '"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and an attachment"' in meta
    assert "\\Seen" not in meta, "PEEK must not set \\Seen"
    # Flag, copy, move, expunge.
    imap.store("1", "+FLAGS", "(\\Flagged)")
    typ, data = imap.fetch("1", "(FLAGS)")
    assert b"\\Flagged" in data[0]
    typ, data = imap.copy("1", "Trash")
    assert typ == "OK" and b"COPYUID" in data[0]
    typ, data = imap._simple_command("MOVE", "1", "Junk")  # imaplib has no move() of its own
    assert typ == "OK"
    typ, data = imap.select("INBOX")
    assert data == [b"0"]
    typ, data = imap.select("Junk")
    assert data == [b"1"]
    imap.store("1", "+FLAGS", "(\\Deleted)")
    typ, data = imap.expunge()
    assert data == [b"1"]
    typ, data = imap.status("Trash", "(MESSAGES)")
    assert b"MESSAGES 1" in data[0]
    imap.logout()


def test_login_before_starttls_is_refused(server):
    imap = imaplib.IMAP4("127.0.0.1", server.port("imap"), timeout=10)
    assert "LOGINDISABLED" in imap.capabilities and "STARTTLS" in imap.capabilities
    with pytest.raises(imaplib.IMAP4.error):
        imap.login(ALICE, PASSWORD)
    imap.starttls(ssl_context=tls_context(server.ca_file))
    assert "LOGINDISABLED" not in imap.capabilities and "AUTH=PLAIN" in imap.capabilities
    imap.login(ALICE, PASSWORD)
    imap.logout()


def test_wrong_password_is_refused(server):
    imap = imap_ssl(server)
    with pytest.raises(imaplib.IMAP4.error) as err:
        imap.login(ALICE, "wrong")
    assert "AUTHENTICATIONFAILED" in str(err.value)
    server.wait_log(r"imaps .* auth: authentication failed for alice@example.test")


def test_idle_sees_a_delivery_within_a_second(server):
    imap = imap_ssl(server)
    imap.login(ALICE, PASSWORD)
    imap.select("INBOX")
    tag = imap._new_tag()
    imap.send(tag + b" IDLE\r\n")
    assert imap.readline().startswith(b"+ ")
    start = time.monotonic()
    send(server, b"Subject: while idling\r\n\r\nhello\r\n")
    imap.sock.settimeout(1.0)
    line = imap.readline()
    assert line == b"* 1 EXISTS\r\n"
    assert time.monotonic() - start < 1.0
    imap.send(b"DONE\r\n")
    while True:
        line = imap.readline()
        if line.startswith(tag):
            assert b" OK " in line
            break
    imap.sock.settimeout(10)
    imap.logout()


def test_another_session_sees_expunge_and_delivery(server):
    send(server, b"Subject: one\r\n\r\n1\r\n")
    send(server, b"Subject: two\r\n\r\n2\r\n")
    a, b = imap_ssl(server), imap_ssl(server)
    for imap in (a, b):
        imap.login(ALICE, PASSWORD)
        imap.select("INBOX")
    a.store("1", "+FLAGS", "(\\Deleted)")
    a.expunge()
    send(server, b"Subject: three\r\n\r\n3\r\n")
    typ, data = b.noop()
    assert typ == "OK"
    assert b._untagged_response("OK", [None], "EXPUNGE")[1] == [b"1"]
    assert b.response("EXISTS")[1][-1] == b"2"
    typ, data = b.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"Subject: three" in data[0][1]
    a.logout()
    b.logout()


def test_oversized_literal_is_refused_before_its_bytes(start_sevenport):
    server = start_sevenport(config_text=SMALL_IMAP)
    conn = LineSocket(server.port("imaps"))
    conn.sock = tls_context(server.ca_file).wrap_socket(conn.sock, server_hostname="localhost")
    assert conn.line().startswith("* OK")
    conn.send(f"a LOGIN {ALICE} {PASSWORD}\r\n")
    assert conn.line().startswith("a OK")
    conn.send("b APPEND INBOX {100000}\r\n")
    reply = conn.line()
    assert reply.startswith("b NO") or reply.startswith("b BAD")
    # The client did not get "+", so it sends no literal: the next command works.
    conn.send("c NOOP\r\n")
    assert conn.line().startswith("c OK")
    # A non-synchronising literal over the limit arrives anyway: its bytes (which look like
    # commands here) are swallowed, never parsed.
    conn.send("d APPEND INBOX {5000+}\r\n" + "x LOGOUT\r\n" * 500 + "\r\n")
    assert conn.line().startswith("d NO [TOOBIG]")
    conn.send("e NOOP\r\n")
    assert conn.line().startswith("e OK"), "the literal's bytes must not have been run as commands"
    conn.close()


SMALL_IMAP = """
hostname = "localhost"
local_domains = ["example.test"]
[listeners.smtp]
protocol = "smtp"
port = 25
security = "starttls"
[listeners.imaps]
protocol = "imap"
port = 993
security = "implicit"
max_message_size = 4096
"""


def test_tls_client_on_143_fails_fast_with_diagnosis(server):
    start = time.monotonic()
    with pytest.raises((ssl.SSLError, OSError)):
        imaplib.IMAP4_SSL("localhost", server.port("imap"), ssl_context=tls_context(server.ca_file), timeout=5)
    assert time.monotonic() - start < 1.0
    line = server.wait_log(r"imap .* diagnosis: client started a TLS handshake")
    assert f"use port {server.port('imaps')} for SSL/TLS" in line


def test_plaintext_client_on_993_fails_fast_with_diagnosis(server):
    conn = LineSocket(server.port("imaps"))
    conn.send("a CAPABILITY\r\n")
    assert conn.closed_within(1.0)
    line = server.wait_log(r"imaps .* diagnosis: client sent plaintext \(\"a CAPABILITY\"\)")
    assert f"use port {server.port('imap')} with STARTTLS" in line


def test_curl_lists_and_fetches(server):
    send(server, MULTIPART)
    for base in (f"imap://127.0.0.1:{server.port('imap')}", f"imaps://127.0.0.1:{server.port('imaps')}"):
        common = ["curl", "--silent", "--show-error", "--cacert", server.ca_file, "--user", f"{ALICE}:{PASSWORD}"]
        if base.startswith("imap:"):
            common.append("--ssl-reqd")
        listing = run(common + [base + "/"])
        assert listing.returncode == 0, listing.stderr
        assert '"INBOX"' in listing.stdout or " INBOX" in listing.stdout
        fetched = subprocess.run(common + [base + "/INBOX;UID=1"], capture_output=True, timeout=30)
        assert fetched.returncode == 0, fetched.stderr
        assert fetched.stdout.endswith(MULTIPART)


def test_openssl_s_client_starttls_imap(server):
    result = run(["openssl", "s_client", "-starttls", "imap", "-connect", f"127.0.0.1:{server.port('imap')}",
                  "-CAfile", server.ca_file, "-verify_return_error", "-verify_hostname", "localhost",
                  "-quiet", "-crlf"],
                 input_text=f"a CAPABILITY\nb LOGIN {ALICE} {PASSWORD}\nc LOGOUT\n")
    assert result.returncode == 0, result.stderr
    assert "AUTH=PLAIN" in result.stdout and "LOGINDISABLED" not in result.stdout
    assert "b OK" in result.stdout


@pytest.mark.skipif(not shutil.which("neomutt") or not shutil.which("tmux"), reason="needs neomutt and tmux")
def test_neomutt_reads_a_message_over_imaps(server, tmp_path):
    send(server, b"From: <sender@client.test>\r\nSubject: for neomutt\r\n\r\nneomutt can read this body\r\n")
    rc = tmp_path / "muttrc"
    rc.write_text(f"""
set ssl_ca_certificates_file="{server.ca_file}"
set ssl_force_tls=yes
set imap_user="{ALICE}"
set imap_pass="{PASSWORD}"
set folder="imaps://localhost:{server.port('imaps')}/"
set spoolfile="+INBOX"
set header_cache=""
set message_cachedir=""
set record=""
set mail_check_stats=no
set wait_key=no
set pager_stop=yes
""")
    session = f"sevenport-{server.proc.pid}"
    run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "40",
         f"TERM=xterm neomutt -n -F {rc} -f imaps://localhost:{server.port('imaps')}/INBOX"])
    try:
        screen = wait_for_screen(session, "for neomutt")
        run(["tmux", "send-keys", "-t", session, "Enter"])
        screen = wait_for_screen(session, "neomutt can read this body")
        assert "Subject: for neomutt" in screen
        run(["tmux", "send-keys", "-t", session, "q", "q"])
    finally:
        run(["tmux", "kill-session", "-t", session])
    server.wait_log(r"imaps .* auth: authenticated alice@example.test")


def wait_for_screen(session, text, timeout=15):
    """Reads the terminal until `text` shows (a bounded wait on what a person would see)."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = run(["tmux", "capture-pane", "-p", "-t", session]).stdout
        if text in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never showed; the screen:\n{screen}")
