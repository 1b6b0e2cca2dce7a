// Account behaviours at AUTH (docs/BEHAVIOURS.md, Accounts): app password required, locked
// account, expired password. Each answer is given only for the right password; the auth_failed
// event names the reason.
#include <catch2/catch.hpp>

#include "smtp_harness.hpp"

using namespace smtp_test;
using sevenport::describe;
using sevenport::LoginOutcome;
using sevenport::Service;
using sevenport::User;

namespace {

constexpr std::string_view kEhlo = "EHLO client.example.test\r\n";
constexpr std::string_view kOkAuth = "235 2.7.0 Authentication successful\r\n";
constexpr std::string_view kBadAuth = "535 5.7.8 Authentication credentials invalid\r\n";
constexpr std::string_view kAppPasswordRequired =
    "534-5.7.9 Application-specific password required.\r\n"
    "534 5.7.9 Log in with an app password for this account, not the account password\r\n";

// carol@example.test: password "main-pw", app password "app-pw-123".
// \0carol@example.test\0main-pw
constexpr std::string_view kCarolMain = "AGNhcm9sQGV4YW1wbGUudGVzdABtYWluLXB3";
// \0carol@example.test\0app-pw-123
constexpr std::string_view kCarolApp = "AGNhcm9sQGV4YW1wbGUudGVzdABhcHAtcHctMTIz";
// \0carol@example.test\0nope
constexpr std::string_view kCarolWrong = "AGNhcm9sQGV4YW1wbGUudGVzdABub3Bl";

// carol@example.test with password "main-pw", changed by `adjust`.
template <typename Adjust>
User carol(Adjust adjust) {
  User user("carol@example.test", "main-pw");
  adjust(user);
  return user;
}

std::string auth_plain(std::string_view response) {
  return "AUTH PLAIN " + std::string(response) + "\r\n";
}

void greet(Harness& h) {
  h.start();
  h.send(kEhlo);
}

// No password, in clear or in base64, appears in any event.
void check_no_secret(const Harness& h) {
  for (const auto& e : h.events) {
    for (const auto* field : {&e.text, &e.user, &e.mechanism}) {
      for (const std::string_view secret : std::initializer_list<std::string_view>{
               "main-pw", "app-pw-123", "nope", "bWFpbi1wdw", "YXBwLXB3LTEyMw", kCarolMain,
               kCarolApp, kCarolWrong}) {
        CHECK(field->find(secret) == std::string::npos);
      }
    }
  }
}

}  // namespace

TEST_CASE("app password required: the main password gets 534 5.7.9", "[smtp][auth][behaviour]") {
  Harness h(Role::implicit);
  h.users.add(carol([](User& u) { u.app_password = "app-pw-123"; }));
  greet(h);
  CHECK(h.send(auth_plain(kCarolMain)) == kAppPasswordRequired);
  CHECK(h.session->auth_user().empty());
  CHECK(h.session->state() == SmtpSession::State::greeted);
  const auto failed = h.last(EventKind::auth_failed);
  REQUIRE(failed);
  CHECK(failed->text == describe(LoginOutcome::app_password_required, Service::smtp));
  CHECK(failed->user == "carol@example.test");
  CHECK(failed->mechanism == "PLAIN");
  CHECK(h.behaviours() ==
        std::vector<std::string>{
            "login of carol@example.test refused with 534 5.7.9: " +
            std::string(describe(LoginOutcome::app_password_required, Service::smtp))});
  CHECK(h.count(EventKind::protocol_error) == 0);
  SECTION("a wrong password gets the usual answer") {
    CHECK(h.send(auth_plain(kCarolWrong)) == kBadAuth);
    CHECK(h.last(EventKind::auth_failed)->text ==
          describe(LoginOutcome::bad_credentials, Service::smtp));
    CHECK(h.behaviours().size() == 1);
  }
  SECTION("the app password logs in, with LOGIN too") {
    CHECK(h.send("AUTH LOGIN\r\nY2Fyb2w=\r\nYXBwLXB3LTEyMw==\r\n") ==
          "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n" + std::string(kOkAuth));
    CHECK(h.session->auth_user() == "carol@example.test");
    CHECK(h.last(EventKind::authenticated)->user == "carol@example.test");
  }
  check_no_secret(h);
}

TEST_CASE("locked account: 535 5.7.8 account locked", "[smtp][auth][behaviour]") {
  Harness h(Role::implicit);
  h.users.add(carol([](User& u) {
    u.app_password = "app-pw-123";
    u.locked = true;
  }));
  greet(h);
  SECTION("with the main password") {
    CHECK(h.send(auth_plain(kCarolMain)) == "535 5.7.8 Authentication failed: account locked\r\n");
  }
  SECTION("with the app password") {
    CHECK(h.send(auth_plain(kCarolApp)) == "535 5.7.8 Authentication failed: account locked\r\n");
  }
  CHECK(h.session->auth_user().empty());
  CHECK(h.last(EventKind::auth_failed)->text == describe(LoginOutcome::locked, Service::smtp));
  CHECK(h.behaviours() ==
        std::vector<std::string>{"login of carol@example.test refused with 535 5.7.8: " +
                                 std::string(describe(LoginOutcome::locked, Service::smtp))});
  // A guesser learns nothing: a wrong password gets the usual answer.
  CHECK(h.send(auth_plain(kCarolWrong)) == kBadAuth);
  check_no_secret(h);
}

TEST_CASE("expired password: 535 5.7.8 password expired", "[smtp][auth][behaviour]") {
  Harness h(Role::implicit);
  h.users.add(carol([](User& u) { u.password_expired = true; }));
  greet(h);
  CHECK(h.send("AUTH LOGIN Y2Fyb2xAZXhhbXBsZS50ZXN0\r\nbWFpbi1wdw==\r\n") ==
        "334 UGFzc3dvcmQ6\r\n"
        "535 5.7.8 Authentication failed: password expired, change it and log in again\r\n");
  const auto failed = h.last(EventKind::auth_failed);
  REQUIRE(failed);
  CHECK(failed->text == describe(LoginOutcome::password_expired, Service::smtp));
  CHECK(failed->mechanism == "LOGIN");
  CHECK(h.behaviours().size() == 1);
  CHECK(h.send(auth_plain(kCarolWrong)) == kBadAuth);
  check_no_secret(h);
}

TEST_CASE("IMAP and POP3 switches do not affect SMTP logins", "[smtp][auth][behaviour]") {
  Harness h(Role::implicit);
  h.users.add(carol([](User& u) {
    u.imap_enabled = false;
    u.pop3_enabled = false;
  }));
  greet(h);
  CHECK(h.send(auth_plain(kCarolMain)) == kOkAuth);
  CHECK(h.behaviours().empty());
}

TEST_CASE("wrong credentials name the reason in the auth_failed event", "[smtp][auth]") {
  Harness h(Role::implicit);
  greet(h);
  CHECK(h.send(auth_plain(kCarolWrong)) == kBadAuth);
  CHECK(h.last(EventKind::auth_failed)->text ==
        describe(LoginOutcome::bad_credentials, Service::smtp));
  // An ordinary failure is a protocol error, not a behaviour.
  CHECK(h.count(EventKind::protocol_error) == 1);
  CHECK(h.behaviours().empty());
}

TEST_CASE("account refusals count towards the bad-command limit", "[smtp][auth][behaviour]") {
  Harness h(Role::implicit);
  h.policy.max_bad_commands = 2;
  h.users.add(carol([](User& u) { u.locked = true; }));
  greet(h);
  CHECK(h.send(auth_plain(kCarolMain) + auth_plain(kCarolMain) + "NOOP\r\n") ==
        "535 5.7.8 Authentication failed: account locked\r\n"
        "535 5.7.8 Authentication failed: account locked\r\n"
        "421 4.7.0 mx.example.test Too many errors, closing connection\r\n");
  CHECK(h.action == Action::close);
}
