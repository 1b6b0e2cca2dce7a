// AUTHORIZATION state: greeting, CAPA, STLS, USER/PASS, AUTH PLAIN and the maildrop lock.
#include <catch2/catch.hpp>

#include <memory>

#include "tests/unit/pop3/pop3_harness.hpp"

using namespace pop3_test;

namespace {
const std::string kGreeting = "+OK pop.example.test POP3 server ready\r\n";
const std::string kLoggedIn = "+OK Logged in, maildrop has 4 messages (" + kOctets + " octets)\r\n";
const std::string kTlsFirst = "-ERR [AUTH] TLS is required first: send STLS, then log in\r\n";
const std::string kAuthFailed = "-ERR [AUTH] Authentication failed\r\n";
const std::string kInUse = "-ERR [IN-USE] Mailbox is locked by another POP3 session\r\n";

std::string capa(bool stls, bool logins) {
  std::string s =
      "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
      "PIPELINING\r\n";
  if (stls) s += "STLS\r\n";
  if (logins) s += "USER\r\nSASL PLAIN\r\n";
  return s + "IMPLEMENTATION sevenport\r\n.\r\n";
}

// No event may carry a password, whatever happened.
void check_no_secrets(const Client& client) {
  for (const auto& e : client.events) {
    for (const auto* field : {&e.text, &e.user, &e.mechanism}) {
      CHECK(field->find("secret") == std::string::npos);
      CHECK(field->find("wrong-pass") == std::string::npos);
    }
  }
}

std::size_t count(const Client& client, EventKind kind) {
  std::size_t n = 0;
  for (const auto& e : client.events) n += e.kind == kind;
  return n;
}
}  // namespace

TEST_CASE("pop3: greeting and CAPA before and after STLS on port 110", "[pop3][auth]") {
  World world;
  Client c(world, world.port110, false);
  CHECK(c.greeting == kGreeting);
  CHECK(c.send("CAPA\r\n") == capa(true, false));
  CHECK(c.send("capa\r\n") == capa(true, false));  // verbs are case-insensitive
  CHECK(c.send("STLS\r\n") == "+OK Begin TLS negotiation\r\n");
  CHECK(c.action == Action::start_tls);
  CHECK(count(c, EventKind::starttls) == 1);
  CHECK(c.tls_started().empty());
  CHECK(c.session.tls_active());
  CHECK(c.send("CAPA\r\n") == capa(false, true));
}

TEST_CASE("pop3: CAPA on port 995, on a lenient plaintext port, and in TRANSACTION",
          "[pop3][auth]") {
  World world;
  Client tls(world, world.port995, true);
  CHECK(tls.greeting == kGreeting);
  CHECK(tls.send("CAPA\r\n") == capa(false, true));
  CHECK(tls.send("USER alice@example.test\r\nPASS secret\r\nCAPA\r\n") ==
        "+OK Send PASS\r\n" + kLoggedIn + capa(false, false));

  Pop3Policy lenient = world.port110;
  lenient.auth_requires_tls = false;
  Client plain(world, lenient, false);
  CHECK(plain.send("CAPA\r\n") == capa(true, true));

  Pop3Policy closed = world.port995;
  closed.auth_enabled = false;
  Client no_logins(world, closed, true);
  CHECK(no_logins.send("CAPA\r\nUSER alice\r\nAUTH PLAIN\r\n") ==
        capa(false, false) + "-ERR [SYS/PERM] Logins are disabled on this server\r\n" +
            "-ERR [SYS/PERM] Logins are disabled on this server\r\n");
}

TEST_CASE("pop3: USER, PASS and AUTH are refused before STLS", "[pop3][auth]") {
  World world;
  Client c(world, world.port110, false);
  CHECK(c.send("USER alice@example.test\r\n") == kTlsFirst);
  CHECK(c.send("PASS secret\r\n") == kTlsFirst);
  CHECK(c.send("AUTH PLAIN " + plain("", "alice@example.test", "secret") + "\r\n") == kTlsFirst);
  CHECK(c.send("AUTH\r\n") == kTlsFirst);
  CHECK(c.session.state() == State::authorization);
  CHECK(!c.has_event(EventKind::authenticated));
  check_no_secrets(c);

  // A plaintext port without STLS points to the implicit-TLS port instead.
  Pop3Policy bare = world.port995;
  Client d(world, bare, false);
  CHECK(d.send("USER alice\r\n") ==
        "-ERR [AUTH] TLS is required first: use the POP3S (implicit TLS) port\r\n");
}

TEST_CASE("pop3: commands pipelined behind STLS are never executed", "[pop3][auth][stls]") {
  World world;
  Pop3Policy lenient = world.port110;
  lenient.auth_requires_tls = false;
  Client c(world, lenient, false);
  // USER before STLS is forgotten by the reset (RFC 2595 4); the injected PASS/STAT never run.
  CHECK(c.send("USER alice@example.test\r\nSTLS\r\nPASS secret\r\nSTAT\r\nQUIT\r\n") ==
        "+OK Send PASS\r\n+OK Begin TLS negotiation\r\n");
  CHECK(c.action == Action::start_tls);
  CHECK(c.has_event(EventKind::diagnosis));
  // Plaintext arriving during the handshake is dropped too.
  CHECK(c.send("PASS secret\r\n").empty());
  CHECK(c.send("STAT\r\n").empty());
  CHECK(c.session.state() == State::authorization);
  c.tls_started();
  CHECK(c.send("PASS secret\r\n") == "-ERR Send USER first\r\n");
  CHECK(c.send("USER alice@example.test\r\nPASS secret\r\n") == "+OK Send PASS\r\n" + kLoggedIn);
  CHECK(c.session.state() == State::transaction);
}

TEST_CASE("pop3: STLS refusals", "[pop3][auth][stls]") {
  World world;
  Client implicit(world, world.port995, true);
  CHECK(implicit.send("STLS\r\n") == "-ERR TLS already active\r\n");
  CHECK(implicit.action == Action::none);

  Client twice(world, world.port110, false);
  twice.send("STLS\r\n");
  twice.tls_started();
  CHECK(twice.send("STLS\r\n") == "-ERR TLS already active\r\n");

  Pop3Policy no_stls = world.port110;
  no_stls.stls_offered = false;
  no_stls.auth_requires_tls = false;
  Client plain(world, no_stls, false);
  CHECK(plain.send("STLS\r\n") == "-ERR STLS not available\r\n");

  Client in_transaction(world, world.port995, true);
  in_transaction.send("USER alice@example.test\r\nPASS secret\r\n");
  CHECK(in_transaction.send("STLS\r\n") ==
        "-ERR Command not valid in this state: already logged in\r\n");
  CHECK(in_transaction.has_event(EventKind::protocol_error));
}

TEST_CASE("pop3: USER/PASS login", "[pop3][auth]") {
  World world;
  Client c(world, world.port995, true);
  CHECK(c.send("USER alice@example.test\r\n") == "+OK Send PASS\r\n");
  CHECK(c.send("PASS secret\r\n") == kLoggedIn);
  CHECK(c.session.state() == State::transaction);
  REQUIRE(count(c, EventKind::authenticated) == 1);
  const auto& e = c.events.back();
  CHECK(e.mechanism == "USER");
  CHECK(e.user == "alice@example.test");
  CHECK(e.over_tls);
  CHECK(c.send("USER alice\r\n") == "-ERR Command not valid in this state: already logged in\r\n");
  check_no_secrets(c);

  // The local part alone is enough when it is unambiguous; spaces belong to the password.
  world.users.add(account("carol@example.test", "two words"));
  Client d(world, world.port995, true);
  CHECK(d.send("USER carol\r\nPASS two words\r\n") ==
        "+OK Send PASS\r\n+OK Logged in, maildrop has 0 messages (0 octets)\r\n");
}

TEST_CASE("pop3: wrong password, unknown user and PASS without USER", "[pop3][auth]") {
  World world;
  Client c(world, world.port995, true);
  CHECK(c.send("PASS secret\r\n") == "-ERR Send USER first\r\n");
  CHECK(c.send("USER alice@example.test\r\nPASS wrong-pass\r\n") ==
        "+OK Send PASS\r\n" + kAuthFailed);
  REQUIRE(count(c, EventKind::auth_failed) == 1);
  CHECK(c.events.back().user == "alice@example.test");
  CHECK(c.events.back().mechanism == "USER");
  // Back to a fresh AUTHORIZATION state: the USER name is forgotten.
  CHECK(c.send("PASS secret\r\n") == "-ERR Send USER first\r\n");
  // An unknown name gets the same "+OK" as a known one.
  CHECK(c.send("USER nobody@example.test\r\nPASS secret\r\n") == "+OK Send PASS\r\n" + kAuthFailed);
  CHECK(c.send("USER\r\n") == "-ERR Syntax: USER name\r\n");
  CHECK(c.send("PASS\r\n") == "-ERR Syntax: PASS password\r\n");
  CHECK(c.session.state() == State::authorization);
  check_no_secrets(c);
}

TEST_CASE("pop3: AUTH PLAIN", "[pop3][auth][sasl]") {
  World world;
  SECTION("initial response") {
    Client c(world, world.port995, true);
    CHECK(c.send("AUTH PLAIN " + plain("", "alice@example.test", "secret") + "\r\n") == kLoggedIn);
    CHECK(c.events.back().mechanism == "PLAIN");
    CHECK(c.events.back().user == "alice@example.test");
    check_no_secrets(c);
  }
  SECTION("continuation, authzid equal to the login, lower-case verb and mechanism") {
    Client c(world, world.port995, true);
    CHECK(c.send("auth plain\r\n") == "+ \r\n");
    CHECK(c.send(plain("alice@example.test", "alice@example.test", "secret") + "\r\n") ==
          kLoggedIn);
  }
  SECTION("continuation and response in one pipelined burst") {
    Client c(world, world.port995, true);
    CHECK(c.send("AUTH PLAIN\r\n" + plain("", "alice", "secret") + "\r\nSTAT\r\n") ==
          "+ \r\n" + kLoggedIn + "+OK 4 " + kOctets + "\r\n");
  }
  SECTION("cancel") {
    Client c(world, world.port995, true);
    CHECK(c.send("AUTH PLAIN\r\n*\r\n") == "+ \r\n-ERR Authentication cancelled\r\n");
    CHECK(c.send("NOOP\r\n") == "-ERR Command not valid in this state: log in first\r\n");
  }
  SECTION("wrong password") {
    Client c(world, world.port995, true);
    CHECK(c.send("AUTH PLAIN " + plain("", "alice@example.test", "wrong-pass") + "\r\n") ==
          kAuthFailed);
    CHECK(c.events.back().kind == EventKind::auth_failed);
    CHECK(c.events.back().mechanism == "PLAIN");
    check_no_secrets(c);
  }
  SECTION("bad base64, malformed PLAIN, empty response, another authzid") {
    Client c(world, world.port995, true);
    CHECK(c.send("AUTH PLAIN not*base64\r\n") ==
          "-ERR [AUTH] Invalid base64 in the AUTH PLAIN response\r\n");
    CHECK(c.send("AUTH PLAIN\r\n%%%%\r\n") ==
          "+ \r\n-ERR [AUTH] Invalid base64 in the AUTH PLAIN response\r\n");
    const std::string malformed =
        "-ERR [AUTH] Malformed PLAIN response (authzid NUL authcid NUL password)\r\n";
    CHECK(c.send("AUTH PLAIN " + sevenport::base64_encode("alice secret") + "\r\n") == malformed);
    CHECK(c.send("AUTH PLAIN =\r\n") == malformed);
    CHECK(c.send("AUTH PLAIN\r\n\r\n") == "+ \r\n" + malformed);
    CHECK(c.send("AUTH PLAIN " + plain("bob@example.test", "alice@example.test", "secret") +
                 "\r\n") ==
          "-ERR [AUTH] The authorization identity must be empty or equal the login\r\n");
    CHECK(c.session.state() == State::authorization);
    check_no_secrets(c);
  }
  SECTION("unknown mechanism, bare AUTH, too many arguments") {
    Client c(world, world.port995, true);
    CHECK(c.send("AUTH LOGIN\r\n") == "-ERR Unsupported mechanism\r\n");
    CHECK(c.send("AUTH CRAM-MD5\r\n") == "-ERR Unsupported mechanism\r\n");
    CHECK(c.send("AUTH\r\n") == "+OK\r\nPLAIN\r\n.\r\n");
    CHECK(c.send("AUTH PLAIN a b\r\n") == "-ERR Syntax: AUTH [mechanism [initial-response]]\r\n");
  }
}

TEST_CASE("pop3: [IN-USE] while another session holds the maildrop", "[pop3][auth][lock]") {
  World world;
  const std::string login = "USER alice@example.test\r\nPASS secret\r\n";
  const std::string in_use = "+OK Send PASS\r\n" + kInUse;

  auto first = std::make_unique<Client>(world, world.port995, true);
  CHECK(first->send(login) == "+OK Send PASS\r\n" + kLoggedIn);
  Client second(world, world.port995, true);
  CHECK(second.send(login) == in_use);
  CHECK(second.session.state() == State::authorization);
  CHECK(!second.has_event(EventKind::authenticated));
  CHECK(second.send("AUTH PLAIN " + plain("", "alice", "secret") + "\r\n") == kInUse);
  // A wrong password is still a wrong password, lock or not.
  CHECK(second.send("USER alice@example.test\r\nPASS nope\r\n") ==
        "+OK Send PASS\r\n" + kAuthFailed);
  // Another user's maildrop is independent.
  Client bob(world, world.port995, true);
  CHECK(bob.send("USER bob@example.test\r\nPASS hunter2\r\n") ==
        "+OK Send PASS\r\n+OK Logged in, maildrop has 0 messages (0 octets)\r\n");

  SECTION("released by QUIT") {
    CHECK(first->send("QUIT\r\n") ==
          "+OK pop.example.test POP3 server signing off (0 messages deleted)\r\n");
  }
  SECTION("released by on_disconnect") { first->session.on_disconnect(); }
  SECTION("released by the destructor") { first.reset(); }
  SECTION("released by on_timeout") { first->timeout(); }
  SECTION("released by on_shutdown") { first->shutdown(); }

  Client third(world, world.port995, true);
  CHECK(third.send(login) == "+OK Send PASS\r\n" + kLoggedIn);
}

TEST_CASE("pop3: QUIT in AUTHORIZATION closes and ignores what follows", "[pop3][auth]") {
  World world;
  Client c(world, world.port110, false);
  CHECK(c.send("QUIT\r\nCAPA\r\n") == "+OK Bye\r\n");
  CHECK(c.action == Action::close);
  CHECK(c.send("CAPA\r\n").empty());
  CHECK(c.timeout().empty());
  CHECK(c.shutdown().empty());
}
