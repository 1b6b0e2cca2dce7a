"""SMTP replies on demand (docs/BEHAVIOURS.md): full mailboxes, unknown users, greylisting, relay
refused, messages too large and rate limits, as smtplib, curl and a raw socket client meet them;
each refusal stores nothing, and each behaviour that takes effect is in the session log and in the
API's session."""

import json
import re
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import USERS
from helpers import LineSocket, message, run, tls_context

ALICE = "alice@example.test"
BOB = "bob@example.test"
FULL_TEMP = "full-temp@example.test"
FULL_PERM = "full-perm@example.test"
NOBODY = "nobody@example.test"
ELSEWHERE = "someone@elsewhere.test"

FULL_USERS = f"""
[[users]]
address = "{FULL_TEMP}"
password = "full-temp-pw"
mailbox_full = "temporary"

[[users]]
address = "{FULL_PERM}"
password = "full-perm-pw"
mailbox_full = "permanent"
"""


def config(mx="", submission="", users=""):
    """Port 25 (role mx) and 587 (submission), each with extra keys; the HTTP API."""
    return f"""
hostname = "localhost"
local_domains = ["example.test"]

[http]
enabled = true
{users}
[listeners.smtp]
protocol = "smtp"
port = 25
security = "starttls"
role = "mx"
{mx}

[listeners.submission]
protocol = "smtp"
port = 587
security = "starttls"
role = "submission"
{submission}
"""


# ---- the HTTP API ----


def api_get(server, path):
    url = f"http://127.0.0.1:{server.port('http')}/api/v1{path}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        return json.loads(resp.read())


def messages(server, **query):
    return api_get(server, "/messages?" + urllib.parse.urlencode(query))


def stored(server, **query):
    return messages(server, **query)["total"]


def session_of(line):
    return int(re.search(r" #(\d+) ", line).group(1))


def behaviours_of(server, line):
    """The API's `behaviours` of the session that logged `line`."""
    return api_get(server, f"/sessions/{session_of(line)}")["behaviours"]


# ---- clients ----


def smtp25(server, source=None):
    """smtplib on port 25, plaintext; from 127.0.0.1 or the given source IP."""
    smtp = smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=10,
                        source_address=(source, 0) if source else None)
    smtp.ehlo("client.test")
    return smtp


def smtp587(server, user=ALICE, password=None):
    smtp = smtplib.SMTP("localhost", server.port("submission"), timeout=10)
    smtp.ehlo("client.test")
    smtp.starttls(context=tls_context(server.ca_file))
    smtp.ehlo("client.test")
    smtp.login(user, password or USERS[user])
    return smtp


def refused_recipients(smtp, to, subject, sender="sender@client.test"):
    """sendmail that must be refused at RCPT for every recipient: returns {rcpt: (code, text)}."""
    with pytest.raises(smtplib.SMTPRecipientsRefused) as err:
        smtp.sendmail(sender, to, message(subject, sender=sender, to=to[0]))
    return err.value.recipients


def curl25(server, tmp_path, rcpt, subject, *extra, sender="sender@client.test", upload=None):
    """curl on port 25 in plaintext, verbose (its stderr shows the dialogue)."""
    args = ["curl", "--silent", "--show-error", "--verbose", "--max-time", "15",
            "--url", f"smtp://127.0.0.1:{server.port('smtp')}", "--mail-from", sender,
            "--mail-rcpt", rcpt, *extra]
    if upload is None:
        mail = tmp_path / "mail.txt"
        mail.write_text(message(subject, sender=sender, to=rcpt))
        args += ["--upload-file", str(mail)]
        return run(args)
    args += ["--upload-file", "-"]
    return run(args, input_text=upload)


CURL_SEND_ERROR = 55  # "MAIL failed: N", "RCPT failed: N"


def assert_curl_refused(result, what, code, reply):
    assert result.returncode == CURL_SEND_ERROR, (result.returncode, result.stderr[-2000:])
    assert f"{what} failed: {code}" in result.stderr, result.stderr[-2000:]
    assert f"< {code} {reply}" in result.stderr, result.stderr[-2000:]


# ---- full mailboxes (per user) ----


TEMP_REPLY = (452, f"4.2.2 <{FULL_TEMP}>: Mailbox full, try again later".encode())
PERM_REPLY = (552, f"5.2.2 <{FULL_PERM}>: Mailbox full".encode())


def test_mailbox_full_temporary_is_452_at_rcpt(start_sevenport, tmp_path):
    server = start_sevenport(config_text=config(users=FULL_USERS))
    with smtp25(server) as smtp:
        assert refused_recipients(smtp, [FULL_TEMP], "to a full mailbox") == {FULL_TEMP: TEMP_REPLY}
        # Another recipient of the same message still gets it.
        refused = smtp.sendmail("sender@client.test", [ALICE, FULL_TEMP], message("partly full"))
        assert refused == {FULL_TEMP: TEMP_REPLY}
    pattern = rf'#\d+ smtp \S+ behaviour: refused <{re.escape(FULL_TEMP)}> with 452 4\.2\.2: .*mailbox_full = "temporary"'
    line = server.wait_log(pattern, count=2)
    # The API's session: the behaviour, and a note in the transcript right before the reply.
    session = api_get(server, f"/sessions/{session_of(line)}")
    assert len(session["behaviours"]) == 2 and FULL_TEMP in session["behaviours"][0], session["behaviours"]
    transcript = session["transcript"]
    refusals = [i for i, t in enumerate(transcript) if t["direction"] == "server" and t["text"].startswith("452 ")]
    assert len(refusals) == 2
    for i in refusals:
        assert transcript[i]["text"] == "452 " + TEMP_REPLY[1].decode()
        assert transcript[i - 1]["direction"] == "note" and "behaviour" in transcript[i - 1]["text"], transcript[i - 1]
    result = curl25(server, tmp_path, FULL_TEMP, "curl to a full mailbox")
    assert_curl_refused(result, "RCPT", 452, TEMP_REPLY[1].decode())
    server.wait_log(pattern, count=3)

    assert stored(server) == 1
    only = messages(server)["messages"][0]
    assert only["subject"] == "partly full"
    assert only["to"] == [ALICE] and only["mailboxes"] == [ALICE]
    assert stored(server, to=FULL_TEMP) == 0


def test_mailbox_full_permanent_is_552_at_rcpt(start_sevenport, tmp_path):
    server = start_sevenport(config_text=config(users=FULL_USERS))
    with smtp25(server) as smtp:
        assert refused_recipients(smtp, [FULL_PERM], "to a full mailbox") == {FULL_PERM: PERM_REPLY}
    server.wait_log(rf'#\d+ smtp \S+ behaviour: refused <{re.escape(FULL_PERM)}> with 552 5\.2\.2: .*mailbox_full = "permanent"')
    result = curl25(server, tmp_path, FULL_PERM, "curl to a full mailbox")
    assert_curl_refused(result, "RCPT", 552, PERM_REPLY[1].decode())
    # An authenticated sender on submission meets the same full mailbox.
    with smtp587(server) as smtp:
        assert refused_recipients(smtp, [FULL_PERM], "submitted to a full mailbox", sender=ALICE) \
            == {FULL_PERM: PERM_REPLY}
    server.wait_log(rf'#\d+ submission \S+ behaviour: refused <{re.escape(FULL_PERM)}> with 552 5\.2\.2: .*mailbox_full = "permanent"')
    assert stored(server) == 0
    users = {u["address"]: u for u in api_get(server, "/users")["users"]}
    assert users[FULL_PERM]["mailbox_full"] == "permanent"
    assert users[FULL_TEMP]["mailbox_full"] == "temporary"
    assert users[ALICE]["mailbox_full"] == "no"


# ---- unknown users ----


UNKNOWN_REPLY = (550, f"5.1.1 <{NOBODY}>: Recipient address rejected: User unknown".encode())


def test_reject_unknown_users_is_550_for_an_unknown_local_user(start_sevenport, tmp_path):
    server = start_sevenport(config_text=config(mx="reject_unknown_users = true"))
    with smtp25(server) as smtp:
        assert refused_recipients(smtp, [NOBODY], "to nobody") == {NOBODY: UNKNOWN_REPLY}
        line = server.wait_log(rf"#\d+ smtp \S+ behaviour: refused <{re.escape(NOBODY)}> with 550 5\.1\.1: .*reject_unknown_users = true")
        # A known user, in any case, still takes mail; a foreign domain is still relaying.
        assert smtp.sendmail("sender@client.test", ["Alice@Example.Test"], message("to alice")) == {}
        assert refused_recipients(smtp, [ELSEWHERE], "relay") == \
            {ELSEWHERE: (554, f"5.7.1 <{ELSEWHERE}>: Relay access denied".encode())}
    assert behaviours_of(server, line)
    result = curl25(server, tmp_path, NOBODY, "curl to nobody")
    assert_curl_refused(result, "RCPT", 550, UNKNOWN_REPLY[1].decode())
    # A user added over the API is known at once.
    req = urllib.request.Request(f"http://127.0.0.1:{server.port('http')}/api/v1/users", method="POST",
                                 data=json.dumps({"address": NOBODY, "password": "now-known"}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 201
    result = curl25(server, tmp_path, NOBODY, "curl to a new user")
    assert result.returncode == 0, result.stderr[-2000:]
    assert [m["subject"] for m in messages(server)["messages"]] == ["curl to a new user", "to alice"]
    assert messages(server)["messages"][0]["mailboxes"] == [NOBODY]


def test_without_reject_unknown_users_any_local_address_takes_mail(start_sevenport):
    server = start_sevenport(config_text=config())
    with smtp25(server) as smtp:
        assert smtp.sendmail("sender@client.test", [NOBODY], message("to anyone")) == {}
    server.wait_log(rf"delivered: message \d+ accepted, \d+ octets, for {re.escape(NOBODY)}")
    assert stored(server, to=NOBODY) == 1
    assert " behaviour: " not in server.log_text()


# ---- greylisting ----


def greylisted(rcpt, seconds):
    return (451, f"4.7.1 <{rcpt}>: Recipient address rejected: Greylisted, try again in {seconds} seconds"
            .encode())


GREYLIST_RX = re.compile(rb"^4\.7\.1 <([^>]+)>: Recipient address rejected: Greylisted, try again in (\d+) seconds$")


def test_greylisting_defers_then_accepts_after_the_delay(start_sevenport, tmp_path):
    server = start_sevenport(config_text=config(mx="greylist_seconds = 2"))
    with smtp25(server) as smtp:
        assert refused_recipients(smtp, [ALICE], "greylisted") == {ALICE: greylisted(ALICE, 2)}
        first_answered = time.monotonic()
        line = server.wait_log(rf"#\d+ smtp 127\.0\.0\.1:\d+ behaviour: greylisted <{re.escape(ALICE)}> from 127\.0\.0\.1: "
                               r"first attempt.*\(greylist_seconds = 2\)")
        # Retried before the delay is over: still deferred, with what is left.
        code, text = refused_recipients(smtp, [ALICE], "greylisted")[ALICE]
        assert code == 451, (code, text)
        match = GREYLIST_RX.match(text)
        assert match and match.group(1) == ALICE.encode() and 1 <= int(match.group(2)) <= 2, text
    server.wait_log(rf"#{session_of(line)} smtp \S+ behaviour: greylisted <{re.escape(ALICE)}> .*too early")
    behaviours = behaviours_of(server, line)
    assert len(behaviours) == 2 and all(ALICE in b and "greylist" in b for b in behaviours), behaviours
    # curl, the same client IP and recipient, still too early.
    result = curl25(server, tmp_path, ALICE, "greylisted curl")
    assert result.returncode == CURL_SEND_ERROR, result.stderr[-2000:]
    assert "RCPT failed: 451" in result.stderr
    assert stored(server) == 0

    time.sleep(max(0.0, first_answered + 2.3 - time.monotonic()))
    result = curl25(server, tmp_path, ALICE, "after the greylisting delay")
    assert result.returncode == 0, result.stderr[-2000:]
    with smtp25(server) as smtp:  # and from now on, at once
        assert smtp.sendmail("sender@client.test", [ALICE], message("known pair")) == {}
    server.wait_log(rf"behaviour: greylisting passed for <{re.escape(ALICE)}> from 127\.0\.0\.1")
    listing = messages(server)
    assert [m["subject"] for m in listing["messages"]] == ["known pair", "after the greylisting delay"]
    assert listing["messages"][1]["mailboxes"] == [ALICE]


def test_greylisting_keeps_each_client_and_recipient_pair_apart(start_sevenport):
    server = start_sevenport(config_text=config(mx="greylist_seconds = 2"))
    with smtp25(server) as smtp:
        assert refused_recipients(smtp, [ALICE], "pair 1") == {ALICE: greylisted(ALICE, 2)}
    first_answered = time.monotonic()
    time.sleep(max(0.0, first_answered + 2.3 - time.monotonic()))
    with smtp25(server) as smtp:
        assert smtp.sendmail("sender@client.test", [ALICE], message("pair 1 passed")) == {}
        # Another recipient from the same client: a pair of its own.
        assert refused_recipients(smtp, [BOB], "pair 2") == {BOB: greylisted(BOB, 2)}
        # Both at once: the known pair is accepted, the new one still deferred.
        refused = smtp.sendmail("sender@client.test", [ALICE, BOB], message("half greylisted"))
        assert set(refused) == {BOB}, refused
        code, text = refused[BOB]
        match = GREYLIST_RX.match(text)
        assert code == 451 and match and 1 <= int(match.group(2)) <= 2, refused
    # The same recipient from another client IP: greylisted afresh.
    with smtp25(server, source="127.0.0.2") as smtp:
        assert refused_recipients(smtp, [ALICE], "pair 3") == {ALICE: greylisted(ALICE, 2)}
    server.wait_log(rf"#\d+ smtp 127\.0\.0\.2:\d+ behaviour: greylisted <{re.escape(ALICE)}> from 127\.0\.0\.2: first attempt")
    listing = messages(server)
    assert [m["subject"] for m in listing["messages"]] == ["half greylisted", "pair 1 passed"]
    assert listing["messages"][0]["to"] == [ALICE]


def test_authenticated_submission_is_not_greylisted(start_sevenport):
    server = start_sevenport(config_text=config(mx="greylist_seconds = 2", submission="greylist_seconds = 2"))
    with smtp587(server) as smtp:
        assert smtp.sendmail(ALICE, [BOB, ELSEWHERE], message("submitted", sender=ALICE, to=BOB)) == {}
    # Port 25 after STARTTLS and AUTH: authenticated too.
    with smtp25(server) as smtp:
        smtp.starttls(context=tls_context(server.ca_file))
        smtp.ehlo("client.test")
        smtp.login(ALICE, USERS[ALICE])
        assert smtp.sendmail(ALICE, [BOB], message("authenticated on 25", sender=ALICE, to=BOB)) == {}
    server.wait_log(r"delivered: .* for bob@example.test", count=2)
    assert stored(server) == 2
    assert "behaviour:" not in server.log_text()
    # The same client unauthenticated is greylisted: the setting is in effect.
    with smtp25(server) as smtp:
        assert refused_recipients(smtp, [BOB], "unauthenticated") == {BOB: greylisted(BOB, 2)}


# ---- relaying ----


RELAY_REPLY = (554, f"5.7.1 <{ELSEWHERE}>: Relay access denied".encode())


def test_relay_is_denied_on_port_25_without_auth(start_sevenport, tmp_path):
    server = start_sevenport(config_text=config())
    with smtp25(server) as smtp:
        assert refused_recipients(smtp, [ELSEWHERE], "relay attempt") == {ELSEWHERE: RELAY_REPLY}
    result = curl25(server, tmp_path, ELSEWHERE, "curl relay attempt")
    assert_curl_refused(result, "RCPT", 554, RELAY_REPLY[1].decode())
    server.wait_log(r" smtp \S+ close: ", count=2)
    server.wait_log(rf"error: RCPT TO:<{re.escape(ELSEWHERE)}>: 554 5\.7\.1")
    assert " behaviour: " not in server.log_text(), "relay refusal is no configured behaviour"
    assert stored(server) == 0
    # With AUTH the same recipient is taken (and kept here).
    with smtp25(server) as smtp:
        smtp.starttls(context=tls_context(server.ca_file))
        smtp.ehlo("client.test")
        smtp.login(ALICE, USERS[ALICE])
        assert smtp.sendmail(ALICE, [ELSEWHERE], message("relayed with auth", sender=ALICE, to=ELSEWHERE)) == {}
    assert stored(server, to=ELSEWHERE) == 1


# ---- message size ----


SIZE_REPLY = (552, b"5.3.4 Message size exceeds fixed maximum message size")


def test_message_too_large_at_mail_with_size(start_sevenport, tmp_path):
    server = start_sevenport(config_text=config(mx="max_message_size = 2048"))
    big = message("too big", body="y" * 4000)
    with smtp25(server) as smtp:
        assert smtp.esmtp_features["size"] == "2048"
        # smtplib declares SIZE= itself when the server offers SIZE.
        with pytest.raises(smtplib.SMTPSenderRefused) as err:
            smtp.sendmail("sender@client.test", [ALICE], big)
        assert (err.value.smtp_code, err.value.smtp_error) == SIZE_REPLY
        assert smtp.sendmail("sender@client.test", [ALICE], message("small enough")) == {}
    # curl declares SIZE= for a file it uploads.
    mail = tmp_path / "big.txt"
    mail.write_text(big)
    result = run(["curl", "--silent", "--show-error", "--verbose", "--max-time", "15",
                  "--url", f"smtp://127.0.0.1:{server.port('smtp')}", "--mail-from", "s@client.test",
                  "--mail-rcpt", ALICE, "--upload-file", str(mail)])
    assert "SIZE=" in result.stderr
    assert_curl_refused(result, "MAIL", 552, SIZE_REPLY[1].decode())
    assert [m["subject"] for m in messages(server)["messages"]] == ["small enough"]


def test_message_too_large_after_data(start_sevenport, tmp_path):
    server = start_sevenport(config_text=config(mx="max_message_size = 2048"))
    conn = LineSocket(server.port("smtp"))
    try:
        assert conn.reply()[0] == 220
        conn.send("EHLO client.test\r\n")
        assert conn.reply()[0] == 250
        conn.send("MAIL FROM:<s@client.test>\r\n")
        assert conn.reply()[0] == 250
        conn.send(f"RCPT TO:<{ALICE}>\r\n")
        assert conn.reply()[0] == 250
        conn.send("DATA\r\n")
        assert conn.reply()[0] == 354
        conn.send(message("too big after DATA", body="z" * 4000) + ".\r\n")
        assert conn.reply() == (SIZE_REPLY[0], [SIZE_REPLY[1].decode()])
        conn.send("NOOP\r\n")
        assert conn.reply()[0] == 250, "the session goes on after 552"
        conn.send("QUIT\r\n")
        assert conn.reply()[0] == 221
    finally:
        conn.close()
    # curl reading the message from stdin cannot declare SIZE: the refusal comes after DATA.
    result = curl25(server, tmp_path, ALICE, "", upload=message("too big from curl", body="w" * 4000))
    assert "SIZE=" not in result.stderr
    assert result.returncode != 0, result.stderr[-2000:]
    assert f"< {SIZE_REPLY[0]} {SIZE_REPLY[1].decode()}" in result.stderr, result.stderr[-2000:]
    server.wait_log(r" smtp \S+ close: ", count=2)
    assert stored(server) == 0
    assert "delivered:" not in server.log_text()


# ---- rate limits ----


RATE_REPLY = (421, b"4.7.0 localhost Error: too many messages, try again later")


def test_rate_limit_refuses_the_third_message_with_421_and_closes(start_sevenport, tmp_path):
    server = start_sevenport(config_text=config(mx="rate_limit_messages = 2"))
    with smtp25(server) as smtp:
        assert smtp.sendmail("s@client.test", [ALICE], message("rate 1")) == {}
        assert smtp.sendmail("s@client.test", [ALICE, BOB], message("rate 2")) == {}
        # smtplib reads the 421 as the answer to MAIL, closes its side and raises SMTPSenderRefused.
        with pytest.raises(smtplib.SMTPSenderRefused) as err:
            smtp.sendmail("s@client.test", [ALICE], message("rate 3"))
        assert (err.value.smtp_code, err.value.smtp_error) == RATE_REPLY
        assert smtp.sock is None
    line = server.wait_log(r"#\d+ smtp \S+ behaviour: rate limit reached for 127\.0\.0\.1: .*"
                           r"\(rate_limit_messages = 2, rate_limit_window_seconds = 60\)")
    assert behaviours_of(server, line)
    server.wait_log(rf"#{session_of(line)} smtp \S+ close: ")

    # A new connection from the same IP: greeted, then refused at MAIL and closed.
    conn = LineSocket(server.port("smtp"))
    try:
        assert conn.reply()[0] == 220
        conn.send("EHLO client.test\r\n")
        assert conn.reply()[0] == 250
        conn.send("MAIL FROM:<s@client.test>\r\n")
        assert conn.reply() == (RATE_REPLY[0], [RATE_REPLY[1].decode()])
        assert conn.closed_within(3.0), "the connection must close after the 421"
    finally:
        conn.close()
    result = curl25(server, tmp_path, ALICE, "rate curl")
    assert_curl_refused(result, "MAIL", 421, RATE_REPLY[1].decode())

    # Another client IP has its own count.
    with smtp25(server, source="127.0.0.2") as smtp:
        assert smtp.sendmail("s@client.test", [ALICE], message("rate other ip")) == {}
    subjects = [m["subject"] for m in messages(server)["messages"]]
    assert subjects == ["rate other ip", "rate 2", "rate 1"]


def test_rate_limit_window_passes(start_sevenport):
    server = start_sevenport(config_text=config(mx="rate_limit_messages = 1\nrate_limit_window_seconds = 1"))
    with smtp25(server) as smtp:
        assert smtp.sendmail("s@client.test", [ALICE], message("window 1")) == {}
        accepted = time.monotonic()
        code, text = smtp.mail("s@client.test")
        assert (code, text) == RATE_REPLY
    time.sleep(max(0.0, accepted + 1.3 - time.monotonic()))
    with smtp25(server) as smtp:
        assert smtp.sendmail("s@client.test", [ALICE], message("window 2")) == {}
    assert [m["subject"] for m in messages(server)["messages"]] == ["window 2", "window 1"]
