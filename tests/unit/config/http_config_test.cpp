// The [http] table: defaults, every key, and each validation error with its exact position.
#include <catch2/catch.hpp>

#include <string>

#include "config/config.hpp"

using namespace sevenport::config;

namespace {

std::string error_of(const std::string& toml) {
  try {
    load_string(toml, "t.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

const std::string kSmtp8025 =
    "[listeners.a]\nprotocol = \"smtp\"\nport = 8025\nsecurity = \"none\"\n";

}  // namespace

TEST_CASE("[http] defaults: enabled on 127.0.0.1:8025, no token, 1 MiB bodies", "[config]") {
  for (const Config& config : {load_default(), load_string("", "empty.toml")}) {
    CHECK(config.http.enabled);
    CHECK(config.http.address == "127.0.0.1");
    CHECK(config.http.port == 8025);
    CHECK(config.http.token.empty());
    CHECK(config.http.max_request_size == 1024 * 1024);
  }
}

TEST_CASE("[http] keys are read", "[config]") {
  const Config config = load_string(R"(
[http]
enabled = false
address = "::1"
port = 9000
token = "s3cret-Token_1"
max_request_size = 4096
)",
                                    "t.toml");
  CHECK_FALSE(config.http.enabled);
  CHECK(config.http.address == "::1");
  CHECK(config.http.port == 9000);
  CHECK(config.http.token == "s3cret-Token_1");
  CHECK(config.http.max_request_size == 4096);
}

TEST_CASE("[http] keys are checked", "[config]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[http]\nport = 65536",
       "t.toml:2:8: http.port: expected an integer from 0 to 65535, got 65536"},
      {"[http]\nport = \"8025\"",
       "t.toml:2:8: http.port: expected an integer from 0 to 65535, got \"8025\""},
      {"[http]\naddress = \"localhost\"",
       "t.toml:2:11: http.address: expected an IPv4 or IPv6 address such as \"127.0.0.1\" or "
       "\"::1\", got \"localhost\""},
      {"[http]\nenabled = 1", "t.toml:2:11: http.enabled: expected true or false, got 1"},
      {"[http]\ntoken = \"\"", "t.toml:2:9: http.token: must not be empty"},
      {"[http]\ntoken = \"two words\"",
       "t.toml:2:9: http.token: expected visible ASCII characters without spaces, got \"two "
       "words\""},
      {"[http]\ntoken = \"caf\\u00e9\"",
       "t.toml:2:9: http.token: expected visible ASCII characters without spaces, got "
       "\"caf\\xc3\\xa9\""},
      {"[http]\nmax_request_size = 1023",
       "t.toml:2:20: http.max_request_size: expected an integer from 1024 to 268435456, got "
       "1023"},
      {"[http]\nprot = 80", "t.toml:2:1: http.prot: unknown key (did you mean port?)"},
      {"http = 8025", "t.toml:1:8: http: expected a table, got 8025"},
  };
  for (const auto& [toml, message] : cases) {
    INFO(toml);
    CHECK(error_of(toml) == message);
  }
}

TEST_CASE("the HTTP port cannot be a mail listener's", "[config]") {
  // The default HTTP port, taken by a listener: reported at the listener.
  CHECK(error_of(kSmtp8025) ==
        "t.toml:3:8: listeners.a.port: port 8025 on 127.0.0.1 is already used by http (its "
        "default port)");
  // Written later than the listener: reported at [http].
  CHECK(error_of(kSmtp8025 + "[http]\nport = 8025\n") ==
        "t.toml:6:8: http.port: port 8025 on 127.0.0.1 is already used by listeners.a (line 3)");
  // Written first: reported at the listener.
  CHECK(error_of("[http]\nport = 2525\n[listeners.a]\nprotocol = \"smtp\"\nport = 2525\n"
                 "security = \"none\"\n") ==
        "t.toml:5:8: listeners.a.port: port 2525 on 127.0.0.1 is already used by http (line 2)");
  CHECK(error_of(kSmtp8025 + "[http]\naddress = \"0.0.0.0\"\n") ==
        "t.toml:5:1: http.port: port 8025 on 0.0.0.0 conflicts with listeners.a on 127.0.0.1 "
        "(line 3): one of them listens on every address");
  // No conflict: HTTP disabled, moved, on another address, or on port 0.
  CHECK(error_of(kSmtp8025 + "[http]\nenabled = false\n") == "<no error>");
  CHECK(error_of(kSmtp8025 + "[http]\nport = 8026\n") == "<no error>");
  CHECK(error_of(kSmtp8025 + "[http]\naddress = \"127.0.0.2\"\n") == "<no error>");
  CHECK(error_of(kSmtp8025 + "[http]\nport = 0\n") == "<no error>");
}
