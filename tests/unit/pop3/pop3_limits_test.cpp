// Hostile and clumsy input: wrong state, unknown verbs, over-long lines, the bad-command limit,
// timeout and shutdown; and the main transcripts re-run with the input split at every byte.
#include <catch2/catch.hpp>

#include "tests/unit/pop3/pop3_harness.hpp"

using namespace pop3_test;

namespace {
const std::string kLogin = "USER alice@example.test\r\nPASS secret\r\n";
const std::string kLoggedIn = "+OK Logged in, maildrop has 4 messages (" + kOctets + " octets)\r\n";
}  // namespace

TEST_CASE("pop3: commands in the wrong state", "[pop3][limits]") {
  World world;
  Client c(world, world.port995, true);
  const std::string first = "-ERR Command not valid in this state: log in first\r\n";
  for (const char* verb : {"STAT", "LIST", "LIST 1", "RETR 1", "TOP 1 1", "DELE 1", "NOOP", "RSET",
                           "UIDL", "UIDL 1"}) {
    CHECK(c.send(std::string(verb) + "\r\n") == first);
  }
  CHECK(c.session.state() == State::authorization);
  c.send(kLogin);
  const std::string already = "-ERR Command not valid in this state: already logged in\r\n";
  for (const char* verb : {"USER alice", "PASS secret", "AUTH PLAIN", "AUTH", "STLS"})
    CHECK(c.send(std::string(verb) + "\r\n") == already);
  CHECK(c.session.state() == State::transaction);
}

TEST_CASE("pop3: unknown commands, sanitised in events", "[pop3][limits]") {
  World world;
  Client c(world, world.port110, false);
  const std::string unknown = "-ERR Unknown command\r\n";
  CHECK(c.send("XYZZY\r\n") == unknown);
  CHECK(c.send("APOP alice 0123456789abcdef\r\n") == unknown);  // not offered
  CHECK(c.send("\r\n") == unknown);
  CHECK(c.send("RETRIEVE 1\r\n") == unknown);
  c.events.clear();
  CHECK(c.send("X\x01\xFFY arg\r\n") == unknown);
  REQUIRE(c.events.size() == 1);
  CHECK(c.events[0].kind == EventKind::protocol_error);
  CHECK(c.events[0].text == "X\\x01\\xffY: Unknown command");
  // A bare LF ends a command too.
  CHECK(c.send("NOOPE\nCAPA\n").substr(0, unknown.size() + 3) == unknown + "+OK");
}

TEST_CASE("pop3: an over-long line is refused and the session goes on", "[pop3][limits]") {
  World world;
  Client c(world, world.port995, true);
  c.send(kLogin);
  const std::string too_long = "-ERR Line too long\r\n";
  // The limit counts the CRLF: 1000 octets pass, 1001 do not.
  CHECK(c.send("NOOP" + std::string(994, ' ') + "\r\n") == "+OK Still here\r\n");
  CHECK(c.send("NOOP" + std::string(995, ' ') + "\r\n") == too_long);
  CHECK(c.send("RETR " + std::string(5000, '1') + "\r\nNOOP\r\n") ==
        too_long + "+OK Still here\r\n");
  // Arriving in pieces: the error comes once, when the line finally ends.
  CHECK(c.send("RETR " + std::string(3000, '1')).empty());
  CHECK(c.send(std::string(3000, '1')).empty());
  CHECK(c.send("1\r\nSTAT\r\n") == too_long + "+OK 4 " + kOctets + "\r\n");
  CHECK(c.events.back().kind == EventKind::protocol_error);
  CHECK(c.session.state() == State::transaction);
  // An over-long AUTH PLAIN response ends the exchange.
  Client d(world, world.port995, true);
  CHECK(d.send("AUTH PLAIN\r\n" + std::string(2000, 'A') + "\r\nNOOP\r\n") ==
        "+ \r\n" + too_long + "-ERR Command not valid in this state: log in first\r\n");
}

TEST_CASE("pop3: too many bad commands close the connection", "[pop3][limits]") {
  World world;
  Pop3Policy strict = world.port110;
  strict.max_bad_commands = 3;
  SECTION("unknown commands") {
    Client c(world, strict, false);
    CHECK(c.send("A\r\nB\r\nC\r\nCAPA\r\n") ==
          "-ERR Unknown command\r\n-ERR Unknown command\r\n"
          "-ERR Too many bad commands, closing connection\r\n");
    CHECK(c.action == Action::close);
    CHECK(c.send("CAPA\r\n").empty());
  }
  SECTION("failed logins, wrong state and over-long lines all count") {
    Pop3Policy lenient = strict;
    lenient.auth_requires_tls = false;
    Client c(world, lenient, false);
    CHECK(c.send("USER alice@example.test\r\nPASS wrong-pass\r\n") ==
          "+OK Send PASS\r\n-ERR [AUTH] Authentication failed\r\n");
    CHECK(c.send("STAT\r\n") == "-ERR Command not valid in this state: log in first\r\n");
    CHECK(c.send(std::string(1200, 'x') + "\r\n") ==
          "-ERR Too many bad commands, closing connection\r\n");
    CHECK(c.action == Action::close);
  }
  SECTION("TLS-required refusals count") {
    Client c(world, strict, false);
    c.send("USER a\r\nUSER b\r\n");
    CHECK(c.send("USER c\r\n") == "-ERR Too many bad commands, closing connection\r\n");
  }
  SECTION("0 means no limit") {
    strict.max_bad_commands = 0;
    Client c(world, strict, false);
    for (int i = 0; i < 50; ++i) CHECK(c.send("BAD\r\n") == "-ERR Unknown command\r\n");
    CHECK(c.action == Action::none);
  }
}

TEST_CASE("pop3: timeout and shutdown", "[pop3][limits]") {
  World world;
  SECTION("timeout in AUTHORIZATION") {
    Client c(world, world.port110, false);
    CHECK(c.timeout() == "-ERR Autologout: idle for too long\r\n");
    CHECK(c.action == Action::close);
    CHECK(c.send("CAPA\r\n").empty());
    CHECK(c.timeout().empty());
  }
  SECTION("shutdown in TRANSACTION") {
    Client c(world, world.port995, true);
    c.send(kLogin);
    CHECK(c.shutdown() == "-ERR Server shutting down\r\n");
    CHECK(c.action == Action::close);
    CHECK(world.store.try_lock(kAlice));
  }
  SECTION("timeout during the STLS handshake closes without plaintext") {
    Client c(world, world.port110, false);
    c.send("STLS\r\n");
    CHECK(c.timeout().empty());
    CHECK(c.action == Action::close);
  }
}

namespace {
// Every command and error of the TRANSACTION state, over implicit TLS.
const std::vector<std::string> kMainTranscript = {
    "CAPA\r\nuser alice@example.test\r\npass wrong-pass\r\nSTAT\r\nUSER alice\r\nPASS secret\r\n"
    "STAT\r\nLIST\r\nLIST 2\r\nLIST 9\r\nUIDL\r\nUIDL 3\r\nRETR 1\r\nRETR 2\r\nRETR 3\r\n"
    "RETR 4\r\nTOP 1 1\r\nTOP 2 2\r\nDELE 1\r\nRETR 1\r\nDELE 1\r\nSTAT\r\nRSET\r\nDELE 2\r\n"
    "NOOP\r\nXYZZY\r\nRETR x\r\nNOOP" +
    std::string(1100, ' ') +
    "\r\nCAPA\r\nRSET\r\nQUIT\r\n"
    "NOOP\r\n"};

// STLS with injected commands, then AUTH PLAIN with a continuation line, over STARTTLS.
const std::vector<std::string> kStlsTranscript = {
    "CAPA\r\nUSER alice\r\nSTLS\r\nUSER alice@example.test\r\nPASS secret\r\n",
    "CAPA\r\nAUTH PLAIN\r\n*\r\nAUTH PLAIN\r\n" + plain("", "alice@example.test", "secret") +
        "\r\nSTAT\r\nUIDL 4\r\nTOP 3 0\r\nQUIT\r\n"};
}  // namespace

TEST_CASE("pop3: the main transcript, whole", "[pop3][split]") {
  World world;
  const auto log = run(world, world.port995, true, kMainTranscript);
  const std::string head1 =
      "From: bob@example.test\r\nTo: alice@example.test\r\nSubject: one\r\n\r\n";
  const std::string sizes[] = {std::to_string(kMessage1.size()), std::to_string(kMessage2.size()),
                               std::to_string(kMessage3.size()), std::to_string(kMessage4.size())};
  const std::string expected =
      "+OK pop.example.test POP3 server ready\r\n"
      "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
      "PIPELINING\r\nUSER\r\nSASL PLAIN\r\nIMPLEMENTATION sevenport\r\n.\r\n"
      "+OK Send PASS\r\n-ERR [AUTH] Authentication failed\r\n"
      "-ERR Command not valid in this state: log in first\r\n"
      "+OK Send PASS\r\n" +
      kLoggedIn + "+OK 4 " + kOctets +
      "\r\n"
      "+OK 4 messages (" +
      kOctets + " octets)\r\n1 " + sizes[0] + "\r\n2 " + sizes[1] + "\r\n3 " + sizes[2] + "\r\n4 " +
      sizes[3] +
      "\r\n.\r\n"
      "+OK 2 " +
      sizes[1] +
      "\r\n"
      "-ERR no such message\r\n"
      "+OK Unique-ID listing follows\r\n1 " +
      world.uidl(1) + "\r\n2 " + world.uidl(2) + "\r\n3 " + world.uidl(3) + "\r\n4 " +
      world.uidl(4) +
      "\r\n.\r\n"
      "+OK 3 " +
      world.uidl(3) +
      "\r\n"
      "+OK " +
      sizes[0] + " octets\r\n" + kMessage1 +
      ".\r\n"
      "+OK " +
      sizes[1] + " octets\r\n" + kMessage2Stuffed +
      ".\r\n"
      "+OK " +
      sizes[2] + " octets\r\n" + kMessage3 +
      ".\r\n"
      "+OK " +
      sizes[3] + " octets\r\n" + kMessage4Sent + "+OK Top of message follows\r\n" + head1 +
      "Hello Alice.\r\n.\r\n"
      "+OK Top of message follows\r\nFrom: bob@example.test\r\nSubject: dots\r\n\r\n"
      "..leading dot\r\n...two dots\r\n.\r\n"
      "+OK message 1 deleted\r\n"
      "-ERR message 1 already deleted\r\n"
      "-ERR message 1 already deleted\r\n"
      "+OK 3 " +
      std::to_string(kMessage2.size() + kMessage3.size() + kMessage4.size()) +
      "\r\n"
      "+OK maildrop has 4 messages (" +
      kOctets +
      " octets)\r\n"
      "+OK message 2 deleted\r\n"
      "+OK Still here\r\n"
      "-ERR Unknown command\r\n"
      "-ERR Invalid message number\r\n"
      "-ERR Line too long\r\n"
      "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
      "PIPELINING\r\nIMPLEMENTATION sevenport\r\n.\r\n"
      "+OK maildrop has 4 messages (" +
      kOctets +
      " octets)\r\n"
      "+OK pop.example.test POP3 server signing off (0 messages deleted)\r\n[close]";
  CHECK(log == expected);
  CHECK(world.inbox().entries().size() == 4);
}

TEST_CASE("pop3: the STLS transcript, whole", "[pop3][split]") {
  World world;
  const auto log = run(world, world.port110, false, kStlsTranscript);
  CHECK(
      log ==
      "+OK pop.example.test POP3 server ready\r\n"
      "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
      "PIPELINING\r\nSTLS\r\nIMPLEMENTATION sevenport\r\n.\r\n"
      "-ERR [AUTH] TLS is required first: send STLS, then log in\r\n"
      "+OK Begin TLS negotiation\r\n[start_tls][tls up]"
      "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
      "PIPELINING\r\nUSER\r\nSASL PLAIN\r\nIMPLEMENTATION sevenport\r\n.\r\n"
      "+ \r\n-ERR Authentication cancelled\r\n+ \r\n" +
          kLoggedIn + "+OK 4 " + kOctets +
          "\r\n"
          "+OK 4 " +
          world.uidl(4) +
          "\r\n"
          "+OK Top of message follows\r\nFrom: bob@example.test\r\nSubject: 8bit\r\n"
          "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n.\r\n"
          "+OK pop.example.test POP3 server signing off (0 messages deleted)\r\n[close]");
}

TEST_CASE("pop3: transcripts split at every byte boundary give the same bytes", "[pop3][split]") {
  World world;
  struct Case {
    const Pop3Policy* policy;
    bool tls_active;
    const std::vector<std::string>* segments;
  };
  for (const Case& t : {Case{&world.port995, true, &kMainTranscript},
                        Case{&world.port110, false, &kStlsTranscript}}) {
    const auto whole = run(world, *t.policy, t.tls_active, *t.segments);
    std::size_t runs = 0;
    std::size_t bytes = 0;
    for (std::size_t segment = 0; segment < t.segments->size(); ++segment) {
      bytes += (*t.segments)[segment].size();
      for (std::size_t at = 0; at <= (*t.segments)[segment].size(); ++at, ++runs) {
        const auto split = run(world, *t.policy, t.tls_active, *t.segments, {{segment, at}});
        if (split != whole) FAIL("segment " << segment << " split at byte " << at);
      }
    }
    CHECK(runs == bytes + t.segments->size());
  }
  // None of the runs deleted anything or left the maildrop locked.
  CHECK(world.inbox().entries().size() == 4);
  CHECK(world.store.try_lock(kAlice));
}
