// Listener behaviour keys and [[users]] behaviour keys (docs/BEHAVIOURS.md): defaults, every
// accepted value, and each validation error with its exact position.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/config.hpp"

using namespace sevenport::config;
using sevenport::MailboxFull;
using sevenport::Security;
using sevenport::StartTlsFault;

namespace {

std::string error_of(const std::string& toml) {
  try {
    load_string(toml, "t.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

// A listener table with `extra` lines appended: they start at line 5.
std::string listener(const std::string& extra, const std::string& protocol = "smtp",
                     const std::string& security = "starttls") {
  return "[listeners.x]\nprotocol = \"" + protocol + "\"\nport = 0\nsecurity = \"" + security +
         "\"\n" + extra;
}

const ListenerBehaviour& behaviour_of(const std::string& extra,
                                      const std::string& protocol = "smtp",
                                      const std::string& security = "starttls") {
  static Config config;
  config = load_string(listener(extra, protocol, security), "t.toml");
  return config.listeners.at(0).behaviour;
}

// A user table with `extra` lines appended: they start at line 4.
std::string user(const std::string& extra) {
  return "[[users]]\naddress = \"alice@example.test\"\npassword = \"secret\"\n" + extra;
}

struct Case {
  const char* what;
  std::string toml;
  std::string message;
};

void check_cases(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    INFO(c.what << "\n---\n" << c.toml << "\n---");
    CHECK(error_of(c.toml) == c.message);
  }
}

}  // namespace

TEST_CASE("behaviours are off by default, in the default config too", "[config][behaviour]") {
  const ListenerBehaviour defaults;
  CHECK(defaults.starttls_fault == StartTlsFault::none);
  CHECK(defaults.greeting == Greeting::normal);
  CHECK(defaults.greeting_delay_ms == 0);
  CHECK(defaults.command_delay_ms == 0);
  CHECK(defaults.drop_after_commands == 0);
  CHECK_FALSE(defaults.hint);
  CHECK_FALSE(defaults.reject_unknown_users);
  CHECK(defaults.greylist_seconds == 0);
  CHECK(defaults.rate_limit_messages == 0);
  CHECK(defaults.rate_limit_window_seconds == 60);
  for (const Listener& l : load_default().listeners) {
    INFO("listener " << l.name);
    const ListenerBehaviour& b = l.behaviour;
    CHECK(b.starttls_fault == StartTlsFault::none);
    CHECK(b.greeting == Greeting::normal);
    CHECK(b.greeting_delay_ms == 0);
    CHECK(b.command_delay_ms == 0);
    CHECK(b.drop_after_commands == 0);
    CHECK_FALSE(b.hint);
    CHECK_FALSE(b.reject_unknown_users);
    CHECK(b.greylist_seconds == 0);
    CHECK(b.rate_limit_messages == 0);
    CHECK(b.rate_limit_window_seconds == 60);
  }
  for (const UserEntry& u : load_default().users) {
    INFO("user " << u.address);
    CHECK(u.app_password.empty());
    CHECK(u.imap_enabled);
    CHECK(u.pop3_enabled);
    CHECK_FALSE(u.locked);
    CHECK_FALSE(u.password_expired);
    CHECK(u.mailbox_full == MailboxFull::no);
  }
}

TEST_CASE("starttls_fault takes every value on a starttls listener", "[config][behaviour]") {
  const std::vector<std::pair<const char*, StartTlsFault>> values = {
      {"none", StartTlsFault::none},
      {"not-advertised", StartTlsFault::not_advertised},
      {"refused", StartTlsFault::refused},
      {"abort-handshake", StartTlsFault::abort_handshake},
      {"inject-response", StartTlsFault::inject_response}};
  for (const auto& [name, fault] : values) {
    for (const char* protocol : {"smtp", "imap", "pop3"}) {
      INFO(name << " on " << protocol);
      const auto& b = behaviour_of("starttls_fault = \"" + std::string(name) + "\"\n", protocol);
      CHECK(b.starttls_fault == fault);
      CHECK(sevenport::to_string(fault) == name);
    }
  }
}

TEST_CASE("greeting takes every value, and to_string names it", "[config][behaviour]") {
  const std::vector<std::pair<const char*, Greeting>> values = {
      {"normal", Greeting::normal},
      {"silent", Greeting::silent},
      {"close", Greeting::close},
      {"unavailable", Greeting::unavailable}};
  for (const auto& [name, greeting] : values) {
    for (const char* security : {"none", "starttls", "implicit"}) {
      INFO(name << " with security " << security);
      CHECK(behaviour_of("greeting = \"" + std::string(name) + "\"\n", "imap", security).greeting ==
            greeting);
    }
    CHECK(to_string(greeting) == name);
  }
}

TEST_CASE("timing, drop and hint keys are read at their bounds", "[config][behaviour]") {
  const auto& low = behaviour_of(
      "greeting_delay_ms = 0\ncommand_delay_ms = 0\ndrop_after_commands = 0\nhint = false\n",
      "pop3", "implicit");
  CHECK(low.greeting_delay_ms == 0);
  CHECK(low.command_delay_ms == 0);
  CHECK(low.drop_after_commands == 0);
  CHECK_FALSE(low.hint);
  const auto& high = behaviour_of(
      "greeting_delay_ms = 600000\ncommand_delay_ms = 600000\ndrop_after_commands = 1000000\n"
      "hint = true\n",
      "pop3", "implicit");
  CHECK(high.greeting_delay_ms == 600000);
  CHECK(high.command_delay_ms == 600000);
  CHECK(high.drop_after_commands == 1000000);
  CHECK(high.hint);
  // The protocol-independent keys work on every protocol and security.
  for (const char* protocol : {"smtp", "imap", "pop3"}) {
    for (const char* security : {"none", "starttls", "implicit"}) {
      INFO(protocol << " " << security);
      const auto& b = behaviour_of(
          "greeting_delay_ms = 1500\ncommand_delay_ms = 250\n"
          "drop_after_commands = 3\n",
          protocol, security);
      CHECK(b.greeting_delay_ms == 1500);
      CHECK(b.command_delay_ms == 250);
      CHECK(b.drop_after_commands == 3);
    }
  }
}

TEST_CASE("SMTP behaviour keys are read", "[config][behaviour]") {
  const auto& b = behaviour_of(
      "reject_unknown_users = true\ngreylist_seconds = 86400\nrate_limit_messages = 1000000\n"
      "rate_limit_window_seconds = 86400\n",
      "smtp", "none");
  CHECK(b.reject_unknown_users);
  CHECK(b.greylist_seconds == 86400);
  CHECK(b.rate_limit_messages == 1000000);
  CHECK(b.rate_limit_window_seconds == 86400);
  const auto& low = behaviour_of(
      "reject_unknown_users = false\ngreylist_seconds = 0\nrate_limit_messages = 0\n"
      "rate_limit_window_seconds = 1\n");
  CHECK_FALSE(low.reject_unknown_users);
  CHECK(low.greylist_seconds == 0);
  CHECK(low.rate_limit_messages == 0);
  CHECK(low.rate_limit_window_seconds == 1);
}

TEST_CASE("listener behaviour keys are checked", "[config][behaviour]") {
  check_cases({
      {"starttls_fault value", listener("starttls_fault = \"strip\"\n"),
       "t.toml:5:18: listeners.x.starttls_fault: expected one of none, not-advertised, refused, "
       "abort-handshake, inject-response, got \"strip\""},
      {"starttls_fault type", listener("starttls_fault = true\n"),
       "t.toml:5:18: listeners.x.starttls_fault: expected one of none, not-advertised, refused, "
       "abort-handshake, inject-response, got true"},
      {"starttls_fault on implicit", listener("starttls_fault = \"refused\"\n", "imap", "implicit"),
       "t.toml:5:18: listeners.x.starttls_fault: only listeners with security = \"starttls\" "
       "offer STARTTLS; this one's security is \"implicit\""},
      {"starttls_fault on none, even \"none\"",
       listener("starttls_fault = \"none\"\n", "smtp", "none"),
       "t.toml:5:18: listeners.x.starttls_fault: only listeners with security = \"starttls\" "
       "offer STARTTLS; this one's security is \"none\""},
      {"greeting value", listener("greeting = \"loud\"\n"),
       "t.toml:5:12: listeners.x.greeting: expected one of normal, silent, close, unavailable, "
       "got \"loud\""},
      {"greeting case", listener("greeting = \"Silent\"\n"),
       "t.toml:5:12: listeners.x.greeting: expected one of normal, silent, close, unavailable, "
       "got \"Silent\""},
      {"greeting_delay_ms too big", listener("greeting_delay_ms = 600001\n"),
       "t.toml:5:21: listeners.x.greeting_delay_ms: expected an integer from 0 to 600000, got "
       "600001"},
      {"greeting_delay_ms negative", listener("greeting_delay_ms = -1\n"),
       "t.toml:5:21: listeners.x.greeting_delay_ms: expected an integer from 0 to 600000, got -1"},
      {"command_delay_ms float", listener("command_delay_ms = 1.5\n"),
       "t.toml:5:20: listeners.x.command_delay_ms: expected an integer from 0 to 600000, got 1.5"},
      {"command_delay_ms string", listener("command_delay_ms = \"100\"\n"),
       "t.toml:5:20: listeners.x.command_delay_ms: expected an integer from 0 to 600000, got "
       "\"100\""},
      {"drop_after_commands", listener("drop_after_commands = 1000001\n"),
       "t.toml:5:23: listeners.x.drop_after_commands: expected an integer from 0 to 1000000, got "
       "1000001"},
      {"hint type", listener("hint = \"yes\"\n", "smtp", "implicit"),
       "t.toml:5:8: listeners.x.hint: expected true or false, got \"yes\""},
      {"hint on starttls", listener("hint = true\n"),
       "t.toml:5:8: listeners.x.hint: only listeners with security = \"implicit\" give the hint "
       "(to a client that speaks plaintext to them); this one's security is \"starttls\""},
      {"hint on none, even false", listener("hint = false\n", "pop3", "none"),
       "t.toml:5:8: listeners.x.hint: only listeners with security = \"implicit\" give the hint "
       "(to a client that speaks plaintext to them); this one's security is \"none\""},
      {"reject_unknown_users type", listener("reject_unknown_users = 1\n"),
       "t.toml:5:24: listeners.x.reject_unknown_users: expected true or false, got 1"},
      {"greylist_seconds", listener("greylist_seconds = 86401\n"),
       "t.toml:5:20: listeners.x.greylist_seconds: expected an integer from 0 to 86400, got 86401"},
      {"rate_limit_messages", listener("rate_limit_messages = -1\n"),
       "t.toml:5:23: listeners.x.rate_limit_messages: expected an integer from 0 to 1000000, got "
       "-1"},
      {"rate_limit_window_seconds zero", listener("rate_limit_window_seconds = 0\n"),
       "t.toml:5:29: listeners.x.rate_limit_window_seconds: expected an integer from 1 to 86400, "
       "got 0"},
      {"rate_limit_window_seconds too big", listener("rate_limit_window_seconds = 86401\n"),
       "t.toml:5:29: listeners.x.rate_limit_window_seconds: expected an integer from 1 to 86400, "
       "got 86401"},
      {"typo", listener("greting = \"silent\"\n"),
       "t.toml:5:1: listeners.x.greting: unknown key (did you mean greeting?)"},
      {"typo, prefix", listener("greylist = 60\n"),
       "t.toml:5:1: listeners.x.greylist: unknown key (did you mean greylist_seconds?)"},
  });
}

TEST_CASE("SMTP behaviour keys are errors on IMAP and POP3 listeners", "[config][behaviour]") {
  const std::vector<std::pair<std::string, std::string>> keys = {
      {"reject_unknown_users", "true"},
      {"greylist_seconds", "60"},
      {"rate_limit_messages", "5"},
      {"rate_limit_window_seconds", "60"}};
  for (const char* protocol : {"imap", "pop3"}) {
    for (const auto& [key, value] : keys) {
      const std::string toml = listener(key + " = " + value + "\n", protocol);
      INFO(toml);
      CHECK(error_of(toml) == "t.toml:5:" + std::to_string(key.size() + 4) + ": listeners.x." +
                                  key + ": only smtp listeners take this key; this one is " +
                                  protocol);
    }
  }
}

TEST_CASE("user behaviour keys are read", "[config][behaviour]") {
  const Config config =
      load_string(user("app_password = \"app-secret\"\nimap_enabled = false\npop3_enabled = false\n"
                       "locked = true\npassword_expired = true\nmailbox_full = \"temporary\"\n") +
                      "[[users]]\naddress = \"bob@example.test\"\npassword = \"b\"\n"
                      "mailbox_full = \"permanent\"\nimap_enabled = true\npop3_enabled = true\n"
                      "locked = false\npassword_expired = false\n",
                  "t.toml");
  REQUIRE(config.users.size() == 2);
  const UserEntry& alice = config.users[0];
  CHECK(alice.password == "secret");
  CHECK(alice.app_password == "app-secret");
  CHECK_FALSE(alice.imap_enabled);
  CHECK_FALSE(alice.pop3_enabled);
  CHECK(alice.locked);
  CHECK(alice.password_expired);
  CHECK(alice.mailbox_full == MailboxFull::temporary);
  const UserEntry& bob = config.users[1];
  CHECK(bob.app_password.empty());
  CHECK(bob.imap_enabled);
  CHECK(bob.pop3_enabled);
  CHECK_FALSE(bob.locked);
  CHECK_FALSE(bob.password_expired);
  CHECK(bob.mailbox_full == MailboxFull::permanent);
}

TEST_CASE("user behaviour keys are checked", "[config][behaviour]") {
  check_cases({
      {"app_password empty", user("app_password = \"\"\n"),
       "t.toml:4:16: users[0].app_password: must not be empty"},
      {"app_password type", user("app_password = 1234\n"),
       "t.toml:4:16: users[0].app_password: expected a string, got 1234"},
      {"app_password same as password", user("app_password = \"secret\"\n"),
       "t.toml:4:16: users[0].app_password: must differ from password"},
      {"imap_enabled", user("imap_enabled = \"no\"\n"),
       "t.toml:4:16: users[0].imap_enabled: expected true or false, got \"no\""},
      {"pop3_enabled", user("pop3_enabled = 0\n"),
       "t.toml:4:16: users[0].pop3_enabled: expected true or false, got 0"},
      {"locked", user("locked = \"true\"\n"),
       "t.toml:4:10: users[0].locked: expected true or false, got \"true\""},
      {"password_expired", user("password_expired = 1\n"),
       "t.toml:4:20: users[0].password_expired: expected true or false, got 1"},
      {"mailbox_full value", user("mailbox_full = \"yes\"\n"),
       "t.toml:4:16: users[0].mailbox_full: expected one of temporary, permanent, got \"yes\""},
      {"mailbox_full boolean", user("mailbox_full = true\n"),
       "t.toml:4:16: users[0].mailbox_full: expected one of temporary, permanent, got true"},
      {"typo", user("app_pasword = \"x\"\n"),
       "t.toml:4:1: users[0].app_pasword: unknown key (did you mean app_password?)"},
      {"typo, prefix", user("imap = false\n"),
       "t.toml:4:1: users[0].imap: unknown key (did you mean imap_enabled?)"},
  });
}

TEST_CASE("a [scenario] table in a config file is an error", "[config][behaviour]") {
  check_cases({
      {"table", "hostname = \"h\"\n\n[scenario]\nsummary = \"x\"\n",
       "t.toml:3:1: scenario: [scenario] belongs in scenario files (scenarios/NAME.toml, loaded "
       "with --scenario NAME), not in a config file"},
      {"value", "scenario = \"greylisting\"\n",
       "t.toml:1:12: scenario: [scenario] belongs in scenario files (scenarios/NAME.toml, loaded "
       "with --scenario NAME), not in a config file"},
  });
}
