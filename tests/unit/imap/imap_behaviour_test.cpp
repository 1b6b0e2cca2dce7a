// Deliberate behaviours (docs/BEHAVIOURS.md) as the IMAP engine plays them: the plaintext refusal
// on an implicit-TLS port, the unavailable greeting, the STARTTLS faults and the account
// behaviours (app password, IMAP disabled, locked, password expired).
#include <catch2/catch.hpp>

#include "tests/unit/imap/imap_harness.hpp"

using namespace imap_test;
using sevenport::LoginOutcome;
using sevenport::Service;
using sevenport::StartTlsFault;

namespace {
const std::string kCaps143 = std::string(kCaps) + " STARTTLS LOGINDISABLED";
const std::string kCapsTls = std::string(kCaps) + " AUTH=PLAIN";
const std::string kGreeting143 =
    "* OK [CAPABILITY " + kCaps143 + "] imap.example.test IMAP4rev1 sevenport ready\r\n";
const std::string kLoggedIn = " OK [CAPABILITY " + std::string(kCaps) + "] Logged in\r\n";
const std::string kUnavailable =
    "* BYE [UNAVAILABLE] imap.example.test IMAP service not available, try again later";

using Texts = std::vector<std::string>;

std::string plain(std::string_view authcid, std::string_view password) {
  std::string message;
  message += '\0';
  message += authcid;
  message += '\0';
  message += password;
  return sevenport::base64_encode(message);
}

// alice and bob as in World, plus one account per behaviour.
void add_accounts(World& world) {
  auto carol = account("carol@example.test", "carol-main");
  carol.app_password = "carol-app";
  world.users.add(carol);
  auto dave = account("dave@example.test", "dave-pw");
  dave.imap_enabled = false;
  world.users.add(dave);
  auto erin = account("erin@example.test", "erin-pw");
  erin.locked = true;
  world.users.add(erin);
  auto frank = account("frank@example.test", "frank-pw");
  frank.password_expired = true;
  world.users.add(frank);
  auto grace = account("grace@example.test", "grace-pw");
  grace.pop3_enabled = false;  // a POP3 setting: IMAP logins are not affected
  world.users.add(grace);
}

void with_fault(World& world, StartTlsFault fault) { world.port143.starttls_fault = fault; }
}  // namespace

TEST_CASE("imap: refuse_plaintext answers * BYE with the advice and closes", "[imap][behaviour]") {
  World world;
  ImapSession session(world.port993, world.store, world.users);
  Output out;
  session.refuse_plaintext(
      "This port expects TLS from the first byte: choose SSL/TLS, or use port 143 with STARTTLS",
      out);
  CHECK(out.bytes ==
        "* BYE This port expects TLS from the first byte: choose SSL/TLS, or use port 143 with "
        "STARTTLS\r\n");
  CHECK(out.action == Action::close);
  CHECK(session.state() == State::logout);
  Output later;
  session.feed("a1 CAPABILITY\r\n", later);
  CHECK(later.bytes.empty());
  CHECK(later.action == Action::none);

  // Whatever the advice holds, it stays one line.
  ImapSession other(world.port993, world.store, world.users);
  Output out2;
  other.refuse_plaintext("one\r\n* OK two", out2);
  CHECK(out2.bytes == "* BYE one\\x0d\\x0a* OK two\r\n");
  CHECK(out2.action == Action::close);
}

TEST_CASE("imap: greeting = unavailable: * BYE [UNAVAILABLE] and close", "[imap][behaviour]") {
  for (const bool implicit_tls : {false, true}) {
    INFO("implicit TLS: " << implicit_tls);
    World world;
    ImapPolicy policy = implicit_tls ? world.port993 : world.port143;
    policy.unavailable = true;
    policy.starttls_fault = StartTlsFault::not_advertised;  // no greeting, so nothing left out
    Client c(world, policy, implicit_tls);
    CHECK(c.greeting == kUnavailable + "\r\n");
    CHECK(c.action == Action::close);
    CHECK(c.session.state() == State::logout);
    CHECK(c.texts(EventKind::behaviour) ==
          Texts{"greeting replaced by \"" + kUnavailable +
                "\", connection closed (greeting = \"unavailable\")"});
    CHECK(c.send("a1 CAPABILITY\r\n").empty());
  }
}

TEST_CASE("imap: starttls_fault = not-advertised", "[imap][behaviour][starttls]") {
  World world;
  with_fault(world, StartTlsFault::not_advertised);
  Client c(world, world.port143, false);
  // LOGINDISABLED stays: with STARTTLS withheld no login is possible, and a client told to use
  // STARTTLS must stop here.
  const std::string caps = std::string(kCaps) + " LOGINDISABLED";
  CHECK(c.greeting ==
        "* OK [CAPABILITY " + caps + "] imap.example.test IMAP4rev1 sevenport ready\r\n");
  const std::string left_out =
      "STARTTLS left out of the capabilities (starttls_fault = \"not-advertised\")";
  CHECK(c.texts(EventKind::behaviour) == Texts{left_out});
  CHECK(c.send("a1 CAPABILITY\r\n") ==
        "* CAPABILITY " + caps + "\r\na1 OK CAPABILITY completed\r\n");
  CHECK(c.texts(EventKind::behaviour) == Texts{left_out});  // once per session
  CHECK(c.send("a2 STARTTLS\r\na3 starttls\r\n") ==
        "a2 BAD Unknown command\r\na3 BAD Unknown command\r\n");
  CHECK(c.action == Action::none);
  CHECK_FALSE(c.has_event(EventKind::starttls));
  const std::string answered =
      "STARTTLS answered as an unknown command with BAD (starttls_fault = \"not-advertised\")";
  CHECK(c.texts(EventKind::behaviour) == Texts{left_out, answered, answered});
  // The refusal does not give STARTTLS away either; the log says the client fell for the downgrade.
  CHECK(c.send("a4 LOGIN alice secret\r\n") ==
        "a4 NO [PRIVACYREQUIRED] TLS is required first: use the IMAPS (implicit TLS) port\r\n");
  CHECK(c.session.state() == State::not_authenticated);
  REQUIRE(c.texts(EventKind::diagnosis).size() == 1);
  CHECK(c.texts(EventKind::diagnosis)[0].find("LOGINDISABLED") != std::string::npos);

  // Where plaintext logins are allowed, STARTTLS stays unknown after login too.
  ImapPolicy open = world.port143;
  open.auth_requires_tls = false;
  Client o(world, open, false);
  CHECK(o.greeting ==
        "* OK [CAPABILITY " + kCapsTls + "] imap.example.test IMAP4rev1 sevenport ready\r\n");
  CHECK(o.send("b1 LOGIN alice secret\r\nb2 STARTTLS\r\n") ==
        "b1" + kLoggedIn + "b2 BAD Unknown command\r\n");
  CHECK(o.texts(EventKind::behaviour) == Texts{left_out, answered});
}

TEST_CASE("imap: starttls_fault = refused", "[imap][behaviour][starttls]") {
  World world;
  with_fault(world, StartTlsFault::refused);
  ImapPolicy policy = world.port143;
  policy.max_bad_commands = 2;  // a refusal is not the client's fault: it must not count
  Client c(world, policy, false);
  CHECK(c.greeting == kGreeting143);
  CHECK(c.events.empty());
  CHECK(c.send("a1 STARTTLS\r\na2 STARTTLS\r\na3 STARTTLS\r\na4 CAPABILITY\r\n") ==
        "a1 NO [UNAVAILABLE] STARTTLS not available, try again later\r\n"
        "a2 NO [UNAVAILABLE] STARTTLS not available, try again later\r\n"
        "a3 NO [UNAVAILABLE] STARTTLS not available, try again later\r\n"
        "* CAPABILITY " +
            kCaps143 + "\r\na4 OK CAPABILITY completed\r\n");
  CHECK(c.action == Action::none);
  CHECK_FALSE(c.has_event(EventKind::starttls));
  CHECK_FALSE(c.has_event(EventKind::protocol_error));
  const std::string refused =
      "STARTTLS refused with NO [UNAVAILABLE] (starttls_fault = \"refused\")";
  CHECK(c.texts(EventKind::behaviour) == Texts{refused, refused, refused});
}

TEST_CASE("imap: starttls_fault = inject-response", "[imap][behaviour][starttls]") {
  World world;
  with_fault(world, StartTlsFault::inject_response);
  Client c(world, world.port143, false);
  CHECK(c.greeting == kGreeting143);
  CHECK(c.events.empty());
  // The forged line follows the OK in the same bytes; what the client pipelined is still dropped.
  CHECK(c.send("a1 STARTTLS\r\na2 CAPABILITY\r\n") ==
        "a1 OK Begin TLS negotiation now\r\n* CAPABILITY IMAP4rev1 INJECTED AUTH=PLAIN\r\n");
  CHECK(c.action == Action::start_tls);
  CHECK(c.has_event(EventKind::starttls));
  const std::string injected =
      "forged plaintext line \"* CAPABILITY IMAP4rev1 INJECTED AUTH=PLAIN\" sent right after the "
      "STARTTLS OK (starttls_fault = \"inject-response\")";
  CHECK(c.texts(EventKind::behaviour) == Texts{injected});
  CHECK(c.tls_started().empty());
  CHECK(c.send("a3 CAPABILITY\r\n") ==
        "* CAPABILITY " + kCapsTls + "\r\na3 OK CAPABILITY completed\r\n");
  CHECK(c.send("a4 LOGIN alice secret\r\n") == "a4" + kLoggedIn);
  CHECK(c.texts(EventKind::behaviour).size() == 1);
}

TEST_CASE("imap: starttls_fault = abort-handshake is left to the transport",
          "[imap][behaviour][starttls]") {
  World world;
  with_fault(world, StartTlsFault::abort_handshake);
  Client c(world, world.port143, false);
  CHECK(c.greeting == kGreeting143);
  CHECK(c.send("a1 CAPABILITY\r\na2 STARTTLS\r\n") == "* CAPABILITY " + kCaps143 +
                                                          "\r\na1 OK CAPABILITY completed\r\n" +
                                                          "a2 OK Begin TLS negotiation now\r\n");
  CHECK(c.action == Action::start_tls);
  CHECK_FALSE(c.has_event(EventKind::behaviour));
}

TEST_CASE("imap: STARTTLS fault transcripts are the same at every byte split",
          "[imap][behaviour][split]") {
  for (const auto fault : {StartTlsFault::not_advertised, StartTlsFault::refused,
                           StartTlsFault::inject_response, StartTlsFault::abort_handshake}) {
    INFO("fault " << sevenport::to_string(fault));
    check_every_split([fault](World& world) { with_fault(world, fault); }, false,
                      {"a1 CAPABILITY\r\na2 STARTTLS\r\nx\r\n", "a3 CAPABILITY\r\n"});
  }
}

TEST_CASE("imap: account behaviours refuse LOGIN and AUTHENTICATE PLAIN with their own answers",
          "[imap][behaviour][accounts]") {
  struct Row {
    std::string login;
    std::string password;
    std::string answer;  // after the tag
    LoginOutcome outcome;
    std::string setting;  // what the session log must name
  };
  const std::vector<Row> rows = {
      {"carol@example.test", "carol-main",
       " NO [AUTHENTICATIONFAILED] Application-specific password required: log in with an app "
       "password",
       LoginOutcome::app_password_required, "app_password"},
      {"dave", "dave-pw",
       " NO [ALERT] IMAP access is disabled for this account: enable it in the account settings",
       LoginOutcome::service_disabled, "imap_enabled = false"},
      {"erin@example.test", "erin-pw",
       " NO [CONTACTADMIN] Account locked: contact your administrator", LoginOutcome::locked,
       "locked = true"},
      {"frank", "frank-pw", " NO [EXPIRED] Password expired: change it and log in again",
       LoginOutcome::password_expired, "password_expired = true"},
      // A wrong password learns nothing of the account's behaviours.
      {"erin", "guess", " NO [AUTHENTICATIONFAILED] Authentication failed",
       LoginOutcome::bad_credentials, "wrong user name or password"},
      {"carol", "carol-wrong", " NO [AUTHENTICATIONFAILED] Authentication failed",
       LoginOutcome::bad_credentials, "wrong user name or password"},
      {"nobody", "nobody-pw", " NO [AUTHENTICATIONFAILED] Authentication failed",
       LoginOutcome::bad_credentials, "wrong user name or password"},
  };
  for (const auto& row : rows) {
    INFO(row.login << " / " << row.password);
    World world;
    add_accounts(world);
    const auto reason = std::string(sevenport::describe(row.outcome, Service::imap));
    CHECK(reason.find(row.setting) != std::string::npos);

    Client login(world, world.port993, true);
    CHECK(login.send("a1 LOGIN " + row.login + " " + row.password + "\r\n") ==
          "a1" + row.answer + "\r\n");
    Client ir(world, world.port993, true);
    CHECK(ir.send("b1 AUTHENTICATE PLAIN " + plain(row.login, row.password) + "\r\n") ==
          "b1" + row.answer + "\r\n");
    Client sasl(world, world.port993, true);
    CHECK(sasl.send("c1 AUTHENTICATE PLAIN\r\n" + plain(row.login, row.password) + "\r\n") ==
          "+ \r\nc1" + row.answer + "\r\n");

    for (const Client* c : {&login, &ir, &sasl}) {
      CHECK(c->session.state() == State::not_authenticated);
      CHECK_FALSE(c->has_event(EventKind::authenticated));
      REQUIRE(c->texts(EventKind::auth_failed) == Texts{reason});
      for (const auto& e : c->events) {
        CHECK(e.text.find(row.password) == std::string::npos);
        if (e.kind == EventKind::auth_failed) {
          CHECK(e.mechanism == (c == &login ? "LOGIN" : "PLAIN"));
          CHECK(e.user == row.login);
          CHECK(e.over_tls);
        }
      }
    }
  }
}

TEST_CASE("imap: the app password logs in; POP3-only settings do not touch IMAP",
          "[imap][behaviour][accounts]") {
  World world;
  add_accounts(world);
  Client app(world, world.port993, true);
  CHECK(app.send("a1 LOGIN carol carol-app\r\n") == "a1" + kLoggedIn);
  CHECK(app.session.state() == State::authenticated);
  REQUIRE(app.events.size() == 1);
  CHECK(app.events[0].kind == EventKind::authenticated);
  CHECK(app.events[0].user == "carol@example.test");

  Client plain_app(world, world.port993, true);
  CHECK(plain_app.send("b1 AUTHENTICATE PLAIN " + plain("carol@example.test", "carol-app") +
                       "\r\n") == "b1" + kLoggedIn);

  Client grace(world, world.port993, true);
  CHECK(grace.send("c1 LOGIN grace grace-pw\r\n") == "c1" + kLoggedIn);

  // The same account refusals, after STARTTLS on port 143.
  Client starttls(world, world.port143, false);
  CHECK(starttls.send("d1 STARTTLS\r\n") == "d1 OK Begin TLS negotiation now\r\n");
  starttls.tls_started();
  CHECK(starttls.send("d2 LOGIN frank frank-pw\r\n") ==
        "d2 NO [EXPIRED] Password expired: change it and log in again\r\n");
  CHECK(starttls.send("d3 LOGIN carol carol-app\r\n") == "d3" + kLoggedIn);
}

TEST_CASE("imap: refused logins count as bad commands", "[imap][behaviour][accounts]") {
  World world;
  add_accounts(world);
  ImapPolicy policy = world.port993;
  policy.max_bad_commands = 2;
  Client c(world, policy, true);
  CHECK(c.send("a1 LOGIN erin erin-pw\r\na2 LOGIN erin erin-pw\r\na3 NOOP\r\n") ==
        "a1 NO [CONTACTADMIN] Account locked: contact your administrator\r\n"
        "a2 NO [CONTACTADMIN] Account locked: contact your administrator\r\n"
        "* BYE Too many bad commands\r\n");
  CHECK(c.action == Action::close);
}
