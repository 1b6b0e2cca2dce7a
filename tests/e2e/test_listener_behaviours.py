"""Listener behaviours (docs/BEHAVIOURS.md, "Listener behaviours"): greeting = silent, close and
unavailable, greeting_delay_ms, command_delay_ms, drop_after_commands, and hint on the implicit-TLS
ports, met by Python's smtplib, imaplib and poplib, curl, and a raw socket where only the bytes
and their order tell. Every test also finds the behaviour in the session log and in the session
the API shows (its "behaviours" list and a transcript note)."""

import imaplib
import json
import poplib
import re
import smtplib
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import BIN, Sevenport
from helpers import LineSocket, api_get, check_behaviour, message, new_log, run

ALICE = "alice@example.test"
PROTOCOLS = ["smtp", "imap", "pop3"]

GREETING_DELAY_MS = 600
COMMAND_DELAY_MS = 500


def _listener(name, protocol, **keys):
    text = f'\n[listeners.{name}]\nprotocol = "{protocol}"\nport = 0\nsecurity = "starttls"\n'
    for key, value in keys.items():
        text += f"{key} = {json.dumps(value)}\n"
    return text


CONFIG = 'hostname = "localhost"\nlocal_domains = ["example.test"]\n' + "".join(
    _listener(f"{p}-{greeting}", p, greeting=greeting)
    for greeting in ("silent", "close", "unavailable") for p in PROTOCOLS
) + "".join(
    _listener(f"{p}-greeting-delay", p, greeting_delay_ms=GREETING_DELAY_MS) for p in PROTOCOLS
) + "".join(
    _listener(f"{p}-command-delay", p, command_delay_ms=COMMAND_DELAY_MS) for p in PROTOCOLS
) + _listener("smtp-drop", "smtp", drop_after_commands=5) + _listener(
    "smtp-drop3", "smtp", drop_after_commands=3) + _listener(
    "imap-drop", "imap", drop_after_commands=2) + _listener(
    "pop3-drop", "pop3", drop_after_commands=2)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Sevenport(tmp_path_factory.mktemp("listener-behaviours"), config_text=CONFIG)
    yield s
    assert s.stop() == 0, "sevenport did not exit cleanly:\n" + s.log_text()


# ---- helpers: the log, the API, clients in parallel ----







def session_closed(server, mark, session):
    new_log(server, mark, rf" #{session['id']} {re.escape(session['listener'])} \S+ close: ")
    return api_get(server, f"/sessions/{session['id']}")


def python_client(protocol, port, timeout, host="127.0.0.1"):
    if protocol == "smtp":
        return smtplib.SMTP(host, port, timeout=timeout)
    if protocol == "imap":
        return imaplib.IMAP4(host, port, timeout=timeout)
    return poplib.POP3(host, port, timeout=timeout)


def attempt(fn, *args):
    """Runs fn(*args): (the exception raised or None, seconds taken)."""
    start = time.monotonic()
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 - the tests look at what it is
        return e, time.monotonic() - start
    return None, time.monotonic() - start


def in_parallel(calls):
    """Runs (fn, *args) tuples at once (waits that would add up otherwise); their attempt()s."""
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(attempt, *call) for call in calls]
        return [f.result(timeout=60) for f in futures]


def curl_url(protocol, port):
    return f"{protocol}://127.0.0.1:{port}/"


# ---- greeting = "silent" ----

SILENT_NOTE = r"accepted the connection and will never greet.*\(greeting = \"silent\"\)"


def test_silent_python_clients_time_out(server):
    mark = len(server.log_lines)
    results = in_parallel([(python_client, p, server.port(f"{p}-silent"), 2) for p in PROTOCOLS])
    (smtp_error, smtp_time), (imap_error, imap_time), (pop_error, pop_time) = results
    # smtplib turns the timeout into a disconnect; imaplib and poplib let it through.
    assert isinstance(smtp_error, smtplib.SMTPServerDisconnected), repr(smtp_error)
    assert str(smtp_error) == "Connection unexpectedly closed: timed out"
    assert isinstance(imap_error, TimeoutError), repr(imap_error)
    assert isinstance(pop_error, TimeoutError), repr(pop_error)
    for taken in (smtp_time, imap_time, pop_time):
        assert 1.9 <= taken < 10
    for p in PROTOCOLS:
        check_behaviour(server, mark, f"{p}-silent", SILENT_NOTE)


def test_silent_ignores_what_the_client_says(server):
    mark = len(server.log_lines)
    conn = LineSocket(server.port("smtp-silent"), timeout=1.5)
    conn.send("EHLO client.test\r\nNOOP\r\n")
    with pytest.raises((socket.timeout, TimeoutError)):
        conn.line()
    conn.close()
    session = check_behaviour(server, mark, "smtp-silent", SILENT_NOTE)
    session = session_closed(server, mark, session)
    assert not [t for t in session["transcript"] if t["direction"] == "server"]


def test_silent_curl_times_out_with_exit_28(server):
    mark = len(server.log_lines)
    start = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda p: run(["curl", "-sS", "-m", "3", curl_url(p, server.port(f"{p}-silent"))]),
                                PROTOCOLS))
    assert time.monotonic() - start < 15
    for result in results:
        assert result.returncode == 28, (result.returncode, result.stderr)
        assert "Operation timed out after 3" in result.stderr and "0 bytes received" in result.stderr
    for p in PROTOCOLS:
        check_behaviour(server, mark, f"{p}-silent", SILENT_NOTE)


# ---- greeting = "close" ----

CLOSE_NOTE = r"closed the connection at once, without a greeting \(greeting = \"close\"\)"


@pytest.mark.parametrize("protocol, error, text", [
    ("smtp", smtplib.SMTPServerDisconnected, "Connection unexpectedly closed"),
    ("imap", imaplib.IMAP4.abort, "socket error: EOF"),
    ("pop3", poplib.error_proto, "-ERR EOF"),
])
def test_close_python_clients_see_the_connection_close(server, protocol, error, text):
    mark = len(server.log_lines)
    failure, taken = attempt(python_client, protocol, server.port(f"{protocol}-close"), 5)
    assert isinstance(failure, error), repr(failure)
    assert str(failure) == text
    assert taken < 2, "closed at once, not a timeout"
    session = check_behaviour(server, mark, f"{protocol}-close", CLOSE_NOTE)
    session = session_closed(server, mark, session)
    assert session["open"] is False
    assert not [t for t in session["transcript"] if t["direction"] == "server"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_close_curl_fails_at_once_with_exit_56(server, protocol):
    mark = len(server.log_lines)
    start = time.monotonic()
    result = run(["curl", "-sS", "-m", "5", curl_url(protocol, server.port(f"{protocol}-close"))])
    assert time.monotonic() - start < 4
    # CURLE_RECV_ERROR: the connection ended before a greeting.
    assert result.returncode == 56, (result.returncode, result.stderr)
    assert "response reading failed" in result.stderr
    check_behaviour(server, mark, f"{protocol}-close", CLOSE_NOTE)


# ---- greeting = "unavailable" ----

def test_unavailable_smtplib_gets_421(server):
    mark = len(server.log_lines)
    with pytest.raises(smtplib.SMTPConnectError) as err:
        smtplib.SMTP("127.0.0.1", server.port("smtp-unavailable"), timeout=5)
    assert err.value.smtp_code == 421
    assert err.value.smtp_error == b"4.3.2 localhost Service not available, closing transmission channel"
    check_behaviour(server, mark, "smtp-unavailable", r".*\(greeting = \"unavailable\"\)")


def test_unavailable_imaplib_gets_bye(server):
    mark = len(server.log_lines)
    with pytest.raises(imaplib.IMAP4.error) as err:
        imaplib.IMAP4("127.0.0.1", server.port("imap-unavailable"), timeout=5)
    assert "* BYE [UNAVAILABLE] " in str(err.value), str(err.value)
    check_behaviour(server, mark, "imap-unavailable", r".*\(greeting = \"unavailable\"\)")


def test_unavailable_poplib_gets_err_sys_temp(server):
    mark = len(server.log_lines)
    with pytest.raises(poplib.error_proto) as err:
        poplib.POP3("127.0.0.1", server.port("pop3-unavailable"), timeout=5)
    assert err.value.args[0].startswith(b"-ERR [SYS/TEMP] "), err.value.args
    check_behaviour(server, mark, "pop3-unavailable", r".*\(greeting = \"unavailable\"\)")


@pytest.mark.parametrize("protocol, line", [
    ("smtp", "421 4.3.2 localhost Service not available, closing transmission channel"),
    ("imap", "* BYE [UNAVAILABLE] "),
    ("pop3", "-ERR [SYS/TEMP] "),
])
def test_unavailable_says_one_line_then_closes(server, protocol, line):
    mark = len(server.log_lines)
    conn = LineSocket(server.port(f"{protocol}-unavailable"))
    assert conn.line().startswith(line)
    assert conn.buf == b""
    assert conn.closed_within(2.0), "the connection must close after the refusal"
    session = check_behaviour(server, mark, f"{protocol}-unavailable", r".*\(greeting = \"unavailable\"\)")
    session_closed(server, mark, session)


@pytest.mark.parametrize("protocol, shown, error", [
    ("smtp", "421 4.3.2 localhost Service not available", "Got unexpected smtp-server response: 421"),
    ("imap", "* BYE [UNAVAILABLE] ", "Got unexpected imap-server response"),
    ("pop3", "-ERR [SYS/TEMP] ", "Got unexpected pop3-server response"),
])
def test_unavailable_curl_shows_the_refusal_with_exit_8(server, protocol, shown, error):
    mark = len(server.log_lines)
    result = run(["curl", "-sS", "-v", "-m", "5", curl_url(protocol, server.port(f"{protocol}-unavailable"))])
    assert result.returncode == 8, (result.returncode, result.stderr)  # CURLE_WEIRD_SERVER_REPLY
    assert "< " + shown in result.stderr, result.stderr
    assert error in result.stderr
    check_behaviour(server, mark, f"{protocol}-unavailable", r".*\(greeting = \"unavailable\"\)")


# ---- greeting_delay_ms ----

GREETING_DELAY_NOTE = (rf"greeting held back for {GREETING_DELAY_MS} ms "
                       rf"\(greeting_delay_ms = {GREETING_DELAY_MS}\)")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_greeting_delay_python_clients_wait_for_it(server, protocol):
    mark = len(server.log_lines)
    start = time.monotonic()
    client = python_client(protocol, server.port(f"{protocol}-greeting-delay"), 10)
    taken = time.monotonic() - start
    assert GREETING_DELAY_MS / 1000 <= taken < 5, taken
    if protocol == "smtp":
        assert client.noop()[0] == 250
        client.quit()
    elif protocol == "imap":
        assert client.noop()[0] == "OK"
        client.logout()
    else:
        assert "STLS" in client.capa()
        client.quit()
    check_behaviour(server, mark, f"{protocol}-greeting-delay", GREETING_DELAY_NOTE)


EARLY = {"smtp": ("NOOP\r\n", "220 ", "250 "), "imap": ("a NOOP\r\n", "* OK ", "a OK "),
         "pop3": ("CAPA\r\n", "+OK ", "+OK Capability list follows")}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_greeting_delay_comes_before_the_answer_to_an_early_command(server, protocol):
    command, greeting, answer = EARLY[protocol]
    mark = len(server.log_lines)
    conn = LineSocket(server.port(f"{protocol}-greeting-delay"))
    start = time.monotonic()
    conn.send(command)  # before the greeting: it waits in the socket
    first = conn.line()
    taken = time.monotonic() - start
    assert first.startswith(greeting), first
    assert GREETING_DELAY_MS / 1000 - 0.05 <= taken < 5, taken
    assert conn.line().startswith(answer)
    conn.close()
    check_behaviour(server, mark, f"{protocol}-greeting-delay", GREETING_DELAY_NOTE)


# ---- command_delay_ms ----

COMMAND_DELAY_NOTE = (rf"every reply is sent {COMMAND_DELAY_MS} ms late "
                      rf"\(command_delay_ms = {COMMAND_DELAY_MS}\)")
DELAY = COMMAND_DELAY_MS / 1000


def timed(fn, *args):
    start = time.monotonic()
    result = fn(*args)
    return result, time.monotonic() - start


def test_command_delay_smtplib_each_reply_late(server):
    mark = len(server.log_lines)
    smtp = smtplib.SMTP("127.0.0.1", server.port("smtp-command-delay"), timeout=10)
    (code, _), taken = timed(smtp.ehlo, "client.test")
    assert code == 250 and DELAY <= taken < 5, taken
    (code, _), taken = timed(smtp.noop)
    assert code == 250 and DELAY <= taken < 5, taken
    (code, _), taken = timed(smtp.quit)
    assert code == 221 and DELAY <= taken < 5, taken
    session = check_behaviour(server, mark, "smtp-command-delay", COMMAND_DELAY_NOTE)
    session = session_closed(server, mark, session)
    assert session["behaviours"].count(session["behaviours"][0]) == 1, "noted once per session"


def test_command_delay_imaplib_and_poplib_each_reply_late(server):
    mark = len(server.log_lines)
    imap, taken = timed(imaplib.IMAP4, "127.0.0.1", server.port("imap-command-delay"), 10)
    assert taken >= DELAY, "imaplib asks CAPABILITY while connecting"
    (typ, _), taken = timed(imap.noop)
    assert typ == "OK" and DELAY <= taken < 5, taken
    imap.logout()
    pop = poplib.POP3("127.0.0.1", server.port("pop3-command-delay"), timeout=10)
    caps, taken = timed(pop.capa)
    assert "STLS" in caps and DELAY <= taken < 5, taken
    reply, taken = timed(pop.capa)
    assert "STLS" in reply and DELAY <= taken < 5, taken
    pop.quit()
    check_behaviour(server, mark, "imap-command-delay", COMMAND_DELAY_NOTE)
    check_behaviour(server, mark, "pop3-command-delay", COMMAND_DELAY_NOTE)


def test_command_delay_pipelined_imap_burst_answered_in_order_after_one_delay(server):
    mark = len(server.log_lines)
    conn = LineSocket(server.port("imap-command-delay"))
    assert conn.line().startswith("* OK ")
    start = time.monotonic()
    conn.send("a NOOP\r\nb CAPABILITY\r\nc NOOP\r\n")
    first = conn.line()
    first_at = time.monotonic() - start
    lines = [first] + [conn.line() for _ in range(3)]
    done_at = time.monotonic() - start
    assert [l.split()[0] for l in lines] == ["a", "*", "b", "c"], lines
    assert lines[1].startswith("* CAPABILITY ")
    assert all(l.split()[1] == "OK" for l in (lines[0], lines[2], lines[3])), lines
    assert first_at >= DELAY
    # One delay for the burst: three separate ones would take 3 x 500 ms.
    assert done_at < 2.6 * DELAY, done_at
    conn.close()
    check_behaviour(server, mark, "imap-command-delay", COMMAND_DELAY_NOTE)


def test_command_delay_pipelined_smtp_transaction_keeps_order_and_delivers(server):
    mark = len(server.log_lines)
    conn = LineSocket(server.port("smtp-command-delay"))
    assert conn.reply()[0] == 220
    conn.send("EHLO client.test\r\n")
    assert conn.reply()[0] == 250
    start = time.monotonic()
    conn.send(f"MAIL FROM:<sender@client.test>\r\nRCPT TO:<{ALICE}>\r\nDATA\r\n")
    replies = [conn.reply()[0] for _ in range(3)]
    assert replies == [250, 250, 354]
    assert time.monotonic() - start >= DELAY
    start = time.monotonic()
    conn.send(message("command delay pipelined") + ".\r\nQUIT\r\n")
    code, text = conn.reply()
    assert code == 250 and text[0].startswith("2.0.0 Ok: queued"), text
    assert conn.reply()[0] == 221
    assert time.monotonic() - start >= DELAY
    conn.close()
    check_behaviour(server, mark, "smtp-command-delay", COMMAND_DELAY_NOTE)
    found = api_get(server, "/messages?subject=" + urllib.parse.quote("command delay pipelined"))
    assert found["total"] == 1


# ---- drop_after_commands ----

def drop_note(limit):
    return (rf"closed the connection without a reply to command {limit + 1} "
            rf"\(drop_after_commands = {limit}\)")


def test_drop_smtplib_after_five_commands_message_kept(server):
    mark = len(server.log_lines)
    smtp = smtplib.SMTP("127.0.0.1", server.port("smtp-drop"), timeout=10)
    assert smtp.ehlo("client.test")[0] == 250                                    # 1
    assert smtp.sendmail("sender@client.test", [ALICE], message("dropped after")) == {}  # 2-4
    assert smtp.noop()[0] == 250                                                 # 5
    with pytest.raises(smtplib.SMTPServerDisconnected, match="^Connection unexpectedly closed$"):
        smtp.rset()                                                              # 6: no answer
    smtp.close()
    session = check_behaviour(server, mark, "smtp-drop", drop_note(5))
    session = session_closed(server, mark, session)
    assert len(session["messages"]) == 1
    server_lines = [t["text"] for t in session["transcript"] if t["direction"] == "server"]
    assert not any(l.startswith("221") for l in server_lines)
    found = api_get(server, "/messages?subject=" + urllib.parse.quote("dropped after"))
    assert found["total"] == 1 and found["messages"][0]["id"] == session["messages"][0]


def test_drop_imaplib_after_two_commands(server):
    mark = len(server.log_lines)
    imap = imaplib.IMAP4("127.0.0.1", server.port("imap-drop"), timeout=10)  # 1: CAPABILITY
    assert imap.noop()[0] == "OK"                                              # 2
    with pytest.raises(imaplib.IMAP4.abort, match="socket error: EOF"):
        imap.noop()                                                            # 3: no answer
    imap.shutdown()
    check_behaviour(server, mark, "imap-drop", drop_note(2))


def test_drop_poplib_after_two_commands(server):
    mark = len(server.log_lines)
    pop = poplib.POP3("127.0.0.1", server.port("pop3-drop"), timeout=10)
    assert "STLS" in pop.capa()                                                # 1
    assert "STLS" in pop.capa()                                                # 2
    with pytest.raises(poplib.error_proto, match="^-ERR EOF$"):
        pop.noop()                                                             # 3: no answer
    pop.close()
    check_behaviour(server, mark, "pop3-drop", drop_note(2))


def test_drop_pipelined_commands_get_exactly_n_answers(server):
    mark = len(server.log_lines)
    conn = LineSocket(server.port("smtp-drop3"))
    assert conn.reply()[0] == 220
    conn.send("NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n")
    for _ in range(3):
        assert conn.reply()[0] == 250
    assert conn.closed_within(2.0)
    assert conn.buf == b""
    check_behaviour(server, mark, "smtp-drop3", drop_note(3))


def test_drop_curl_fails_at_data_and_nothing_is_stored(server, tmp_path):
    mark = len(server.log_lines)
    mail = tmp_path / "mail.txt"
    mail.write_text(message("curl dropped at DATA"))
    result = run(["curl", "-sS", "-m", "10", "--mail-from", "sender@client.test", "--mail-rcpt", ALICE,
                  "--upload-file", str(mail), f"smtp://127.0.0.1:{server.port('smtp-drop3')}"])
    # EHLO, MAIL and RCPT answered; DATA gets no reply, the connection closes: CURLE_RECV_ERROR.
    assert result.returncode == 56, (result.returncode, result.stderr)
    assert "response reading failed" in result.stderr
    session = check_behaviour(server, mark, "smtp-drop3", drop_note(3))
    session = session_closed(server, mark, session)
    assert session["messages"] == []
    found = api_get(server, "/messages?subject=" + urllib.parse.quote("curl dropped at DATA"))
    assert found["total"] == 0



# ---- hint on the implicit-TLS ports ----

HINT_CONFIG = 'hostname = "localhost"\nlocal_domains = ["example.test"]\n'
for _p, _starttls, _implicit in (("smtp", "submission", "submissions"), ("imap", "imap", "imaps"),
                                 ("pop3", "pop3", "pop3s")):
    _role = {"role": "submission"} if _p == "smtp" else {}
    HINT_CONFIG += _listener(_starttls, _p, **_role)
    for _name, _hint in ((_implicit, True), (_implicit + "-nohint", False)):
        HINT_CONFIG += _listener(_name, _p, hint=_hint, **_role).replace(
            'security = "starttls"', 'security = "implicit"')

IMPLICIT = {"smtp": "submissions", "imap": "imaps", "pop3": "pop3s"}
STARTTLS = {"smtp": "submission", "imap": "imap", "pop3": "pop3"}
HINT_NOTE = r'told the plaintext client in plaintext: ".*This port expects TLS.*" \(hint = true\)'


@pytest.fixture(scope="module")
def hint_server(tmp_path_factory):
    s = Sevenport(tmp_path_factory.mktemp("hint"), config_text=HINT_CONFIG)
    yield s
    assert s.stop() == 0, "sevenport did not exit cleanly:\n" + s.log_text()


def advice(server, protocol):
    return ("This port expects TLS from the first byte: choose SSL/TLS, or use port "
            f"{server.port(STARTTLS[protocol])} with STARTTLS")


def hint_line(server, protocol):
    return {"smtp": "554 5.7.0 ", "imap": "* BYE ", "pop3": "-ERR "}[protocol] + advice(server, protocol)


PLAINTEXT = {"smtp": "EHLO client.test\r\n", "imap": "a CAPABILITY\r\n", "pop3": "CAPA\r\n"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_hint_plaintext_client_is_told_at_once(hint_server, protocol):
    server = hint_server
    mark = len(server.log_lines)
    conn = LineSocket(server.port(IMPLICIT[protocol]))
    start = time.monotonic()
    conn.send(PLAINTEXT[protocol])
    assert conn.line() == hint_line(server, protocol)
    assert time.monotonic() - start < 2
    assert conn.closed_within(2.0)
    assert conn.buf == b""
    session = check_behaviour(server, mark, IMPLICIT[protocol], HINT_NOTE)
    assert hint_line(server, protocol) in session["behaviours"][0]
    new_log(server, mark, rf" #{session['id']} {IMPLICIT[protocol]} \S+ diagnosis: client sent plaintext")


def test_hint_python_clients_waiting_for_a_greeting_get_it_after_3_s(hint_server):
    server = hint_server
    mark = len(server.log_lines)
    results = in_parallel([(python_client, p, server.port(IMPLICIT[p]), 10, "localhost") for p in PROTOCOLS])
    (smtp_error, smtp_time), (imap_error, imap_time), (pop_error, pop_time) = results
    assert isinstance(smtp_error, smtplib.SMTPConnectError), repr(smtp_error)
    assert smtp_error.smtp_code == 554
    assert smtp_error.smtp_error == ("5.7.0 " + advice(server, "smtp")).encode()
    assert isinstance(imap_error, imaplib.IMAP4.error), repr(imap_error)
    assert hint_line(server, "imap") in str(imap_error), str(imap_error)
    assert isinstance(pop_error, poplib.error_proto), repr(pop_error)
    assert pop_error.args[0] == hint_line(server, "pop3").encode()
    for taken in (smtp_time, imap_time, pop_time):
        assert 2.8 <= taken < 8, taken
    for p in PROTOCOLS:
        check_behaviour(server, mark, IMPLICIT[p], HINT_NOTE)
        new_log(server, mark, rf" {IMPLICIT[p]} \S+ diagnosis: client connected to an implicit-TLS "
                              r"port and sent nothing for 3 s")


def test_hint_curl_plaintext_url_on_the_implicit_port_shows_it(hint_server):
    server = hint_server
    mark = len(server.log_lines)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(
            lambda p: run(["curl", "-sS", "-v", "-m", "10", curl_url(p, server.port(IMPLICIT[p]))]),
            PROTOCOLS))
    for p, result in zip(PROTOCOLS, results):
        assert result.returncode == 8, (p, result.returncode, result.stderr)
        assert "< " + hint_line(server, p) in result.stderr, result.stderr
        assert f"Got unexpected {p}-server response" in result.stderr
        check_behaviour(server, mark, IMPLICIT[p], HINT_NOTE)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_without_hint_plaintext_gets_a_bare_close(hint_server, protocol):
    server = hint_server
    mark = len(server.log_lines)
    name = IMPLICIT[protocol] + "-nohint"
    with socket.create_connection(("127.0.0.1", server.port(name)), timeout=2) as sock:
        sock.sendall(PLAINTEXT[protocol].encode())
        assert sock.recv(4096) == b"", "not a byte before the close"
    line = new_log(server, mark, rf" {re.escape(name)} \S+ diagnosis: client sent plaintext")
    sid = int(re.search(r" #(\d+) ", line).group(1))
    new_log(server, mark, rf" #{sid} {re.escape(name)} \S+ close: ")
    session = api_get(server, f"/sessions/{sid}")
    assert session["behaviours"] == []
    assert not [t for t in session["transcript"] if t["direction"] == "server"]


def test_without_hint_a_waiting_client_hears_nothing(hint_server):
    server = hint_server
    mark = len(server.log_lines)

    def wait_for_greeting(port):
        with socket.create_connection(("127.0.0.1", port), timeout=4) as sock:
            return sock.recv(4096)

    results = in_parallel([(wait_for_greeting, server.port(IMPLICIT[p] + "-nohint")) for p in PROTOCOLS])
    for failure, taken in results:
        assert isinstance(failure, TimeoutError), repr(failure)
    for p in PROTOCOLS:
        new_log(server, mark, rf" {IMPLICIT[p]}-nohint \S+ diagnosis: client connected to an "
                              r"implicit-TLS port and sent nothing for 3 s")
    assert not [l for l in server.log_lines[mark:] if " behaviour: " in l]


# ---- configuration ----

@pytest.mark.parametrize("key, value", [("hint", "true"), ("greeting", '"sometimes"'),
                                        ("greeting_delay_ms", "600001"),
                                        ("command_delay_ms", "-1"),
                                        ("drop_after_commands", "1000001")])
def test_bad_listener_behaviour_settings_are_refused(tmp_path, key, value):
    cfg = tmp_path / "sevenport.toml"
    # hint on a STARTTLS listener is one of them: it is for implicit TLS only.
    cfg.write_text(f'[listeners.smtp]\nprotocol = "smtp"\nport = 0\nsecurity = "starttls"\n{key} = {value}\n')
    result = subprocess.run([BIN, "--check-config", "--config", str(cfg)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode != 0
    assert key in result.stderr, result.stderr
