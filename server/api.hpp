// The JSON API of docs/API.md and the web UI's files, answered from the store, the users and the
// session registry in the loop thread. Owns the long polls (GET /api/v1/messages/wait) and the
// event-stream subscribers; hears of deliveries from the store and of sessions from the registry.
// The HTTP side (parsing, limits, the token) is http::HttpServer's.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocols/common/users.hpp"
#include "protocols/store/mail_store.hpp"
#include "server/http/http_server.hpp"
#include "server/session_registry.hpp"

namespace sevenport::server {

// What GET /api/v1/messages and the wait endpoint match on (every criterion given must hold).
struct MessageFilter {
  std::string to;             // case-insensitive substring of a recipient
  std::string from;           // ... of the envelope sender or of the From header
  std::string subject;        // ... of the decoded Subject
  std::int64_t since_ms = 0;  // received at or after this Unix time in ms; 0: any time
};

class Api {
 public:
  // `info` builds the answer to GET /api/v1/info (version, hostname, CA file, listeners); it is
  // called per request.
  Api(uv_loop_t* loop, store::MailStore& store, UserDirectory& users, SessionRegistry& sessions,
      std::function<nlohmann::json()> info);
  // Without close() first: forgets waits and streams without answering them (their connections
  // may be gone already) and releases the API's handles.
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Answers one request: at once, or later for the wait endpoint and the event stream.
  void handle(const http::Request& request, std::shared_ptr<http::Exchange> exchange);

  // Shutdown: pending waits are answered 503, event streams are ended, observers removed, the
  // API's libuv handles closed (the loop can end). Later requests get 503. Idempotent. Call it
  // before HttpServer::close(), so that long polls get an answer rather than a closed socket.
  void close();

  // Facts kept per message id: the owners whose INBOX got it (from the store's delivery events),
  // and the header fields the list shows and filters on, decoded once.
  struct Facts {
    std::vector<std::string> mailboxes;
    bool parsed = false;
    std::string subject;      // decoded, "" if absent
    std::string date;         // the Date field as written, "" if absent
    std::string from_header;  // decoded, "" if absent
  };

 private:
  // One routed request: its exchange and the path's {parameters}.
  struct Call {
    const http::Request& request;
    const std::shared_ptr<http::Exchange>& exchange;
    std::vector<std::string> params;
  };
  using Route = void (Api::*)(const Call&);
  struct RouteEntry {
    std::string_view method;   // "GET" also answers HEAD
    std::string_view pattern;  // under /api/v1/, "{x}" matches one segment
    Route handler;
  };
  static const std::vector<RouteEntry>& routes();

  // A long poll: its criteria, its exchange, and the timer that ends it with 408.
  struct WaitTimer {
    uv_timer_t handle{};
    Api* api = nullptr;  // null once the wait is over; the timer is then closing
    std::uint64_t waiter = 0;
  };
  struct Waiter {
    MessageFilter filter;
    double timeout_seconds = 0;
    std::shared_ptr<http::Exchange> exchange;
    WaitTimer* timer = nullptr;  // owned; freed in its close callback
  };

  void route(const http::Request& request, const std::shared_ptr<http::Exchange>& exchange);
  void serve_ui(const http::Request& request, http::Exchange& exchange);

  // Messages (api_messages.cpp).
  void list_messages(const Call& call);
  void get_message(const Call& call);
  void get_raw(const Call& call);
  void get_attachment(const Call& call);
  void delete_message(const Call& call);
  void delete_messages(const Call& call);
  void wait_message(const Call& call);
  // Sessions, users, server, events (api.cpp).
  void list_sessions(const Call& call);
  void get_session(const Call& call);
  void list_users(const Call& call);
  void add_user(const Call& call);
  void delete_user(const Call& call);
  void get_info(const Call& call);
  void reset(const Call& call);
  void subscribe(const Call& call);

  // The stored message named by the call's {id}, or nullptr after answering 400/404.
  store::MessagePtr message_for(const Call& call);
  // The facts of a stored message, its header parsed on first use.
  Facts& facts(const store::Message& message);
  bool matches(const store::Message& message, const MessageFilter& filter);
  nlohmann::json summary(const store::Message& message);

  void on_store_event(const store::StoreEvent& event);
  void on_session_change(const SessionChange& change);
  // Deliveries are announced in the loop's check phase, once every owner's event has been heard.
  static void on_check(uv_check_t* handle);
  void announce_arrivals();
  void broadcast(std::string_view event, const nlohmann::json& data);
  // Ends a long poll: answers it with `response`, or just forgets it (client gone) if null.
  void finish_wait(std::uint64_t waiter, const http::Response* response);
  static void on_wait_timeout(uv_timer_t* handle);
  // Releases a handle we own: closed now, or freed at once if a loop-wide walk closed it.
  static void release(uv_handle_t* handle, void (*free_it)(uv_handle_t*));

  uv_loop_t* loop_;
  store::MailStore& store_;
  UserDirectory& users_;
  SessionRegistry& sessions_;
  std::function<nlohmann::json()> info_;
  std::uint64_t store_token_ = 0;
  std::uint64_t sessions_token_ = 0;
  bool closed_ = false;

  std::unordered_map<std::uint64_t, Facts> facts_;
  std::vector<std::uint64_t> arrived_;  // message ids delivered, not announced yet
  uv_check_t* check_ = nullptr;         // owned; freed in its close callback

  std::map<std::uint64_t, Waiter> waiters_;
  std::uint64_t next_waiter_ = 1;
  std::map<std::uint64_t, std::shared_ptr<http::Exchange>> subscribers_;
  std::uint64_t next_subscriber_ = 1;
};

}  // namespace sevenport::server
