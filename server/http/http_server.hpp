// An HTTP/1.1 server on a libuv loop, for the JSON API and the web UI: llhttp parses, a handler
// answers each request through an Exchange, now or later (long polls), or turns the response into
// a Server-Sent Events stream. Keep-alive and pipelining (answered in order), hard limits on
// header and body size, an optional bearer token for /api/. The server owns its listening socket
// and every connection; each libuv handle is freed only in its close callback.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sevenport::http {

class Connection;

struct Request {
  std::string method;  // "GET", "POST", ... as sent
  std::string path;    // percent-decoded, without the query
  std::string query;   // raw, without the '?'
  // Lower-cased names; repeated fields are joined with ", " (RFC 9110 5.3).
  std::map<std::string, std::string, std::less<>> headers;
  std::string body;
  std::string peer;  // "ip:port"

  // The value of a header (name in lower case), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
  // The first query parameter `name`, form-decoded ('+' is a space, %XX a byte); nullopt if the
  // query does not have it. "?a" and "?a=" both give "".
  std::optional<std::string> param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // added as given
};

// {"error": message} with `status`.
Response error_response(int status, std::string_view message);
// The reason phrase for a status code ("Not Found"); "Unknown" for codes not in the table.
std::string_view reason_phrase(int status);

// One request and its answer. Handed to the handler as a shared_ptr, which it may keep to answer
// later. Every member is a no-op once the client has gone (closed() is then true).
class Exchange {
 public:
  explicit Exchange(Request request) : request_(std::move(request)) {}
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  const Request& request() const { return request_; }

  // Sends the response; the connection then reads the next request (keep-alive). Only the first
  // call counts: returns false if a response or a stream was already started, or the client is
  // gone.
  bool respond(Response response);

  // Turns the response into a text/event-stream that lasts until either side closes. A comment
  // line keeps it alive every Options::event_keepalive_seconds.
  bool start_events();
  // One event: "event: NAME", "data: ..." (one data line per line of `data`), blank line.
  // A client that lets more than the stream limit pile up unread is disconnected.
  void send_event(std::string_view name, std::string_view data);
  // A comment line (": text"), which clients ignore.
  void comment(std::string_view text);

  // Ends the exchange by closing its connection: the way to end an event stream from the server
  // side. on_close is not called (the caller knows).
  void end();

  // True once the connection is closed (by the client, a write error, or HttpServer::close()).
  bool closed() const { return closed_; }
  bool answered() const { return answered_; }
  // Called once if the connection closes before respond(), or while the event stream is open:
  // the place to drop a pending wait or a subscription. Not called after respond(). Runs inside
  // the connection's close, so it must not call back into this exchange expecting I/O.
  void on_close(std::function<void()> callback) { on_close_ = std::move(callback); }

 private:
  friend class Connection;
  Request request_;
  Connection* connection_ = nullptr;  // null once the connection is gone or the answer is sent
  std::function<void()> on_close_;
  bool closed_ = false;
  bool answered_ = false;
  bool streaming_ = false;
};

using Handler = std::function<void(const Request&, std::shared_ptr<Exchange>)>;

struct Options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8025;                   // 0: the system picks one (see port())
  std::string token;                           // non-empty: required for every path under /api/
  std::size_t max_request_size = 1024 * 1024;  // body octets, else 413
  std::size_t max_header_size = 16 * 1024;     // request line and header fields, else 431
  std::uint32_t idle_timeout_seconds = 60;     // between requests, and for receiving one request
  std::size_t max_connections = 256;           // further clients get 503 and are closed
  std::uint32_t event_keepalive_seconds = 15;  // comment lines on event streams
  std::string name = "http";                   // in error messages ("... for http: ...")
  // Optional: one line about a problem (a refused request, an accept error), already sanitised.
  std::function<void(std::string_view kind, std::string_view text)> log;
};

class HttpServer {
 public:
  HttpServer(uv_loop_t* loop, Options options, Handler handler);
  // Calls close(). If a loop-wide uv_walk closed the handles instead, frees what they left.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens. Throws std::runtime_error with a message for the person running sevenport
  // ("cannot listen on 127.0.0.1:8025 for http: the port is already in use ...").
  void bind();
  // The bound port (useful with port 0); 0 before bind().
  std::uint16_t port() const { return port_; }
  // Open connections, streams and pending exchanges included.
  std::size_t connection_count() const { return connections_.size(); }

  // Stops listening and closes every connection at once: pending exchanges and event streams get
  // their on_close. Leaves no handle open, so the loop can end. Idempotent.
  void close();

  const Options& options() const { return options_; }

 private:
  friend class Connection;
  static void on_connection(uv_stream_t* handle, int status);
  void log(std::string_view kind, std::string_view text) const;

  uv_loop_t* loop_;
  Options options_;
  Handler handler_;
  uv_tcp_t* listener_ = nullptr;  // owned; freed in its close callback
  std::uint16_t port_ = 0;
  std::vector<Connection*> connections_;  // open ones; each removes itself when it closes
  std::unique_ptr<char[]> read_buffer_;   // one read at a time is handled, so one buffer serves all
};

}  // namespace sevenport::http
