// sevenport's command line: load the config, apply the command-line overrides, start the server,
// print what a person needs to point a mail client at it, and run until SIGINT/SIGTERM.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/config.hpp"
#include "server/server.hpp"

namespace {

using sevenport::Security;
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

void print_banner(const sevenport::server::Server& server) {
  const auto& cfg = server.config();
  std::printf("sevenport %s, mail protocol test server\n\n", SEVENPORT_VERSION);
  std::printf("  %-12s %-10s %6s  %-5s %s\n", "listener", "address", "port", "proto", "security");
  for (const auto& l : server.listeners()) {
    const auto& c = l->config();
    const std::string proto(config::display_name(c.protocol));
    std::printf("  %-12s %-10s %6u  %-5s %s\n", c.name.c_str(), c.address.c_str(),
                static_cast<unsigned>(l->bound_port()), proto.c_str(), describe(c).c_str());
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
    std::printf("    %-28s password %s\n", u.address.c_str(), u.password.c_str());
  if (cfg.users.empty()) std::printf("    (none: add one with --user ADDRESS:PASSWORD)\n");
  std::string domains;
  for (const auto& d : cfg.local_domains) domains += (domains.empty() ? "" : ", ") + d;
  std::printf("  Local domains (port 25 takes mail for these without login): %s\n",
              domains.c_str());
  std::printf("\nReady. Ctrl-C stops.\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "sevenport: a mail protocol test server. SMTP, IMAP and POP3 on the seven standard "
      "mail ports, with STARTTLS and implicit TLS, a local CA, and one shared mail store.",
      "sevenport"};
  std::string config_file;
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

  config::Config cfg;
  try {
    cfg = config_file.empty() ? config::load_default() : config::load_file(config_file);
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
    cfg.users.push_back({spec.substr(0, colon), spec.substr(colon + 1)});
  }
  if (!log_format.empty()) cfg.log_format = log_format;
  for (auto& l : cfg.listeners) {
    if (ephemeral) {
      l.port = 0;
    } else if (port_offset && l.port) {
      const int port = l.port + port_offset;
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
  } else if (port_offset && cfg.http.port) {
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
    print_banner(server);
    return server.run();
  } catch (const sevenport::server::StartupError& e) {
    std::fprintf(stderr, "sevenport: %s\n", e.what());
    return kExitRuntime;
  }
}
