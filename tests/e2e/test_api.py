"""The HTTP API (docs/API.md) and the web UI's files, served by the real binary: the JSON of every
endpoint, filters, deletion, reset, users (and logging in as one added over the API), how each
message arrived, the token, malformed requests, the event stream, and the wait endpoint answering
within 100 ms of an SMTP delivery."""

import http.client
import json
import poplib
import re
import select
import signal
import smtplib
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import BIN, USERS
from helpers import message, tls_context

ALICE = "alice@example.test"
BOB = "bob@example.test"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# A message with everything the detail view decodes: an RFC 2047 subject and From, a
# quoted-printable ISO-8859-1 text part, an HTML part, and an attachment with an RFC 2231 name.
MIME = (b"From: =?utf-8?q?Caf=C3=A9_Owner?= <owner@cafe.test>\r\n"
        b"To: <alice@example.test>\r\n"
        b"Subject: =?utf-8?q?h=C3=A9llo?= from the\r\n caf\xc3\xa9\r\n"
        b"Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
        b"Message-ID: <mime@cafe.test>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
        b"--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
        b"--inner\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 au lait, =\r\ns'il vous pla=EEt.\r\n"
        b"--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Caf\xc3\xa9 <b>au lait</b></p>\r\n"
        b"--inner--\r\n"
        b"--outer\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7zDtsOfCg==\r\n"
        b"--outer--\r\n")
PDF = b"%PDF-1.4\n%\xc3\xa4\xc3\xbc\xc3\xb6\xc3\x9f\n"


class Api:
    """A small client for /api/v1, raising nothing: every call returns (status, headers, body)."""

    def __init__(self, server, token=None):
        if "http" not in server.info["listeners"]:
            # Until the server binds [http] and lists it in the ready file.
            pytest.skip("this sevenport binary serves no HTTP listener yet")
        self.port = server.port("http")
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = token

    def request(self, method, path, body=None, headers=None, timeout=10):
        headers = dict(headers or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        data = body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            data = body.encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def json(self, method, path, body=None, expect=200, **kw):
        status, headers, raw = self.request(method, "/api/v1" + path, body, **kw)
        assert status == expect, f"{method} {path}: {status} {raw[:300]!r}"
        assert headers["Content-Type"] == "application/json"
        return json.loads(raw)

    def get(self, path, expect=200, **kw):
        return self.json("GET", path, expect=expect, **kw)

    def error(self, method, path, expect, body=None, **kw):
        """A request that must fail with `expect` and a JSON {"error": ...}."""
        doc = self.json(method, path, body, expect=expect, **kw)
        assert set(doc) == {"error"} and doc["error"], doc
        return doc["error"]


@pytest.fixture
def api(sevenport):
    """The module's server, emptied of messages and closed sessions for each test."""
    client = Api(sevenport)
    assert client.json("POST", "/reset") == {"reset": True}
    return client


def send25(server, raw, sender="sender@client.test", to=(ALICE,)):
    """Plaintext on port 25 (no STARTTLS, no AUTH); returns nothing, raises on refusal."""
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=10) as smtp:
        smtp.ehlo("client.test")
        assert smtp.sendmail(sender, list(to), raw) == {}


def send587(server, raw, to=(BOB,), user=ALICE, password=None):
    with smtplib.SMTP("localhost", server.port("submission"), timeout=10) as smtp:
        smtp.ehlo("client.test")
        smtp.starttls(context=tls_context(server.ca_file))
        smtp.ehlo("client.test")
        smtp.login(user, password or USERS[user])
        assert smtp.sendmail(user, list(to), raw) == {}


def send465(server, raw, to=(BOB,)):
    with smtplib.SMTP_SSL("localhost", server.port("submissions"), timeout=10,
                          context=tls_context(server.ca_file)) as smtp:
        smtp.ehlo("client.test")
        smtp.login(ALICE, USERS[ALICE])
        assert smtp.sendmail(ALICE, list(to), raw) == {}


def only_message(api):
    listing = api.get("/messages")
    assert listing["total"] == 1, listing
    return listing["messages"][0]


# ---- the web UI ----


def test_ui_is_served_with_its_security_headers(api):
    status, headers, body = api.request("GET", "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-cache"
    assert headers["Content-Security-Policy"] == (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-src 'self' blob: data:")
    assert body.lower().startswith(b"<!doctype html")
    status, headers, _ = api.request("GET", "/index.html")
    assert status == 200
    status, _, body = api.request("GET", "/no-such-file.js")
    assert status == 404 and "error" in json.loads(body)
    status, headers, _ = api.request("POST", "/", body="x")
    assert status == 405 and "GET" in headers["Allow"]


# ---- server ----


def test_info_names_every_listener(sevenport, api):
    info = api.get("/info")
    assert re.fullmatch(r"\d+\.\d+\.\d+", info["version"])
    assert info["hostname"] == "localhost"
    assert info["ca_file"] == sevenport.ca_file
    for name in ("smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s"):
        entry = info["listeners"][name]
        assert entry["port"] == sevenport.port(name)
        assert entry["protocol"] in ("smtp", "imap", "pop3")
        assert entry["security"] in ("none", "starttls", "implicit")
        assert entry["address"] == "127.0.0.1"


def test_keep_alive_serves_several_requests_on_one_connection(api):
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
    for _ in range(3):
        conn.request("GET", "/api/v1/info")
        resp = conn.getresponse()
        assert resp.status == 200
        json.loads(resp.read())
    conn.request("HEAD", "/api/v1/users")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == b"" and int(resp.headers["Content-Length"]) > 0
    conn.close()


# ---- messages ----


def test_summary_and_detail_of_a_mime_message(sevenport, api):
    send25(sevenport, MIME, sender="owner@cafe.test", to=(ALICE, BOB))
    summary = only_message(api)
    assert summary["from"] == "owner@cafe.test"
    assert summary["to"] == [ALICE, BOB]
    assert summary["subject"] == "héllo from the café"
    assert summary["date"] == "Sun, 22 Nov 2026 10:00:00 +0000"
    assert ISO_MS.match(summary["received_at"])
    assert sorted(summary["mailboxes"]) == [ALICE, BOB]
    raw_status, raw_headers, raw = api.request("GET", f"/api/v1/messages/{summary['id']}/raw")
    assert raw_status == 200
    assert raw_headers["Content-Type"] == "message/rfc822"
    assert raw.startswith(b"Received: ") and raw.endswith(MIME)
    assert summary["size"] == len(raw)

    detail = api.get(f"/messages/{summary['id']}")
    assert {k: detail[k] for k in summary} == summary, "the detail starts with the summary"
    headers = detail["headers"]
    assert ["From", "Café Owner <owner@cafe.test>"] in headers
    assert ["Subject", "héllo from the café"] in headers
    assert headers[0][0] == "Received", "header fields in the message's order"
    # The CRLF before a boundary belongs to the boundary (RFC 2046 5.1.1), not to the part.
    assert detail["text"] == "Café au lait, s'il vous plaît."
    assert detail["html"] == "<p>Café <b>au lait</b></p>"
    assert detail["attachments"] == [
        {"index": 0, "filename": "résumé.pdf", "content_type": "application/pdf", "size": len(PDF)}]

    status, headers, body = api.request("GET", f"/api/v1/messages/{summary['id']}/attachments/0")
    assert status == 200 and body == PDF
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9.pdf" in headers["Content-Disposition"]
    assert headers["Content-Security-Policy"] == "sandbox"
    api.error("GET", f"/messages/{summary['id']}/attachments/1", 404)
    api.error("GET", f"/messages/{summary['id']}/attachments/x", 400)


def test_plain_message_has_text_and_no_html(sevenport, api):
    send25(sevenport, message("plain one", body="Just text."))
    detail = api.get(f"/messages/{only_message(api)['id']}")
    assert detail["text"] == "Just text.\r\n"
    assert detail["html"] is None
    assert detail["attachments"] == []


def test_list_is_newest_first_with_filters_limit_and_offset(sevenport, api):
    send25(sevenport, message("first apple", sender="ann@client.test"), sender="ann@client.test")
    send25(sevenport, message("second banana"), sender="bounce@lists.test", to=(BOB,))
    send25(sevenport, message("third APPLE pie"), to=(ALICE, BOB))
    listing = api.get("/messages")
    assert listing["total"] == 3
    subjects = [m["subject"] for m in listing["messages"]]
    assert subjects == ["third APPLE pie", "second banana", "first apple"]
    ids = [m["id"] for m in listing["messages"]]
    assert ids == sorted(ids, reverse=True)

    def subjects_for(query):
        return [m["subject"] for m in api.get("/messages?" + query)["messages"]]

    assert subjects_for("to=BOB") == ["third APPLE pie", "second banana"]
    assert subjects_for("subject=apple") == ["third APPLE pie", "first apple"]
    assert subjects_for("from=ann@") == ["first apple"]  # the envelope sender
    assert subjects_for("from=sender%40client") == ["third APPLE pie", "second banana"]  # From:
    assert subjects_for("to=bob&subject=apple") == ["third APPLE pie"]
    assert subjects_for("to=nobody") == []
    assert api.get("/messages?limit=1")["total"] == 3
    assert subjects_for("limit=1") == ["third APPLE pie"]
    assert subjects_for("limit=1&offset=1") == ["second banana"]
    assert subjects_for("offset=5") == []
    assert api.get("/messages?limit=0") == {"total": 3, "messages": []}

    # Received at or after the second one's time (milliseconds: the first may share it).
    second = listing["messages"][1]["received_at"]
    expected = [m["subject"] for m in listing["messages"] if m["received_at"] >= second]
    assert expected[:2] == ["third APPLE pie", "second banana"]
    assert subjects_for("since=" + urllib.parse.quote(second)) == expected
    assert subjects_for("since=2000-01-01") == subjects
    assert subjects_for("since=2999-01-01T00:00:00Z") == []
    assert subjects_for(f"since={int(time.time()) - 3600}") == subjects
    assert subjects_for(f"since={int(time.time()) + 3600}") == []


@pytest.mark.parametrize("query", [
    "limit=-1", "limit=abc", "limit=1001", "limit=", "offset=x", "offset=1.5", "since=yesterday",
    "since=2026-13-01", "since=2026-11-22T25:00:00Z", "since=12abc",
])
def test_bad_query_values_are_400(api, query):
    assert api.error("GET", "/messages?" + query, 400)


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/messages/abc", 400),
    ("GET", "/messages/0", 400),
    ("GET", "/messages/-1", 400),
    ("GET", "/messages/99999999999999999999999", 400),
    ("GET", "/messages/999999", 404),
    ("GET", "/messages/999999/raw", 404),
    ("GET", "/messages/999999/attachments/0", 404),
    ("DELETE", "/messages/999999", 404),
    ("GET", "/sessions/abc", 400),
    ("GET", "/sessions/999999", 404),
    ("GET", "/nothing-here", 404),
    ("GET", "/messages/1/nothing", 404),
    ("DELETE", "/users/nobody@example.test", 404),
])
def test_bad_ids_and_unknown_paths(api, method, path, status):
    assert api.error(method, path, status)


def test_wrong_methods_are_405_with_allow(api):
    for method, path, allow in [("POST", "/messages", "GET, HEAD, DELETE"), ("PUT", "/info", "GET, HEAD"),
                                ("GET", "/reset", "POST"), ("DELETE", "/messages/wait", "GET, HEAD"),
                                ("POST", "/events", "GET, HEAD")]:
        status, headers, body = api.request(method, "/api/v1" + path, body="" if method != "GET" else None)
        assert status == 405, (method, path)
        assert headers["Allow"] == allow
        assert json.loads(body)["error"]
    status, _, _ = api.request("GET", "/api/v2/messages")
    assert status == 404


def test_delete_one_then_all(sevenport, api):
    for i in range(3):
        send25(sevenport, message(f"delete me {i}"), to=(BOB,))
    ids = [m["id"] for m in api.get("/messages")["messages"]]
    assert api.json("DELETE", f"/messages/{ids[0]}") == {"deleted": 1}
    api.error("GET", f"/messages/{ids[0]}", 404)
    api.error("DELETE", f"/messages/{ids[0]}", 404)
    assert api.get("/messages")["total"] == 2
    # Deleted everywhere: Bob's POP3 maildrop has the other two only.
    pop = poplib.POP3_SSL("localhost", sevenport.port("pop3s"), timeout=10, context=tls_context(sevenport.ca_file))
    pop.user(BOB)
    pop.pass_(USERS[BOB])
    assert pop.stat()[0] == 2
    pop.quit()
    assert api.json("DELETE", "/messages") == {"deleted": 2}
    assert api.get("/messages") == {"total": 0, "messages": []}
    assert api.json("DELETE", "/messages") == {"deleted": 0}


def test_reset_forgets_messages_and_closed_sessions_but_keeps_users(sevenport, api):
    api.json("POST", "/users", {"address": "keep@example.test", "password": "kept"}, expect=201)
    send25(sevenport, message("before reset"))
    assert api.get("/messages")["total"] == 1
    closed = [s for s in api.get("/sessions")["sessions"] if not s["open"]]
    assert closed
    open_session = socket.create_connection(("127.0.0.1", sevenport.port("smtp")), timeout=10)
    assert open_session.recv(100).startswith(b"220")
    assert api.json("POST", "/reset") == {"reset": True}
    assert api.get("/messages") == {"total": 0, "messages": []}
    left = api.get("/sessions")["sessions"]
    assert left and all(s["open"] for s in left), "open sessions stay"
    assert "keep@example.test" in [u["address"] for u in api.get("/users")["users"]]
    open_session.close()
    api.json("DELETE", "/users/keep@example.test")


# ---- how each message arrived ----


def test_arrival_facts_for_25_plaintext_587_starttls_and_465_implicit(sevenport, api):
    send25(sevenport, message("via 25"))
    send587(sevenport, message("via 587", to=BOB))
    send465(sevenport, message("via 465", to=BOB))
    by_subject = {m["subject"]: m for m in api.get("/messages")["messages"]}

    a25 = by_subject["via 25"]["arrival"]
    assert a25["listener"] == "smtp" and a25["port"] == sevenport.port("smtp")
    assert a25["security"] == "starttls", "how the listener is configured"
    assert a25["tls"] is False and a25["tls_mode"] == "none"
    assert a25["tls_version"] == "" and a25["tls_cipher"] == ""
    assert a25["auth_user"] == ""
    assert a25["helo"] == "client.test"
    assert a25["peer"].startswith("127.0.0.1:")

    a587 = by_subject["via 587"]["arrival"]
    assert a587["listener"] == "submission" and a587["port"] == sevenport.port("submission")
    assert a587["security"] == "starttls"
    assert a587["tls"] is True and a587["tls_mode"] == "starttls"
    assert a587["tls_version"] == "TLSv1.3" and a587["tls_cipher"]
    assert a587["auth_user"] == ALICE

    a465 = by_subject["via 465"]["arrival"]
    assert a465["listener"] == "submissions" and a465["port"] == sevenport.port("submissions")
    assert a465["security"] == "implicit"
    assert a465["tls"] is True and a465["tls_mode"] == "implicit"
    assert a465["tls_version"].startswith("TLSv1.") and a465["auth_user"] == ALICE

    # Each names its session, which names the message back.
    for m in by_subject.values():
        session = api.get(f"/sessions/{m['arrival']['session']}")
        assert m["id"] in session["messages"]
        assert session["listener"] == m["arrival"]["listener"]
        assert session["tls_mode"] == m["arrival"]["tls_mode"]


# ---- sessions ----


def test_sessions_list_and_detail_mask_secrets(sevenport, api):
    send587(sevenport, message("session detail", to=BOB))
    sessions = api.get("/sessions")["sessions"]
    ids = [s["id"] for s in sessions]
    assert ids == sorted(ids, reverse=True), "newest first"
    summary = next(s for s in sessions if s["listener"] == "submission")
    assert "transcript" not in summary and "errors" not in summary
    assert summary["protocol"] == "smtp" and summary["port"] == sevenport.port("submission")
    assert ISO_MS.match(summary["started_at"])

    detail = api.get(f"/sessions/{summary['id']}")
    assert detail["tls_mode"] == "starttls"
    assert detail["tls"]["version"] == "TLSv1.3" and detail["tls"]["cipher"]
    assert detail["tls"]["sni"] == "localhost"
    assert detail["auth"][0]["user"] == ALICE and detail["auth"][0]["success"] is True
    assert detail["auth"][0]["over_tls"] is True and ISO_MS.match(detail["auth"][0]["at"])
    assert len(detail["messages"]) == 1
    assert detail["open"] is False and ISO_MS.match(detail["ended_at"])
    assert detail["bytes_in"] > 0 and detail["bytes_out"] > 0
    assert isinstance(detail["errors"], list) and detail["transcript_truncated"] is False
    lines = detail["transcript"]
    assert lines[0]["direction"] == "server" and lines[0]["text"].startswith("220 ")
    assert lines[0]["tls"] is False and lines[-1]["tls"] is True, "plaintext, then STARTTLS"
    text = json.dumps(detail)
    assert USERS[ALICE] not in text and "AUTH PLAIN ****" in text
    assert api.get("/sessions?limit=1")["sessions"] == sessions[:1]
    assert api.error("GET", "/sessions?limit=x", 400)


# ---- users ----


def test_users_added_over_the_api_can_log_in_then_be_removed(sevenport, api):
    users = api.get("/users")["users"]
    assert {ALICE, BOB} <= {u["address"] for u in users}
    keys = {"address", "app_password", "imap_enabled", "pop3_enabled", "locked",
            "password_expired", "mailbox_full"}
    assert all(set(u) == keys for u in users), "the account's behaviours, never a password"
    assert all(u["app_password"] is False for u in users)
    assert api.json("POST", "/users", {"address": "carol@example.test", "password": "carol-pw"},
                    expect=201) == {"address": "carol@example.test"}
    assert "carol@example.test" in [u["address"] for u in api.get("/users")["users"]]

    send587(sevenport, message("from carol", to=ALICE), to=(ALICE,), user="carol@example.test",
            password="carol-pw")
    send25(sevenport, message("to carol", to="carol@example.test"), to=("carol@example.test",))
    pop = poplib.POP3_SSL("localhost", sevenport.port("pop3s"), timeout=10, context=tls_context(sevenport.ca_file))
    pop.user("carol@example.test")
    pop.pass_("carol-pw")
    assert pop.stat()[0] == 1
    pop.quit()

    # Replacing changes the password.
    api.json("POST", "/users", {"address": "carol@example.test", "password": "new-pw"}, expect=201)
    with pytest.raises(smtplib.SMTPAuthenticationError):
        send587(sevenport, message("old password"), user="carol@example.test", password="carol-pw")

    assert api.json("DELETE", "/users/carol@example.test") == {"deleted": 1}
    assert api.json("DELETE", "/users/carol%40example.test", expect=404)["error"]
    with pytest.raises(smtplib.SMTPAuthenticationError):
        send587(sevenport, message("gone"), user="carol@example.test", password="new-pw")


@pytest.mark.parametrize("body", [
    "not json", "[1, 2]", "{\"address\": \"carol@example.test\"}",
    "{\"address\": \"carol@example.test\", \"password\": \"\"}",
    "{\"address\": \"carol\", \"password\": \"x\"}", "{\"address\": 5, \"password\": \"x\"}",
    "{\"address\": \"a b@example.test\", \"password\": \"x\"}", "",
])
def test_bad_user_bodies_are_400(api, body):
    assert api.error("POST", "/users", 400, body=body)


# ---- malformed and oversized requests ----


def raw_http(port, data, timeout=10):
    """Sends raw bytes; returns (status, parsed JSON body) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the answer was sent before the request was all read
        received = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


def test_malformed_and_oversized_requests_get_json_errors(sevenport, api):
    status, body = raw_http(api.port, b"NONSENSE\r\n\r\n")
    assert status == 400 and body["error"]
    status, body = raw_http(api.port, b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n")
    assert status == 400
    status, body = raw_http(api.port, b"GET /api/v1/info HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    assert status == 431 and body["error"]
    big = json.dumps({"address": "x@example.test", "password": "p" * (2 * 1024 * 1024)}).encode()
    status, body = raw_http(api.port, b"POST /api/v1/users HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
    assert status == 413 and "max_request_size" in body["error"]
    status, _, _ = api.request("POST", "/api/v1/users", body=big)
    assert status == 413
    assert "x@example.test" not in [u["address"] for u in api.get("/users")["users"]]
    assert api.get("/info")["hostname"] == "localhost", "the server lives on"


def test_cross_site_changes_are_refused(api):
    """A page on another site could POST a form to the API (CSRF): its Origin gives it away."""
    status, _, body = api.request("POST", "/api/v1/reset", body="",
                                  headers={"Origin": "http://evil.test"})
    assert status == 403 and json.loads(body)["error"]
    status, _, _ = api.request("DELETE", "/api/v1/messages", headers={"Origin": "null"})
    assert status == 403
    same = f"http://127.0.0.1:{api.port}"
    status, _, _ = api.request("POST", "/api/v1/reset", body="", headers={"Origin": same})
    assert status == 200, "the UI's own requests carry its origin"
    status, _, _ = api.request("GET", "/api/v1/info", headers={"Origin": "http://evil.test"})
    assert status == 200, "reads are for the browser's same-origin policy to guard"


# ---- the token ----

TOKEN_CONFIG = """
hostname = "localhost"
local_domains = ["example.test"]
[http]
token = "t0k3n-for-tests"
[listeners.smtp]
protocol = "smtp"
port = 0
security = "starttls"
"""


def test_token_is_required_for_the_api_but_not_the_ui(start_sevenport):
    server = start_sevenport(config_text=TOKEN_CONFIG)
    anonymous = Api(server)
    status, headers, body = anonymous.request("GET", "/api/v1/info")
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    assert "token" in json.loads(body)["error"]
    assert anonymous.request("GET", "/api/v1/info", headers={"Authorization": "Bearer wrong"})[0] == 401
    assert anonymous.request("GET", "/api/v1/info?access_token=wrong")[0] == 401
    assert anonymous.request("GET", "/")[0] == 200, "the UI loads and asks for the token"
    assert Api(server, token="t0k3n-for-tests").get("/info")["hostname"] == "localhost"
    status, _, body = anonymous.request("GET", "/api/v1/messages?access_token=t0k3n-for-tests")
    assert status == 200 and json.loads(body)["total"] == 0
    # The event stream authenticates with the query parameter (EventSource sends no headers).
    with urllib.request.urlopen(f"{anonymous.base}/api/v1/events?access_token=t0k3n-for-tests",
                                timeout=10) as resp:
        assert resp.headers["Content-Type"] == "text/event-stream"
    assert anonymous.request("GET", "/api/v1/events")[0] == 401


# ---- the event stream ----


def read_event(resp):
    """The next event as (name, data); comments and blank lines are skipped."""
    name, data = None, []
    while True:
        line = resp.readline().decode()
        assert line, "the stream ended"
        line = line.rstrip("\n")
        if line.startswith(":"):
            continue
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and name:
            return name, json.loads("\n".join(data))


def test_event_stream_tells_of_sessions_tls_auth_and_messages(sevenport, api):
    with urllib.request.urlopen(api.base + "/api/v1/events", timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/event-stream"
        assert resp.headers["Cache-Control"] == "no-cache"
        # Two owners: one message event all the same.
        send587(sevenport, message("streamed", to=BOB), to=(ALICE, BOB))
        # Sessions of earlier tests may still be closing: follow ours, the first opened now.
        ours = None
        events = []
        while not events or events[-1][0] != "session_closed":
            name, data = read_event(resp)
            if ours is None and name == "session_opened" and data["listener"] == "submission":
                ours = data["id"]
            session = data.get("session", data.get("arrival", {}).get("session", data.get("id")))
            if name == "message":
                session = data["arrival"]["session"]
            if ours is not None and session == ours:
                events.append((name, data))
    names = [name for name, _ in events]
    assert names == ["session_opened", "tls", "auth", "message", "session_closed"]
    opened, tls, auth, msg, closed = (data for _, data in events)
    assert opened["listener"] == "submission" and opened["open"] is True and "transcript" not in opened
    assert tls == {"session": opened["id"], "tls_mode": "starttls", "version": "TLSv1.3",
                   "cipher": tls["cipher"]}
    assert auth == {"session": opened["id"], "mechanism": "PLAIN", "user": ALICE,
                    "success": True, "over_tls": True}
    assert msg["subject"] == "streamed" and sorted(msg["mailboxes"]) == [ALICE, BOB]
    assert msg["arrival"]["session"] == opened["id"]
    detail = api.get(f"/messages/{msg['id']}")
    assert {k: detail[k] for k in msg} == msg, "the event carries the message's Summary"
    assert closed["id"] == opened["id"] and closed["open"] is False and closed["messages"] == [msg["id"]]


def test_failed_auth_is_an_event_too(sevenport, api):
    with urllib.request.urlopen(api.base + "/api/v1/events", timeout=10) as resp:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            send587(sevenport, message("never sent"), password="wrong-password")
        event = ("", {})
        while event[0] != "auth" or event[1]["success"] is not False:
            event = read_event(resp)
    assert event[1]["success"] is False and event[1]["user"] == ALICE


# ---- the wait endpoint ----


def test_wait_answers_at_once_for_a_stored_message(sevenport, api):
    send25(sevenport, message("already here"))
    send25(sevenport, message("already here too"))
    start = time.monotonic()
    found = api.get("/messages/wait?subject=already+here&timeout=5")
    assert time.monotonic() - start < 1
    assert found["subject"] == "already here too", "the newest match"
    detail = api.get(f"/messages/{found['id']}")
    assert {k: detail[k] for k in found} == found, "the answer is the message's Summary"


def test_wait_times_out_with_408(api):
    start = time.monotonic()
    error = api.error("GET", "/messages/wait?to=nobody@example.test&timeout=0.3", 408)
    elapsed = time.monotonic() - start
    assert 0.25 <= elapsed < 2
    assert "0.3" in error
    assert api.error("GET", "/messages/wait?to=nobody@example.test&timeout=0", 408)


@pytest.mark.parametrize("query", ["timeout=301", "timeout=-1", "timeout=abc", "timeout=", "since=never"])
def test_wait_rejects_bad_parameters(api, query):
    assert api.error("GET", "/messages/wait?" + query, 400)


def test_wait_answers_within_100_ms_of_the_smtp_delivery(sevenport, api):
    subject = f"awaited {time.monotonic_ns()}"
    sock = socket.create_connection(("127.0.0.1", api.port), timeout=10)
    query = urllib.parse.urlencode({"subject": subject, "to": BOB, "timeout": 20})
    sock.sendall(f"GET /api/v1/messages/wait?{query} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    # The wait is pending: no answer yet (a server answering from polling or from a stale list
    # would have answered, or never will).
    assert select.select([sock], [], [], 0.3)[0] == []

    answered = {}

    def read_answer():
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        head, _, body = received.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        while len(body) < length:
            body += sock.recv(65536)
        answered["at"] = time.monotonic()
        answered["status"] = int(head.split(b" ")[1])
        answered["body"] = json.loads(body)

    reader = threading.Thread(target=read_answer)
    reader.start()
    with smtplib.SMTP("127.0.0.1", sevenport.port("smtp"), timeout=10) as smtp:
        smtp.ehlo("client.test")
        smtp.mail("sender@client.test")
        smtp.rcpt(BOB)
        code, _ = smtp.data(message(subject, to=BOB))
        accepted_at = time.monotonic()
        assert code == 250
    reader.join(timeout=10)
    sock.close()
    assert answered, "no answer to the wait"
    assert answered["status"] == 200
    assert answered["body"]["subject"] == subject
    assert answered["at"] - accepted_at < 0.1, f"{(answered['at'] - accepted_at) * 1000:.1f} ms"


def test_a_wait_whose_client_leaves_is_dropped(sevenport, api):
    sock = socket.create_connection(("127.0.0.1", api.port), timeout=10)
    sock.sendall(b"GET /api/v1/messages/wait?subject=left-behind&timeout=30 HTTP/1.1\r\n\r\n")
    assert select.select([sock], [], [], 0.2)[0] == []
    sock.close()
    # The message that would have answered it arrives to nobody; the server carries on.
    send25(sevenport, message("left-behind"))
    assert api.get("/messages/wait?subject=left-behind&timeout=5")["subject"] == "left-behind"


# ---- start-up and shutdown ----


def test_sigterm_answers_pending_waits_ends_streams_and_exits_0(start_sevenport):
    server = start_sevenport()
    api = Api(server)
    stream = urllib.request.urlopen(api.base + "/api/v1/events", timeout=10)
    sock = socket.create_connection(("127.0.0.1", api.port), timeout=10)
    sock.sendall(b"GET /api/v1/messages/wait?subject=never&timeout=60 HTTP/1.1\r\n\r\n")
    assert select.select([sock], [], [], 0.2)[0] == [], "the wait is pending"
    start = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 503 "), answer
    assert stream.read() == b"", "the stream ends"
    assert server.proc.wait(timeout=10) == 0
    assert time.monotonic() - start < 5
    sock.close()
    stream.close()


def test_http_port_in_use_is_explained(sevenport, tmp_path):
    Api(sevenport)  # skips for a binary without the HTTP listener
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'hostname = "localhost"\n[http]\nport = {port}\n')
    result = subprocess.run([BIN, "--config", str(cfg), "--state-dir", str(tmp_path / "state")],
                            capture_output=True, text=True, timeout=30)
    blocker.close()
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port} for http: the port is already in use" in result.stderr
