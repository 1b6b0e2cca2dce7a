#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"

using namespace sevenport::config;
using sevenport::Security;
namespace fs = std::filesystem;

namespace {

struct Expected {
  const char* name;
  std::uint16_t port;
  Protocol protocol;
  Security security;
  SmtpRole role;
  AuthMode auth;
};

}  // namespace

TEST_CASE("the default config has the seven standard listeners in file order", "[config]") {
  const Config config = load_default();
  CHECK(config.source == "<built-in default>");
  CHECK(config.hostname == "localhost");
  CHECK(config.local_domains == std::vector<std::string>{"localhost", "example.test"});
  CHECK(config.state_dir.empty());
  CHECK(config.max_connections == 1000);
  CHECK(config.log_format == "text");
  CHECK(config.tls.cert_file.empty());
  CHECK(config.tls.key_file.empty());
  CHECK(config.tls.min_version == "1.2");
  REQUIRE(config.users.size() == 2);
  CHECK(config.users[0].address == "alice@example.test");
  CHECK(config.users[0].password == "alice-password");
  CHECK(config.users[1].address == "bob@example.test");
  CHECK(config.users[1].password == "bob-password");

  const std::vector<Expected> expected = {
      {"smtp", 25, Protocol::smtp, Security::starttls, SmtpRole::mx, AuthMode::optional},
      {"submission", 587, Protocol::smtp, Security::starttls, SmtpRole::submission,
       AuthMode::required},
      {"submissions", 465, Protocol::smtp, Security::implicit, SmtpRole::submission,
       AuthMode::required},
      {"imap", 143, Protocol::imap, Security::starttls, SmtpRole::mx, AuthMode::optional},
      {"imaps", 993, Protocol::imap, Security::implicit, SmtpRole::mx, AuthMode::optional},
      {"pop3", 110, Protocol::pop3, Security::starttls, SmtpRole::mx, AuthMode::optional},
      {"pop3s", 995, Protocol::pop3, Security::implicit, SmtpRole::mx, AuthMode::optional},
  };
  REQUIRE(config.listeners.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Listener& l = config.listeners[i];
    INFO("listener " << expected[i].name);
    CHECK(l.name == expected[i].name);
    CHECK(l.port == expected[i].port);
    CHECK(l.protocol == expected[i].protocol);
    CHECK(l.security == expected[i].security);
    CHECK(l.role == expected[i].role);
    CHECK(l.auth == expected[i].auth);
    CHECK(l.enabled);
    CHECK(l.address == "127.0.0.1");
    CHECK(l.auth_requires_tls);
    const Limits defaults = defaults_for(l.protocol);
    CHECK(l.limits.idle_timeout_seconds == defaults.idle_timeout_seconds);
    CHECK(l.limits.max_line_length == defaults.max_line_length);
  }
}

TEST_CASE("every commented-out example in the default config is valid", "[config]") {
  // The default file is the user's documentation: its examples must load as written.
  std::istringstream in{std::string(default_config_toml())};
  std::string uncommented;
  for (std::string line; std::getline(in, line);) {
    // "# key = value" lines are examples; "# Some prose." lines stay comments.
    const auto name_end = line.find_first_not_of("abcdefghijklmnopqrstuvwxyz_", 2);
    const bool example = line.rfind("# ", 0) == 0 && name_end > 2 &&
                         name_end != std::string::npos && line.compare(name_end, 3, " = ") == 0;
    uncommented += (example ? line.substr(2) : line) + "\n";
  }
  REQUIRE(uncommented != default_config_toml());
  const Config config = load_string(uncommented, "uncommented");
  CHECK(config.state_dir == "/var/lib/sevenport");
  CHECK(config.tls.cert_file == "/etc/ssl/certs/mail.example.test.pem");
  CHECK(config.tls.key_file == "/etc/ssl/private/mail.example.test.key");
  // The [limits] examples are the SMTP defaults, now forced on every listener.
  const Listener& imap = config.listeners.at(3);
  CHECK(imap.name == "imap");
  CHECK(imap.limits.idle_timeout_seconds == 300);
  CHECK(imap.limits.max_line_length == 1000);
}

TEST_CASE("defaults_for and to_string", "[config]") {
  const Limits smtp = defaults_for(Protocol::smtp);
  const Limits pop3 = defaults_for(Protocol::pop3);
  const Limits imap = defaults_for(Protocol::imap);
  CHECK(smtp.idle_timeout_seconds == 300);
  CHECK(smtp.max_line_length == 1000);
  CHECK(pop3.idle_timeout_seconds == 600);
  CHECK(pop3.max_line_length == 1000);
  CHECK(imap.idle_timeout_seconds == 1800);
  CHECK(imap.max_line_length == 65536);
  for (const Limits& l : {smtp, pop3, imap}) {
    CHECK(l.max_message_size == 25u * 1024 * 1024);
    CHECK(l.max_recipients == 100);
    CHECK(l.max_bad_commands == 20);
  }
  CHECK(to_string(Protocol::smtp) == "smtp");
  CHECK(to_string(Protocol::imap) == "imap");
  CHECK(to_string(Protocol::pop3) == "pop3");
  CHECK(to_string(SmtpRole::mx) == "mx");
  CHECK(to_string(SmtpRole::submission) == "submission");
  CHECK(to_string(AuthMode::off) == "off");
  CHECK(to_string(AuthMode::optional) == "optional");
  CHECK(to_string(AuthMode::required) == "required");
}

TEST_CASE("listeners keep file order, not key order", "[config]") {
  const Config config = load_string(R"(
[listeners.zeta]
protocol = "pop3"
port = 0
security = "none"

[listeners.alpha]
protocol = "smtp"
port = 0
security = "none"

[listeners.mid-1]
protocol = "imap"
port = 0
security = "implicit"
)",
                                    "t.toml");
  REQUIRE(config.listeners.size() == 3);
  CHECK(config.listeners[0].name == "zeta");
  CHECK(config.listeners[1].name == "alpha");
  CHECK(config.listeners[2].name == "mid-1");
}

TEST_CASE("an empty file gives the struct defaults and no listeners", "[config]") {
  const Config config = load_string("", "empty.toml");
  CHECK(config.source == "empty.toml");
  CHECK(config.hostname == "localhost");
  CHECK(config.local_domains.empty());
  CHECK(config.users.empty());
  CHECK(config.listeners.empty());
  CHECK(config.tls.min_version == "1.2");
}

TEST_CASE("all listener keys are read", "[config]") {
  const Config config = load_string(R"(
hostname = "mx.example.test"
local_domains = ["Example.TEST"]
state_dir = "/tmp/state"
max_connections = 5
log_format = "json"
[tls]
cert_file = "c.pem"
key_file = "k.pem"
min_version = "1.3"
[listeners.sub]
protocol = "smtp"
port = 2587
security = "none"
enabled = false
address = "::1"
role = "submission"
auth = "off"
auth_requires_tls = false
)",
                                    "t.toml");
  CHECK(config.hostname == "mx.example.test");
  CHECK(config.local_domains == std::vector<std::string>{"example.test"});
  CHECK(config.state_dir == "/tmp/state");
  CHECK(config.max_connections == 5);
  CHECK(config.log_format == "json");
  CHECK(config.tls.cert_file == "c.pem");
  CHECK(config.tls.key_file == "k.pem");
  CHECK(config.tls.min_version == "1.3");
  REQUIRE(config.listeners.size() == 1);
  const Listener& l = config.listeners[0];
  CHECK(l.protocol == Protocol::smtp);
  CHECK(l.port == 2587);
  CHECK(l.security == Security::none);
  CHECK_FALSE(l.enabled);
  CHECK(l.address == "::1");
  CHECK(l.role == SmtpRole::submission);
  CHECK(l.auth == AuthMode::off);
  CHECK_FALSE(l.auth_requires_tls);
}

TEST_CASE("limits: protocol defaults, then [limits], then the listener", "[config]") {
  const Config config = load_string(R"(
[limits]
idle_timeout_seconds = 60
max_recipients = 7

[listeners.imap]
protocol = "imap"
port = 0
security = "none"

[listeners.smtp]
protocol = "smtp"
port = 0
security = "starttls"
idle_timeout_seconds = 30
max_line_length = 2048
max_message_size = 1024
max_recipients = 100000
max_bad_commands = 1

[listeners.pop3]
protocol = "pop3"
port = 0
security = "implicit"
max_line_length = 128
)",
                                    "t.toml");
  REQUIRE(config.listeners.size() == 3);
  const Limits& imap = config.listeners[0].limits;
  CHECK(imap.idle_timeout_seconds == 60);  // global
  CHECK(imap.max_line_length == 65536);    // IMAP default
  CHECK(imap.max_message_size == 25u * 1024 * 1024);
  CHECK(imap.max_recipients == 7);  // global
  CHECK(imap.max_bad_commands == 20);
  const Limits& smtp = config.listeners[1].limits;
  CHECK(smtp.idle_timeout_seconds == 30);  // listener beats global
  CHECK(smtp.max_line_length == 2048);
  CHECK(smtp.max_message_size == 1024);
  CHECK(smtp.max_recipients == 100000);
  CHECK(smtp.max_bad_commands == 1);
  const Limits& pop3 = config.listeners[2].limits;
  CHECK(pop3.idle_timeout_seconds == 60);
  CHECK(pop3.max_line_length == 128);
  CHECK(pop3.max_recipients == 7);
}

TEST_CASE("auth defaults follow protocol and role", "[config]") {
  const Config config = load_string(R"(
[listeners.mx]
protocol = "smtp"
port = 0
security = "none"
[listeners.sub]
protocol = "smtp"
port = 0
security = "starttls"
role = "submission"
[listeners.open-sub]
protocol = "smtp"
port = 0
security = "none"
role = "submission"
auth_requires_tls = false
[listeners.pop]
protocol = "pop3"
port = 0
security = "none"
auth = "off"
)",
                                    "t.toml");
  REQUIRE(config.listeners.size() == 4);
  CHECK(config.listeners[0].auth == AuthMode::optional);
  CHECK(config.listeners[1].auth == AuthMode::required);
  CHECK(config.listeners[2].auth == AuthMode::required);
  CHECK(config.listeners[3].auth == AuthMode::off);
}

TEST_CASE("load_file names the file in messages and reports unreadable files", "[config]") {
  const fs::path dir =
      fs::temp_directory_path() / ("sevenport-config-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "sevenport.toml";
  {
    std::ofstream out(file);
    out << "hostname = \"h.example.test\"\n[listeners.x]\nprotocol = \"smtp\"\nport = \"25\"\n";
  }
  CHECK_THROWS_WITH(load_file(file), file.string() +
                                         ":4:8: listeners.x.port: expected an integer from 0 to "
                                         "65535, got \"25\"");
  {
    std::ofstream out(file);
    out << "hostname = \"h.example.test\"\n";
  }
  const Config config = load_file(file);
  CHECK(config.source == file.string());
  CHECK(config.hostname == "h.example.test");

  CHECK_THROWS_WITH(load_file(dir / "missing.toml"),
                    (dir / "missing.toml").string() + ": cannot read: No such file or directory");
  CHECK_THROWS_WITH(load_file(dir), dir.string() + ": cannot read: Is a directory");
  fs::remove_all(dir);
}

TEST_CASE("listener TLS keys: defaults, [tls] min_version, and every value", "[config]") {
  const Config config = load_string(R"(
[tls]
min_version = "1.3"
[listeners.plain]
protocol = "smtp"
port = 0
security = "starttls"
[listeners.broken]
protocol = "imap"
port = 0
security = "implicit"
tls_certificate = "weak-sha1"
tls_key = "rsa-2048"
tls_min_version = "1.0"
tls_max_version = "1.2"
tls_ciphers = "ECDHE-RSA-AES128-GCM-SHA256"
tls_ciphersuites = "TLS_AES_128_GCM_SHA256"
)",
                                    "t.toml");
  REQUIRE(config.listeners.size() == 2);
  const ListenerTls& plain = config.listeners[0].tls;
  CHECK(plain.certificate == "valid");
  CHECK(plain.key == "ecdsa-p256");
  CHECK(plain.min_version == "1.3");
  CHECK(plain.max_version == "1.3");
  CHECK(plain.ciphers.empty());
  CHECK(plain.ciphersuites.empty());
  const ListenerTls& broken = config.listeners[1].tls;
  CHECK(broken.certificate == "weak-sha1");
  CHECK(broken.key == "rsa-2048");
  CHECK(broken.min_version == "1.0");
  CHECK(broken.max_version == "1.2");
  CHECK(broken.ciphers == "ECDHE-RSA-AES128-GCM-SHA256");
  CHECK(broken.ciphersuites == "TLS_AES_128_GCM_SHA256");

  for (const char* profile : {"valid", "self-signed", "expired", "not-yet-valid", "wrong-host",
                              "untrusted-ca", "incomplete-chain", "weak-rsa1024", "weak-sha1"}) {
    const Config one = load_string(
        std::string("[listeners.x]\nprotocol = \"smtp\"\nport = 0\nsecurity = \"implicit\"\n"
                    "tls_certificate = \"") +
            profile + "\"\n",
        "t.toml");
    CHECK(one.listeners.at(0).tls.certificate == profile);
  }
  // With a certificate of one's own, the defaults may still be written out.
  const Config own = load_string(R"(
[tls]
cert_file = "c.pem"
key_file = "k.pem"
[listeners.x]
protocol = "smtp"
port = 0
security = "implicit"
tls_certificate = "valid"
tls_key = "ecdsa-p256"
tls_max_version = "1.2"
)",
                                 "t.toml");
  CHECK(own.listeners.at(0).tls.max_version == "1.2");
}
