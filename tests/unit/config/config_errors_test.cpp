// Every validation error, with its exact "source:line:column: key: what" text.
#include <catch2/catch.hpp>

#include <string>

#include "config/config.hpp"

using namespace sevenport::config;

namespace {

// The ConfigError text load_string throws for `toml`, or "<no error>".
std::string error_of(const std::string& toml) {
  try {
    load_string(toml, "t.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

// A minimal valid listener table with `extra` lines appended (line 1 is the header).
std::string listener(const std::string& name, const std::string& extra = "",
                     const std::string& protocol = "smtp") {
  return "[listeners." + name + "]\nprotocol = \"" + protocol +
         "\"\nport = 0\nsecurity = \"starttls\"\n" + extra;
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

TEST_CASE("syntax errors carry toml++'s position and description", "[config]") {
  check_cases({
      {"missing value",
       "a = ", "t.toml:1:5: Error while parsing key-value pair: encountered end-of-file"},
      {"redefined key", "hostname = \"a\"\nhostname = \"b\"",
       "t.toml:2:12: Error while parsing key-value pair: cannot redefine existing string "
       "'hostname'"},
      {"redefined table", "[listeners.x]\n[listeners.x]",
       "t.toml:2:1: Error while parsing table header: cannot redefine existing table "
       "'listeners.x'"},
      {"unterminated string", "hostname = \"abc",
       "t.toml:1:16: Error while parsing string: encountered end-of-file"},
  });
}

TEST_CASE("unknown keys are errors at the key, with a suggestion", "[config]") {
  check_cases({
      {"top level", "hostnme = \"x\"", "t.toml:1:1: hostnme: unknown key (did you mean hostname?)"},
      {"listener prefix", listener("smtp", "prot = \"smtp\"\n"),
       "t.toml:5:1: listeners.smtp.prot: unknown key (did you mean protocol?)"},
      {"listener, far from anything", listener("smtp", "\n  colour = 3\n"),
       "t.toml:6:3: listeners.smtp.colour: unknown key"},
      {"unknown key beats missing key", "[listeners.x]\nprotocl = \"smtp\"",
       "t.toml:2:1: listeners.x.protocl: unknown key (did you mean protocol?)"},
      {"first in file order", "zz = 1\naa = 2", "t.toml:1:1: zz: unknown key"},
      {"tls", "[tls]\nmin_versoin = \"1.2\"",
       "t.toml:2:1: tls.min_versoin: unknown key (did you mean min_version?)"},
      {"limits", "[limits]\nmax_line = 1000",
       "t.toml:2:1: limits.max_line: unknown key (did you mean max_line_length?)"},
      {"users",
       "[[users]]\naddress = \"a@b\"\npassword = \"p\"\n[[users]]\naddress = \"c@d\"\npass = \"p\"",
       "t.toml:6:1: users[1].pass: unknown key (did you mean password?)"},
      {"nested table", "[listeners.x.extra]\nport = 1",
       "t.toml:1:14: listeners.x.extra: unknown key"},
  });
}

TEST_CASE("top-level keys are type- and range-checked", "[config]") {
  check_cases({
      {"hostname type", "hostname = 5", "t.toml:1:12: hostname: expected a string, got 5"},
      {"hostname empty", "hostname = \"\"", "t.toml:1:12: hostname: must not be empty"},
      {"hostname space", "hostname = \"a b\"",
       "t.toml:1:12: hostname: expected a host name without spaces or control characters, got \"a "
       "b\""},
      {"local_domains type", "local_domains = \"example.test\"",
       "t.toml:1:17: local_domains: expected an array, got \"example.test\""},
      {"local_domains element", "local_domains = [\"a.test\", 3]",
       "t.toml:1:28: local_domains[1]: expected a domain such as \"example.test\", got 3"},
      {"state_dir", "state_dir = false", "t.toml:1:13: state_dir: expected a string, got false"},
      {"max_connections", "max_connections = 0",
       "t.toml:1:19: max_connections: expected an integer from 1 to 1000000, got 0"},
      {"max_connections float", "max_connections = 10.5",
       "t.toml:1:19: max_connections: expected an integer from 1 to 1000000, got 10.5"},
      {"log_format", "log_format = \"xml\"",
       "t.toml:1:14: log_format: expected one of text, json, got \"xml\""},
      {"tls not a table", "tls = 1", "t.toml:1:7: tls: expected a table, got 1"},
      {"tls cert only", "[tls]\ncert_file = \"c.pem\"",
       "t.toml:2:13: tls.cert_file: key_file must be set too (both or neither)"},
      {"tls key only", "[tls]\nkey_file = \"k.pem\"",
       "t.toml:2:12: tls.key_file: cert_file must be set too (both or neither)"},
      {"min_version float", "[tls]\nmin_version = 1.2",
       "t.toml:2:15: tls.min_version: expected \"1.2\" or \"1.3\", got 1.2"},
      {"min_version old", "[tls]\nmin_version = \"1.1\"",
       "t.toml:2:15: tls.min_version: expected \"1.2\" or \"1.3\", got \"1.1\""},
      {"global limit", "[limits]\nmax_line_length = 127",
       "t.toml:2:19: limits.max_line_length: expected an integer from 128 to 1048576, got 127"},
  });
}

TEST_CASE("users are checked", "[config]") {
  const std::string alice = "[[users]]\naddress = \"alice@example.test\"\npassword = \"x\"\n";
  check_cases({
      {"no at", "[[users]]\naddress = \"alice\"\npassword = \"x\"",
       "t.toml:2:11: users[0].address: expected an address like \"alice@example.test\", got "
       "\"alice\""},
      {"two at", "[[users]]\naddress = \"a@b@c\"\npassword = \"x\"",
       "t.toml:2:11: users[0].address: expected an address like \"alice@example.test\", got "
       "\"a@b@c\""},
      {"empty local part", "[[users]]\naddress = \"@b\"\npassword = \"x\"",
       "t.toml:2:11: users[0].address: expected an address like \"alice@example.test\", got "
       "\"@b\""},
      {"empty domain", "[[users]]\naddress = \"a@\"\npassword = \"x\"",
       "t.toml:2:11: users[0].address: expected an address like \"alice@example.test\", got "
       "\"a@\""},
      {"missing password", "[[users]]\naddress = \"a@b\"",
       "t.toml:1:1: users[0].password: missing required key"},
      {"missing address", alice + "\n[[users]]\npassword = \"y\"",
       "t.toml:5:1: users[1].address: missing required key"},
      {"empty password", "[[users]]\naddress = \"a@b\"\npassword = \"\"",
       "t.toml:3:12: users[0].password: must not be empty"},
      {"duplicate, other case",
       alice + "[[users]]\naddress = \"Alice@Example.test\"\npassword = \"y\"",
       "t.toml:5:11: users[1].address: duplicate user \"Alice@Example.test\" (already defined at "
       "line 2)"},
      {"not an array of tables", "[users]\naddress = \"a@b\"",
       "t.toml:1:1: users: expected an array, got a table"},
      {"array of strings", "users = [\"a@b\"]",
       "t.toml:1:10: users[0]: expected a table ([[users]]), got \"a@b\""},
  });
}

TEST_CASE("listener keys are checked", "[config]") {
  check_cases({
      {"missing protocol", "\n[listeners.x]\nport = 25\nsecurity = \"none\"",
       "t.toml:2:1: listeners.x.protocol: missing required key"},
      {"missing port", "[listeners.x]\nprotocol = \"smtp\"\nsecurity = \"none\"",
       "t.toml:1:1: listeners.x.port: missing required key"},
      {"missing security", "[listeners.x]\nprotocol = \"smtp\"\nport = 25",
       "t.toml:1:1: listeners.x.security: missing required key"},
      {"bad protocol", "[listeners.x]\nprotocol = \"http\"",
       "t.toml:2:12: listeners.x.protocol: expected one of smtp, imap, pop3, got \"http\""},
      {"bad security", "[listeners.x]\nprotocol = \"smtp\"\nport = 25\nsecurity = \"tls\"",
       "t.toml:4:12: listeners.x.security: expected one of none, starttls, implicit, got \"tls\""},
      {"port too big", "[listeners.x]\nprotocol = \"smtp\"\nport = 65536",
       "t.toml:3:8: listeners.x.port: expected an integer from 0 to 65535, got 65536"},
      {"port negative", "[listeners.x]\nprotocol = \"smtp\"\nport = -1",
       "t.toml:3:8: listeners.x.port: expected an integer from 0 to 65535, got -1"},
      {"enabled", listener("x", "enabled = \"yes\"\n"),
       "t.toml:5:11: listeners.x.enabled: expected true or false, got \"yes\""},
      {"address", listener("x", "address = \"localhost\"\n"),
       "t.toml:5:11: listeners.x.address: expected an IPv4 or IPv6 address such as \"127.0.0.1\" "
       "or "
       "\"::1\", got \"localhost\""},
      {"address with brackets", listener("x", "address = \"[::1]\"\n"),
       "t.toml:5:11: listeners.x.address: expected an IPv4 or IPv6 address such as \"127.0.0.1\" "
       "or "
       "\"::1\", got \"[::1]\""},
      {"bad role", listener("x", "role = \"relay\"\n"),
       "t.toml:5:8: listeners.x.role: expected one of mx, submission, got \"relay\""},
      {"role on imap", listener("x", "role = \"mx\"\n", "imap"),
       "t.toml:5:8: listeners.x.role: only smtp listeners have a role; this one is imap"},
      {"bad auth", listener("x", "auth = \"always\"\n"),
       "t.toml:5:8: listeners.x.auth: expected one of off, optional, required, got \"always\""},
      {"auth required on pop3", listener("x", "auth = \"required\"\n", "pop3"),
       "t.toml:5:8: listeners.x.auth: expected one of off, optional, got \"required\""},
      {"auth_requires_tls", listener("x", "auth_requires_tls = 1\n"),
       "t.toml:5:21: listeners.x.auth_requires_tls: expected true or false, got 1"},
      {"listener limit", listener("x", "idle_timeout_seconds = 86401\n"),
       "t.toml:5:24: listeners.x.idle_timeout_seconds: expected an integer from 1 to 86400, got "
       "86401"},
      {"max_message_size", listener("x", "max_message_size = 1023\n"),
       "t.toml:5:20: listeners.x.max_message_size: expected an integer from 1024 to 1073741824, "
       "got 1023"},
      {"max_recipients", listener("x", "max_recipients = 100001\n"),
       "t.toml:5:18: listeners.x.max_recipients: expected an integer from 1 to 100000, got 100001"},
      {"max_bad_commands", listener("x", "max_bad_commands = 0\n"),
       "t.toml:5:20: listeners.x.max_bad_commands: expected an integer from 1 to 10000, got 0"},
      {"bad name", "[listeners.\"my smtp\"]\nprotocol = \"smtp\"",
       "t.toml:1:12: listeners.\"my smtp\": listener names may contain only letters, digits, '-' "
       "and '_'"},
      {"not a table", "[listeners]\nx = 3", "t.toml:2:5: listeners.x: expected a table, got 3"},
      {"listeners not a table", "listeners = []",
       "t.toml:1:13: listeners: expected a table, got an array"},
  });
}

TEST_CASE("two enabled listeners cannot share an address and port", "[config]") {
  const std::string a = "[listeners.a]\nprotocol = \"smtp\"\nport = 2525\nsecurity = \"none\"\n";
  check_cases({
      {"same address", a + "[listeners.b]\nprotocol = \"pop3\"\nport = 2525\nsecurity = \"none\"\n",
       "t.toml:7:8: listeners.b.port: port 2525 on 127.0.0.1 is already used by listeners.a (line "
       "3)"},
      {"same address, other spelling",
       "[listeners.a]\nprotocol = \"smtp\"\nport = 1\nsecurity = \"none\"\naddress = \"::1\"\n"
       "[listeners.b]\nprotocol = \"smtp\"\nport = 1\nsecurity = \"none\"\naddress = \"0:0::1\"\n",
       "t.toml:8:8: listeners.b.port: port 1 on 0:0::1 is already used by listeners.a (line 3)"},
      {"wildcard",
       a + "[listeners.b]\nprotocol = \"smtp\"\nport = 2525\nsecurity = \"none\"\naddress = "
           "\"0.0.0.0\"\n",
       "t.toml:7:8: listeners.b.port: port 2525 on 0.0.0.0 conflicts with listeners.a on 127.0.0.1 "
       "(line 3): one of them listens on every address"},
  });
  CHECK(error_of(a + "[listeners.b]\nprotocol = \"smtp\"\nport = 2525\nsecurity = \"none\"\n"
                     "enabled = false\n") == "<no error>");
  CHECK(error_of(a + "[listeners.b]\nprotocol = \"smtp\"\nport = 2525\nsecurity = \"none\"\n"
                     "address = \"127.0.0.2\"\n") == "<no error>");
  CHECK(error_of(a + "[listeners.b]\nprotocol = \"smtp\"\nport = 2525\nsecurity = \"none\"\n"
                     "address = \"::\"\n") == "<no error>");
  CHECK(error_of(listener("a") + listener("b")) == "<no error>");  // port 0: the OS picks
}

TEST_CASE("SMTP AUTH that no client could ever use is an error", "[config]") {
  check_cases({
      {"explicit",
       "[listeners.x]\nprotocol = \"smtp\"\nport = 25\nsecurity = \"none\"\nauth = \"required\"",
       "t.toml:4:12: listeners.x.security: \"none\" with auth = \"required\" and auth_requires_tls "
       "= "
       "true: no client could ever authenticate; use security = \"starttls\" or set "
       "auth_requires_tls = false"},
      {"from the submission role",
       "[listeners.x]\nprotocol = \"smtp\"\nport = 587\nsecurity = \"none\"\nrole = \"submission\"",
       "t.toml:4:12: listeners.x.security: \"none\" with auth = \"required\" (the default for role "
       "= "
       "\"submission\") and auth_requires_tls = true: no client could ever authenticate; use "
       "security = \"starttls\" or set auth_requires_tls = false"},
  });
  CHECK(error_of("[listeners.x]\nprotocol = \"smtp\"\nport = 25\nsecurity = \"none\"\n"
                 "auth = \"required\"\nauth_requires_tls = false") == "<no error>");
  CHECK(error_of("[listeners.x]\nprotocol = \"smtp\"\nport = 25\nsecurity = \"starttls\"\n"
                 "auth = \"required\"") == "<no error>");
  CHECK(error_of("[listeners.x]\nprotocol = \"smtp\"\nport = 25\nsecurity = \"none\"\n"
                 "auth = \"required\"\nenabled = false") != "<no error>");
}

TEST_CASE("values in messages are sanitised", "[config]") {
  CHECK(error_of("log_format = \"a\\u0007\\\"b\"") ==
        "t.toml:1:14: log_format: expected one of text, json, got \"a\\x07\\\"b\"");
}

TEST_CASE("listener TLS keys are checked", "[config]") {
  const std::string own_cert = "[tls]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n";
  check_cases({
      {"unknown profile", listener("smtp", "tls_certificate = \"broken\"\n"),
       "t.toml:5:19: listeners.smtp.tls_certificate: expected one of valid, self-signed, "
       "expired, not-yet-valid, wrong-host, untrusted-ca, incomplete-chain, weak-rsa1024, "
       "weak-sha1, got \"broken\""},
      {"profile case", listener("smtp", "tls_certificate = \"Expired\"\n"),
       "t.toml:5:19: listeners.smtp.tls_certificate: expected one of valid, self-signed, "
       "expired, not-yet-valid, wrong-host, untrusted-ca, incomplete-chain, weak-rsa1024, "
       "weak-sha1, got \"Expired\""},
      {"unknown key kind", listener("smtp", "tls_key = \"rsa-1024\"\n"),
       "t.toml:5:11: listeners.smtp.tls_key: expected one of ecdsa-p256, rsa-2048, got "
       "\"rsa-1024\""},
      {"profile with own certificate",
       own_cert + listener("smtp", "tls_certificate = \"expired\"\n"),
       "t.toml:8:19: listeners.smtp.tls_certificate: only generated certificates have profiles, "
       "and [tls] cert_file is set: remove cert_file to serve \"expired\""},
      {"key kind with own certificate", own_cert + listener("smtp", "tls_key = \"rsa-2048\"\n"),
       "t.toml:8:11: listeners.smtp.tls_key: only generated certificates have a choice of key, "
       "and [tls] cert_file is set: the key is key_file's"},
      {"min version", listener("smtp", "tls_min_version = \"1.4\"\n"),
       "t.toml:5:19: listeners.smtp.tls_min_version: expected one of 1.0, 1.1, 1.2, 1.3, got "
       "\"1.4\""},
      {"min version float", listener("smtp", "tls_min_version = 1.2\n"),
       "t.toml:5:19: listeners.smtp.tls_min_version: expected one of 1.0, 1.1, 1.2, 1.3, got "
       "1.2"},
      {"max version", listener("smtp", "tls_max_version = \"TLSv1.3\"\n"),
       "t.toml:5:19: listeners.smtp.tls_max_version: expected one of 1.0, 1.1, 1.2, 1.3, got "
       "\"TLSv1.3\""},
      {"min above max", listener("smtp", "tls_min_version = \"1.3\"\ntls_max_version = \"1.2\"\n"),
       "t.toml:5:19: listeners.smtp.tls_min_version: \"1.3\" is above tls_max_version \"1.2\""},
      {"max below the global min",
       "[tls]\nmin_version = \"1.3\"\n" + listener("smtp", "tls_max_version = \"1.2\"\n"),
       "t.toml:7:19: listeners.smtp.tls_max_version: \"1.2\" is below the minimum \"1.3\" (from "
       "[tls] min_version)"},
      {"ciphers type", listener("smtp", "tls_ciphers = [\"AES128\"]\n"),
       "t.toml:5:15: listeners.smtp.tls_ciphers: expected a string, got an array"},
      {"ciphers empty", listener("smtp", "tls_ciphers = \"\"\n"),
       "t.toml:5:15: listeners.smtp.tls_ciphers: must not be empty"},
      {"ciphersuites empty", listener("smtp", "tls_ciphersuites = \"\"\n"),
       "t.toml:5:20: listeners.smtp.tls_ciphersuites: must not be empty"},
      {"tls key on a plaintext listener",
       "[listeners.smtp]\nprotocol = \"smtp\"\nport = 0\nsecurity = \"none\"\n"
       "tls_certificate = \"expired\"\n",
       "t.toml:5:19: listeners.smtp.tls_certificate: has no effect: this listener's security is "
       "\"none\""},
      {"typo", listener("smtp", "tls_cipher = \"AES128\"\n"),
       "t.toml:5:1: listeners.smtp.tls_cipher: unknown key (did you mean tls_ciphers?)"},
  });
}
