#include "config/config.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "config/loader_parts.hpp"
#include "config/toml_reader.hpp"
#include "protocols/common/text.hpp"

namespace sevenport::config {

namespace {

using detail::Entry;
using detail::TableReader;

const std::vector<std::string_view> limit_keys = {"idle_timeout_seconds", "max_line_length",
                                                  "max_message_size", "max_recipients",
                                                  "max_bad_commands"};

const std::vector<std::string_view> tls_keys = {"tls_certificate", "tls_key",
                                                "tls_min_version", "tls_max_version",
                                                "tls_ciphers",     "tls_ciphersuites"};

std::vector<std::string_view> listener_keys() {
  std::vector<std::string_view> keys = {"protocol", "port", "security", "enabled",
                                        "address",  "role", "auth",     "auth_requires_tls"};
  keys.insert(keys.end(), limit_keys.begin(), limit_keys.end());
  keys.insert(keys.end(), tls_keys.begin(), tls_keys.end());
  const auto& behaviour = detail::behaviour_keys();
  keys.insert(keys.end(), behaviour.begin(), behaviour.end());
  return keys;
}

// The [limits] table or a listener's limit keys: only what was written, applied over defaults.
struct LimitOverrides {
  std::optional<std::int64_t> idle_timeout_seconds;
  std::optional<std::int64_t> max_line_length;
  std::optional<std::int64_t> max_message_size;
  std::optional<std::int64_t> max_recipients;
  std::optional<std::int64_t> max_bad_commands;
};

LimitOverrides read_limits(const TableReader& table) {
  // Lower bounds keep a typo from locking every client out (a 12-octet line limit); upper bounds
  // keep one client from pinning the server's memory.
  return {table.integer("idle_timeout_seconds", 1, 86400),
          table.integer("max_line_length", 128, 1048576),
          table.integer("max_message_size", 1024, 1073741824),
          table.integer("max_recipients", 1, 100000), table.integer("max_bad_commands", 1, 10000)};
}

void apply(const LimitOverrides& overrides, Limits& limits) {
  if (overrides.idle_timeout_seconds)
    limits.idle_timeout_seconds = static_cast<std::uint32_t>(*overrides.idle_timeout_seconds);
  if (overrides.max_line_length)
    limits.max_line_length = static_cast<std::size_t>(*overrides.max_line_length);
  if (overrides.max_message_size)
    limits.max_message_size = static_cast<std::size_t>(*overrides.max_message_size);
  if (overrides.max_recipients)
    limits.max_recipients = static_cast<std::uint32_t>(*overrides.max_recipients);
  if (overrides.max_bad_commands)
    limits.max_bad_commands = static_cast<std::uint32_t>(*overrides.max_bad_commands);
}

// "name@domain" with both parts non-empty, one '@', no spaces or control characters.
bool is_plain_address(std::string_view address) {
  const auto at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return false;
  if (address.find('@', at + 1) != std::string_view::npos) return false;
  for (const unsigned char c : address) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

// Printable, no spaces: the name appears in greetings (RFC 5321 4.1.3 "220 <domain> ...") and in
// the generated certificate.
bool is_host_name(std::string_view name) {
  for (const unsigned char c : name) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return !name.empty();
}

bool is_listener_name(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// An address in binary form, for comparing "::1" with "0:0:0:0:0:0:0:1".
struct IpAddress {
  int family = AF_UNSPEC;
  unsigned char bytes[16] = {};

  static std::optional<IpAddress> parse(const std::string& text) {
    IpAddress ip;
    if (inet_pton(AF_INET, text.c_str(), ip.bytes) == 1) {
      ip.family = AF_INET;
    } else if (inet_pton(AF_INET6, text.c_str(), ip.bytes) == 1) {
      ip.family = AF_INET6;
    } else {
      return std::nullopt;
    }
    return ip;
  }
  std::size_t size() const { return family == AF_INET ? 4 : 16; }
  bool is_wildcard() const {
    for (std::size_t i = 0; i < size(); ++i) {
      if (bytes[i] != 0) return false;
    }
    return true;
  }
  bool operator==(const IpAddress& other) const {
    return family == other.family && std::memcmp(bytes, other.bytes, size()) == 0;
  }
};

// The listener's tls_* keys. Profile and key names are checked here, against the list in
// certs/profiles.hpp (config does not link the certificate code); cipher strings can only be
// judged by OpenSSL and are checked when the server builds the listener's context.
ListenerTls read_listener_tls(const TableReader& reader, Security security,
                              const TlsSettings& global) {
  ListenerTls tls;
  tls.min_version = global.min_version;
  if (security == Security::none) {
    for (const auto key : tls_keys) {
      if (reader.has(key))
        reader.fail_at(key, "has no effect: this listener's security is \"none\"");
    }
    return tls;
  }
  tls.certificate = std::string(
      reader
          .one_of<std::string_view>("tls_certificate", {{"valid", "valid"},
                                                        {"self-signed", "self-signed"},
                                                        {"expired", "expired"},
                                                        {"not-yet-valid", "not-yet-valid"},
                                                        {"wrong-host", "wrong-host"},
                                                        {"untrusted-ca", "untrusted-ca"},
                                                        {"incomplete-chain", "incomplete-chain"},
                                                        {"weak-rsa1024", "weak-rsa1024"},
                                                        {"weak-sha1", "weak-sha1"}})
          .value_or("valid"));
  tls.key = std::string(reader
                            .one_of<std::string_view>(
                                "tls_key", {{"ecdsa-p256", "ecdsa-p256"}, {"rsa-2048", "rsa-2048"}})
                            .value_or("ecdsa-p256"));
  // Profiles are made from the local CA; a certificate of the user's own cannot be broken on
  // purpose, so asking for one would silently serve the good certificate instead.
  if (!global.cert_file.empty()) {
    if (tls.certificate != "valid") {
      reader.fail_at("tls_certificate",
                     "only generated certificates have profiles, and [tls] cert_file is set: "
                     "remove cert_file to serve \"" +
                         tls.certificate + "\"");
    }
    if (tls.key != "ecdsa-p256") {
      reader.fail_at("tls_key",
                     "only generated certificates have a choice of key, and [tls] cert_file is "
                     "set: the key is key_file's");
    }
  }
  const std::initializer_list<detail::Choice<std::string_view>> versions = {
      {"1.0", "1.0"}, {"1.1", "1.1"}, {"1.2", "1.2"}, {"1.3", "1.3"}};
  if (auto min = reader.one_of<std::string_view>("tls_min_version", versions))
    tls.min_version = *min;
  if (auto max = reader.one_of<std::string_view>("tls_max_version", versions))
    tls.max_version = *max;
  // "1.0" to "1.3" order as strings do.
  if (tls.min_version > tls.max_version) {
    if (reader.has("tls_min_version")) {
      reader.fail_at("tls_min_version", "\"" + tls.min_version + "\" is above tls_max_version \"" +
                                            tls.max_version + "\"");
    }
    reader.fail_at("tls_max_version", "\"" + tls.max_version + "\" is below the minimum \"" +
                                          tls.min_version + "\" (from [tls] min_version)");
  }
  if (auto ciphers = reader.string("tls_ciphers")) tls.ciphers = *ciphers;
  if (auto suites = reader.string("tls_ciphersuites")) tls.ciphersuites = *suites;
  return tls;
}

Listener read_listener(std::string_view source, const std::string& name, const toml::table& table,
                       const LimitOverrides& global_limits, const TlsSettings& global_tls) {
  static const std::vector<std::string_view> allowed = listener_keys();
  const TableReader reader(source, table, detail::join_key("listeners", name), allowed);
  Listener listener;
  listener.name = name;
  listener.protocol = reader.required(
      reader.one_of<Protocol>(
          "protocol",
          {{"smtp", Protocol::smtp}, {"imap", Protocol::imap}, {"pop3", Protocol::pop3}}),
      "protocol");
  listener.port =
      static_cast<std::uint16_t>(reader.required(reader.integer("port", 0, 65535), "port"));
  listener.security =
      reader.required(reader.one_of<Security>("security", {{"none", Security::none},
                                                           {"starttls", Security::starttls},
                                                           {"implicit", Security::implicit}}),
                      "security");
  listener.enabled = reader.boolean("enabled").value_or(true);
  if (auto address = reader.string("address")) {
    if (!IpAddress::parse(*address)) {
      reader.fail_at("address",
                     R"(expected an IPv4 or IPv6 address such as "127.0.0.1" or "::1", got )" +
                         detail::describe(*reader.find("address")));
    }
    listener.address = *address;
  }

  const bool smtp = listener.protocol == Protocol::smtp;
  if (reader.has("role") && !smtp) {
    reader.fail_at("role", "only smtp listeners have a role; this one is " +
                               std::string(to_string(listener.protocol)));
  }
  listener.role =
      reader.one_of<SmtpRole>("role", {{"mx", SmtpRole::mx}, {"submission", SmtpRole::submission}})
          .value_or(SmtpRole::mx);

  const AuthMode default_auth =
      smtp && listener.role == SmtpRole::submission ? AuthMode::required : AuthMode::optional;
  if (smtp) {
    listener.auth = reader
                        .one_of<AuthMode>("auth", {{"off", AuthMode::off},
                                                   {"optional", AuthMode::optional},
                                                   {"required", AuthMode::required}})
                        .value_or(default_auth);
  } else {
    // IMAP and POP3 always need a login before any mailbox access, so "required" would say
    // nothing; only whether login is offered at all is a choice.
    listener.auth =
        reader.one_of<AuthMode>("auth", {{"off", AuthMode::off}, {"optional", AuthMode::optional}})
            .value_or(default_auth);
  }
  listener.auth_requires_tls = reader.boolean("auth_requires_tls").value_or(true);

  if (smtp && listener.security == Security::none && listener.auth == AuthMode::required &&
      listener.auth_requires_tls) {
    const std::string auth_origin =
        reader.has("auth") ? "auth = \"required\""
                           : "auth = \"required\" (the default for role = \"submission\")";
    reader.fail_at("security", "\"none\" with " + auth_origin +
                                   " and auth_requires_tls = true: no client could ever "
                                   "authenticate; use security = \"starttls\" or set "
                                   "auth_requires_tls = false");
  }

  listener.limits = defaults_for(listener.protocol);
  apply(global_limits, listener.limits);
  apply(read_limits(reader), listener.limits);
  listener.tls = read_listener_tls(reader, listener.security, global_tls);
  listener.behaviour =
      detail::read_listener_behaviour(reader, listener.protocol, listener.security);
  return listener;
}

// One socket the config asks for, and where its port was written, for the cross-listener check.
struct Binding {
  std::string address;
  std::uint16_t port = 0;
  bool enabled = true;
  std::string key;                        // "listeners.NAME" or "http"
  std::optional<toml::source_region> at;  // the port value; none for a default port
};

// Two enabled listeners (the HTTP one included) cannot bind the same address and port, nor the same
// port on an address and on the wildcard of its family (Linux refuses the second bind without
// SO_REUSEPORT). The one written later in the file (in the overlay, if there is one) is reported.
void check_bindings(std::string_view source, std::vector<Binding> bindings) {
  std::stable_sort(bindings.begin(), bindings.end(), [&](const Binding& x, const Binding& y) {
    if (!x.at || !y.at) return !x.at && y.at;
    return detail::comes_before(source, *x.at, *y.at);
  });
  for (std::size_t later = 0; later < bindings.size(); ++later) {
    const Binding& b = bindings[later];
    if (!b.enabled || b.port == 0) continue;
    const auto b_ip = IpAddress::parse(b.address);
    for (std::size_t earlier = 0; earlier < later; ++earlier) {
      const Binding& a = bindings[earlier];
      if (!a.enabled || a.port != b.port) continue;
      const auto a_ip = IpAddress::parse(a.address);
      if (!a_ip || !b_ip || a_ip->family != b_ip->family) continue;
      const std::string port = std::to_string(b.port);
      std::string where = "(its default port)";
      if (a.at) {
        where = "(line " + std::to_string(a.at->begin.line);
        const auto a_file = detail::origin(source, *a.at);
        if (a_file != detail::origin(source, *b.at)) where += " of " + std::string(a_file);
        where += ")";
      }
      std::string what;
      if (*a_ip == *b_ip) {
        what = "port " + port + " on " + b.address + " is already used by " + a.key + " " + where;
      } else if (a_ip->is_wildcard() || b_ip->is_wildcard()) {
        what = "port " + port + " on " + b.address + " conflicts with " + a.key + " on " +
               a.address + " " + where + ": one of them listens on every address";
      } else {
        continue;
      }
      throw ConfigError(detail::format_error(source, *b.at, b.key + ".port", what));
    }
  }
}

void read_users(const TableReader& root, Config& config) {
  const toml::array* users = root.array("users");
  if (users == nullptr) return;
  std::vector<std::pair<std::string, std::size_t>> seen;  // lower-cased address, line
  for (std::size_t i = 0; i < users->size(); ++i) {
    const toml::node& node = *users->get(i);
    const std::string path = "users[" + std::to_string(i) + "]";
    const auto* table = node.as_table();
    if (table == nullptr) {
      throw ConfigError(
          detail::format_error(root.source(), node.source(), path,
                               "expected a table ([[users]]), got " + detail::describe(node)));
    }
    const TableReader user(root.source(), *table, path,
                           {"address", "password", "app_password", "imap_enabled", "pop3_enabled",
                            "locked", "password_expired", "mailbox_full"});
    UserEntry entry;
    entry.address = user.required(user.string("address"), "address");
    entry.password = user.required(user.string("password"), "password");
    if (auto app_password = user.string("app_password")) {
      // The behaviour is "the main password is refused, the app password works": one password
      // cannot be both.
      if (*app_password == entry.password)
        user.fail_at("app_password", "must differ from password");
      entry.app_password = *std::move(app_password);
    }
    entry.imap_enabled = user.boolean("imap_enabled").value_or(true);
    entry.pop3_enabled = user.boolean("pop3_enabled").value_or(true);
    entry.locked = user.boolean("locked").value_or(false);
    entry.password_expired = user.boolean("password_expired").value_or(false);
    entry.mailbox_full =
        user.one_of<MailboxFull>("mailbox_full", {{"temporary", MailboxFull::temporary},
                                                  {"permanent", MailboxFull::permanent}})
            .value_or(MailboxFull::no);
    if (!is_plain_address(entry.address)) {
      user.fail_at("address", "expected an address like \"alice@example.test\", got " +
                                  detail::describe(*user.find("address")));
    }
    const std::string folded = ascii_lower(entry.address);
    const std::size_t line = user.find("address")->source().begin.line;
    for (const auto& [other, other_line] : seen) {
      if (other == folded) {
        user.fail_at("address", "duplicate user " + detail::describe(*user.find("address")) +
                                    " (already defined at line " + std::to_string(other_line) +
                                    ")");
      }
    }
    seen.emplace_back(folded, line);
    config.users.push_back(std::move(entry));
  }
}

void read_tls(const TableReader& root, Config& config) {
  const toml::table* table = root.subtable("tls");
  if (table == nullptr) return;
  const TableReader tls(root.source(), *table, "tls", {"cert_file", "key_file", "min_version"});
  const auto cert_file = tls.string("cert_file");
  const auto key_file = tls.string("key_file");
  if (cert_file && !key_file)
    tls.fail_at("cert_file", "key_file must be set too (both or neither)");
  if (key_file && !cert_file)
    tls.fail_at("key_file", "cert_file must be set too (both or neither)");
  if (cert_file) {
    config.tls.cert_file = *cert_file;
    config.tls.key_file = *key_file;
  }
  if (const toml::node* version = tls.find("min_version")) {
    const auto* text = version->as_string();
    if (text == nullptr || (text->get() != "1.2" && text->get() != "1.3"))
      tls.fail_at("min_version", "expected \"1.2\" or \"1.3\", got " + detail::describe(*version));
    config.tls.min_version = text->get();
  }
}

// "Visible ASCII, no spaces": the token travels in an Authorization header and a query string.
bool is_token(std::string_view token) {
  for (const unsigned char c : token) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return !token.empty();
}

void read_http(const TableReader& root, Config& config, std::vector<Binding>& bindings) {
  Binding binding{config.http.address, config.http.port, config.http.enabled, "http", {}};
  if (const toml::table* table = root.subtable("http")) {
    const TableReader http(root.source(), *table, "http",
                           {"enabled", "address", "port", "token", "max_request_size"});
    config.http.enabled = http.boolean("enabled").value_or(true);
    if (auto address = http.string("address")) {
      if (!IpAddress::parse(*address)) {
        http.fail_at("address",
                     R"(expected an IPv4 or IPv6 address such as "127.0.0.1" or "::1", got )" +
                         detail::describe(*http.find("address")));
      }
      config.http.address = *address;
    }
    if (auto port = http.integer("port", 0, 65535)) {
      config.http.port = static_cast<std::uint16_t>(*port);
      binding.at = http.find("port")->source();
    }
    if (auto token = http.string("token")) {
      if (!is_token(*token)) {
        http.fail_at("token", "expected visible ASCII characters without spaces, got " +
                                  detail::describe(*http.find("token")));
      }
      config.http.token = *token;
    }
    // A request body is held in memory whole: the bound keeps one client from pinning it.
    if (auto size = http.integer("max_request_size", 1024, 268435456))
      config.http.max_request_size = static_cast<std::size_t>(*size);
    binding.address = config.http.address;
    binding.port = config.http.port;
    binding.enabled = config.http.enabled;
    // A conflict found at the default port is reported at the table, which is where to fix it.
    if (!binding.at) binding.at = table->source();
  }
  bindings.push_back(std::move(binding));
}

void read_listeners(const TableReader& root, const LimitOverrides& global_limits, Config& config,
                    std::vector<Binding>& bindings) {
  const toml::table* table = root.subtable("listeners");
  if (table == nullptr) return;
  for (const Entry& entry : detail::in_file_order(root.source(), *table)) {
    const std::string name(entry.key->str());
    const std::string key = detail::join_key("listeners", name);
    if (!is_listener_name(name)) {
      throw ConfigError(
          detail::format_error(root.source(), entry.key->source(), key,
                               "listener names may contain only letters, digits, '-' and '_'"));
    }
    const auto* listener = entry.value->as_table();
    if (listener == nullptr) {
      throw ConfigError(
          detail::format_error(root.source(), entry.value->source(), key,
                               "expected a table, got " + detail::describe(*entry.value)));
    }
    config.listeners.push_back(
        read_listener(root.source(), name, *listener, global_limits, config.tls));
    const Listener& l = config.listeners.back();
    bindings.push_back({l.address, l.port, l.enabled, key, listener->get("port")->source()});
  }
}

toml::table parse(std::string_view toml, const std::string& source) {
  try {
    return toml::parse(toml, std::string_view(source));
  } catch (const toml::parse_error& e) {
    throw ConfigError(detail::format_error(source, e.source(), {}, e.description()));
  }
}

// Validates a parsed config (perhaps a base with an overlay merged in). `base_source` names the
// base document: nodes toml++ recorded no path for are reported under it.
Config validate(const toml::table& root_table, const std::string& base_source) {
  Config config;
  config.source = base_source;
  // A scenario's description is not config: left in a config file it would be ignored.
  if (const toml::node* scenario = root_table.get("scenario")) {
    throw ConfigError(detail::format_error(
        base_source, scenario->source(), "scenario",
        "[scenario] belongs in scenario files (scenarios/NAME.toml, loaded with --scenario "
        "NAME), not in a config file"));
  }
  const TableReader root(base_source, root_table, {},
                         {"hostname", "local_domains", "state_dir", "max_connections", "log_format",
                          "tls", "http", "limits", "users", "listeners"});

  if (auto hostname = root.string("hostname")) {
    if (!is_host_name(*hostname)) {
      root.fail_at("hostname", "expected a host name without spaces or control characters, got " +
                                   detail::describe(*root.find("hostname")));
    }
    config.hostname = *hostname;
  }
  if (const toml::array* domains = root.array("local_domains")) {
    for (std::size_t i = 0; i < domains->size(); ++i) {
      const toml::node& node = *domains->get(i);
      const auto* text = node.as_string();
      if (text == nullptr || !is_host_name(text->get()) ||
          text->get().find('@') != std::string::npos) {
        throw ConfigError(detail::format_error(
            base_source, node.source(), "local_domains[" + std::to_string(i) + "]",
            "expected a domain such as \"example.test\", got " + detail::describe(node)));
      }
      config.local_domains.push_back(ascii_lower(text->get()));
    }
  }
  if (auto state_dir = root.string("state_dir")) config.state_dir = *state_dir;
  if (auto max_connections = root.integer("max_connections", 1, 1000000))
    config.max_connections = static_cast<std::uint32_t>(*max_connections);
  config.log_format =
      std::string(root.one_of<std::string_view>("log_format", {{"text", "text"}, {"json", "json"}})
                      .value_or("text"));
  read_tls(root, config);

  LimitOverrides global_limits;
  if (const toml::table* limits = root.subtable("limits"))
    global_limits = read_limits(TableReader(base_source, *limits, "limits", limit_keys));
  read_users(root, config);
  std::vector<Binding> bindings;
  read_http(root, config, bindings);
  read_listeners(root, global_limits, config, bindings);
  check_bindings(base_source, std::move(bindings));
  return config;
}

}  // namespace

Config load_string(std::string_view toml, std::string source) {
  return validate(parse(toml, source), source);
}

Config load_with_overlay(std::string_view base, std::string base_source, std::string_view overlay,
                         std::string overlay_source, ScenarioInfo* scenario) {
  toml::table merged = parse(base, base_source);
  toml::table on_top = parse(overlay, overlay_source);
  if (const toml::node* node = on_top.get("scenario")) {
    const auto* table = node->as_table();
    if (table == nullptr) {
      throw ConfigError(detail::format_error(overlay_source, node->source(), "scenario",
                                             "expected a table, got " + detail::describe(*node)));
    }
    ScenarioInfo info;
    detail::read_scenario(overlay_source, *table, info);
    if (scenario != nullptr) {
      info.name = std::move(scenario->name);
      *scenario = std::move(info);
    }
    on_top.erase("scenario");
  } else if (scenario != nullptr) {
    // Whoever asks for the description is loading a scenario, and a scenario says what it shows.
    throw ConfigError(detail::format_error(
        overlay_source, on_top.source(), "scenario",
        "missing required table: a scenario file describes itself in [scenario] (summary = ...)"));
  }
  detail::merge_overlay(merged, on_top);
  Config config = validate(merged, base_source);
  config.source = base_source + " + " + overlay_source;
  return config;
}

Config load_file(const std::filesystem::path& path) {
  const auto cannot_read = [&path](int error) {
    return ConfigError(path.string() + ": cannot read: " + std::strerror(error));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw cannot_read(errno);
  std::string text;
  char buffer[16384];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int error = errno;  // a directory fails here, with EISDIR
      ::close(fd);
      throw cannot_read(error);
    }
    if (got == 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return load_string(text, path.string());
}

Config load_default() { return load_string(default_config_toml(), "<built-in default>"); }

}  // namespace sevenport::config
