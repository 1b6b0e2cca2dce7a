// Deliberate behaviours (docs/BEHAVIOURS.md) as the POP3 engine shows them: the plaintext hint on
// an implicit-TLS port, greeting = "unavailable", the STARTTLS faults, and the account behaviours
// (app password, POP3 disabled, locked, password expired). Byte-exact, with the behaviour events.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "tests/unit/pop3/pop3_harness.hpp"

using namespace pop3_test;
using sevenport::LoginOutcome;
using sevenport::Service;
using sevenport::StartTlsFault;

namespace {
const std::string kGreeting = "+OK pop.example.test POP3 server ready\r\n";
const std::string kLoggedIn = "+OK Logged in, maildrop has 4 messages (" + kOctets + " octets)\r\n";
const std::string kAuthFailed = "-ERR [AUTH] Authentication failed\r\n";
const std::string kUnknown = "-ERR Unknown command\r\n";
const std::string kBeginTls = "+OK Begin TLS negotiation\r\n";
const std::string kInjected = "+OK INJECTED: sent in plaintext after the STLS reply\r\n";
const std::string kStlsRefused = "-ERR [SYS/TEMP] STLS not available, try again later\r\n";
const std::string kLogin = "USER alice@example.test\r\nPASS secret\r\n";

std::string capa(bool stls, bool logins) {
  std::string s =
      "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
      "PIPELINING\r\n";
  if (stls) s += "STLS\r\n";
  if (logins) s += "USER\r\nSASL PLAIN\r\n";
  return s + "IMPLEMENTATION sevenport\r\n.\r\n";
}

Pop3Policy with_fault(const Pop3Policy& base, StartTlsFault fault) {
  Pop3Policy policy = base;
  policy.starttls_fault = fault;
  return policy;
}
}  // namespace

TEST_CASE("pop3: refuse_plaintext sends -ERR with the advice and closes", "[pop3][behaviour]") {
  World world;
  Pop3Session session(world.port995, world.store, world.users);
  Output out;
  session.refuse_plaintext(
      "This port expects TLS from the first byte: choose SSL/TLS, or use port 110 with STLS", out);
  CHECK(out.bytes ==
        "-ERR This port expects TLS from the first byte: choose SSL/TLS, or use port 110 with "
        "STLS\r\n");
  CHECK(out.action == Action::close);
  // Nothing after it: not the client's bytes, not a timeout's farewell.
  Output later;
  session.feed("CAPA\r\nUSER alice\r\n", later);
  session.on_timeout(later);
  session.on_shutdown(later);
  CHECK(later.bytes.empty());
  CHECK(later.action == Action::none);
  CHECK(session.state() == State::authorization);
}

TEST_CASE("pop3: greeting = unavailable", "[pop3][behaviour]") {
  World world;
  for (const bool implicit : {false, true}) {
    Pop3Policy policy = implicit ? world.port995 : world.port110;
    policy.unavailable = true;
    Client c(world, policy, implicit);
    CHECK(c.greeting ==
          "-ERR [SYS/TEMP] pop.example.test POP3 service not available, try again later\r\n");
    CHECK(c.action == Action::close);
    CHECK(c.texts(EventKind::behaviour) ==
          std::vector<std::string>{"-ERR [SYS/TEMP] service not available sent instead of the "
                                   "greeting, connection closed (greeting = \"unavailable\")"});
    // The session is over: a pipelined login is never run, no farewell follows.
    CHECK(c.send("CAPA\r\n" + kLogin).empty());
    CHECK(c.timeout().empty());
    CHECK(c.shutdown().empty());
    CHECK(c.session.state() == State::authorization);
  }
  // Off by default: the normal greeting, no behaviour event.
  Client normal(world, world.port110, false);
  CHECK(normal.greeting == kGreeting);
  CHECK(normal.action == Action::none);
  CHECK(normal.events.empty());
}

TEST_CASE("pop3: starttls_fault = not-advertised", "[pop3][behaviour][stls]") {
  World world;
  const Pop3Policy policy = with_fault(world.port110, StartTlsFault::not_advertised);
  Client c(world, policy, false);
  CHECK(c.greeting == kGreeting);
  CHECK(c.send("CAPA\r\n") == capa(false, false));
  CHECK(c.texts(EventKind::behaviour) ==
        std::vector<std::string>{"STLS left out of CAPA (starttls_fault = \"not-advertised\")"});
  c.events.clear();

  // STLS gets exactly what an unknown verb gets, and no handshake.
  CHECK(c.send("STLS\r\n") == kUnknown);
  const auto stls = c.send("stls\r\n");
  CHECK(stls == c.send("XYZZY\r\n"));
  CHECK(c.action == Action::none);
  CHECK(!c.has_event(EventKind::starttls));
  CHECK(c.texts(EventKind::behaviour) ==
        std::vector<std::string>(
            2, "STLS answered as an unknown command (starttls_fault = \"not-advertised\")"));
  CHECK(c.texts(EventKind::protocol_error) == std::vector<std::string>{"STLS: Unknown command",
                                                                       "stls: Unknown command",
                                                                       "XYZZY: Unknown command"});
  // The downgrade holds: no login in plaintext, and the refusal does not point to STLS.
  CHECK(c.send(kLogin) ==
        "-ERR [AUTH] TLS is required first: use the POP3S (implicit TLS) port\r\n"
        "-ERR [AUTH] TLS is required first: use the POP3S (implicit TLS) port\r\n");
  CHECK(c.session.state() == State::authorization);
  CHECK(!c.session.tls_active());
}

TEST_CASE("pop3: not-advertised STLS counts as a bad command, in every state",
          "[pop3][behaviour][stls]") {
  World world;
  Pop3Policy policy = with_fault(world.port110, StartTlsFault::not_advertised);
  policy.auth_requires_tls = false;
  SECTION("TRANSACTION: unknown, not 'already logged in'") {
    Client c(world, policy, false);
    CHECK(c.send(kLogin + "STLS\r\nCAPA\r\n") ==
          "+OK Send PASS\r\n" + kLoggedIn + kUnknown + capa(false, false));
    // CAPA in TRANSACTION never lists STLS, so nothing was left out there.
    CHECK(c.texts(EventKind::behaviour).size() == 1);
  }
  SECTION("the bad-command limit") {
    policy.max_bad_commands = 2;
    Client c(world, policy, false);
    CHECK(c.send("STLS\r\nSTLS\r\nCAPA\r\n") ==
          kUnknown + "-ERR Too many bad commands, closing connection\r\n");
    CHECK(c.action == Action::close);
  }
}

TEST_CASE("pop3: starttls_fault = refused", "[pop3][behaviour][stls]") {
  World world;
  Pop3Policy policy = with_fault(world.port110, StartTlsFault::refused);
  policy.max_bad_commands = 2;
  Client c(world, policy, false);
  CHECK(c.send("CAPA\r\n") == capa(true, false));
  CHECK(c.events.empty());
  CHECK(c.send("STLS\r\n") == kStlsRefused);
  CHECK(c.action == Action::none);
  CHECK(!c.has_event(EventKind::starttls));
  CHECK(
      c.texts(EventKind::behaviour) ==
      std::vector<std::string>{"STLS refused with -ERR [SYS/TEMP] (starttls_fault = \"refused\")"});
  // The server's trouble, not the client's mistake: retries do not reach the bad-command limit.
  CHECK(c.send("STLS\r\nSTLS\r\nSTLS\r\n") == kStlsRefused + kStlsRefused + kStlsRefused);
  CHECK(c.action == Action::none);
  // Still plaintext, so still no login.
  CHECK(c.send("USER alice\r\n") ==
        "-ERR [AUTH] TLS is required first: send STLS, then log in\r\n");
  CHECK(!c.session.tls_active());
}

TEST_CASE("pop3: starttls_fault = inject-response", "[pop3][behaviour][stls]") {
  World world;
  const Pop3Policy policy = with_fault(world.port110, StartTlsFault::inject_response);
  Client c(world, policy, false);
  CHECK(c.send("CAPA\r\n") == capa(true, false));
  // The forged line goes out in the same bytes as the +OK, before the handshake; what the client
  // pipelined behind STLS is still never run.
  CHECK(c.send("STLS\r\nUSER alice@example.test\r\n") == kBeginTls + kInjected);
  CHECK(c.action == Action::start_tls);
  CHECK(c.has_event(EventKind::starttls));
  CHECK(c.has_event(EventKind::diagnosis));
  CHECK(c.texts(EventKind::behaviour) ==
        std::vector<std::string>{
            "forged plaintext line \"+OK INJECTED: sent in plaintext after the STLS reply\" sent "
            "after the STLS reply, before the handshake (starttls_fault = \"inject-response\")"});
  CHECK(c.tls_started().empty());
  // Inside TLS all is normal, and nothing is injected again.
  CHECK(c.send("CAPA\r\n") == capa(false, true));
  CHECK(c.send(kLogin) == "+OK Send PASS\r\n" + kLoggedIn);
  CHECK(c.texts(EventKind::behaviour).size() == 1);
}

TEST_CASE("pop3: starttls_fault = abort-handshake leaves the engine as for none",
          "[pop3][behaviour][stls]") {
  World world;
  const Pop3Policy policy = with_fault(world.port110, StartTlsFault::abort_handshake);
  Client c(world, policy, false);
  CHECK(c.send("CAPA\r\nSTLS\r\n") == capa(true, false) + kBeginTls);
  CHECK(c.action == Action::start_tls);
  CHECK(c.has_event(EventKind::starttls));
  // server/ aborts the handshake and reports it; the engine has nothing to add.
  CHECK(!c.has_event(EventKind::behaviour));
}

TEST_CASE("pop3: STARTTLS faults are inert without STLS or once TLS is up",
          "[pop3][behaviour][stls]") {
  World world;
  for (const auto fault : {StartTlsFault::not_advertised, StartTlsFault::refused,
                           StartTlsFault::inject_response, StartTlsFault::abort_handshake}) {
    // Implicit TLS: STLS is never offered.
    Client implicit(world, with_fault(world.port995, fault), true);
    CHECK(implicit.send("CAPA\r\nSTLS\r\n") == capa(false, true) + "-ERR TLS already active\r\n");
    CHECK(implicit.send(kLogin) == "+OK Send PASS\r\n" + kLoggedIn);
    implicit.send("QUIT\r\n");
    // A plaintext listener without STLS.
    Pop3Policy bare = with_fault(world.port110, fault);
    bare.stls_offered = false;
    bare.auth_requires_tls = false;
    Client plain(world, bare, false);
    CHECK(plain.send("CAPA\r\nSTLS\r\n") == capa(false, true) + "-ERR STLS not available\r\n");
    CHECK(!implicit.has_event(EventKind::behaviour));
    CHECK(!plain.has_event(EventKind::behaviour));
  }
}

namespace {
// Each fault's transcript: CAPA and STLS with a command pipelined behind it, then (if the
// handshake happened) a login inside TLS.
const std::vector<std::string> kFaultTranscript = {
    "CAPA\r\nSTLS\r\nUSER alice@example.test\r\n",
    "CAPA\r\nAUTH PLAIN\r\n" + plain("", "alice@example.test", "secret") + "\r\nQUIT\r\n"};
}  // namespace

TEST_CASE("pop3: STARTTLS fault transcripts, whole and split at every byte",
          "[pop3][behaviour][stls][split]") {
  World world;
  const std::string after_tls =
      "[start_tls][tls up]" + capa(false, true) + "+ \r\n" + kLoggedIn +
      "+OK pop.example.test POP3 server signing off (0 messages deleted)\r\n[close]";
  const std::string tls_first = "-ERR [AUTH] TLS is required first: send STLS, then log in\r\n";
  struct Case {
    StartTlsFault fault;
    std::string expected;
  };
  const Case cases[] = {
      {StartTlsFault::none, kGreeting + capa(true, false) + kBeginTls + after_tls},
      {StartTlsFault::abort_handshake, kGreeting + capa(true, false) + kBeginTls + after_tls},
      {StartTlsFault::inject_response,
       kGreeting + capa(true, false) + kBeginTls + kInjected + after_tls},
      {StartTlsFault::refused, kGreeting + capa(true, false) + kStlsRefused + tls_first +
                                   capa(true, false) + tls_first + kUnknown + "+OK Bye\r\n[close]"},
      {StartTlsFault::not_advertised,
       kGreeting + capa(false, false) + kUnknown +
           "-ERR [AUTH] TLS is required first: use the POP3S (implicit TLS) port\r\n" +
           capa(false, false) +
           "-ERR [AUTH] TLS is required first: use the POP3S (implicit TLS) port\r\n" + kUnknown +
           "+OK Bye\r\n[close]"},
  };
  for (const auto& t : cases) {
    const Pop3Policy policy = with_fault(world.port110, t.fault);
    const auto whole = run(world, policy, false, kFaultTranscript);
    CHECK(whole == t.expected);
    for (std::size_t segment = 0; segment < kFaultTranscript.size(); ++segment) {
      for (std::size_t at = 0; at <= kFaultTranscript[segment].size(); ++at) {
        if (run(world, policy, false, kFaultTranscript, {{segment, at}}) != whole)
          FAIL(sevenport::to_string(t.fault) << ": segment " << segment << " split at " << at);
      }
    }
  }
  CHECK(world.store.try_lock(kAlice));
}

namespace {
struct AccountCase {
  const char* name;
  std::function<void(sevenport::User&)> set;
  LoginOutcome outcome;
  std::string reply;
};

const AccountCase kAccountCases[] = {
    {"app password", [](sevenport::User& u) { u.app_password = "app-pw"; },
     LoginOutcome::app_password_required,
     "-ERR [AUTH] Application-specific password required: log in with an app password\r\n"},
    {"POP3 disabled", [](sevenport::User& u) { u.pop3_enabled = false; },
     LoginOutcome::service_disabled,
     "-ERR [SYS/PERM] POP3 access is disabled for this account: enable it in the account "
     "settings\r\n"},
    {"locked", [](sevenport::User& u) { u.locked = true; }, LoginOutcome::locked,
     "-ERR [SYS/PERM] Account locked: contact your administrator\r\n"},
    {"password expired", [](sevenport::User& u) { u.password_expired = true; },
     LoginOutcome::password_expired,
     "-ERR [AUTH] Password expired: change it and log in again\r\n"},
};

void set_alice(World& world, const AccountCase& t) {
  auto alice = account(kAlice, "secret");
  t.set(alice);
  world.users.add(alice);
}

// Every auth_failed event, and nothing in any event that could be a password.
std::vector<std::string> failures(const Client& c) {
  for (const auto& e : c.events) {
    for (const auto* field : {&e.text, &e.user, &e.mechanism}) {
      CHECK(field->find("secret") == std::string::npos);
      CHECK(field->find("app-pw") == std::string::npos);
      CHECK(field->find("wrong-pass") == std::string::npos);
    }
  }
  return c.texts(EventKind::auth_failed);
}
}  // namespace

TEST_CASE("pop3: account behaviours refuse the right password with their answer",
          "[pop3][behaviour][accounts]") {
  for (const auto& t : kAccountCases) {
    INFO(t.name);
    World world;
    set_alice(world, t);
    const std::string why(describe(t.outcome, Service::pop3));
    REQUIRE(!why.empty());

    Client c(world, world.port995, true);
    CHECK(c.send(kLogin) == "+OK Send PASS\r\n" + t.reply);
    CHECK(c.send("AUTH PLAIN " + plain("", "alice@example.test", "secret") + "\r\n") == t.reply);
    CHECK(c.send("AUTH PLAIN\r\n" + plain("", "alice", "secret") + "\r\n") == "+ \r\n" + t.reply);
    CHECK(c.session.state() == State::authorization);
    CHECK(!c.has_event(EventKind::authenticated));
    // Back to a fresh AUTHORIZATION state, as after any failed PASS (RFC 1939 7).
    CHECK(c.send("PASS secret\r\n") == "-ERR Send USER first\r\n");
    CHECK(failures(c) == std::vector<std::string>(3, why));
    // The log names the login as given and the mechanism.
    for (const auto& e : c.events) {
      if (e.kind != EventKind::auth_failed) continue;
      CHECK((e.mechanism == "USER" || e.mechanism == "PLAIN"));
      CHECK((e.user == "alice@example.test" || e.user == "alice"));
      CHECK(e.over_tls);
    }
    // No maildrop lock was taken.
    CHECK(world.store.try_lock(kAlice));
    world.store.unlock(kAlice);
  }
}

TEST_CASE("pop3: account behaviours tell a wrong password nothing", "[pop3][behaviour][accounts]") {
  for (const auto& t : kAccountCases) {
    INFO(t.name);
    World world;
    set_alice(world, t);
    Client c(world, world.port995, true);
    CHECK(c.send("USER alice@example.test\r\nPASS wrong-pass\r\n") ==
          "+OK Send PASS\r\n" + kAuthFailed);
    CHECK(c.send("AUTH PLAIN " + plain("", "alice", "wrong-pass") + "\r\n") == kAuthFailed);
    CHECK(failures(c) == std::vector<std::string>(2, "wrong user name or password"));
  }
}

TEST_CASE("pop3: the session log names each refusal in plain words",
          "[pop3][behaviour][accounts]") {
  // Independent of describe(): the words a reader of the log sees.
  const std::pair<std::size_t, const char*> expected[] = {
      {0, "app password required"},
      {1, "pop3_enabled = false"},
      {2, "locked = true"},
      {3, "password_expired = true"},
  };
  for (const auto& [index, words] : expected) {
    World world;
    set_alice(world, kAccountCases[index]);
    Client c(world, world.port995, true);
    c.send(kLogin);
    const auto texts = c.texts(EventKind::auth_failed);
    REQUIRE(texts.size() == 1);
    CHECK_THAT(texts[0], Catch::Contains(words));
  }
}

TEST_CASE("pop3: the app password logs in; a refused login still counts as a bad command",
          "[pop3][behaviour][accounts]") {
  World world;
  auto alice = account(kAlice, "secret");
  alice.app_password = "app-pw";
  world.users.add(alice);
  SECTION("USER/PASS") {
    Client c(world, world.port995, true);
    CHECK(c.send("USER alice@example.test\r\nPASS app-pw\r\n") == "+OK Send PASS\r\n" + kLoggedIn);
    CHECK(c.session.state() == State::transaction);
    CHECK(failures(c).empty());
  }
  SECTION("AUTH PLAIN") {
    Client c(world, world.port995, true);
    CHECK(c.send("AUTH PLAIN " + plain("", "alice", "app-pw") + "\r\n") == kLoggedIn);
    REQUIRE(c.has_event(EventKind::authenticated));
    CHECK(c.events.back().user == "alice@example.test");
  }
  SECTION("bad-command limit") {
    Pop3Policy strict = world.port995;
    strict.max_bad_commands = 2;
    Client c(world, strict, true);
    CHECK(c.send(kLogin + kLogin) ==
          "+OK Send PASS\r\n" + kAccountCases[0].reply +
              "+OK Send PASS\r\n-ERR Too many bad commands, closing connection\r\n");
    CHECK(c.action == Action::close);
  }
}
