#include "server/server.hpp"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "certs/local_ca.hpp"
#include "certs/profiles.hpp"
#include "protocols/imap/imap_session.hpp"
#include "protocols/pop3/pop3_session.hpp"
#include "protocols/smtp/smtp_session.hpp"
#include "protocols/smtp/smtp_throttle.hpp"
#include "server/connection.hpp"

namespace sevenport::server {

namespace {
smtp::AuthMode to_smtp(config::AuthMode mode) {
  switch (mode) {
    case config::AuthMode::off:
      return smtp::AuthMode::off;
    case config::AuthMode::optional:
      return smtp::AuthMode::optional;
    case config::AuthMode::required:
      return smtp::AuthMode::required;
  }
  return smtp::AuthMode::optional;
}
}  // namespace

Listener::Listener(Server& server, config::Listener config, TlsContext* tls)
    : server_(server), config_(std::move(config)), tls_(tls) {
  const auto& cfg = server_.config();
  smtp_policy_.hostname = cfg.hostname;
  smtp_policy_.local_domains = cfg.local_domains;
  smtp_policy_.starttls_offered = config_.security == Security::starttls;
  smtp_policy_.auth = to_smtp(config_.auth);
  smtp_policy_.auth_requires_tls = config_.auth_requires_tls;
  smtp_policy_.max_line_length = config_.limits.max_line_length;
  smtp_policy_.max_message_size = config_.limits.max_message_size;
  smtp_policy_.max_recipients = config_.limits.max_recipients;
  smtp_policy_.max_bad_commands = config_.limits.max_bad_commands;
  const auto& behaviour = config_.behaviour;
  smtp_policy_.starttls_fault = behaviour.starttls_fault;
  smtp_policy_.unavailable = behaviour.greeting == config::Greeting::unavailable;
  smtp_policy_.reject_unknown_users = behaviour.reject_unknown_users;
  smtp_policy_.greylist_seconds = behaviour.greylist_seconds;
  smtp_policy_.rate_limit_messages = behaviour.rate_limit_messages;
  smtp_policy_.rate_limit_window_seconds = behaviour.rate_limit_window_seconds;
  if (config_.protocol == config::Protocol::smtp &&
      (behaviour.greylist_seconds > 0 || behaviour.rate_limit_messages > 0)) {
    throttle_ = std::make_unique<smtp::SmtpThrottle>();
    smtp_policy_.throttle = throttle_.get();
  }

  pop3_policy_.hostname = cfg.hostname;
  pop3_policy_.stls_offered = config_.security == Security::starttls;
  pop3_policy_.auth_enabled = config_.auth != config::AuthMode::off;
  pop3_policy_.auth_requires_tls = config_.auth_requires_tls;
  pop3_policy_.max_line_length = config_.limits.max_line_length;
  pop3_policy_.max_bad_commands = config_.limits.max_bad_commands;
  pop3_policy_.starttls_fault = behaviour.starttls_fault;
  pop3_policy_.unavailable = behaviour.greeting == config::Greeting::unavailable;

  imap_policy_.hostname = cfg.hostname;
  imap_policy_.starttls_offered = config_.security == Security::starttls;
  imap_policy_.auth_enabled = config_.auth != config::AuthMode::off;
  imap_policy_.auth_requires_tls = config_.auth_requires_tls;
  imap_policy_.max_line_length = config_.limits.max_line_length;
  imap_policy_.max_literal_size = config_.limits.max_message_size;
  imap_policy_.max_bad_commands = config_.limits.max_bad_commands;
  imap_policy_.starttls_fault = behaviour.starttls_fault;
  imap_policy_.unavailable = behaviour.greeting == config::Greeting::unavailable;
}

Listener::~Listener() = default;

std::unique_ptr<Engine> Listener::make_engine() {
  switch (config_.protocol) {
    case config::Protocol::smtp:
      return std::make_unique<smtp::SmtpSession>(smtp_policy_, server_.store(), server_.users());
    case config::Protocol::pop3:
      return std::make_unique<pop3::Pop3Session>(pop3_policy_, server_.store(), server_.users());
    case config::Protocol::imap:
      return std::make_unique<imap::ImapSession>(imap_policy_, server_.store(), server_.users());
  }
  return nullptr;
}

void Listener::bind() {
  sockaddr_storage addr{};
  const bool v6 = config_.address.find(':') != std::string::npos;
  int rc = v6 ? uv_ip6_addr(config_.address.c_str(), config_.port,
                            reinterpret_cast<sockaddr_in6*>(&addr))
              : uv_ip4_addr(config_.address.c_str(), config_.port,
                            reinterpret_cast<sockaddr_in*>(&addr));
  const std::string where =
      (v6 ? "[" + config_.address + "]" : config_.address) + ":" + std::to_string(config_.port);
  if (rc != 0) throw StartupError("listener " + config_.name + ": bad address " + where);
  uv_tcp_init(server_.loop(), &handle_);
  handle_.data = this;
  bound_ = true;  // the handle exists and must be closed from here on
  rc = uv_tcp_bind(&handle_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&handle_), 511, on_connection);
  if (rc == UV_EACCES || rc == UV_EPERM) {
    throw StartupError(
        "cannot listen on " + where + " for " + config_.name +
        ": permission denied. Ports below 1024 need privileges. Either move every port up with "
        "--port-offset (e.g. --port-offset 10000 puts " +
        std::to_string(config_.port) + " on " + std::to_string(10000 + config_.port) +
        "), or allow the binary to bind them: "
        "sudo setcap cap_net_bind_service=+ep \"$(command -v sevenport)\"");
  }
  if (rc == UV_EADDRINUSE) {
    throw StartupError("cannot listen on " + where + " for " + config_.name +
                       ": the port is already in use by another program (another mail server or "
                       "sevenport?); `ss -ltnp 'sport = :" +
                       std::to_string(config_.port) +
                       "'` shows which. Choose another port or --port-offset N.");
  }
  if (rc == UV_EADDRNOTAVAIL) {
    throw StartupError("cannot listen on " + where + " for " + config_.name +
                       ": that address does not belong to this machine");
  }
  if (rc != 0)
    throw StartupError("cannot listen on " + where + " for " + config_.name + ": " +
                       uv_strerror(rc));
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&handle_, reinterpret_cast<sockaddr*>(&bound), &len);
  bound_port_ =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

void Listener::close() {
  if (!bound_) return;
  bound_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), nullptr);
}

void Listener::on_connection(uv_stream_t* handle, int status) {
  auto* self = static_cast<Listener*>(handle->data);
  if (status < 0) {
    self->server_.log().server("error",
                               "accept on " + self->config_.name + ": " + uv_strerror(status));
    return;
  }
  Connection::accept(*self, handle);
}

Server::Server(config::Config config, ServerOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      log_(config_.log_format == "json" ? LogFormat::json : LogFormat::text,
           options_.session_log ? stderr : nullptr),
      read_buffer_(new char[read_buffer_size]) {
  uv_loop_init(&loop_);
  for (const auto& u : config_.users) users_.add(u);
}

Server::~Server() {
  // Close whatever is still open (a server that never ran, the unreferenced shutdown timer) so
  // that the loop can be closed.
  uv_walk(
      &loop_,
      [](uv_handle_t* handle, void*) {
        if (!uv_is_closing(handle)) uv_close(handle, nullptr);
      },
      nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  log_.flush();
}

void Server::setup_certificates() {
  std::optional<certs::LocalCa> ca;
  if (config_.tls.cert_file.empty()) {
    try {
      ca = certs::ensure_local_ca(options_.state_dir, config_.hostname);
    } catch (const std::exception& e) {
      throw StartupError(std::string("certificates: ") + e.what());
    }
    ca_file_ = ca->ca_file;
    if (ca->ca_created)
      log_.server("certs", "created a local CA (" + ca->ca_reason + "): " + ca_file_.string() +
                               "; clients must trust this file");
    if (ca->leaf_created)
      log_.server("certs", "issued a server certificate (" + ca->leaf_reason +
                               "): " + ca->cert_file.string());
  } else {
    ca_file_ = config_.tls.cert_file;  // the user's own chain: trust whatever issued it
  }

  // Listeners with the same settings share one context; the default settings always have one.
  const auto context_for = [&](const config::ListenerTls& tls,
                               const std::string& listener) -> TlsContext* {
    const std::string id = tls.certificate + '\n' + tls.key + '\n' + tls.min_version + '\n' +
                           tls.max_version + '\n' + tls.ciphers + '\n' + tls.ciphersuites;
    if (const auto found = tls_contexts_.find(id); found != tls_contexts_.end())
      return found->second.get();
    const std::string who = listener.empty() ? "TLS" : "listener " + listener;
    std::filesystem::path cert = config_.tls.cert_file;
    std::filesystem::path key = config_.tls.key_file;
    TlsOptions options;
    options.min_version = tls.min_version;
    options.max_version = tls.max_version;
    options.ciphers = tls.ciphers;
    options.ciphersuites = tls.ciphersuites;
    if (ca) {
      // The config checked both names against the same list.
      const auto profile = certs::parse_profile(tls.certificate).value_or(certs::Profile::valid);
      const auto kind = certs::parse_key_kind(tls.key).value_or(certs::KeyKind::ecdsa_p256);
      try {
        const auto files =
            certs::ensure_profile(options_.state_dir, *ca, config_.hostname, profile, kind);
        cert = files.cert_file;
        key = files.key_file;
        options.legacy_security_level = files.needs_legacy_security_level;
        if (files.created) {
          log_.server("certs", "issued the " + tls.certificate + " (" + tls.key +
                                   ") certificate (" + files.reason + "): " + cert.string());
        }
      } catch (const std::exception& e) {
        throw StartupError(who + ": certificates: " + e.what());
      }
    }
    try {
      auto context = std::make_unique<TlsContext>(cert, key, options);
      return tls_contexts_.emplace(id, std::move(context)).first->second.get();
    } catch (const TlsCipherError& e) {
      throw StartupError(who + ": " + (e.tls13() ? "tls_ciphersuites" : "tls_ciphers") + ": " +
                         e.what());
    } catch (const TlsError& e) {
      throw StartupError(listener.empty() ? std::string(e.what()) : who + ": " + e.what());
    }
  };

  config::ListenerTls defaults;
  defaults.min_version = config_.tls.min_version;
  tls_ = context_for(defaults, {});
  for (const auto& l : config_.listeners) {
    if (!l.enabled) continue;
    // A plaintext listener never handshakes; it keeps the default context for completeness.
    listener_tls_[l.name] = l.security == Security::none ? tls_ : context_for(l.tls, l.name);
    if (l.security != Security::none && l.tls.certificate != "valid") {
      const auto profile = certs::parse_profile(l.tls.certificate).value_or(certs::Profile::valid);
      log_.server("certs", "listener " + l.name + " serves a deliberately broken certificate, " +
                               std::string(certs::describe(profile)));
    }
  }
}

void Server::start() {
  std::signal(SIGPIPE, SIG_IGN);
  setup_certificates();
  for (const auto& cfg : config_.listeners) {
    if (!cfg.enabled) continue;
    auto listener = std::make_unique<Listener>(*this, cfg, listener_tls_.at(cfg.name));
    listener->bind();
    listeners_.push_back(std::move(listener));
  }
  uv_signal_init(&loop_, &sigint_);
  uv_signal_init(&loop_, &sigterm_);
  sigint_.data = sigterm_.data = this;
  if (options_.handle_signals) {
    uv_signal_start(&sigint_, on_signal, SIGINT);
    uv_signal_start(&sigterm_, on_signal, SIGTERM);
  }
  uv_async_init(&loop_, &tasks_async_, on_tasks);
  tasks_async_.data = this;
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_open_ = true;
  }
  uv_prepare_init(&loop_, &prepare_);
  prepare_.data = this;
  uv_prepare_start(&prepare_, on_prepare);
  uv_check_init(&loop_, &check_);
  check_.data = this;
  uv_check_start(&check_, on_check);
  store_.observe([this](const store::StoreEvent&) { store_changed_ = true; });
  start_http();
  write_ready_file();
}

void Server::start_http() {
  const auto& cfg = config_.http;
  if (!cfg.enabled) return;
  api_ = std::make_unique<Api>(&loop_, store_, users_, sessions_, [this] { return info(); });
  http::Options options;
  options.address = cfg.address;
  options.port = cfg.port;
  options.token = cfg.token;
  options.max_request_size = cfg.max_request_size;
  options.log = [this](std::string_view kind, std::string_view text) {
    log_.server("http " + std::string(kind), text);
  };
  http_ = std::make_unique<http::HttpServer>(
      &loop_, std::move(options),
      [this](const http::Request& request, std::shared_ptr<http::Exchange> exchange) {
        api_->handle(request, std::move(exchange));
      });
  try {
    http_->bind();
  } catch (const std::runtime_error& e) {
    throw StartupError(e.what());
  }
}

nlohmann::json Server::info() const {
  nlohmann::json j;
  j["version"] = SEVENPORT_VERSION;
  j["hostname"] = config_.hostname;
  j["ca_file"] = ca_file_.string();
  j["listeners"] = nlohmann::json::object();
  for (const auto& l : listeners_) {
    j["listeners"][l->config().name] = {{"protocol", config::to_string(l->config().protocol)},
                                        {"security", to_string(l->config().security)},
                                        {"address", l->config().address},
                                        {"port", l->bound_port()}};
  }
  if (http_) {
    j["listeners"]["http"] = {{"protocol", "http"},
                              {"security", "none"},
                              {"address", config_.http.address},
                              {"port", http_->port()}};
  }
  return j;
}

std::uint16_t Server::port_for(const config::Listener& like, Security security) const {
  std::uint16_t fallback = 0;
  for (const auto& l : listeners_) {
    const auto& c = l->config();
    if (!l->bound() || c.protocol != like.protocol || c.security != security) continue;
    if (c.role == like.role) return l->bound_port();
    if (!fallback) fallback = l->bound_port();
  }
  return fallback;
}

void Server::write_ready_file() {
  if (options_.ready_file.empty()) return;
  nlohmann::json j;
  j["pid"] = static_cast<long>(getpid());
  j["ca_file"] = ca_file_.string();
  j["hostname"] = config_.hostname;
  j["listeners"] = nlohmann::json::object();
  for (const auto& l : listeners_) {
    nlohmann::json entry;
    entry["protocol"] = config::to_string(l->config().protocol);
    entry["security"] = to_string(l->config().security);
    entry["address"] = l->config().address;
    entry["port"] = l->bound_port();
    j["listeners"][l->config().name] = entry;
  }
  if (http_) {
    j["listeners"]["http"] = {{"protocol", "http"},
                              {"security", "none"},
                              {"address", config_.http.address},
                              {"port", http_->port()}};
  }
  const auto target = options_.ready_file;
  auto tmp = target;
  tmp += ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << '\n';
    if (!out) throw StartupError("cannot write the ready file " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);  // atomic: readers see all of it or nothing
  if (ec)
    throw StartupError("cannot write the ready file " + target.string() + ": " + ec.message());
}

int Server::run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
  log_.server("stopped", "all sessions closed");
  log_.flush();
  if (!options_.ready_file.empty()) {
    std::error_code ec;
    std::filesystem::remove(options_.ready_file, ec);
  }
  return 0;
}

void Server::shutdown(std::string_view why) {
  if (shutting_down_) return;
  shutting_down_ = true;
  log_.server("shutdown", why);
  for (auto& l : listeners_) l->close();
  // Pending long polls get a 503 answer before their connections are closed.
  if (api_) api_->close();
  if (http_) http_->close();
  for (Connection* c = connections_; c;) {
    Connection* next = c->next;
    c->shutdown();
    c = next;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&prepare_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_open_ = false;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&tasks_async_), nullptr);
  if (connections_) {
    uv_timer_init(&loop_, &shutdown_timer_);
    shutdown_timer_.data = this;
    uv_timer_start(&shutdown_timer_, on_shutdown_deadline, 2000, 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(&shutdown_timer_));
  }
}

void Server::on_shutdown_deadline(uv_timer_t* handle) {
  auto* self = static_cast<Server*>(handle->data);
  for (Connection* c = self->connections_; c;) {
    Connection* next = c->next;
    c->abort("shutdown: client did not take its farewell in time");
    c = next;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(handle), nullptr);
}

void Server::on_signal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<Server*>(handle->data);
  self->shutdown(signum == SIGINT ? "SIGINT" : "SIGTERM");
}

void Server::on_prepare(uv_prepare_t* handle) { static_cast<Server*>(handle->data)->log_.flush(); }

void Server::post(std::function<void()> task) {
  std::lock_guard lock(tasks_mutex_);
  if (!tasks_open_) return;
  tasks_.push_back(std::move(task));
  uv_async_send(&tasks_async_);
}

void Server::on_tasks(uv_async_t* handle) {
  auto* self = static_cast<Server*>(handle->data);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(self->tasks_mutex_);
    tasks.swap(self->tasks_);
  }
  for (auto& task : tasks) task();
}

void Server::on_check(uv_check_t* handle) {
  auto* self = static_cast<Server*>(handle->data);
  if (!self->store_changed_) return;
  self->store_changed_ = false;
  if (self->async_waiters_.empty()) return;
  // A session may stop waiting (or close) while it is handed its updates: iterate over a copy.
  const std::vector<Connection*> waiters(self->async_waiters_.begin(), self->async_waiters_.end());
  for (Connection* c : waiters)
    if (self->async_waiters_.count(c)) c->pull_async_updates();
}

void Server::want_async_updates(Connection* c, bool want) {
  if (want)
    async_waiters_.insert(c);
  else
    async_waiters_.erase(c);
}

void Server::add(Connection* c) {
  c->next = connections_;
  c->prev = nullptr;
  if (connections_) connections_->prev = c;
  connections_ = c;
  ++connection_count_;
}

void Server::remove(Connection* c) {
  async_waiters_.erase(c);
  if (c->prev)
    c->prev->next = c->next;
  else
    connections_ = c->next;
  if (c->next) c->next->prev = c->prev;
  --connection_count_;
}

}  // namespace sevenport::server
