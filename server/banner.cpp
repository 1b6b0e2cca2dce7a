// The start-up banner: listeners and their security, deliberate behaviours, the web UI, the CA
// file to trust, users, and the active scenario with its commands fitted to the ports in use.
#include "server/banner.hpp"

#include <cstdio>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>

namespace sevenport::server {

namespace {

namespace config = sevenport::config;

// Where scenario commands say the CA is: the default state dir's ca.pem.
constexpr std::string_view kDefaultCaPath = "~/.local/state/sevenport/ca.pem";

std::string describe(const config::Listener& l) {
  std::string security;
  switch (l.security) {
    case Security::none:
      security = "none (plaintext)";
      break;
    case Security::starttls:
      security = "STARTTLS";
      break;
    case Security::implicit:
      security = "SSL/TLS (implicit)";
      break;
  }
  const bool after_tls = l.auth_requires_tls && l.security == Security::starttls;
  std::string auth;
  if (l.auth_requires_tls && l.security == Security::none)
    auth = "no login (it needs TLS)";
  else if (l.auth == config::AuthMode::off)
    auth = "no login";
  else if (l.protocol == config::Protocol::smtp && l.auth == config::AuthMode::optional)
    auth = "AUTH optional" + std::string(after_tls ? " (after STARTTLS)" : "");
  else if (l.protocol == config::Protocol::smtp)
    auth = "AUTH required" + std::string(after_tls ? " (after STARTTLS)" : "");
  else
    auth = after_tls ? "login after STARTTLS" : "login";
  return security + ", " + auth;
}

// The deliberate behaviours a listener has switched on (docs/BEHAVIOURS.md), in a few words;
// empty when it behaves normally.
std::string describe_behaviour(const config::Listener& l) {
  std::vector<std::string> notes;
  const auto& b = l.behaviour;
  if (l.security != Security::none && l.tls.certificate != "valid")
    notes.push_back("certificate " + l.tls.certificate);
  if (b.starttls_fault != sevenport::StartTlsFault::none)
    notes.push_back("STARTTLS " + std::string(sevenport::to_string(b.starttls_fault)));
  switch (b.greeting) {
    case config::Greeting::normal:
      break;
    case config::Greeting::silent:
      notes.push_back("never greets");
      break;
    case config::Greeting::close:
      notes.push_back("closes at once");
      break;
    case config::Greeting::unavailable:
      notes.push_back("answers \"unavailable\" and closes");
      break;
  }
  if (b.greeting_delay_ms)
    notes.push_back("greets after " + std::to_string(b.greeting_delay_ms) + " ms");
  if (b.command_delay_ms)
    notes.push_back("replies after " + std::to_string(b.command_delay_ms) + " ms");
  if (b.drop_after_commands)
    notes.push_back("drops after " + std::to_string(b.drop_after_commands) + " commands");
  if (b.hint) notes.push_back("tells plaintext clients to use TLS");
  if (b.reject_unknown_users) notes.push_back("rejects unknown users");
  if (b.greylist_seconds) notes.push_back("greylists " + std::to_string(b.greylist_seconds) + " s");
  if (b.rate_limit_messages)
    notes.push_back("at most " + std::to_string(b.rate_limit_messages) + " messages per " +
                    std::to_string(b.rate_limit_window_seconds) + " s");
  std::string text;
  for (const auto& n : notes) text += (text.empty() ? "" : ", ") + n;
  return text;
}

// A user's password and, when set, the account's behaviours.
std::string describe_user(const config::UserEntry& u) {
  std::string text = "password " + u.password;
  if (!u.app_password.empty())
    text += "; app password " + u.app_password + " (required: the password is refused)";
  if (u.locked) text += "; locked";
  if (u.password_expired) text += "; password expired";
  if (!u.imap_enabled) text += "; IMAP off";
  if (!u.pop3_enabled) text += "; POP3 off";
  if (u.mailbox_full == sevenport::MailboxFull::temporary)
    text += "; mailbox full (452, temporary)";
  if (u.mailbox_full == sevenport::MailboxFull::permanent)
    text += "; mailbox full (552, permanent)";
  return text;
}

// `text` with its white space collapsed, wrapped at `width` columns, each line indented.
void print_wrapped(std::string_view text, std::size_t indent, std::size_t width) {
  std::istringstream words{std::string(text)};
  std::string word;
  std::string line;
  while (words >> word) {
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
      std::printf("%*s%s\n", static_cast<int>(indent), "", line.c_str());
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) std::printf("%*s%s\n", static_cast<int>(indent), "", line.c_str());
}

// Scenario commands are written against the default ports, as HOST:PORT or, in Python,
// ('HOST', PORT). Maps each default port, through the default config's listener of that port, to
// where that listener is now; nullopt when some port has no known place (a disabled listener
// under --ephemeral), in which case the commands are shown as written.
std::optional<std::string> adjust_command(const std::string& command,
                                          const std::map<unsigned, unsigned>& ports,
                                          const std::string& ca_file) {
  static const std::regex port_rx(R"((:|['"], )(\d{1,5})\b)");
  std::string out;
  auto last = command.cbegin();
  for (std::sregex_iterator it(command.begin(), command.end(), port_rx), end; it != end; ++it) {
    const auto& m = *it;
    const unsigned written = static_cast<unsigned>(std::stoul(m[2].str()));
    const auto found = ports.find(written);
    if (found == ports.end()) continue;  // not a port of ours (or not a port at all)
    if (found->second == 0) return std::nullopt;
    out.append(last, m[2].first);
    out += std::to_string(found->second);
    last = m[2].second;
  }
  out.append(last, command.cend());
  for (auto at = out.find(kDefaultCaPath); at != std::string::npos;
       at = out.find(kDefaultCaPath, at + ca_file.size()))
    out.replace(at, kDefaultCaPath.size(), ca_file);
  return out;
}

void print_scenario(const Server& server, const config::ScenarioInfo& scenario) {
  std::printf("\n  Scenario %s: %s\n", scenario.name.c_str(), scenario.summary.c_str());
  print_wrapped(scenario.explanation, 4, 100);
  if (scenario.try_commands.empty()) return;

  // Default port -> listener name (the built-in config), then -> where that listener is now.
  std::map<unsigned, unsigned> ports;
  const config::Config defaults = config::load_default();
  for (const auto& d : defaults.listeners) {
    unsigned now = 0;
    for (const auto& l : server.config().listeners)
      if (l.name == d.name) now = l.port;  // disabled listeners keep their (offset) port
    for (const auto& l : server.listeners())
      if (l->config().name == d.name) now = l->bound_port();
    ports[d.port] = now;
  }
  if (server.http()) ports[defaults.http.port] = server.http()->port();

  std::string ca = server.ca_file().string();
  if (const char* home = std::getenv("HOME");
      home && *home && ca == std::string(home) + std::string(kDefaultCaPath.substr(1)))
    ca = std::string(kDefaultCaPath);
  std::vector<std::string> adjusted;
  for (const auto& command : scenario.try_commands) {
    auto a = adjust_command(command, ports, ca);
    if (!a) {
      adjusted.clear();
      break;
    }
    adjusted.push_back(std::move(*a));
  }
  if (adjusted.empty()) {
    std::printf("  Try (written for the default ports; see the listeners above for this run's):\n");
    for (const auto& command : scenario.try_commands) std::printf("    %s\n", command.c_str());
  } else {
    std::printf("  Try:\n");
    for (const auto& command : adjusted) std::printf("    %s\n", command.c_str());
  }
  std::printf("  What each command shows, and how a client should be set: docs/SCENARIOS.md#%s\n",
              scenario.name.c_str());
}

}  // namespace

void print_banner(const Server& server, const config::ScenarioInfo* scenario) {
  const auto& cfg = server.config();
  std::printf("sevenport %s, mail protocol test server\n\n", SEVENPORT_VERSION);
  std::printf("  %-12s %-10s %6s  %-5s %s\n", "listener", "address", "port", "proto", "security");
  for (const auto& l : server.listeners()) {
    const auto& c = l->config();
    const std::string proto(config::display_name(c.protocol));
    std::printf("  %-12s %-10s %6u  %-5s %s\n", c.name.c_str(), c.address.c_str(),
                static_cast<unsigned>(l->bound_port()), proto.c_str(), describe(c).c_str());
    if (const auto notes = describe_behaviour(c); !notes.empty())
      std::printf("  %-12s %-10s %6s  %-5s on purpose: %s\n", "", "", "", "", notes.c_str());
  }
  for (const auto& c : cfg.listeners) {
    if (c.enabled) continue;
    if (c.port)  // 0 under --ephemeral: there is no port to name
      std::printf("  %-12s disabled: nothing listens on port %u\n", c.name.c_str(),
                  static_cast<unsigned>(c.port));
    else
      std::printf("  %-12s disabled\n", c.name.c_str());
  }
  if (const auto* http = server.http()) {
    std::printf("\n  Web UI and API: http://%s:%u/%s\n",
                cfg.http.address.find(':') != std::string::npos
                    ? ("[" + cfg.http.address + "]").c_str()
                    : cfg.http.address.c_str(),
                static_cast<unsigned>(http->port()),
                cfg.http.token.empty() ? "" : "  (token required for /api/)");
  }
  std::printf("\n  CA certificate to trust: %s\n", server.ca_file().c_str());
  std::printf("  Users (login with the address or its local part):\n");
  for (const auto& u : cfg.users)
    std::printf("    %-28s %s\n", u.address.c_str(), describe_user(u).c_str());
  if (cfg.users.empty()) std::printf("    (none: add one with --user ADDRESS:PASSWORD)\n");
  std::string domains;
  for (const auto& d : cfg.local_domains) domains += (domains.empty() ? "" : ", ") + d;
  std::printf("  Local domains (port 25 takes mail for these without login): %s\n",
              domains.c_str());
  if (scenario) print_scenario(server, *scenario);
  std::printf("\nReady. Ctrl-C stops.\n");
  std::fflush(stdout);
}

}  // namespace sevenport::server
