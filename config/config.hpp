// sevenport's configuration as plain structs: what the TOML file says, with every default
// applied and every range checked. Engines never see toml++ types; server/ maps these structs to
// each engine's policy.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/engine.hpp"
#include "protocols/common/users.hpp"

namespace sevenport::config {

enum class Protocol : std::uint8_t { smtp, imap, pop3 };
std::string_view to_string(Protocol protocol);
// "SMTP", "IMAP", "POP3": how people write the protocol, for the banner and the log.
std::string_view display_name(Protocol protocol);

// SMTP listener roles: an MX (port 25: takes mail for local domains from anyone, relays for
// nobody unauthenticated) or a submission service (587/465: AUTH required before MAIL).
enum class SmtpRole : std::uint8_t { mx, submission };
std::string_view to_string(SmtpRole role);

// Whether AUTH/LOGIN is offered and whether it is required before mail can be sent.
enum class AuthMode : std::uint8_t { off, optional, required };
std::string_view to_string(AuthMode mode);

// Limits, each overridable per listener. Defaults depend on the protocol (see defaults_for).
struct Limits {
  std::uint32_t idle_timeout_seconds = 300;
  std::size_t max_line_length = 1000;               // octets, CRLF included
  std::size_t max_message_size = 25 * 1024 * 1024;  // SMTP SIZE, IMAP APPEND literal
  std::uint32_t max_recipients = 100;
  std::uint32_t max_bad_commands = 20;
};

// The defaults for a protocol: SMTP idle 300 s (RFC 5321 4.5.3.2.7), POP3 600 s (RFC 1939 3),
// IMAP 1800 s (RFC 3501 5.4) and 65536-octet lines.
Limits defaults_for(Protocol protocol);

// A listener's TLS: which generated certificate it serves (certs/profiles.hpp; the deliberately
// broken profiles exist so that clients can be seen refusing them), the protocol range and the
// cipher lists. Names are kept as written; server/ turns them into an SSL_CTX.
struct ListenerTls {
  std::string certificate = "valid";  // profile name: "valid", "expired", "weak-sha1", ...
  std::string key = "ecdsa-p256";     // "ecdsa-p256" or "rsa-2048"
  std::string min_version = "1.2";    // "1.0" to "1.3"; [tls] min_version when not written
  std::string max_version = "1.3";    // "1.0" to "1.3", never below min_version
  std::string ciphers;                // TLS 1.2 and below, OpenSSL syntax; empty: OpenSSL's default
  std::string ciphersuites;           // TLS 1.3, OpenSSL syntax; empty: OpenSSL's default
};

// What a listener does before the protocol starts (key greeting).
enum class Greeting : std::uint8_t {
  normal,       // the protocol's greeting (after the handshake on implicit-TLS listeners)
  silent,       // accept and never say anything: a client times out waiting for the greeting
  close,        // accept and close at once: the client sees the connection closed or reset
  unavailable,  // SMTP 421 4.3.2, IMAP * BYE [UNAVAILABLE], POP3 -ERR [SYS/TEMP], then close
};
std::string_view to_string(Greeting greeting);

// A listener's deliberate behaviours (docs/BEHAVIOURS.md): faults and provider-style answers that
// exist so that clients can be seen handling them. All off by default.
struct ListenerBehaviour {
  StartTlsFault starttls_fault = StartTlsFault::none;  // security = "starttls" only
  Greeting greeting = Greeting::normal;
  std::uint32_t greeting_delay_ms = 0;    // wait this long before greeting (0 to 600000)
  std::uint32_t command_delay_ms = 0;     // wait this long before each reply (0 to 600000)
  std::uint32_t drop_after_commands = 0;  // close without a reply to command N+1; 0: never
  bool hint = false;  // security = "implicit" only: answer a plaintext client in plaintext
  // SMTP only.
  bool reject_unknown_users = false;      // RCPT for a local domain without such a user: 550 5.1.1
  std::uint32_t greylist_seconds = 0;     // 0: off; else 451 4.7.1 until this long after first try
  std::uint32_t rate_limit_messages = 0;  // 0: off; else messages per client IP per window
  std::uint32_t rate_limit_window_seconds = 60;
};

struct Listener {
  std::string name;  // the key under [listeners], e.g. "submission"
  bool enabled = true;
  Protocol protocol = Protocol::smtp;
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  Security security = Security::none;
  SmtpRole role = SmtpRole::mx;        // SMTP only
  AuthMode auth = AuthMode::optional;  // SMTP: off/optional/required; IMAP/POP3: off or optional
  bool auth_requires_tls = true;       // AUTH/LOGIN/USER only once TLS is up (LOGINDISABLED before)
  Limits limits;
  ListenerTls tls;  // unused when security is "none"
  ListenerBehaviour behaviour;
};

struct TlsSettings {
  // Empty cert_file: generate a local CA and leaf in the state dir. Otherwise both files are used
  // as given (PEM; the cert file may hold the chain).
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  std::string min_version = "1.2";  // "1.2" or "1.3"
};

// The HTTP listener: web UI and JSON API (docs/API.md), on the mail listeners' loop.
struct HttpSettings {
  bool enabled = true;
  std::string address = "127.0.0.1";
  std::uint16_t port = 8025;
  std::string token;  // empty: no token; otherwise every /api/ request must present it
  std::size_t max_request_size = 1024 * 1024;  // request body octets; larger gets 413
};

// A [[users]] entry: an account with its behaviours (app password, protocols switched off,
// locked, password expired, mailbox full).
using UserEntry = User;

struct Config {
  std::string source = "<built-in default>";  // file the config came from, for messages
  std::string hostname = "localhost";
  std::vector<std::string> local_domains;  // lower case
  std::filesystem::path state_dir;         // empty: the platform default (see server)
  std::uint32_t max_connections = 1000;
  std::string log_format = "text";  // "text" or "json"
  TlsSettings tls;
  HttpSettings http;
  std::vector<UserEntry> users;
  std::vector<Listener> listeners;  // in the order the file lists them
};

// What a scenario file (scenarios/NAME.toml) says of itself in its [scenario] table. A scenario is
// an overlay: a few keys applied over the base config (the built-in default, or --config).
struct ScenarioInfo {
  std::string name;     // the file's stem, e.g. "greylisting" (set by whoever loads it)
  std::string summary;  // one line: the symptom users meet, e.g. "Connection timed out on port 25"
  std::string explanation;  // a paragraph: what the server does and what a client should do
  std::vector<std::string> try_commands;  // commands that show it against default ports
  std::string curl_error;                 // what curl prints for it, exactly (default ports)
  std::string python_error;               // what Python's standard library raises for it, exactly
};

// A configuration error, already formatted as "file:line:column: key: what is wrong".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The default configuration file's text: the seven standard listeners and two demo users.
std::string_view default_config_toml();

// Parses and validates TOML text; `source` names it in error messages. Throws ConfigError.
Config load_string(std::string_view toml, std::string source);
// Parses `base`, applies `overlay` over it and validates the result. Tables merge key by key; any
// other value, arrays (such as [[users]]) included, replaces the base's. The overlay's [scenario]
// table is read into *scenario (when not null) and is not part of the config. Errors name the
// file the offending key came from. Throws ConfigError.
Config load_with_overlay(std::string_view base, std::string base_source, std::string_view overlay,
                         std::string overlay_source, ScenarioInfo* scenario);
// Reads and loads a file. Throws ConfigError (also for a file that cannot be read).
Config load_file(const std::filesystem::path& path);
// load_string(default_config_toml(), "<built-in default>").
Config load_default();

}  // namespace sevenport::config
