"""Account behaviours (docs/BEHAVIOURS.md, Accounts): app passwords, IMAP or POP3 access switched
off, locked accounts and expired passwords, seen by real clients (smtplib, imaplib, poplib and
curl over SMTP submission, IMAP and POP3, always after STARTTLS/STLS), in the session log's auth
line and in the API (sessions' auth reasons, the users list, users added over the API)."""

import imaplib
import json
import poplib
import re
import smtplib
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import Sevenport
from helpers import message, run, tls_context

ALICE = "alice@example.test"  # added by the harness (--user), no behaviours

APP = "app@example.test"
APP_MAIN, APP_PW = "app-main-pw", "app-specific-pw"
NOIMAP, NOIMAP_PW = "noimap@example.test", "noimap-pw"
NOPOP, NOPOP_PW = "nopop@example.test", "nopop-pw"
LOCKED, LOCKED_PW = "locked@example.test", "locked-pw"
EXPIRED, EXPIRED_PW = "expired@example.test", "expired-pw"

SECRETS = [APP_MAIN, APP_PW, NOIMAP_PW, NOPOP_PW, LOCKED_PW, EXPIRED_PW]

CONFIG = f"""
hostname = "localhost"
local_domains = ["example.test"]

[http]
enabled = true

[[users]]
address = "{APP}"
password = "{APP_MAIN}"
app_password = "{APP_PW}"

[[users]]
address = "{NOIMAP}"
password = "{NOIMAP_PW}"
imap_enabled = false

[[users]]
address = "{NOPOP}"
password = "{NOPOP_PW}"
pop3_enabled = false

[[users]]
address = "{LOCKED}"
password = "{LOCKED_PW}"
locked = true

[[users]]
address = "{EXPIRED}"
password = "{EXPIRED_PW}"
password_expired = true

[listeners.smtp]
protocol = "smtp"
port = 25
security = "starttls"
role = "mx"

[listeners.submission]
protocol = "smtp"
port = 587
security = "starttls"
role = "submission"

[listeners.imap]
protocol = "imap"
port = 143
security = "starttls"

[listeners.pop3]
protocol = "pop3"
port = 110
security = "starttls"
"""

# The answers of docs/BEHAVIOURS.md, as each client library hands them over.
SMTP_APP = (534, b"5.7.9 Application-specific password required.\n"
                 b"5.7.9 Log in with an app password for this account, not the account password")
SMTP_LOCKED = (535, b"5.7.8 Authentication failed: account locked")
SMTP_EXPIRED = (535, b"5.7.8 Authentication failed: password expired, change it and log in again")

IMAP_APP = b"[AUTHENTICATIONFAILED] Application-specific password required: log in with an app password"
IMAP_DISABLED = b"[ALERT] IMAP access is disabled for this account: enable it in the account settings"
IMAP_LOCKED = b"[CONTACTADMIN] Account locked: contact your administrator"
IMAP_EXPIRED = b"[EXPIRED] Password expired: change it and log in again"

POP_APP = b"-ERR [AUTH] Application-specific password required: log in with an app password"
POP_DISABLED = b"-ERR [SYS/PERM] POP3 access is disabled for this account: enable it in the account settings"
POP_LOCKED = b"-ERR [SYS/PERM] Account locked: contact your administrator"
POP_EXPIRED = b"-ERR [AUTH] Password expired: change it and log in again"

# What the session log's auth line must name, per behaviour (the reason's key words).
REASON = {
    "app": re.compile(r"(?i)app(lication-specific)? password"),
    "imap": re.compile(r"(?i)IMAP access is disabled"),
    "pop3": re.compile(r"(?i)POP3 access is disabled"),
    "locked": re.compile(r"(?i)locked"),
    "expired": re.compile(r"(?i)expired"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Sevenport(tmp_path_factory.mktemp("accounts"), config_text=CONFIG)
    yield s
    assert s.stop() == 0, "sevenport did not exit cleanly:\n" + s.log_text()
    log = s.log_text()
    for secret in SECRETS:
        assert secret not in log, f"a password ({secret}) was written to the session log"


# ---- the HTTP API ----


def api(server, method, path, body=None, timeout=10):
    """(status, parsed JSON) of an /api/v1 request."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    req = urllib.request.Request(f"http://127.0.0.1:{server.port('http')}/api/v1{path}", data=data,
                                 method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as e:
        raw, status = e.read(), e.code
    return status, (json.loads(raw) if raw else None), raw


def api_get(server, path):
    status, doc, raw = api(server, "GET", path)
    assert status == 200, f"GET {path}: {status} {raw[:300]!r}"
    return doc


def add_user(server, body):
    status, doc, raw = api(server, "POST", "/users", body)
    assert status == 201, f"POST /users {body}: {status} {raw[:300]!r}"
    assert doc == {"address": body["address"]}


# ---- the session log ----


def matching(server, pattern):
    rx = re.compile(pattern)
    return [line for line in list(server.log_lines) if rx.search(line)]


class LogMark:
    """Remembers how many log lines match `pattern` now, so the next one can be waited for on a
    server that other tests of this module use too."""

    def __init__(self, server, pattern):
        self.server, self.pattern = server, pattern
        self.before = len(matching(server, pattern))

    def next(self, timeout=5.0):
        self.server.wait_log(self.pattern, timeout=timeout, count=self.before + 1)
        return matching(self.server, self.pattern)[self.before]


def failure_pattern(listener, user):
    return rf"#\d+ {listener} \S+ auth: authentication failed for {re.escape(user)} with \S+ over TLS"


def session_of(line):
    return int(re.search(r" #(\d+) ", line).group(1))


def reason_of(line):
    """The reason at the end of an auth failure line: `... over TLS: <reason>`."""
    match = re.search(r" over TLS: (.+)$", line)
    assert match, f"the auth line names no reason: {line!r}"
    return match.group(1)


def check_refusal(server, mark, kind):
    """The failed-auth line names the behaviour's reason, and the API's session shows it too.
    Returns (session id, reason)."""
    line = mark.next()
    reason = reason_of(line)
    if kind == "wrong":
        for rx in REASON.values():
            assert not rx.search(reason), f"a wrong password must get the ordinary reason: {line!r}"
    else:
        assert REASON[kind].search(reason), f"the auth line does not name the reason: {line!r}"
    session = api_get(server, f"/sessions/{session_of(line)}")
    failures = [a for a in session["auth"] if not a["success"]]
    assert failures, session["auth"]
    assert failures[0]["reason"] == reason, session["auth"]
    assert failures[0]["over_tls"] is True
    return session_of(line), reason


# ---- the clients ----


def smtp_login(server, user, password):
    """smtplib on the submission port: STARTTLS, then AUTH (PLAIN, then LOGIN if PLAIN failed)."""
    smtp = smtplib.SMTP("localhost", server.port("submission"), timeout=10)
    try:
        smtp.ehlo("client.test")
        smtp.starttls(context=tls_context(server.ca_file))
        smtp.ehlo("client.test")
        smtp.login(user, password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def smtp_refused(server, user, password):
    """Logs in with smtplib and expects a refusal: returns (code, text) as smtplib reports them."""
    with pytest.raises(smtplib.SMTPAuthenticationError) as err:
        smtp_login(server, user, password)
    return err.value.smtp_code, err.value.smtp_error


def imap_connect(server):
    imap = imaplib.IMAP4("localhost", server.port("imap"), timeout=10)
    imap.starttls(ssl_context=tls_context(server.ca_file))
    return imap


def imap_refused(server, user, password):
    """imaplib LOGIN that must fail: the text after NO, as imaplib raises it."""
    imap = imap_connect(server)
    try:
        with pytest.raises(imaplib.IMAP4.error) as err:
            imap.login(user, password)
        assert imap.state == "NONAUTH"
    finally:
        imap.shutdown()
    return err.value.args[0]


def imap_select_inbox(server, user, password):
    imap = imap_connect(server)
    try:
        typ, _ = imap.login(user, password)
        assert typ == "OK"
        typ, data = imap.select("INBOX")
        assert typ == "OK", data
        imap.logout()
    except BaseException:
        imap.shutdown()
        raise


def pop_connect(server):
    pop = poplib.POP3("localhost", server.port("pop3"), timeout=10)
    pop.stls(context=tls_context(server.ca_file))
    return pop


def pop_refused(server, user, password):
    """poplib USER/PASS that must fail: the -ERR line poplib raises."""
    pop = pop_connect(server)
    try:
        pop.user(user)
        with pytest.raises(poplib.error_proto) as err:
            pop.pass_(password)
    finally:
        pop.close()
    return err.value.args[0]


def pop_stat(server, user, password):
    pop = pop_connect(server)
    try:
        pop.user(user)
        assert pop.pass_(password).startswith(b"+OK")
        count, size = pop.stat()
        pop.quit()
    except BaseException:
        pop.close()
        raise
    return count, size


def send_as(server, user, password, subject, to=ALICE):
    """Logs in on submission with smtplib and sends one message; it must be stored."""
    with smtp_login(server, user, password) as smtp:
        assert smtp.sendmail(user, [to], message(subject, sender=user, to=to)) == {}
    listing = api_get(server, "/messages?subject=" + urllib.parse.quote(subject))
    assert listing["total"] == 1, listing
    assert listing["messages"][0]["arrival"]["auth_user"] == user


def curl(server, scheme, user, password, *extra, path="/"):
    """curl with STARTTLS required (--ssl-reqd) and verbose, so its stderr shows the dialogue."""
    port = server.port({"smtp": "submission", "imap": "imap", "pop3": "pop3"}[scheme])
    return run(["curl", "--silent", "--show-error", "--verbose", "--max-time", "15",
                "--url", f"{scheme}://127.0.0.1:{port}{path}", "--ssl-reqd",
                "--cacert", server.ca_file, "--user", f"{user}:{password}", *extra], timeout=30)


def curl_send(server, tmp_path, user, password, subject):
    mail = tmp_path / "mail.txt"
    mail.write_text(message(subject, sender=user))
    return curl(server, "smtp", user, password, "--mail-from", user, "--mail-rcpt", ALICE,
                "--upload-file", str(mail))


def curl_imap(server, user, password):
    """SELECT INBOX, then SEARCH ALL."""
    return curl(server, "imap", user, password, path="/INBOX?ALL")


def curl_pop3(server, user, password):
    """LIST."""
    return curl(server, "pop3", user, password)


CURL_LOGIN_DENIED = 67


def assert_curl_denied(result, answer):
    assert result.returncode == CURL_LOGIN_DENIED, (result.returncode, result.stderr[-2000:])
    assert answer in result.stderr, f"curl did not show {answer!r}:\n{result.stderr[-2000:]}"


# ---- app password ----


def test_app_password_account_over_smtp_with_smtplib(server):
    mark = LogMark(server, failure_pattern("submission", APP))
    assert smtp_refused(server, APP, APP_MAIN) == SMTP_APP
    check_refusal(server, mark, "app")
    send_as(server, APP, APP_PW, "sent with the app password")
    server.wait_log(rf"submission .* auth: authenticated {re.escape(APP)} with \S+ over TLS")


def test_app_password_account_over_imap_with_imaplib(server):
    mark = LogMark(server, failure_pattern("imap", APP))
    assert imap_refused(server, APP, APP_MAIN) == IMAP_APP
    check_refusal(server, mark, "app")
    imap_select_inbox(server, APP, APP_PW)


def test_app_password_account_over_pop3_with_poplib(server):
    mark = LogMark(server, failure_pattern("pop3", APP))
    assert pop_refused(server, APP, APP_MAIN) == POP_APP
    check_refusal(server, mark, "app")
    count, _ = pop_stat(server, APP, APP_PW)
    assert count >= 0


def test_app_password_account_with_curl(server, tmp_path):
    mark = LogMark(server, failure_pattern("submission", APP))
    result = curl_send(server, tmp_path, APP, APP_MAIN, "curl main password")
    assert_curl_denied(result, "534-5.7.9 Application-specific password required.")
    assert "534 5.7.9 Log in with an app password for this account, not the account password" in result.stderr
    check_refusal(server, mark, "app")
    result = curl_send(server, tmp_path, APP, APP_PW, "curl app password")
    assert result.returncode == 0, result.stderr[-2000:]
    assert api_get(server, "/messages?subject=curl+app+password")["total"] == 1
    assert api_get(server, "/messages?subject=curl+main+password")["total"] == 0

    mark = LogMark(server, failure_pattern("imap", APP))
    assert_curl_denied(curl_imap(server, APP, APP_MAIN),
                       "NO [AUTHENTICATIONFAILED] Application-specific password required: log in with an app password")
    check_refusal(server, mark, "app")
    result = curl_imap(server, APP, APP_PW)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "* SEARCH" in result.stdout

    mark = LogMark(server, failure_pattern("pop3", APP))
    assert_curl_denied(curl_pop3(server, APP, APP_MAIN), POP_APP.decode())
    check_refusal(server, mark, "app")
    result = curl_pop3(server, APP, APP_PW)
    assert result.returncode == 0, result.stderr[-2000:]


def test_wrong_password_on_app_password_account_is_the_ordinary_failure(server):
    mark = LogMark(server, failure_pattern("submission", APP))
    code, text = smtp_refused(server, APP, "guessed")
    assert code == 535 and text.startswith(b"5.7.8"), (code, text)
    assert b"app" not in text.lower(), text
    check_refusal(server, mark, "wrong")
    assert imap_refused(server, APP, "guessed") == b"[AUTHENTICATIONFAILED] Authentication failed"
    assert pop_refused(server, APP, "guessed") == b"-ERR [AUTH] Authentication failed"


# ---- IMAP or POP3 access switched off ----


def test_imap_disabled_refuses_imap_with_an_alert(server):
    mark = LogMark(server, failure_pattern("imap", NOIMAP))
    assert imap_refused(server, NOIMAP, NOIMAP_PW) == IMAP_DISABLED
    check_refusal(server, mark, "imap")
    # AUTHENTICATE PLAIN gets the same answer as LOGIN.
    mark = LogMark(server, failure_pattern("imap", NOIMAP))
    imap = imap_connect(server)
    try:
        with pytest.raises(imaplib.IMAP4.error) as err:
            imap.authenticate("PLAIN", lambda _: f"\0{NOIMAP}\0{NOIMAP_PW}".encode())
        # imaplib's authenticate() raises the text decoded, login() raises bytes.
        assert err.value.args[0] == IMAP_DISABLED.decode()
    finally:
        imap.shutdown()
    assert "PLAIN" in mark.next()


def test_imap_disabled_account_still_uses_pop3_and_smtp(server):
    pop_stat(server, NOIMAP, NOIMAP_PW)
    send_as(server, NOIMAP, NOIMAP_PW, "noimap still sends")


def test_imap_disabled_with_curl(server):
    mark = LogMark(server, failure_pattern("imap", NOIMAP))
    assert_curl_denied(curl_imap(server, NOIMAP, NOIMAP_PW), "NO " + IMAP_DISABLED.decode())
    check_refusal(server, mark, "imap")
    assert curl_pop3(server, NOIMAP, NOIMAP_PW).returncode == 0


def test_pop3_disabled_refuses_pop3(server):
    mark = LogMark(server, failure_pattern("pop3", NOPOP))
    assert pop_refused(server, NOPOP, NOPOP_PW) == POP_DISABLED
    check_refusal(server, mark, "pop3")


def test_pop3_disabled_account_still_uses_imap_and_smtp(server):
    imap_select_inbox(server, NOPOP, NOPOP_PW)
    send_as(server, NOPOP, NOPOP_PW, "nopop still sends")


def test_pop3_disabled_with_curl(server):
    mark = LogMark(server, failure_pattern("pop3", NOPOP))
    assert_curl_denied(curl_pop3(server, NOPOP, NOPOP_PW), POP_DISABLED.decode())
    check_refusal(server, mark, "pop3")
    result = curl_imap(server, NOPOP, NOPOP_PW)
    assert result.returncode == 0, result.stderr[-2000:]


# ---- locked accounts and expired passwords ----


def test_locked_account_is_refused_everywhere(server):
    mark = LogMark(server, failure_pattern("submission", LOCKED))
    assert smtp_refused(server, LOCKED, LOCKED_PW) == SMTP_LOCKED
    check_refusal(server, mark, "locked")
    mark = LogMark(server, failure_pattern("imap", LOCKED))
    assert imap_refused(server, LOCKED, LOCKED_PW) == IMAP_LOCKED
    check_refusal(server, mark, "locked")
    mark = LogMark(server, failure_pattern("pop3", LOCKED))
    assert pop_refused(server, LOCKED, LOCKED_PW) == POP_LOCKED
    check_refusal(server, mark, "locked")


def test_expired_password_is_refused_everywhere(server):
    mark = LogMark(server, failure_pattern("submission", EXPIRED))
    assert smtp_refused(server, EXPIRED, EXPIRED_PW) == SMTP_EXPIRED
    check_refusal(server, mark, "expired")
    mark = LogMark(server, failure_pattern("imap", EXPIRED))
    assert imap_refused(server, EXPIRED, EXPIRED_PW) == IMAP_EXPIRED
    check_refusal(server, mark, "expired")
    mark = LogMark(server, failure_pattern("pop3", EXPIRED))
    assert pop_refused(server, EXPIRED, EXPIRED_PW) == POP_EXPIRED
    check_refusal(server, mark, "expired")


def test_locked_and_expired_with_curl(server, tmp_path):
    for user, password, smtp_answer, imap_answer, pop_answer in (
            (LOCKED, LOCKED_PW, SMTP_LOCKED, IMAP_LOCKED, POP_LOCKED),
            (EXPIRED, EXPIRED_PW, SMTP_EXPIRED, IMAP_EXPIRED, POP_EXPIRED)):
        assert_curl_denied(curl_send(server, tmp_path, user, password, "curl " + user),
                           f"{smtp_answer[0]} {smtp_answer[1].decode()}")
        assert_curl_denied(curl_imap(server, user, password), "NO " + imap_answer.decode())
        assert_curl_denied(curl_pop3(server, user, password), pop_answer.decode())
        assert api_get(server, "/messages?subject=" + urllib.parse.quote("curl " + user))["total"] == 0


@pytest.mark.parametrize("user", [LOCKED, EXPIRED, NOIMAP, NOPOP])
def test_wrong_password_gets_the_ordinary_failure(server, user):
    """A guesser learns nothing: without the right password no account behaviour is revealed."""
    mark = LogMark(server, failure_pattern("submission", user))
    code, text = smtp_refused(server, user, "guessed")
    assert code == 535 and text.startswith(b"5.7.8"), (code, text)
    assert b"locked" not in text and b"expired" not in text
    check_refusal(server, mark, "wrong")
    mark = LogMark(server, failure_pattern("imap", user))
    assert imap_refused(server, user, "guessed") == b"[AUTHENTICATIONFAILED] Authentication failed"
    check_refusal(server, mark, "wrong")
    mark = LogMark(server, failure_pattern("pop3", user))
    assert pop_refused(server, user, "guessed") == b"-ERR [AUTH] Authentication failed"
    check_refusal(server, mark, "wrong")


# ---- the users API ----


def user_entry(address, **flags):
    entry = {"address": address, "app_password": False, "imap_enabled": True, "pop3_enabled": True,
             "locked": False, "password_expired": False, "mailbox_full": "no"}
    entry.update(flags)
    return entry


def test_users_api_shows_the_flags_and_no_password(server):
    status, doc, raw = api(server, "GET", "/users")
    assert status == 200
    users = {u["address"]: u for u in doc["users"]}
    assert users[APP] == user_entry(APP, app_password=True)
    assert users[NOIMAP] == user_entry(NOIMAP, imap_enabled=False)
    assert users[NOPOP] == user_entry(NOPOP, pop3_enabled=False)
    assert users[LOCKED] == user_entry(LOCKED, locked=True)
    assert users[EXPIRED] == user_entry(EXPIRED, password_expired=True)
    assert users[ALICE] == user_entry(ALICE)
    text = raw.decode()
    for secret in SECRETS:
        assert secret not in text
    assert '"password"' not in text


def test_user_added_with_an_app_password_behaves_so_at_once(server):
    user = "api-app@example.test"
    add_user(server, {"address": user, "password": "api-main", "app_password": "api-app-pw"})
    assert user_entry(user, app_password=True) in api_get(server, "/users")["users"]
    assert smtp_refused(server, user, "api-main") == SMTP_APP
    assert imap_refused(server, user, "api-main") == IMAP_APP
    assert pop_refused(server, user, "api-main") == POP_APP
    send_as(server, user, "api-app-pw", "api app password sends")
    imap_select_inbox(server, user, "api-app-pw")
    pop_stat(server, user, "api-app-pw")


def test_users_added_with_behaviours_over_the_api(server):
    add_user(server, {"address": "api-locked@example.test", "password": "pw1", "locked": True})
    add_user(server, {"address": "api-expired@example.test", "password": "pw2", "password_expired": True})
    add_user(server, {"address": "api-noimap@example.test", "password": "pw3", "imap_enabled": False})
    add_user(server, {"address": "api-nopop@example.test", "password": "pw4", "pop3_enabled": False})
    users = api_get(server, "/users")["users"]
    assert user_entry("api-locked@example.test", locked=True) in users
    assert user_entry("api-expired@example.test", password_expired=True) in users
    assert user_entry("api-noimap@example.test", imap_enabled=False) in users
    assert user_entry("api-nopop@example.test", pop3_enabled=False) in users

    assert smtp_refused(server, "api-locked@example.test", "pw1") == SMTP_LOCKED
    assert pop_refused(server, "api-locked@example.test", "pw1") == POP_LOCKED
    assert imap_refused(server, "api-expired@example.test", "pw2") == IMAP_EXPIRED
    assert smtp_refused(server, "api-expired@example.test", "pw2") == SMTP_EXPIRED
    assert imap_refused(server, "api-noimap@example.test", "pw3") == IMAP_DISABLED
    pop_stat(server, "api-noimap@example.test", "pw3")
    assert pop_refused(server, "api-nopop@example.test", "pw4") == POP_DISABLED
    imap_select_inbox(server, "api-nopop@example.test", "pw4")

    # Replacing the user without the flag takes the behaviour away.
    add_user(server, {"address": "api-locked@example.test", "password": "pw1"})
    assert user_entry("api-locked@example.test") in api_get(server, "/users")["users"]
    pop_stat(server, "api-locked@example.test", "pw1")
    send_as(server, "api-locked@example.test", "pw1", "unlocked sends")


@pytest.mark.parametrize("extra", [
    {"app_password": ""}, {"app_password": 5}, {"app_password": "bad-pw"},  # same as password
    {"imap_enabled": "false"}, {"pop3_enabled": 0}, {"locked": "yes"}, {"locked": None},
    {"password_expired": 1}, {"mailbox_full": "full"}, {"mailbox_full": True},
])
def test_invalid_account_behaviours_are_400(server, extra):
    address = "api-bad@example.test"
    status, doc, raw = api(server, "POST", "/users", {"address": address, "password": "bad-pw", **extra})
    assert status == 400, (status, raw[:300])
    assert set(doc) == {"error"} and doc["error"]
    key = next(iter(extra))
    assert key in doc["error"], doc
    assert address not in [u["address"] for u in api_get(server, "/users")["users"]]


# ---- account refusals are behaviours ----


REFUSALS = {
    ("submission", "app"): (APP, APP_MAIN), ("imap", "app"): (APP, APP_MAIN), ("pop3", "app"): (APP, APP_MAIN),
    ("imap", "imap"): (NOIMAP, NOIMAP_PW), ("pop3", "pop3"): (NOPOP, NOPOP_PW),
    ("submission", "locked"): (LOCKED, LOCKED_PW), ("imap", "locked"): (LOCKED, LOCKED_PW),
    ("pop3", "locked"): (LOCKED, LOCKED_PW),
    ("submission", "expired"): (EXPIRED, EXPIRED_PW), ("imap", "expired"): (EXPIRED, EXPIRED_PW),
    ("pop3", "expired"): (EXPIRED, EXPIRED_PW),
}


@pytest.mark.parametrize("listener,kind", sorted(REFUSALS), ids=lambda v: v)
def test_account_refusal_is_a_behaviour_of_the_session(server, listener, kind):
    """docs/BEHAVIOURS.md: every behaviour (per listener or per user) that takes effect writes a
    `behaviour` line to the session log and appears in the API session's `behaviours`."""
    user, password = REFUSALS[(listener, kind)]
    mark = LogMark(server, failure_pattern(listener, user))
    {"submission": smtp_refused, "imap": imap_refused, "pop3": pop_refused}[listener](server, user, password)
    session_id, _ = check_refusal(server, mark, kind)
    # Written before the auth line, in the same flush: no need to wait.
    lines = matching(server, rf" #{session_id} {listener} \S+ behaviour: ")
    assert [b for b in lines if user in b and REASON[kind].search(b)], (
        f"no behaviour line for the refused login of {user} in session #{session_id} ({listener}); "
        "its lines:\n" + "\n".join(matching(server, rf" #{session_id} ")))
    behaviours = api_get(server, f"/sessions/{session_id}")["behaviours"]
    assert [b for b in behaviours if user in b and REASON[kind].search(b)], behaviours


@pytest.mark.parametrize("listener", ["submission", "imap", "pop3"])
def test_a_wrong_password_is_no_behaviour(server, listener):
    mark = LogMark(server, failure_pattern(listener, LOCKED))
    {"submission": smtp_refused, "imap": imap_refused, "pop3": pop_refused}[listener](server, LOCKED, "guessed")
    session_id, _ = check_refusal(server, mark, "wrong")
    assert not matching(server, rf" #{session_id} {listener} \S+ behaviour: ")
    assert api_get(server, f"/sessions/{session_id}")["behaviours"] == []
