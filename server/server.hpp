// The sevenport server: one libuv loop, the listeners the config names, the shared store and
// users, the TLS context, the session log. Owns every side effect; protocol engines are created
// per connection by their listener and never see the loop.
#pragma once

#include <uv.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "config/config.hpp"
#include "protocols/common/users.hpp"
#include "protocols/imap/imap_policy.hpp"
#include "protocols/pop3/pop3_policy.hpp"
#include "protocols/smtp/smtp_policy.hpp"
#include "protocols/store/mail_store.hpp"
#include "server/api.hpp"
#include "server/http/http_server.hpp"
#include "server/session_log.hpp"
#include "server/session_registry.hpp"
#include "server/tls_channel.hpp"

namespace sevenport::server {

class Connection;
class Server;

// A start-up failure with a message meant for the person running sevenport.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One configured listener: its socket, its engine policies, its open connections.
class Listener {
 public:
  // `tls` is the context its TLS connections use (owned by the server).
  Listener(Server& server, config::Listener config, TlsContext* tls);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and listens; throws StartupError with a user-facing explanation.
  void bind();
  void close();

  // A fresh protocol engine for one connection.
  std::unique_ptr<Engine> make_engine();

  Server& server() { return server_; }
  const config::Listener& config() const { return config_; }
  TlsContext* tls() const { return tls_; }
  // True when the listener serves one of the deliberately broken certificate profiles, which a
  // client is right to refuse.
  bool broken_certificate() const { return config_.tls.certificate != "valid"; }
  std::uint16_t bound_port() const { return bound_port_; }
  bool bound() const { return bound_; }

 private:
  static void on_connection(uv_stream_t* handle, int status);

  Server& server_;
  config::Listener config_;
  TlsContext* tls_;
  smtp::SmtpPolicy smtp_policy_;
  pop3::Pop3Policy pop3_policy_;
  imap::ImapPolicy imap_policy_;
  // Greylist and rate-limit memory of an SMTP listener that uses them, shared by its sessions.
  std::unique_ptr<smtp::SmtpThrottle> throttle_;
  uv_tcp_t handle_{};
  std::uint16_t bound_port_ = 0;
  bool bound_ = false;
};

struct ServerOptions {
  std::filesystem::path state_dir;   // resolved, absolute
  std::filesystem::path ready_file;  // empty: none
  bool handle_signals = true;        // SIGINT/SIGTERM stop the server (not when embedded)
  bool session_log = true;           // the session log on stderr
};

class Server {
 public:
  Server(config::Config config, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Certificates, TLS context, listeners, signals, ready file. Throws StartupError.
  void start();
  // Runs until a graceful shutdown completes; returns the process exit status.
  int run();
  // Stops accepting, says goodbye to every session, and lets the loop end.
  void shutdown(std::string_view why);

  // Runs `task` in the loop thread, soon. The only member that may be called from another
  // thread (after start(); tasks posted after the loop ended are dropped).
  void post(std::function<void()> task);

  uv_loop_t* loop() { return &loop_; }
  const config::Config& config() const { return config_; }
  store::MailStore& store() { return store_; }
  UserDirectory& users() { return users_; }
  SessionLog& log() { return log_; }
  SessionRegistry& sessions() { return sessions_; }
  // The context of listeners with default TLS settings.
  TlsContext* tls() { return tls_; }
  const std::filesystem::path& ca_file() const { return ca_file_; }
  const std::vector<std::unique_ptr<Listener>>& listeners() const { return listeners_; }
  // The HTTP listener (web UI and API), or nullptr when [http] is disabled.
  const http::HttpServer* http() const { return http_.get(); }

  // The port a client should use instead, for diagnoses: a bound listener like `like` (same
  // protocol, and for SMTP the same role if there is one) whose security is `security`; 0 if none.
  std::uint16_t port_for(const config::Listener& like, Security security) const;

  // Connection bookkeeping (intrusive list; used for max_connections and shutdown).
  std::uint64_t next_session_id() { return next_session_id_++; }
  // True once the connection just added is one too many.
  bool at_capacity() const { return connection_count_ > config_.max_connections; }
  void add(Connection* connection);
  void remove(Connection* connection);

  // Connections whose engine wants asynchronous output (IMAP IDLE): after a store change, the
  // server pulls their updates once per loop iteration.
  void want_async_updates(Connection* connection, bool want);

  // A buffer for one read at a time: every read is handled before the next one arrives.
  char* read_buffer() { return read_buffer_.get(); }
  static constexpr std::size_t read_buffer_size = 64 * 1024;

 private:
  void setup_certificates();
  void write_ready_file();
  void start_http();
  // GET /api/v1/info.
  nlohmann::json info() const;
  static void on_signal(uv_signal_t* handle, int signum);
  static void on_prepare(uv_prepare_t* handle);
  static void on_shutdown_deadline(uv_timer_t* handle);
  static void on_check(uv_check_t* handle);
  static void on_tasks(uv_async_t* handle);

  config::Config config_;
  ServerOptions options_;
  uv_loop_t loop_{};
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_prepare_t prepare_{};
  uv_check_t check_{};        // after I/O callbacks: hands store changes to waiting sessions
  uv_async_t tasks_async_{};  // wakes the loop for post()
  std::mutex tasks_mutex_;
  std::vector<std::function<void()>> tasks_;
  bool tasks_open_ = false;      // guarded by tasks_mutex_
  uv_timer_t shutdown_timer_{};  // bounds a graceful shutdown: clients that never read get cut off
  SessionLog log_;
  SessionRegistry sessions_;
  store::MailStore store_;
  UserDirectory users_;
  // One context per distinct listener TLS setting (certificate profile, key, versions, ciphers),
  // keyed by those settings; tls_ is the default one's, listener_tls_ each enabled listener's.
  std::map<std::string, std::unique_ptr<TlsContext>> tls_contexts_;
  TlsContext* tls_ = nullptr;
  std::map<std::string, TlsContext*> listener_tls_;  // by listener name
  std::filesystem::path ca_file_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  // After store_, users_ and sessions_, which the API observes; http_ after api_, so that it is
  // destroyed first.
  std::unique_ptr<Api> api_;
  std::unique_ptr<http::HttpServer> http_;
  std::unique_ptr<char[]> read_buffer_;
  Connection* connections_ = nullptr;  // head of the intrusive list
  std::unordered_set<Connection*> async_waiters_;
  bool store_changed_ = false;
  std::size_t connection_count_ = 0;
  std::uint64_t next_session_id_ = 1;
  bool shutting_down_ = false;
};

}  // namespace sevenport::server
