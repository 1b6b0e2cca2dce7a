// UserDirectory::login: every outcome, for every service, and the order of the checks: the
// password first, so that only someone who knows it learns anything about the account.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "protocols/common/users.hpp"

using namespace sevenport;

namespace {

const std::vector<Service> all_services = {Service::smtp, Service::imap, Service::pop3};

// alice@example.test with password "alice-pw", changed by `tweak`.
template <typename Tweak>
User alice(Tweak tweak) {
  User user("alice@example.test", "alice-pw");
  tweak(user);
  return user;
}
User alice() {
  return alice([](User&) {});
}

// A directory with `user` and bob@example.test (password "bob-pw").
UserDirectory directory_with(User user) {
  UserDirectory users;
  users.add(std::move(user));
  users.add(User("bob@example.test", "bob-pw"));
  return users;
}

}  // namespace

TEST_CASE("login: ok, and bad_credentials for every wrong guess", "[users]") {
  const UserDirectory users = directory_with(alice());
  for (const Service service : all_services) {
    INFO(to_string(service));
    const LoginResult ok = users.login("alice", "alice-pw", service);
    CHECK(ok);
    CHECK(ok.outcome == LoginOutcome::ok);
    CHECK(ok.address == "alice@example.test");
    CHECK_FALSE(ok.app_password);
    CHECK(users.login("ALICE@EXAMPLE.TEST", "alice-pw", service).address == "alice@example.test");
    for (const auto& [login, password] :
         std::vector<std::pair<std::string, std::string>>{{"alice", "Alice-pw"},
                                                          {"alice", ""},
                                                          {"alice", "alice-pw "},
                                                          {"carol", "alice-pw"},
                                                          {"alice@other.test", "alice-pw"},
                                                          {"", ""},
                                                          {"bob", "alice-pw"}}) {
      INFO(login << " / " << password);
      const LoginResult bad = users.login(login, password, service);
      CHECK_FALSE(bad);
      CHECK(bad.outcome == LoginOutcome::bad_credentials);
      CHECK(bad.address.empty());
    }
  }
}

TEST_CASE("login: an app password replaces the main one", "[users]") {
  const UserDirectory users = directory_with(alice([](User& u) { u.app_password = "app-pw"; }));
  for (const Service service : all_services) {
    INFO(to_string(service));
    const LoginResult main = users.login("alice", "alice-pw", service);
    CHECK_FALSE(main);
    CHECK(main.outcome == LoginOutcome::app_password_required);
    CHECK(main.address == "alice@example.test");
    CHECK_FALSE(main.app_password);
    const LoginResult app = users.login("alice@example.test", "app-pw", service);
    CHECK(app);
    CHECK(app.outcome == LoginOutcome::ok);
    CHECK(app.address == "alice@example.test");
    CHECK(app.app_password);
    CHECK(users.login("alice", "app-pw!", service).outcome == LoginOutcome::bad_credentials);
  }
  // The check that ignores behaviours knows the main password only.
  CHECK(users.authenticate("alice", "alice-pw") ==
        std::optional<std::string>("alice@example.test"));
  CHECK_FALSE(users.authenticate("alice", "app-pw"));
}

TEST_CASE("login: IMAP or POP3 access switched off refuses that service only", "[users]") {
  const UserDirectory no_imap = directory_with(alice([](User& u) { u.imap_enabled = false; }));
  CHECK(no_imap.login("alice", "alice-pw", Service::imap).outcome ==
        LoginOutcome::service_disabled);
  CHECK(no_imap.login("alice", "alice-pw", Service::pop3));
  CHECK(no_imap.login("alice", "alice-pw", Service::smtp));
  CHECK(no_imap.login("alice", "wrong", Service::imap).outcome == LoginOutcome::bad_credentials);

  const UserDirectory no_pop3 = directory_with(alice([](User& u) { u.pop3_enabled = false; }));
  const LoginResult refused = no_pop3.login("alice", "alice-pw", Service::pop3);
  CHECK(refused.outcome == LoginOutcome::service_disabled);
  CHECK(refused.address == "alice@example.test");
  CHECK(no_pop3.login("alice", "alice-pw", Service::imap));
  CHECK(no_pop3.login("alice", "alice-pw", Service::smtp));
  CHECK(no_pop3.login("alice", "wrong", Service::pop3).outcome == LoginOutcome::bad_credentials);

  // Other users are not affected.
  CHECK(no_imap.login("bob", "bob-pw", Service::imap));
  CHECK(no_pop3.login("bob", "bob-pw", Service::pop3));

  CHECK(describe(LoginOutcome::service_disabled, Service::imap) ==
        "IMAP access is disabled for this account (imap_enabled = false)");
  CHECK(describe(LoginOutcome::service_disabled, Service::pop3) ==
        "POP3 access is disabled for this account (pop3_enabled = false)");
}

TEST_CASE("login: locked and password_expired refuse every service", "[users]") {
  const UserDirectory locked = directory_with(alice([](User& u) { u.locked = true; }));
  const UserDirectory expired = directory_with(alice([](User& u) { u.password_expired = true; }));
  for (const Service service : all_services) {
    INFO(to_string(service));
    const LoginResult l = locked.login("alice", "alice-pw", service);
    CHECK(l.outcome == LoginOutcome::locked);
    CHECK(l.address == "alice@example.test");
    const LoginResult e = expired.login("alice", "alice-pw", service);
    CHECK(e.outcome == LoginOutcome::password_expired);
    CHECK(e.address == "alice@example.test");
  }
  CHECK(describe(LoginOutcome::locked, Service::smtp) == "the account is locked (locked = true)");
  CHECK(describe(LoginOutcome::password_expired, Service::smtp) ==
        "the account's password has expired (password_expired = true)");
  CHECK(describe(LoginOutcome::ok, Service::smtp).empty());
}

TEST_CASE("login: the password is checked first, so a wrong one reveals nothing", "[users]") {
  const UserDirectory users = directory_with(alice([](User& u) {
    u.app_password = "app-pw";
    u.imap_enabled = false;
    u.pop3_enabled = false;
    u.locked = true;
    u.password_expired = true;
  }));
  for (const Service service : all_services) {
    INFO(to_string(service));
    const LoginResult wrong = users.login("alice", "guess", service);
    CHECK(wrong.outcome == LoginOutcome::bad_credentials);
    CHECK(wrong.address.empty());
    CHECK_FALSE(wrong.app_password);
    // With a right password, locked wins over everything, whichever password it was.
    CHECK(users.login("alice", "alice-pw", service).outcome == LoginOutcome::locked);
    CHECK(users.login("alice", "app-pw", service).outcome == LoginOutcome::locked);
  }
}

TEST_CASE("login: behaviours are checked in order", "[users]") {
  // locked, then password expired, then service disabled, then app password required.
  User u = alice([](User& user) {
    user.app_password = "app-pw";
    user.imap_enabled = false;
    user.password_expired = true;
  });
  CHECK(directory_with(u).login("alice", "alice-pw", Service::imap).outcome ==
        LoginOutcome::password_expired);
  u.password_expired = false;
  CHECK(directory_with(u).login("alice", "alice-pw", Service::imap).outcome ==
        LoginOutcome::service_disabled);
  CHECK(directory_with(u).login("alice", "app-pw", Service::imap).outcome ==
        LoginOutcome::service_disabled);
  CHECK(directory_with(u).login("alice", "alice-pw", Service::pop3).outcome ==
        LoginOutcome::app_password_required);
  CHECK(directory_with(u).login("alice", "app-pw", Service::pop3));
}

TEST_CASE("login names and service names", "[users]") {
  const UserDirectory users = directory_with([] {
    User other("bob@other.test", "other-pw");
    other.locked = true;
    return other;
  }());
  // "bob" is ambiguous: no login by local part, whatever the password.
  CHECK(users.login("bob", "bob-pw", Service::smtp).outcome == LoginOutcome::bad_credentials);
  CHECK(users.login("bob@example.test", "bob-pw", Service::smtp));
  CHECK(users.login("bob@other.test", "other-pw", Service::smtp).outcome == LoginOutcome::locked);
  CHECK(to_string(Service::smtp) == "smtp");
  CHECK(to_string(Service::imap) == "imap");
  CHECK(to_string(Service::pop3) == "pop3");
}
