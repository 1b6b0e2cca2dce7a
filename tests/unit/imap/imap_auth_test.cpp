// Not-authenticated state: greeting, CAPABILITY before and after STARTTLS, LOGIN/AUTHENTICATE
// refused before TLS, the STARTTLS injection defence, logins, limits and farewells.
#include <catch2/catch.hpp>

#include "tests/unit/imap/imap_harness.hpp"

using namespace imap_test;

namespace {
const std::string kCaps143 = std::string(kCaps) + " STARTTLS LOGINDISABLED";
const std::string kCapsTls = std::string(kCaps) + " AUTH=PLAIN";
const std::string kGreeting143 =
    "* OK [CAPABILITY " + kCaps143 + "] imap.example.test IMAP4rev1 sevenport ready\r\n";
const std::string kLoggedIn = " OK [CAPABILITY " + std::string(kCaps) + "] Logged in\r\n";

std::string plain(std::string_view authcid, std::string_view password) {
  std::string message;
  message += '\0';
  message += authcid;
  message += '\0';
  message += password;
  return sevenport::base64_encode(message);
}

void no_secrets(const Client& client) {
  for (const auto& e : client.events)
    for (const auto* field : {&e.text, &e.user, &e.mechanism})
      CHECK(field->find("secret") == std::string::npos);
}
}  // namespace

TEST_CASE("imap: capabilities before and after STARTTLS; LOGIN refused before it", "[imap][auth]") {
  World world;
  Client c(world, world.port143, false);
  CHECK(c.greeting == kGreeting143);
  CHECK(c.send("a1 CAPABILITY\r\n") ==
        "* CAPABILITY " + kCaps143 + "\r\na1 OK CAPABILITY completed\r\n");
  CHECK(c.send("a2 LOGIN alice@example.test secret\r\n") ==
        "a2 NO [PRIVACYREQUIRED] TLS is required first: send STARTTLS, then log in\r\n");
  CHECK(c.send("a3 AUTHENTICATE PLAIN " + plain("alice@example.test", "secret") + "\r\n") ==
        "a3 NO [PRIVACYREQUIRED] TLS is required first: send STARTTLS, then log in\r\n");
  CHECK(c.send("a4 STARTTLS\r\n") == "a4 OK Begin TLS negotiation now\r\n");
  CHECK(c.action == Action::start_tls);
  CHECK(c.has_event(EventKind::starttls));
  CHECK(c.tls_started().empty());
  CHECK(c.send("a5 CAPABILITY\r\n") ==
        "* CAPABILITY " + kCapsTls + "\r\na5 OK CAPABILITY completed\r\n");
  CHECK(c.send("a6 STARTTLS\r\n") == "a6 BAD TLS is already active\r\n");
  CHECK(c.send("a7 LOGIN alice secret\r\n") == "a7" + kLoggedIn);
  CHECK(c.session.state() == State::authenticated);
  CHECK(c.has_event(EventKind::authenticated));
  no_secrets(c);
}

TEST_CASE("imap: STARTTLS injection: commands behind it are never run", "[imap][auth]") {
  World world;
  Client c(world, world.port143, false);
  CHECK(c.send("a1 STARTTLS\r\na2 CAPABILITY\r\n") == "a1 OK Begin TLS negotiation now\r\n");
  CHECK(c.send("a3 NOOP\r\n").empty());
  CHECK(c.has_event(EventKind::diagnosis));
  c.tls_started();
  CHECK(c.send("a4 NOOP\r\n") == "a4 OK NOOP completed\r\n");
}

TEST_CASE("imap: LOGIN and AUTHENTICATE PLAIN over TLS", "[imap][auth]") {
  World world;
  Client c(world, world.port993, true);
  CHECK(c.greeting ==
        "* OK [CAPABILITY " + kCapsTls + "] imap.example.test IMAP4rev1 sevenport ready\r\n");
  CHECK(c.send("a1 LOGIN alice@example.test wrong\r\n") ==
        "a1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
  CHECK(c.has_event(EventKind::auth_failed));
  CHECK(c.send("a2 AUTHENTICATE PLAIN\r\n") == "+ \r\n");
  CHECK(c.send("*\r\n") == "a2 BAD AUTHENTICATE cancelled\r\n");
  CHECK(c.send("a3 AUTHENTICATE PLAIN\r\n") == "+ \r\n");
  CHECK(c.send("!!!\r\n") == "a3 BAD Invalid base64 or PLAIN message\r\n");
  CHECK(c.send("a4 AUTHENTICATE CRAM-MD5\r\n") == "a4 NO Unsupported mechanism\r\n");
  CHECK(c.send("a5 AUTHENTICATE PLAIN\r\n" + plain("alice@example.test", "secret") + "\r\n") ==
        "+ \r\na5" + kLoggedIn);
  CHECK(c.send("a6 LOGIN alice secret\r\n") == "a6 BAD Already logged in\r\n");
  no_secrets(c);

  Client ir(world, world.port993, true);
  CHECK(ir.send("b1 AUTHENTICATE PLAIN " + plain("alice", "secret") + "\r\n") == "b1" + kLoggedIn);
  Client literal(world, world.port993, true);
  CHECK(literal.send("c1 LOGIN {18}\r\n") == "+ Ready for literal data\r\n");
  CHECK(literal.send("alice@example.test \"secret\"\r\n") == "c1" + kLoggedIn);
  Client nonsync(world, world.port993, true);
  CHECK(nonsync.send("d1 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n") == "d1" + kLoggedIn);
}

TEST_CASE("imap: wrong state, unknown commands, syntax errors", "[imap][auth]") {
  World world;
  Client c(world, world.port993, true);
  CHECK(c.send("a1 SELECT INBOX\r\n") == "a1 BAD Log in first\r\n");
  CHECK(c.send("a2 FROB\r\n") == "a2 BAD Unknown command\r\n");
  CHECK(c.send("a3 LOGIN onlyone\r\n") == "a3 BAD Syntax: LOGIN user password\r\n");
  CHECK(c.send("a4 LOGIN \"x\r\n") == "a4 BAD Unterminated quoted string\r\n");
  CHECK(c.send("\r\n") == "* BAD Empty command\r\n");
  CHECK(c.send("a5 UID\r\n") == "a5 BAD UID must be followed by a command\r\n");
  CHECK(c.send("a6 LOGIN alice secret\r\na7 FETCH 1 FLAGS\r\na8 STARTTLS\r\n") ==
        "a6" + kLoggedIn + "a7 BAD Select a mailbox first\r\na8 BAD Already logged in\r\n");
}

TEST_CASE("imap: too many bad commands, over-long lines, timeouts", "[imap][auth]") {
  World world;
  ImapPolicy policy = world.port993;
  policy.max_bad_commands = 3;
  policy.max_line_length = 64;
  Client c(world, policy, true);
  CHECK(c.send("a1 FOO\r\n" + std::string(100, 'x') + "\r\na2 NOOP\r\n") ==
        "a1 BAD Unknown command\r\n* BAD Line too long\r\na2 OK NOOP completed\r\n");
  CHECK(c.send("a3 BAR\r\na4 NOOP\r\n") ==
        "a3 BAD Unknown command\r\n* BYE Too many bad commands\r\n");
  CHECK(c.action == Action::close);
  CHECK(c.send("a5 NOOP\r\n").empty());

  Client sasl(world, policy, true);
  CHECK(sasl.send("q1 AUTHENTICATE PLAIN\r\n" + std::string(100, 'x') + "\r\nq2 NOOP\r\n") ==
        "+ \r\nq1 BAD Line too long\r\nq2 OK NOOP completed\r\n");

  Client t(world, world.port993, true);
  Output out;
  t.session.on_timeout(out);
  CHECK(out.bytes == "* BYE Autologout; idle for too long\r\n");
  CHECK(out.action == Action::close);
  Client s(world, world.port993, true);
  Output out2;
  s.session.on_shutdown(out2);
  CHECK(out2.bytes == "* BYE Server shutting down\r\n");
}

TEST_CASE("imap: LOGOUT, ID, NAMESPACE, ENABLE", "[imap][auth]") {
  World world;
  Client c(world, world.port993, true);
  CHECK(c.send("a1 ID (\"name\" \"test\")\r\n") ==
        "* ID (\"name\" \"sevenport\")\r\na1 OK ID completed\r\n");
  CHECK(c.send("a2 LOGIN alice secret\r\na3 NAMESPACE\r\na4 ENABLE UTF8=ACCEPT\r\n") ==
        "a2" + kLoggedIn + "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\na3 OK NAMESPACE completed\r\n" +
            "* ENABLED\r\na4 OK ENABLE completed\r\n");
  CHECK(c.send("a5 LOGOUT\r\na6 NOOP\r\n") ==
        "* BYE IMAP4rev1 Server logging out\r\na5 OK LOGOUT completed\r\n");
  CHECK(c.action == Action::close);
}

TEST_CASE("imap: login transcript is the same at every byte split", "[imap][auth][split]") {
  check_every_split([](World&) {}, false,
                    {"a1 CAPABILITY\r\na2 LOGIN alice secret\r\n", "a3 STARTTLS\r\nx\r\n",
                     "a4 LOGIN {5}\r\n", "alice {6+}\r\nsecret\r\na5 LOGOUT\r\n"});
}
