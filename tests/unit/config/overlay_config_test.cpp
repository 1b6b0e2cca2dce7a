// load_with_overlay: a scenario file applied over a base config. Tables merge, other values
// (arrays included) replace, [scenario] is read and taken out, and errors name the file the
// offending key came from.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "config/config.hpp"

using namespace sevenport::config;
using sevenport::MailboxFull;
using sevenport::Security;
using sevenport::StartTlsFault;

namespace {

const std::string kScenario = "[scenario]\nsummary = \"Something breaks\"\n";

// The default config with `overlay` applied; the overlay is named "s.toml".
Config overlaid(const std::string& overlay, ScenarioInfo* info = nullptr) {
  return load_with_overlay(default_config_toml(), "<built-in default>", overlay, "s.toml", info);
}

// The ConfigError text for base "b.toml" with overlay "s.toml", or "<no error>".
std::string error_of(const std::string& base, const std::string& overlay,
                     ScenarioInfo* info = nullptr) {
  try {
    load_with_overlay(base, "b.toml", overlay, "s.toml", info);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

// The same with the default config as the base.
std::string error_over_default(const std::string& overlay) {
  try {
    overlaid(overlay);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

// The line of the default config on which `text` (a whole line) first appears after `after`.
std::string default_line(const std::string& after, const std::string& text) {
  const std::string toml(default_config_toml());
  const auto start = toml.find("\n" + after + "\n");
  const auto at = toml.find("\n" + text + "\n", start);
  REQUIRE(at != std::string::npos);
  return std::to_string(std::count(toml.begin(), toml.begin() + static_cast<long>(at) + 1, '\n') +
                        1);
}

const Listener& find(const Config& config, const std::string& name) {
  for (const Listener& l : config.listeners)
    if (l.name == name) return l;
  FAIL("no listener " << name);
  throw;
}

}  // namespace

TEST_CASE("an overlay with only [scenario] leaves the base as it was", "[config][overlay]") {
  const Config base = load_default();
  const Config config = overlaid(kScenario);
  CHECK(config.source == "<built-in default> + s.toml");
  CHECK(config.hostname == base.hostname);
  CHECK(config.local_domains == base.local_domains);
  REQUIRE(config.users.size() == base.users.size());
  REQUIRE(config.listeners.size() == base.listeners.size());
  for (std::size_t i = 0; i < base.listeners.size(); ++i) {
    CHECK(config.listeners[i].name == base.listeners[i].name);
    CHECK(config.listeners[i].port == base.listeners[i].port);
    CHECK(config.listeners[i].security == base.listeners[i].security);
  }
  // The [scenario] table is optional when nobody asks for it.
  CHECK(overlaid("").listeners.size() == base.listeners.size());
}

TEST_CASE("tables merge key by key, at every depth", "[config][overlay]") {
  const Config config = overlaid(kScenario + R"(
[listeners.smtp]
greeting = "silent"
greylist_seconds = 30

[listeners.submission]
starttls_fault = "refused"

[http]
port = 9025
)");
  const Listener& smtp = find(config, "smtp");
  CHECK(smtp.behaviour.greeting == Greeting::silent);
  CHECK(smtp.behaviour.greylist_seconds == 30);
  // The base's keys of the same table stay.
  CHECK(smtp.port == 25);
  CHECK(smtp.security == Security::starttls);
  CHECK(smtp.role == SmtpRole::mx);
  const Listener& submission = find(config, "submission");
  CHECK(submission.behaviour.starttls_fault == StartTlsFault::refused);
  CHECK(submission.role == SmtpRole::submission);
  CHECK(find(config, "imap").behaviour.greeting == Greeting::normal);
  CHECK(config.http.port == 9025);
  CHECK(config.http.address == "127.0.0.1");
  // Listeners keep the base's order; new ones come after.
  REQUIRE(config.listeners.size() == 7);
  CHECK(config.listeners[0].name == "smtp");
  CHECK(config.listeners[6].name == "pop3s");
}

TEST_CASE("other values replace the base's, arrays of tables included", "[config][overlay]") {
  const Config config = overlaid(R"(
hostname = "mx.example.test"
local_domains = ["other.test"]
)" + kScenario + R"(

[[users]]
address = "carol@other.test"
password = "carol-password"
app_password = "carol-app"
mailbox_full = "permanent"

[listeners.extra]
protocol = "pop3"
port = 1110
security = "none"
greeting = "unavailable"
)");
  CHECK(config.hostname == "mx.example.test");
  CHECK(config.local_domains == std::vector<std::string>{"other.test"});
  REQUIRE(config.users.size() == 1);
  CHECK(config.users[0].address == "carol@other.test");
  CHECK(config.users[0].app_password == "carol-app");
  CHECK(config.users[0].mailbox_full == MailboxFull::permanent);
  REQUIRE(config.listeners.size() == 8);
  CHECK(config.listeners[7].name == "extra");
  CHECK(config.listeners[7].behaviour.greeting == Greeting::unavailable);
}

TEST_CASE("a value may replace a table and a table a value", "[config][overlay]") {
  const std::string base = "hostname = \"h\"\n[http]\nport = 1\n";
  // The overlay's table replaces the base's string whole: the result is checked as usual.
  CHECK(error_of(base, "hostname = { a = 1 }\n") ==
        "s.toml:1:12: hostname: expected a string, got a table");
  CHECK(error_of(base, "http = false\n") == "s.toml:1:8: http: expected a table, got false");
  CHECK(error_of(base, "[hostname]\n") == "s.toml:1:1: hostname: expected a string, got a table");
}

TEST_CASE("[scenario] is read into ScenarioInfo and is not config", "[config][overlay]") {
  ScenarioInfo info;
  info.name = "greylisting";
  const Config config = overlaid(R"(
[scenario]
summary = "451 4.7.1 Greylisted"
explanation = "The server says try later."
try = ["swaks --to alice@example.test --server 127.0.0.1:25", "curl smtp://127.0.0.1:25"]
curl_error = "curl: (55) RCPT failed: 451"
python_error = "smtplib.SMTPRecipientsRefused"

[listeners.smtp]
greylist_seconds = 60
)",
                                 &info);
  CHECK(info.name == "greylisting");  // the caller's
  CHECK(info.summary == "451 4.7.1 Greylisted");
  CHECK(info.explanation == "The server says try later.");
  CHECK(info.try_commands ==
        std::vector<std::string>{"swaks --to alice@example.test --server 127.0.0.1:25",
                                 "curl smtp://127.0.0.1:25"});
  CHECK(info.curl_error == "curl: (55) RCPT failed: 451");
  CHECK(info.python_error == "smtplib.SMTPRecipientsRefused");
  CHECK(find(config, "smtp").behaviour.greylist_seconds == 60);

  ScenarioInfo minimal;
  overlaid(kScenario, &minimal);
  CHECK(minimal.summary == "Something breaks");
  CHECK(minimal.explanation.empty());
  CHECK(minimal.try_commands.empty());
  CHECK(minimal.curl_error.empty());
  CHECK(minimal.python_error.empty());
}

TEST_CASE("[scenario] keys are checked, at the overlay file", "[config][overlay]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[scenario]\nexplanation = \"x\"\n", "s.toml:1:1: scenario.summary: missing required key"},
      {"[scenario]\nsummary = \"\"\n", "s.toml:2:11: scenario.summary: must not be empty"},
      {"[scenario]\nsummary = \"two\\nlines\"\n",
       "s.toml:2:11: scenario.summary: must be one line"},
      {"[scenario]\nsummary = \"x\"\nsumary = \"y\"\n",
       "s.toml:3:1: scenario.sumary: unknown key (did you mean summary?)"},
      {"[scenario]\nsummary = \"x\"\ntry = \"swaks\"\n",
       "s.toml:3:7: scenario.try: expected an array, got \"swaks\""},
      {"[scenario]\nsummary = \"x\"\ntry = [\"swaks\", 3]\n",
       "s.toml:3:17: scenario.try[1]: expected a command (a non-empty string), got 3"},
      {"[scenario]\nsummary = \"x\"\ntry = [\"\"]\n",
       "s.toml:3:8: scenario.try[0]: expected a command (a non-empty string), got \"\""},
      {"[scenario]\nsummary = \"x\"\ncurl_error = 55\n",
       "s.toml:3:14: scenario.curl_error: expected a string, got 55"},
      {"[scenario]\nsummary = \"x\"\npython_error = false\n",
       "s.toml:3:16: scenario.python_error: expected a string, got false"},
      {"[scenario]\nsummary = \"x\"\nexplanation = []\n",
       "s.toml:3:15: scenario.explanation: expected a string, got an array"},
      {"scenario = \"x\"\n", "s.toml:1:12: scenario: expected a table, got \"x\""},
  };
  for (const auto& [overlay, message] : cases) {
    INFO(overlay);
    CHECK(error_of("", overlay) == message);
  }
  ScenarioInfo info;
  CHECK(error_of("", "hostname = \"h\"\n", &info) ==
        "s.toml:1:1: scenario: missing required table: a scenario file describes itself in "
        "[scenario] (summary = ...)");
  CHECK(error_of("", "hostname = \"h\"\n") == "<no error>");
}

TEST_CASE("errors name the file the offending key came from", "[config][overlay]") {
  // A bad value, an unknown key and a syntax error in the overlay.
  CHECK(error_over_default(kScenario + "[listeners.smtp]\ngreeting = \"loud\"\n") ==
        "s.toml:4:12: listeners.smtp.greeting: expected one of normal, silent, close, "
        "unavailable, got \"loud\"");
  CHECK(error_over_default(kScenario + "[listeners.imap]\ngreylist_seconds = 60\n") ==
        "s.toml:4:20: listeners.imap.greylist_seconds: only smtp listeners take this key; this "
        "one is imap");
  CHECK(error_over_default(kScenario + "[listeners.smtp]\ngreting = \"silent\"\n") ==
        "s.toml:4:1: listeners.smtp.greting: unknown key (did you mean greeting?)");
  CHECK(error_over_default("[scenario]\nsummary = \n") ==
        "s.toml:2:11: Error while parsing key-value pair: expected value, saw '\\n'");
  // A key whose validity depends on the base: the base's listener is starttls.
  CHECK(error_over_default(kScenario + "[listeners.smtp]\nhint = true\n") ==
        "s.toml:4:8: listeners.smtp.hint: only listeners with security = \"implicit\" give the "
        "hint (to a client that speaks plaintext to them); this one's security is \"starttls\"");
  // The overlay changes security; the base's starttls_fault then names the base.
  CHECK(error_of("[listeners.x]\nprotocol = \"smtp\"\nport = 0\nsecurity = \"starttls\"\n"
                 "starttls_fault = \"refused\"\n",
                 "[listeners.x]\nsecurity = \"implicit\"\n") ==
        "b.toml:5:18: listeners.x.starttls_fault: only listeners with security = \"starttls\" "
        "offer STARTTLS; this one's security is \"implicit\"");
  // A listener new in the overlay misses a key: the overlay's table is named.
  CHECK(error_over_default(kScenario + "\n[listeners.extra]\nprotocol = \"smtp\"\nport = 2\n") ==
        "s.toml:4:1: listeners.extra.security: missing required key");
  // An error in the base, with a harmless overlay.
  CHECK(error_of("hostname = 5\n", kScenario) == "b.toml:1:12: hostname: expected a string, got 5");
  CHECK(error_of("hostname = \n", kScenario) ==
        "b.toml:1:12: Error while parsing key-value pair: expected value, saw '\\n'");
  // A [scenario] table in the base is misplaced, as in any config file.
  CHECK(error_of("[scenario]\nsummary = \"x\"\n", kScenario) ==
        "b.toml:1:1: scenario: [scenario] belongs in scenario files (scenarios/NAME.toml, loaded "
        "with --scenario NAME), not in a config file");
  // Users from the overlay replace the base's, so their errors are the overlay's.
  CHECK(error_over_default(kScenario + "[[users]]\naddress = \"a@b\"\npassword = \"p\"\n"
                                       "app_password = \"p\"\n") ==
        "s.toml:6:16: users[0].app_password: must differ from password");
}

TEST_CASE("a port conflict between base and overlay is reported at the overlay",
          "[config][overlay]") {
  CHECK(error_over_default(kScenario + "[listeners.extra]\nprotocol = \"smtp\"\nport = 25\n"
                                       "security = \"none\"\n") ==
        "s.toml:5:8: listeners.extra.port: port 25 on 127.0.0.1 is already used by "
        "listeners.smtp (line " +
            default_line("[listeners.smtp]", "port = 25") + " of <built-in default>)");
  // Moving a base listener onto another base listener's port: the moved one is reported.
  CHECK(error_over_default(kScenario + "[listeners.pop3]\nport = 143\n") ==
        "s.toml:4:8: listeners.pop3.port: port 143 on 127.0.0.1 is already used by "
        "listeners.imap (line " +
            default_line("[listeners.imap]", "port = 143") + " of <built-in default>)");
  CHECK(error_of("[listeners.a]\nprotocol = \"smtp\"\nport = 1\nsecurity = \"none\"\n",
                 "[listeners.b]\nprotocol = \"smtp\"\nport = 1\nsecurity = \"none\"\n") ==
        "s.toml:3:8: listeners.b.port: port 1 on 127.0.0.1 is already used by listeners.a (line 3 "
        "of b.toml)");
}
