// sevenport's command line: load the config (and a scenario over it), apply the command-line
// overrides, start the server, print what a person needs to point a mail client at it, and run
// until SIGINT/SIGTERM.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/config.hpp"
#include "server/scenarios.hpp"
#include "server/server.hpp"

namespace {

using sevenport::Security;
namespace config = sevenport::config;

constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;

// Where scenario commands say the CA is: the default state dir's ca.pem.
constexpr std::string_view kDefaultCaPath = "~/.local/state/sevenport/ca.pem";

std::filesystem::path default_state_dir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "sevenport";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".local" / "state" / "sevenport";
  return std::filesystem::current_path() / ".sevenport";
}

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

void print_scenario(const sevenport::server::Server& server, const config::ScenarioInfo& scenario) {
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

void print_banner(const sevenport::server::Server& server, const config::ScenarioInfo* scenario) {
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

std::string scenario_source(std::string_view name) {
  return "scenarios/" + std::string(name) + ".toml";
}

// Prints every scenario, name and summary, one per line. Each is loaded over the built-in
// config, so a scenario that does not load is reported (with exit status 2) rather than listed.
int list_scenarios() {
  int rc = 0;
  for (const auto& file : sevenport::server::scenario_files()) {
    config::ScenarioInfo info;
    try {
      config::load_with_overlay(config::default_config_toml(), "<built-in default>", file.toml,
                                scenario_source(file.name), &info);
      std::printf("%-24s %s\n", std::string(file.name).c_str(), info.summary.c_str());
    } catch (const config::ConfigError& e) {
      std::fprintf(stderr, "sevenport: %s\n", e.what());
      rc = kExitConfig;
    }
  }
  return rc;
}

std::string scenario_names() {
  std::string names;
  for (const auto& file : sevenport::server::scenario_files())
    names += (names.empty() ? "" : ", ") + std::string(file.name);
  return names;
}

// The config: the built-in one or --config FILE, with the scenario (when named) applied over it.
config::Config load_config(const std::string& config_file, const std::string& scenario_name,
                           config::ScenarioInfo& scenario) {
  if (scenario_name.empty())
    return config_file.empty() ? config::load_default() : config::load_file(config_file);
  const auto* file = sevenport::server::find_scenario(scenario_name);
  std::string base(config::default_config_toml());
  std::string base_source = "<built-in default>";
  if (!config_file.empty()) {
    std::ifstream in(config_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) throw config::ConfigError(config_file + ": cannot be read");
    base = text.str();
    base_source = config_file;
  }
  auto cfg = config::load_with_overlay(base, base_source, file->toml, scenario_source(file->name),
                                       &scenario);
  scenario.name = std::string(file->name);
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "sevenport: a mail protocol test server. SMTP, IMAP and POP3 on the seven standard "
      "mail ports, with STARTTLS and implicit TLS, a local CA, and one shared mail store.",
      "sevenport"};
  std::string config_file;
  std::string scenario_name;
  bool list_only = false;
  int port_offset = 0;
  bool ephemeral = false;
  std::string ready_file;
  std::string state_dir;
  std::vector<std::string> users;
  std::string log_format;
  bool print_default = false;
  bool check_only = false;
  app.add_option("-c,--config", config_file, "TOML config file (default: the built-in config)")
      ->check(CLI::ExistingFile);
  app.add_option("--scenario", scenario_name,
                 "Reproduce one symptom mail users meet (e.g. greylisting, cert-expired): apply "
                 "the built-in scenario NAME over the config; the banner says what to try. "
                 "--list-scenarios names them all; docs/SCENARIOS.md explains each")
      ->option_text("NAME");
  app.add_flag("--list-scenarios", list_only, "Print each scenario's name and summary and exit");
  app.add_option("--port-offset", port_offset,
                 "Add N to every configured port (25 -> N+25, 587 -> N+587, ...): run without "
                 "privileges")
      ->check(CLI::Range(0, 65000));
  app.add_flag("--ephemeral", ephemeral, "Bind every listener to a port the OS picks (for tests)");
  app.add_option("--ready-file", ready_file,
                 "Once every listener is bound, write this JSON file (pid, CA file, ports)");
  app.add_option("--state-dir", state_dir,
                 "Where the local CA and certificates live (default: $XDG_STATE_HOME/sevenport "
                 "or ~/.local/state/sevenport)");
  app.add_option("-u,--user", users, "Add a user, ADDRESS:PASSWORD (repeatable)");
  app.add_option("--log-format", log_format, "Session log on stderr: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--print-default-config", print_default, "Print the built-in config file and exit");
  app.add_flag("--check-config", check_only, "Load and validate the config, then exit");
  app.set_version_flag("-V,--version", std::string("sevenport ") + SEVENPORT_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitConfig;
  }

  if (print_default) {
    std::cout << config::default_config_toml();
    return 0;
  }
  if (list_only) return list_scenarios();
  if (!scenario_name.empty() && !sevenport::server::find_scenario(scenario_name)) {
    std::fprintf(stderr, "sevenport: --scenario %s: no such scenario; there are: %s\n",
                 scenario_name.c_str(), scenario_names().c_str());
    return kExitConfig;
  }

  config::Config cfg;
  config::ScenarioInfo scenario;
  try {
    cfg = load_config(config_file, scenario_name, scenario);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "sevenport: %s\n", e.what());
    return kExitConfig;
  }
  for (const auto& spec : users) {
    const auto colon = spec.find(':');
    const auto at = spec.find('@');
    if (colon == std::string::npos || at == std::string::npos || at > colon ||
        colon + 1 == spec.size()) {
      std::fprintf(
          stderr,
          "sevenport: --user %s: expected ADDRESS:PASSWORD, e.g. carol@example.test:secret\n",
          spec.c_str());
      return kExitConfig;
    }
    config::UserEntry user;
    user.address = spec.substr(0, colon);
    user.password = spec.substr(colon + 1);
    cfg.users.push_back(std::move(user));
  }
  if (!log_format.empty()) cfg.log_format = log_format;
  for (auto& l : cfg.listeners) {
    if (ephemeral) {
      l.port = 0;
    } else if (port_offset && l.port) {
      const int port = l.port + port_offset;
      if (port > 65535 && !l.enabled) continue;  // never bound: only the banner shows it
      if (port > 65535) {
        std::fprintf(stderr, "sevenport: --port-offset %d puts listener %s (port %u) past 65535\n",
                     port_offset, l.name.c_str(), static_cast<unsigned>(l.port));
        return kExitConfig;
      }
      l.port = static_cast<std::uint16_t>(port);
    }
  }
  if (ephemeral) {
    cfg.http.port = 0;
  } else if (port_offset && cfg.http.port && cfg.http.enabled) {
    const int port = cfg.http.port + port_offset;
    if (port > 65535) {
      std::fprintf(stderr, "sevenport: --port-offset %d puts the http port (%u) past 65535\n",
                   port_offset, static_cast<unsigned>(cfg.http.port));
      return kExitConfig;
    }
    cfg.http.port = static_cast<std::uint16_t>(port);
  }
  if (check_only) {
    std::printf("%s: OK (%zu listeners, %zu users)\n", cfg.source.c_str(), cfg.listeners.size(),
                cfg.users.size());
    return 0;
  }

  sevenport::server::ServerOptions options;
  options.state_dir =
      std::filesystem::absolute(!state_dir.empty()       ? std::filesystem::path(state_dir)
                                : !cfg.state_dir.empty() ? cfg.state_dir
                                                         : default_state_dir());
  if (!ready_file.empty()) {
    options.ready_file = std::filesystem::absolute(ready_file);
    std::error_code ec;
    std::filesystem::remove(options.ready_file, ec);  // a stale file must not look ready
  }
  // Each connection is a file descriptor: take the hard limit, not the default soft 1024.
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  try {
    sevenport::server::Server server(std::move(cfg), std::move(options));
    server.start();
    print_banner(server, scenario.name.empty() ? nullptr : &scenario);
    return server.run();
  } catch (const sevenport::server::StartupError& e) {
    std::fprintf(stderr, "sevenport: %s\n", e.what());
    return kExitRuntime;
  }
}
