// One HTTP client connection (internal to server/http): its socket and timer, the llhttp parser,
// the request being parsed, and the one Exchange in flight. Requests are answered strictly in
// order: the next pipelined request is parsed only once the current one is answered. Deletes
// itself once both of its handles have closed.
#pragma once

#include <llhttp.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "server/http/http_server.hpp"

namespace sevenport::http {

class Connection {
 public:
  // Accepts a pending client of the server's listening socket.
  static void accept(HttpServer& server, uv_stream_t* listener);

  // Exchange's operations; each checks that `exchange` is the one in flight.
  bool respond(Exchange& exchange, Response response);
  bool start_events(Exchange& exchange);
  void send_stream(Exchange& exchange, std::string_view bytes);

  // Closes both handles now, dropping unsent output; the exchange in flight gets its on_close.
  // `why` is for the reader of the caller: closing an HTTP connection is routine, not logged.
  void close(std::string_view why);
  // True if something other than close() closed the handles (a loop-wide uv_walk): the close
  // callbacks will never run, and whoever owns the connection must delete it.
  bool closed_behind_our_back() const;
  // For such a connection: detaches its exchange (without on_close: its owner may be gone too)
  // and deletes it.
  void reap();

 private:
  explicit Connection(HttpServer& server);

  // Parses buffered input and dispatches complete requests while nothing is in flight.
  void process();
  void dispatch();
  bool authorized(const Request& request) const;
  // Answers a request the parser refused (400, 408, 413, 431, 503) and closes gracefully.
  void refuse(int status, std::string_view why);
  void send(std::string bytes);
  void update_reading();
  void arm_timer(std::uint64_t ms);
  void on_timer();
  void on_eof();
  void on_write_done(int status);
  void finish_close_when_flushed();
  std::size_t write_queue_size() const;
  std::string head(const Response& response, std::size_t length, bool keep_alive) const;
  void log(std::string_view kind, std::string_view text) const;

  // llhttp callbacks (parser.data is the Connection).
  static const llhttp_settings_t& settings();
  static int on_message_begin(llhttp_t* parser);
  static int on_url(llhttp_t* parser, const char* at, std::size_t length);
  static int on_header_field(llhttp_t* parser, const char* at, std::size_t length);
  static int on_header_value(llhttp_t* parser, const char* at, std::size_t length);
  static int on_header_value_complete(llhttp_t* parser);
  static int on_headers_complete(llhttp_t* parser);
  static int on_body(llhttp_t* parser, const char* at, std::size_t length);
  static int on_message_complete(llhttp_t* parser);
  int refuse_later(int status, std::string why);
  bool count_header_bytes(std::size_t length);

  // libuv callbacks.
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_timer_cb(uv_timer_t* handle);
  static void on_close(uv_handle_t* handle);

  HttpServer* server_;  // null once closed: the server may be gone before the close callbacks
  const Options& options_;
  uv_loop_t* loop_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  int handles_open_ = 0;
  llhttp_t parser_{};
  std::string peer_;

  std::string input_;  // received, not parsed yet (a request is in flight, or output is blocked)
  Request request_;    // being parsed
  std::string url_;
  std::string field_;
  std::string value_;
  std::size_t header_bytes_ = 0;
  std::size_t header_count_ = 0;
  int refuse_status_ = 0;  // set by a parser callback that hit a limit
  std::string refuse_why_;

  std::shared_ptr<Exchange> parsed_;    // complete, not dispatched yet
  std::shared_ptr<Exchange> exchange_;  // in flight: dispatched, not answered (or streaming)
  bool keep_alive_ = false;             // for the exchange in flight
  bool head_ = false;                   // the exchange in flight is a HEAD request

  std::uint64_t last_activity_ = 0;    // loop time of the last read or write completion, ms
  std::uint64_t request_started_ = 0;  // loop time the request being parsed began; 0: none
  unsigned pending_writes_ = 0;
  bool reading_ = false;
  bool processing_ = false;
  bool output_blocked_ = false;  // the client does not read: parse nothing more until it does
  bool streaming_ = false;
  bool lingering_ = false;  // refused: discard input until EOF or the linger deadline
  bool close_when_flushed_ = false;
  bool closing_ = false;
};

}  // namespace sevenport::http
