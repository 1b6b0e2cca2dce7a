// sevenport's command line: load the config (and a scenario over it), apply the command-line
// overrides, start the server, print what a person needs to point a mail client at it, and run
// until SIGINT/SIGTERM.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/config.hpp"
#include "server/banner.hpp"
#include "server/scenarios.hpp"
#include "server/server.hpp"

namespace {

namespace config = sevenport::config;

constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;

std::filesystem::path default_state_dir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "sevenport";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".local" / "state" / "sevenport";
  return std::filesystem::current_path() / ".sevenport";
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
    sevenport::server::print_banner(server, scenario.name.empty() ? nullptr : &scenario);
    return server.run();
  } catch (const sevenport::server::StartupError& e) {
    std::fprintf(stderr, "sevenport: %s\n", e.what());
    return kExitRuntime;
  }
}
