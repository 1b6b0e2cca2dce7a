// TRANSACTION and UPDATE states: STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP, QUIT, and what
// reaches the store (deletions only after QUIT).
#include <catch2/catch.hpp>

#include "tests/unit/pop3/pop3_harness.hpp"

using namespace pop3_test;

namespace {
const std::string kLogin = "USER alice@example.test\r\nPASS secret\r\n";

void log_in(Client& c) {
  REQUIRE(c.send(kLogin) ==
          "+OK Send PASS\r\n+OK Logged in, maildrop has 4 messages (" + kOctets + " octets)\r\n");
}

std::string size(const std::string& s) { return std::to_string(s.size()); }

std::string uidl_all(World& world, const std::vector<std::uint32_t>& uids) {
  std::string s = "+OK Unique-ID listing follows\r\n";
  for (std::size_t i = 0; i < uids.size(); ++i)
    s += std::to_string(i + 1) + " " + world.uidl(uids[i]) + "\r\n";
  return s + ".\r\n";
}
}  // namespace

TEST_CASE("pop3: STAT, LIST and UIDL", "[pop3][transaction]") {
  World world;
  Client c(world, world.port995, true);
  log_in(c);
  CHECK(c.send("STAT\r\n") == "+OK 4 " + kOctets + "\r\n");
  CHECK(c.send("LIST\r\n") == "+OK 4 messages (" + kOctets + " octets)\r\n1 " + size(kMessage1) +
                                  "\r\n2 " + size(kMessage2) + "\r\n3 " + size(kMessage3) +
                                  "\r\n4 " + size(kMessage4) + "\r\n.\r\n");
  CHECK(c.send("LIST 2\r\n") == "+OK 2 " + size(kMessage2) + "\r\n");
  CHECK(c.send("list 3\r\n") == "+OK 3 " + size(kMessage3) + "\r\n");
  CHECK(c.send("UIDL\r\n") == uidl_all(world, {1, 2, 3, 4}));
  CHECK(c.send("UIDL 3\r\n") == "+OK 3 " + world.uidl(3) + "\r\n");
  CHECK(c.send("NOOP\r\n") == "+OK Still here\r\n");
}

TEST_CASE("pop3: message numbers that do not name a message", "[pop3][transaction]") {
  World world;
  world.port995.max_bad_commands = 0;  // this test makes more than the default 20 mistakes
  Client c(world, world.port995, true);
  log_in(c);
  const std::string none = "-ERR no such message\r\n";
  const std::string invalid = "-ERR Invalid message number\r\n";
  for (const char* verb : {"LIST", "UIDL", "RETR", "DELE"}) {
    const std::string v = verb;
    CHECK(c.send(v + " 0\r\n") == none);
    CHECK(c.send(v + " 5\r\n") == none);
    CHECK(c.send(v + " 99999999999999999999999999\r\n") == none);
    CHECK(c.send(v + " x\r\n") == invalid);
    CHECK(c.send(v + " -1\r\n") == invalid);
    CHECK(c.send(v + " 1x\r\n") == invalid);
  }
  CHECK(c.send("TOP 5 1\r\n") == none);
  CHECK(c.send("TOP one 1\r\n") == invalid);
  CHECK(c.send("TOP 1 x\r\n") == "-ERR Invalid line count\r\n");
  CHECK(c.send("TOP 1\r\n") == "-ERR Syntax: TOP msg lines\r\n");
  CHECK(c.send("RETR\r\n") == "-ERR Syntax: RETR msg\r\n");
  CHECK(c.send("DELE\r\n") == "-ERR Syntax: DELE msg\r\n");
  CHECK(c.send("LIST 1 2\r\n") == "-ERR Syntax: LIST [msg]\r\n");
  CHECK(c.send("UIDL 1 2\r\n") == "-ERR Syntax: UIDL [msg]\r\n");
  CHECK(c.send("STAT 1\r\n") == "-ERR Syntax: STAT\r\n");
  CHECK(c.send("NOOP x\r\n") == "-ERR Syntax: NOOP\r\n");
  CHECK(c.send("RSET x\r\n") == "-ERR Syntax: RSET\r\n");
  CHECK(c.send("QUIT now\r\n") == "-ERR Syntax: QUIT\r\n");
  CHECK(c.send("CAPA x\r\n") == "-ERR Syntax: CAPA\r\n");
  CHECK(c.session.state() == State::transaction);
  CHECK(c.action == Action::none);
}

TEST_CASE("pop3: RETR is byte-exact with dot-stuffing", "[pop3][transaction]") {
  World world;
  Client c(world, world.port995, true);
  log_in(c);
  CHECK(c.send("RETR 1\r\n") == "+OK " + size(kMessage1) + " octets\r\n" + kMessage1 + ".\r\n");
  CHECK(c.send("RETR 2\r\n") ==
        "+OK " + size(kMessage2) + " octets\r\n" + kMessage2Stuffed + ".\r\n");
  CHECK(c.send("RETR 3\r\n") == "+OK " + size(kMessage3) + " octets\r\n" + kMessage3 + ".\r\n");
  CHECK(c.send("RETR 4\r\n") == "+OK " + size(kMessage4) + " octets\r\n" + kMessage4Sent);
  // Pipelined: one Output carries all replies in order.
  CHECK(c.send("RETR 1\r\nRETR 2\r\n") == "+OK " + size(kMessage1) + " octets\r\n" + kMessage1 +
                                              ".\r\n+OK " + size(kMessage2) + " octets\r\n" +
                                              kMessage2Stuffed + ".\r\n");
}

TEST_CASE("pop3: TOP sends the headers, the empty line and n body lines", "[pop3][transaction]") {
  World world;
  Client c(world, world.port995, true);
  log_in(c);
  const std::string head1 =
      "From: bob@example.test\r\nTo: alice@example.test\r\nSubject: one\r\n\r\n";
  const std::string top = "+OK Top of message follows\r\n";
  CHECK(c.send("TOP 1 0\r\n") == top + head1 + ".\r\n");
  CHECK(c.send("TOP 1 2\r\n") == top + head1 + "Hello Alice.\r\nSecond line.\r\n.\r\n");
  CHECK(c.send("TOP 1 3\r\n") == top + kMessage1 + ".\r\n");
  CHECK(c.send("TOP 1 99999999999999999999999\r\n") == top + kMessage1 + ".\r\n");
  CHECK(c.send("TOP 2 1\r\n") ==
        top + "From: bob@example.test\r\nSubject: dots\r\n\r\n..leading dot\r\n.\r\n");
  CHECK(c.send("TOP 3 1\r\n") == top + kMessage3 + ".\r\n");
  CHECK(c.send("TOP 4 0\r\n") == top + "Subject: tail\r\n\r\n.\r\n");
  CHECK(c.send("TOP 4 5\r\n") == top + kMessage4Sent);
}

TEST_CASE("pop3: DELE marks, RSET unmarks, deleted messages cannot be named",
          "[pop3][transaction]") {
  World world;
  Client c(world, world.port995, true);
  log_in(c);
  CHECK(c.send("DELE 1\r\n") == "+OK message 1 deleted\r\n");
  const std::string gone = "-ERR message 1 already deleted\r\n";
  CHECK(c.send("DELE 1\r\n") == gone);
  CHECK(c.send("RETR 1\r\n") == gone);
  CHECK(c.send("LIST 1\r\n") == gone);
  CHECK(c.send("UIDL 1\r\n") == gone);
  CHECK(c.send("TOP 1 0\r\n") == gone);
  const auto rest = kMessage2.size() + kMessage3.size() + kMessage4.size();
  CHECK(c.send("STAT\r\n") == "+OK 3 " + std::to_string(rest) + "\r\n");
  CHECK(c.send("LIST\r\n") == "+OK 3 messages (" + std::to_string(rest) + " octets)\r\n2 " +
                                  size(kMessage2) + "\r\n3 " + size(kMessage3) + "\r\n4 " +
                                  size(kMessage4) + "\r\n.\r\n");
  CHECK(c.send("UIDL\r\n") == "+OK Unique-ID listing follows\r\n2 " + world.uidl(2) + "\r\n3 " +
                                  world.uidl(3) + "\r\n4 " + world.uidl(4) + "\r\n.\r\n");
  CHECK(c.send("RSET\r\n") == "+OK maildrop has 4 messages (" + kOctets + " octets)\r\n");
  CHECK(c.send("STAT\r\n") == "+OK 4 " + kOctets + "\r\n");
  CHECK(c.send("RETR 1\r\n") == "+OK " + size(kMessage1) + " octets\r\n" + kMessage1 + ".\r\n");
  // Nothing reached the store.
  CHECK(world.inbox().entries().size() == 4);
}

TEST_CASE("pop3: DELE then QUIT removes the messages from the store", "[pop3][transaction]") {
  World world;
  Client c(world, world.port995, true);
  log_in(c);
  CHECK(c.send("DELE 1\r\nDELE 3\r\nQUIT\r\nSTAT\r\n") ==
        "+OK message 1 deleted\r\n+OK message 3 deleted\r\n"
        "+OK pop.example.test POP3 server signing off (2 messages deleted)\r\n");
  CHECK(c.action == Action::close);
  CHECK(c.session.state() == State::update);
  CHECK(c.send("STAT\r\n").empty());
  const auto& entries = world.inbox().entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].uid == 2);
  CHECK(entries[1].uid == 4);
  // The lock went with the session.
  CHECK(world.store.try_lock(kAlice));
}

TEST_CASE("pop3: deletions are dropped without QUIT", "[pop3][transaction]") {
  World world;
  Client c(world, world.port995, true);
  log_in(c);
  CHECK(c.send("DELE 1\r\nDELE 2\r\n") == "+OK message 1 deleted\r\n+OK message 2 deleted\r\n");
  SECTION("disconnect") { c.session.on_disconnect(); }
  SECTION("timeout") { CHECK(c.timeout() == "-ERR Autologout: idle for too long\r\n"); }
  SECTION("shutdown") { CHECK(c.shutdown() == "-ERR Server shutting down\r\n"); }
  SECTION("too many bad commands") {
    world.port995.max_bad_commands = 1;  // sessions hold the policy by reference
    CHECK(c.send("XYZZY\r\n") == "-ERR Too many bad commands, closing connection\r\n");
    CHECK(c.action == Action::close);
  }
  CHECK(world.inbox().entries().size() == 4);
  CHECK(world.store.try_lock(kAlice));
}

TEST_CASE("pop3: UIDL is stable across sessions and never reused", "[pop3][transaction]") {
  World world;
  std::string first;
  {
    Client c(world, world.port995, true);
    log_in(c);
    first = c.send("UIDL\r\n");
    c.send("QUIT\r\n");
  }
  {
    Client c(world, world.port995, true);
    log_in(c);
    CHECK(c.send("UIDL\r\n") == first);
    CHECK(c.send("DELE 1\r\nQUIT\r\n") ==
          "+OK message 1 deleted\r\n"
          "+OK pop.example.test POP3 server signing off (1 message deleted)\r\n");
  }
  world.deliver("Subject: new\r\n\r\nnew\r\n");
  Client c(world, world.port995, true);
  const auto total = kMessage2.size() + kMessage3.size() + kMessage4.size() + 21;
  CHECK(c.send(kLogin) == "+OK Send PASS\r\n+OK Logged in, maildrop has 4 messages (" +
                              std::to_string(total) + " octets)\r\n");
  const auto now = c.send("UIDL\r\n");
  CHECK(now == uidl_all(world, {2, 3, 4, 5}));
  CHECK(now.find(" " + world.uidl(1) + "\r\n") == std::string::npos);
}

TEST_CASE("pop3: the maildrop is a snapshot taken at login", "[pop3][transaction]") {
  World world;
  Client c(world, world.port995, true);
  log_in(c);
  world.deliver("Subject: late\r\n\r\nlate\r\n");
  CHECK(c.send("STAT\r\n") == "+OK 4 " + kOctets + "\r\n");
  CHECK(c.send("RETR 5\r\n") == "-ERR no such message\r\n");
  // A message removed meanwhile (through the API) is still served from the snapshot, and QUIT
  // copes with its UID being gone already.
  world.store.remove_message(world.inbox().entries()[0].message->id);
  CHECK(c.send("RETR 1\r\n") == "+OK " + size(kMessage1) + " octets\r\n" + kMessage1 + ".\r\n");
  CHECK(c.send("DELE 1\r\nDELE 2\r\nQUIT\r\n") ==
        "+OK message 1 deleted\r\n+OK message 2 deleted\r\n"
        "+OK pop.example.test POP3 server signing off (2 messages deleted)\r\n");
  const auto& entries = world.inbox().entries();
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].uid == 3);
  CHECK(entries[2].uid == 5);
}
