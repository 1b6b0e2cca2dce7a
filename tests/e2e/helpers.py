"""Small helpers shared by the end-to-end tests."""

import json
import re
import socket
import ssl
import subprocess
import time
import urllib.request


def tls_context(ca_file):
    """A client context that verifies the server certificate against sevenport's CA."""
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def message(subject, body="Hello from the end-to-end tests.", sender="sender@client.test", to="alice@example.test"):
    return (f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@client.test>\r\n\r\n{body}\r\n")


class LineSocket:
    """A raw client socket that reads CRLF lines, with a timeout on every read."""

    def __init__(self, port, timeout=5.0, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed; pending: %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        """One SMTP reply, possibly multi-line: returns (code, [texts])."""
        texts = []
        while True:
            line = self.line()
            texts.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), texts

    def starttls(self, ctx, server_hostname="localhost"):
        assert not self.buf, f"bytes after the STARTTLS reply arrived in plaintext: {self.buf!r}"
        self.sock = ctx.wrap_socket(self.sock, server_hostname=server_hostname)

    def closed_within(self, seconds):
        """True if the server closes the connection within `seconds`."""
        self.sock.settimeout(seconds)
        start = time.monotonic()
        try:
            while time.monotonic() - start < seconds:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except (socket.timeout, TimeoutError):
            return False
        return False

    def close(self):
        self.sock.close()


def run(args, input_text=None, timeout=30):
    """Runs a client program; returns the CompletedProcess (text mode)."""
    return subprocess.run(args, input=input_text, capture_output=True, text=True, timeout=timeout,
                          errors="replace")


def api_get(server, path):
    """GET /api/v1{path} on the server's HTTP listener, as JSON."""
    url = f"http://127.0.0.1:{server.port('http')}/api/v1{path}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def new_log(server, mark, pattern, timeout=5.0):
    """The first log line after index `mark` that matches `pattern`, waited for."""
    rx = re.compile(pattern)
    before = sum(1 for line in server.log_lines[:mark] if rx.search(line))
    server.wait_log(pattern, timeout, count=before + 1)
    return [line for line in server.log_lines[mark:] if rx.search(line)][0]


def session_id(line):
    """The session id of a session-log line."""
    return int(re.search(r" #(\d+) ", line).group(1))


def check_behaviour(server, mark, name, text_pattern, timeout=5.0):
    """Waits for a `behaviour` line of listener `name` (after `mark`) whose text matches
    `text_pattern`, then checks the API's session of that line lists the same text among its
    behaviours and has a transcript note for it. Returns the session (JSON)."""
    line = new_log(server, mark, rf" #\d+ {re.escape(name)} \S+ behaviour: (?:{text_pattern})", timeout)
    text = line.split(" behaviour: ", 1)[1]
    session = api_get(server, f"/sessions/{session_id(line)}")
    assert session["listener"] == name
    assert text in session["behaviours"], session["behaviours"]
    notes = [t["text"] for t in session["transcript"] if t["direction"] == "note"]
    assert "behaviour: " + text in notes, notes
    return session
