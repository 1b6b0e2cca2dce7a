#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/{smtp,pop3,imap,http}/: small realistic sessions, each
preceded by the four control bytes the targets read (see the comment at the top of each
fuzz_<name>.cpp). Run it again after changing a seed here; inputs that real fuzzing found
(regression seeds) are other files in those folders, and this script leaves them alone.

    python3 fuzz/make_seeds.py
"""
import base64
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# Control byte 1: how the stream is cut into feed() calls.
WHOLE, BYTES, LINES, RANDOM = 0, 1, 2, 3
# Control byte 2, the end of a session: bits 0-1.
DISCONNECT, TIMEOUT, SHUTDOWN, NOTHING = 0, 1, 2, 3


def plain(user, password, authzid=""):
    return base64.b64encode(f"{authzid}\0{user}\0{password}".encode()).decode()


def b64(text):
    return base64.b64encode(text.encode()).decode()


def crlf(*lines):
    return "".join(line + "\r\n" for line in lines)


def write(target, name, control, stream):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    data = bytes(control) + (stream.encode("utf-8", "surrogateescape")
                             if isinstance(stream, str) else stream)
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)


# ---- SMTP: byte 0 = listener | fault << 2 | greylist 0x20 | rate limit 0x40 | small 0x80 ----
MX, SUBMISSION, SUBMISSIONS, PLAINTEXT = 0, 1, 2, 3
ALICE = plain("alice@example.test", "secret")
MESSAGE = crlf("From: alice@example.test", "To: bob@example.org", "Subject: hi", "",
               "Hello Bob.", ".leading dot, stuffed", "..", "last line", ".")


def smtp():
    w = lambda name, control, stream: write("smtp", name, control, stream)
    w("mx-starttls-auth-data", [MX, LINES, DISCONNECT, 0], crlf(
        "EHLO client.example.test", "STARTTLS", "EHLO client.example.test",
        f"AUTH PLAIN {ALICE}", "MAIL FROM:<alice@example.test> SIZE=120 BODY=8BITMIME",
        "RCPT TO:<bob@example.org>", "RCPT TO:<carol@example.test>", "RCPT TO:<Postmaster>",
        "DATA") + MESSAGE + crlf("QUIT"))
    w("submission-auth-login", [SUBMISSION, LINES, TIMEOUT, 0], crlf(
        "EHLO laptop", "MAIL FROM:<alice@example.test>", "AUTH PLAIN x", "STARTTLS", "EHLO laptop",
        "AUTH LOGIN", b64("alice"), b64("secret"), "AUTH PLAIN", "MAIL FROM:<alice@example.test>",
        "RCPT TO:<someone@remote.example>", "DATA") + MESSAGE + crlf("RSET", "NOOP", "QUIT"))
    w("submissions-pipelined", [SUBMISSIONS, WHOLE, SHUTDOWN, 0], crlf(
        "EHLO client.example.test", f"AUTH PLAIN {plain('alice', 'secret', 'alice')}",
        "MAIL FROM:<alice@example.test>", "RCPT TO:<bob@example.org>",
        "RCPT TO:<bob@example.org>", "DATA") + MESSAGE + crlf(
        "MAIL FROM:<> SMTPUTF8", "RCPT TO:<j\u00fcrgen@example.test>", "DATA",
        "Subject: caf\u00e9", "", "8-bit body \u00ff", ".", "QUIT"))
    w("plaintext-commands-bytewise", [PLAINTEXT, BYTES, NOTHING, 0], crlf(
        "HELO relay.example", "VRFY alice", "HELP", "EXPN list", "BDAT 10 LAST", "NOOP x",
        "MAIL FROM:<>", "MAIL FROM:<a@b>", "RCPT TO:<alice@example.test> NOTIFY=NEVER",
        "RCPT TO:<\"quoted local\"@example.test>", "RCPT TO:<@route:bob@example.org>",
        "RCPT TO:<bob@[192.0.2.1]>", "DATA extra", "RSET now", "DATA", "STARTTLS", "QUIT now",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "QUIT"))
    w("greylisting-retry", [PLAINTEXT | 0x20, LINES, DISCONNECT | (4 << 4) | 0x80, 0], crlf(
        "EHLO mta.remote.example", "MAIL FROM:<news@remote.example>",
        "RCPT TO:<alice@example.test>", "RCPT TO:<bob@example.org>", "RSET",
        "MAIL FROM:<news@remote.example>", "RCPT TO:<alice@example.test>",
        "RCPT TO:<ALICE@EXAMPLE.TEST>", "DATA") + MESSAGE + crlf("QUIT"))
    w("rate-limit-unknown-users", [PLAINTEXT | 0x40, LINES, TIMEOUT | 0x80, 0], crlf(
        "EHLO mta", "MAIL FROM:<x@remote.example>", "RCPT TO:<nobody@example.test>",
        "RCPT TO:<gina@example.test>", "RCPT TO:<hank@example.test>",
        "RCPT TO:<alice@example.test>", "DATA") + MESSAGE + crlf(
        "MAIL FROM:<x@remote.example>", "RCPT TO:<alice@example.test>", "DATA") + MESSAGE +
        crlf("MAIL FROM:<x@remote.example>", "QUIT"))
    for fault, name in [(1, "not-advertised"), (2, "refused"), (3, "abort-handshake"),
                        (4, "inject-response")]:
        w(f"starttls-fault-{name}", [MX | fault << 2, LINES, DISCONNECT | 0x04, 0], crlf(
            "EHLO client", "STARTTLS", "NOOP", "EHLO client", "STARTTLS", "QUIT"))
    w("small-limits", [PLAINTEXT | 0x80, RANDOM | (5 << 2), DISCONNECT, 0], crlf(
        "EHLO " + "a" * 90, "EHLO client", "MAIL FROM:<alice@example.test> SIZE=100000",
        "MAIL FROM:<alice@example.test>", "RCPT TO:<alice@example.test>",
        "RCPT TO:<bob@example.org>", "RCPT TO:<carol@example.test>", "DATA") +
        "x" * 500 + "\r\n" + crlf(".", "FOO", "BAR", "BAZ", "QUX"))
    w("unavailable", [MX, WHOLE, DISCONNECT, 0x08], crlf("EHLO client", "QUIT"))
    w("refuse-plaintext", [SUBMISSIONS, WHOLE, TIMEOUT, 0x10], crlf("EHLO client"))
    w("account-behaviours", [PLAINTEXT, LINES, SHUTDOWN, 0x01], crlf(
        "EHLO client", f"AUTH PLAIN {plain('carol@example.test', 'carol-main')}",
        f"AUTH PLAIN {plain('dave', 'dave-pw')}", f"AUTH PLAIN {plain('erin', 'erin-pw')}",
        f"AUTH PLAIN {plain('alice', 'wrong')}", "AUTH PLAIN =", "AUTH PLAIN", "*", "AUTH LOGIN",
        b64("carol"), b64("carol-app-pw"), "AUTH PLAIN again", "AUTH CRAM-MD5",
        "MAIL FROM:<carol@example.test>", "RCPT TO:<x@remote.example>", "QUIT"))
    w("data-boundaries", [MX, RANDOM | (9 << 2), NOTHING, 0x01],
      crlf("EHLO c", "MAIL FROM:<a@example.test>", "RCPT TO:<alice@example.test>", "DATA") +
      "Subject: bare\n\nbare LF\nand CR\r alone\r\n.\n.\r\n" +
      crlf("MAIL FROM:<a@example.test>", "RCPT TO:<alice@example.test>", "DATA", ".", "QUIT"))
    w("sasl-line-too-long", [PLAINTEXT, LINES, DISCONNECT, 0x01],
      crlf("EHLO c", "AUTH PLAIN", "A" * 13000, "AUTH LOGIN", "B" * 13000, "QUIT"))
    w("starttls-handshake-never", [MX, LINES, TIMEOUT | 0x08, 0],
      crlf("EHLO c", "STARTTLS", "EHLO after"))
    w("starttls-pipelined-injection", [MX, WHOLE, DISCONNECT, 0],
      crlf("EHLO c", "STARTTLS", "MAIL FROM:<injected@example.test>"))


# ---- POP3: byte 0 = listener | fault << 2 | logins off 0x20 | small 0x40 ----
STLS, POP3S, POP3_PLAIN, STLS_OPEN = 0, 1, 2, 3


def pop3():
    w = lambda name, control, stream: write("pop3", name, control, stream)
    w("stls-user-pass-retr", [STLS, LINES, DISCONNECT, 0], crlf(
        "CAPA", "USER alice", "STLS", "CAPA", "USER alice", "PASS secret", "STAT", "LIST",
        "LIST 2", "UIDL", "UIDL 1", "RETR 2", "TOP 1 0", "TOP 3 1", "TOP 7 2", "RETR 5",
        "DELE 1", "RETR 1", "LIST 1", "RSET", "DELE 2", "NOOP", "QUIT"))
    w("pop3s-auth-plain", [POP3S, WHOLE, SHUTDOWN, 0], crlf(
        "AUTH", f"AUTH PLAIN {ALICE}", "STAT", "RETR 4", "RETR 6", "RETR 7", "TOP 2 100",
        "LIST 8", "UIDL 0", "RETR x", "TOP 1 -1", "QUIT"))
    w("pop3s-auth-continuation", [POP3S, BYTES, TIMEOUT, 0], crlf(
        "AUTH PLAIN", "*", "AUTH PLAIN", plain("bob@example.test", "hunter2"), "LIST", "QUIT"))
    w("plaintext-account-behaviours", [POP3_PLAIN, LINES, NOTHING, 0x04], crlf(
        "USER carol", "PASS carol-main", "USER dave", "PASS dave-pw", "USER erin", "PASS erin-pw",
        "USER frank", "PASS frank-pw", "PASS alone", "USER alice", "PASS wrong",
        "AUTH PLAIN " + plain("x", "carol", "carol-app-pw"), "AUTH CRAM-MD5",
        "AUTH PLAIN !!!", "USER carol", "PASS carol-app-pw", "UIDL", "QUIT"))
    for fault, name in [(1, "not-advertised"), (2, "refused"), (3, "abort-handshake"),
                        (4, "inject-response")]:
        w(f"stls-fault-{name}", [STLS_OPEN | fault << 2, LINES, DISCONNECT | 0x04, 0],
          crlf("CAPA", "STLS", "NOOP", "CAPA", "STLS", "QUIT"))
    w("maildrop-in-use", [POP3_PLAIN, LINES, DISCONNECT | 0x20, 0],
      crlf("USER alice", "PASS secret", "USER alice", "PASS secret", "STAT", "QUIT"))
    w("delete-then-second-session", [POP3S, LINES, NOTHING | 0x80 | 0x10, 0], crlf(
        "USER alice", "PASS secret", "DELE 1", "DELE 3", "DELE 3", "STAT", "QUIT"))
    w("small-limits", [POP3_PLAIN | 0x40, RANDOM | (3 << 2), DISCONNECT, 0], crlf(
        "USER " + "a" * 60, "FOO", "USER alice", "PASS secret", "BAR", "BAZ", "QUX"))
    w("unavailable", [STLS, WHOLE, DISCONNECT, 0x01], crlf("CAPA"))
    w("refuse-plaintext", [POP3S, WHOLE, DISCONNECT, 0x02], crlf("CAPA"))
    w("stls-handshake-never", [STLS, LINES, SHUTDOWN | 0x08, 0], crlf("STLS", "CAPA"))
    w("logins-disabled", [POP3_PLAIN | 0x20, WHOLE, DISCONNECT, 0],
      crlf("CAPA", "USER alice", "AUTH PLAIN " + ALICE, "QUIT"))
    w("stls-pipelined-injection", [STLS, WHOLE, DISCONNECT, 0],
      crlf("STLS", "USER alice", "PASS secret"))


# ---- IMAP: byte 0 = listener | fault << 2 | logins off 0x20 | small 0x40 ----
IMAP_STARTTLS, IMAPS, IMAP_PLAIN, IMAP_STARTTLS_OPEN = 0, 1, 2, 3


def literal(text):
    return "{%d}\r\n%s" % (len(text.encode()), text)


def imap():
    w = lambda name, control, stream: write("imap", name, control, stream)
    appended = crlf("From: alice@example.test", "Subject: draft", "", "Draft body.")
    w("starttls-login-fetch", [IMAP_STARTTLS, LINES, DISCONNECT, 0], crlf(
        "a1 CAPABILITY", "a2 LOGIN alice secret", "a3 STARTTLS", "a4 CAPABILITY",
        "a5 LOGIN alice secret", "a6 SELECT INBOX",
        "a7 FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE)",
        "a8 FETCH 2 (BODY.PEEK[1.1] BODY.PEEK[1.2.MIME] BODY[2]<0.4>)",
        "a9 UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (From Subject)] BODY[HEADER.FIELDS.NOT (To)])",
        "a10 FETCH 3 (BODY[2.HEADER] BODY[2.TEXT] RFC822.HEADER RFC822.TEXT BODY)",
        "a11 FETCH 4:* (ENVELOPE BODYSTRUCTURE BODY[])", "a11a FETCH 1 ALL", "a11b FETCH 2 FAST",
        "a11c FETCH 3 FULL", "a11d FETCH 4 RFC822", "a12 STORE 1 +FLAGS (\\Deleted)",
        "a13 STORE 2 -FLAGS.SILENT (\\Seen)", "a14 UID STORE 1:3 FLAGS ($Junk work)",
        "a15 EXPUNGE", "a16 LOGOUT"))
    w("imaps-mailboxes-append", [IMAPS, WHOLE, SHUTDOWN, 0], crlf(
        f"b1 AUTHENTICATE PLAIN {ALICE}", 'b2 LIST "" "*"',
        'b3 LIST (SPECIAL-USE) "" "*" RETURN (SUBSCRIBED CHILDREN)', 'b4 LSUB "" "%"',
        "b5 STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT)", "b6 CREATE Drafts2",
        "b7 CREATE Work/Projects/New/", "b8 RENAME Work Job", "b9 SUBSCRIBE Job",
        "b10 UNSUBSCRIBE Job/Projects", "b11 DELETE Job/Projects",
        "b12 APPEND Drafts2 (\\Draft \\Seen $Label) \"05-Mar-2024 10:00:00 +0100\" " +
        literal(appended), "b13 APPEND INBOX {%d+}\r\n%s" % (len(appended), appended),
        "b14 SELECT Drafts2", "b15 COPY 1 INBOX", "b16 UID MOVE 1 Archive",
        "b17 UID EXPUNGE 1:*", "b18 NAMESPACE", 'b19 ID ("name" "fuzz" "version" "1")',
        "b20 ENABLE UTF8=ACCEPT CONDSTORE", "b21 EXAMINE Archive", "b22 CLOSE",
        "b23 SELECT INBOX", "b24 UNSELECT", "b25 LOGOUT"))
    w("idle-with-deliveries", [IMAPS, LINES, TIMEOUT | 0x10 | 0x20, 0], crlf(
        "c1 LOGIN alice secret", "c2 SELECT INBOX", "c3 IDLE", "DONE", "c4 NOOP",
        "c5 STORE 1:2 +FLAGS (\\Deleted)", "c6 EXPUNGE", "c7 IDLE", "NOPE", "c8 CHECK"))
    w("authenticate-continuation", [IMAPS, BYTES, DISCONNECT, 0], crlf(
        "d1 AUTHENTICATE PLAIN", "*", "d2 AUTHENTICATE PLAIN", plain("bob@example.test", "hunter2"),
        "d3 AUTHENTICATE PLAIN =", "d4 SELECT INBOX", "d5 LOGOUT"))
    for fault, name in [(1, "not-advertised"), (2, "refused"), (3, "abort-handshake"),
                        (4, "inject-response")]:
        w(f"starttls-fault-{name}", [IMAP_STARTTLS_OPEN | fault << 2, LINES, DISCONNECT | 0x04, 0],
          crlf("e1 CAPABILITY", "e2 STARTTLS", "e3 NOOP", "e4 STARTTLS", "e5 LOGOUT"))
    w("small-limits-literals", [IMAP_PLAIN | 0x40, LINES, DISCONNECT, 0], crlf(
        "f1 LOGIN alice secret", "f2 APPEND INBOX {1000}", "f3 APPEND INBOX {1000+}") +
        "x" * 1000 + crlf("", "f4 NOOP " + "a" * 120, "f5 NOOP", "f6 LOGIN", "f7", "f8 x"))
    w("bad-syntax", [IMAP_PLAIN, RANDOM | (2 << 2), NOTHING, 0x04], crlf(
        "g1 LOGIN \"alice\" {6}", "secret", "g2 SELECT \"IN\\\"BOX\"", "g3 SELECT inbox",
        "g4 FETCH 1,2:3,*:4 (FLAGS", "g5 FETCH 0 FLAGS", "g6 FETCH 99 FLAGS",
        "g7 FETCH 1 BODY[1.2.3.4.5]<10.0>", "g8 FETCH 1 (BODY[TEXT]<4294967295.1>)",
        "g9 UID", "g10 UID FROB 1", "* NOOP", "+ NOOP", "g11 NOOP extra", "g12 STORE 1 FLAGS",
        "g13 SEARCH", "g14 COPY 1", "g15 LIST ((nested) list) \"\" *", 'g16 LOGIN "a\\\\b" c',
        "g17 ID NIL", "g18 FETCH 1 BINARY[1]", "\x00\x01\x02", "g19 LOGOUT"))
    w("rename-inbox-observed", [IMAPS, LINES, DISCONNECT | 0x20, 0], crlf(
        "h1 LOGIN alice secret", "h2 SELECT INBOX", "h3 RENAME INBOX Old", "h4 SELECT Old",
        "h5 MOVE 1:2 INBOX", "h6 DELETE Old", "h7 LOGOUT"))
    w("plaintext-account-behaviours", [IMAP_PLAIN, LINES, SHUTDOWN, 0], crlf(
        "i1 LOGIN carol carol-main", "i2 LOGIN dave dave-pw", "i3 LOGIN erin erin-pw",
        "i4 LOGIN frank frank-pw", "i5 LOGIN alice wrong",
        "i6 LOGIN {18}", "carol@example.test {12}", "carol-app-pw", "i7 SELECT INBOX",
        "i8 LOGOUT"))
    w("search", [IMAPS, WHOLE, DISCONNECT, 0], crlf(
        "j1 LOGIN alice secret", "j2 SELECT INBOX", "j3 SEARCH ALL", "j4 SEARCH UNSEEN DELETED",
        'j5 SEARCH FROM "bob" SUBJECT alt', "j6 SEARCH OR SEEN NOT FLAGGED",
        "j7 SEARCH SINCE 1-Feb-1994 BEFORE 1-Jan-2030 ON 5-Mar-2024",
        "j8 SEARCH LARGER 10 SMALLER 100000 UID 1:3", 'j9 SEARCH HEADER Message-ID "<1@"',
        'j10 SEARCH BODY "Hello" TEXT plain', "j11 SEARCH KEYWORD work UNKEYWORD $Junk",
        "j12 UID SEARCH CHARSET UTF-8 SUBJECT " + literal("Gr\u00fc\u00dfe"),
        "j13 SEARCH (OR NEW OLD) RECENT ANSWERED", "j14 SEARCH 2:* NOT 3",
        "j15 SEARCH SENTSINCE 1-Jan-1990 SENTBEFORE 1-Jan-2000", "j16 LOGOUT"))
    w("starttls-handshake-never", [IMAP_STARTTLS, LINES, TIMEOUT | 0x08, 0],
      crlf("k1 STARTTLS", "k2 NOOP"))
    w("unavailable", [IMAP_STARTTLS, WHOLE, DISCONNECT, 0x01], crlf("l1 CAPABILITY"))
    w("refuse-plaintext", [IMAPS, WHOLE, DISCONNECT, 0x02], crlf("l1 CAPABILITY"))
    w("second-session", [IMAPS, LINES, NOTHING | 0x80 | 0x10, 0], crlf(
        "m1 LOGIN alice secret", "m2 SELECT INBOX", "m3 STORE 1:* +FLAGS (\\Seen)",
        "m4 FETCH 1:* FLAGS", "m5 LOGOUT"))


# ---- HTTP: byte 0 = server (1 token, 2 small limits); byte 2 = 1: the client ends with a reset ----
RESET = 1
def http():
    w = lambda name, control, stream: write("http", name, control, stream)
    w("get", [0, WHOLE, 0, 0], crlf("GET / HTTP/1.1", "Host: localhost", ""))
    w("pipelined-keep-alive", [0, LINES, RESET, 0],
      crlf("GET /a?x=1&y=%20 HTTP/1.1", "Host: localhost", "Accept: */*", "") +
      crlf("HEAD /b HTTP/1.1", "Host: localhost", "") +
      crlf("POST /api/x HTTP/1.1", "Host: localhost", "Content-Type: application/json",
           "Content-Length: 13", "") + '{"a": [1, 2]}' +
      crlf("DELETE /api/messages/1 HTTP/1.1", "Host: localhost", "X-Repeat: 1", "X-Repeat: 2",
           "") + crlf("OPTIONS * HTTP/1.1", "Host: localhost", "Connection: close", ""))
    w("chunked", [0, RANDOM | (4 << 2), 0, 0],
      crlf("POST /upload HTTP/1.1", "Host: localhost", "Transfer-Encoding: chunked", "",
           "5", "hello", "7;ext=1", " world!", "0", "Trailer-Field: x", "") +
      crlf("GET /after HTTP/1.1", "Host: localhost", ""))
    w("token", [1, LINES, RESET, 0],
      crlf("GET /api/messages HTTP/1.1", "Host: localhost", "Authorization: Bearer s3cret-token",
           "") +
      crlf("GET /api/messages?access_token=s3cret-token HTTP/1.1", "Host: localhost", "") +
      crlf("GET /api/messages HTTP/1.1", "Host: localhost", "Authorization: bearer wrong", "") +
      crlf("GET /ui/ HTTP/1.1", "Host: localhost", "") +
      crlf("HEAD /api/x HTTP/1.1", "Host: localhost", ""))
    w("small-limits", [2, WHOLE, 0, 0],
      crlf("POST /big HTTP/1.1", "Host: localhost", "Content-Length: 1000", "") + "x" * 1000)
    w("small-limits-headers", [2, LINES, RESET, 0],
      crlf("GET /h HTTP/1.1", "Host: localhost", "X-Long: " + "v" * 500, ""))
    w("small-limits-chunked", [3, LINES, 0, 0],
      crlf("POST /c HTTP/1.1", "Host: l", "Transfer-Encoding: chunked", "", "200", "y" * 512,
           "0", ""))
    w("expect-continue", [0, LINES, 0, 0],
      crlf("PUT /file HTTP/1.1", "Host: localhost", "Expect: 100-continue", "Content-Length: 4",
           "") + "data")
    w("deferred-streams", [0, LINES, RESET, 0],
      crlf("GET /later HTTP/1.1", "Host: l", "") + crlf("GET /throw HTTP/1.1", "Host: l", "") +
      crlf("GET /never HTTP/1.1", "Host: l", "") + crlf("GET /events HTTP/1.1", "Host: l", ""))
    w("events-end", [0, WHOLE, 0, 0], crlf("GET /events/end HTTP/1.1", "Host: l", ""))
    w("header-injection", [0, WHOLE, RESET, 0],
      crlf("GET /x?echo=a%0d%0aSet-Cookie:%20evil&name=Bad%0aName HTTP/1.1", "Host: l", "") +
      crlf("GET /y?echo=ok&name=X:Y HTTP/1.1", "Host: l", ""))
    w("malformed", [0, LINES, 0, 0], crlf("GARBAGE", "", ""))
    w("http10-absolute-form", [0, LINES, RESET, 0],
      crlf("GET http://example.test:8025/p/a%2Fb?q=1#frag HTTP/1.1", "Host: x", "") +
      crlf("GET /a%zz HTTP/1.1", "Host: x", "") + crlf("GET /%00 HTTP/1.0", ""))
    w("upgrade", [0, WHOLE, 0, 0],
      crlf("GET /ws HTTP/1.1", "Host: l", "Connection: Upgrade", "Upgrade: websocket", "") +
      "binary frames \x81\x05")
    w("connect", [0, WHOLE, RESET, 0], crlf("CONNECT example.test:443 HTTP/1.1", "Host: x", ""))
    w("bytewise", [1, BYTES, 0, 0],
      crlf("POST /api/reset?access_token=s3cret-token HTTP/1.1", "Host: l", "Content-Length: 2",
           "") + "{}" + crlf("GET /later HTTP/1.1", "Host: l", "Connection: close", ""))


if __name__ == "__main__":
    smtp()
    pop3()
    imap()
    http()
