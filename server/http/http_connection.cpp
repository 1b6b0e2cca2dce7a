#include "server/http/http_connection.hpp"

#include <vector>

#include "protocols/common/text.hpp"
#include "server/http/http_util.hpp"

namespace sevenport::http {

namespace {

// Stop parsing requests from a client that does not read our responses once this much is
// queued, and go on below the low-water mark (the mail connections do the same).
constexpr std::size_t kHighWater = 1024 * 1024;
constexpr std::size_t kLowWater = 256 * 1024;
// An event-stream client that lets this much pile up is not reading: it is disconnected, since
// events cannot wait.
constexpr std::size_t kStreamLimit = 1024 * 1024;
// After a refusal, input is read and discarded this long so that the client, maybe still sending
// the body we refused, gets to read the answer instead of a reset (lingering close).
constexpr std::uint64_t kLingerMs = 2000;

struct WriteRequest {
  uv_write_t req;
  std::string data;
};

}  // namespace

Connection::Connection(HttpServer& server)
    : server_(&server), options_(server.options_), loop_(server.loop_) {}

void Connection::accept(HttpServer& server, uv_stream_t* listener) {
  auto* c = new Connection(server);
  uv_tcp_init(c->loop_, &c->tcp_);
  uv_timer_init(c->loop_, &c->timer_);
  c->tcp_.data = c->timer_.data = c;
  c->handles_open_ = 2;
  server.connections_.push_back(c);
  if (const int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp_)); rc != 0) {
    c->log("error", std::string("accept: ") + uv_strerror(rc));
    c->close("accept failed");
    return;
  }
  uv_tcp_nodelay(&c->tcp_, 1);
  c->peer_ = peer_name(&c->tcp_);
  llhttp_init(&c->parser_, HTTP_REQUEST, &settings());
  c->parser_.data = c;
  c->last_activity_ = uv_now(c->loop_);
  c->arm_timer(options_idle_ms(c->options_));
  c->update_reading();
  if (server.connections_.size() > server.options_.max_connections) {
    c->refuse(503, "too many connections (max_connections " +
                       std::to_string(server.options_.max_connections) + ")");
  }
}

void Connection::log(std::string_view kind, std::string_view text) const {
  if (server_) server_->log(kind, peer_ + ": " + std::string(text));
}

// ---- requests ----

void Connection::process() {
  if (processing_) return;
  processing_ = true;
  while (!closing_ && !lingering_ && !close_when_flushed_ && !streaming_ && !exchange_ &&
         !output_blocked_ && !input_.empty()) {
    const char* data = input_.data();
    const auto err = llhttp_execute(&parser_, data, input_.size());
    if (err == HPE_OK) {
      input_.clear();
      break;
    }
    // An Upgrade or CONNECT request pauses as an upgrade: it is answered like any other, and
    // the connection closes after it (keep_alive_ is false), since nothing is upgraded here.
    if ((err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) && parsed_) {
      input_.erase(0, static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data));
      if (err == HPE_PAUSED)
        llhttp_resume(&parser_);
      else
        llhttp_resume_after_upgrade(&parser_);
      dispatch();
      continue;
    }
    if (refuse_status_) {
      refuse(refuse_status_, refuse_why_);
    } else {
      const char* reason = llhttp_get_error_reason(&parser_);
      refuse(400, "malformed request: " + sanitize(reason ? reason : llhttp_errno_name(err), 100));
    }
    break;
  }
  processing_ = false;
  update_reading();
}

void Connection::dispatch() {
  exchange_ = std::move(parsed_);
  exchange_->connection_ = this;
  head_ = exchange_->request().method == "HEAD";
  const auto exchange = exchange_;  // the handler may answer (and drop exchange_) at once
  if (!authorized(exchange->request())) {
    auto response = error_response(401,
                                   "this server requires a token for /api/: send "
                                   "\"Authorization: Bearer TOKEN\" or ?access_token=TOKEN");
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sevenport\"");
    exchange->respond(std::move(response));
    return;
  }
  try {
    server_->handler_(exchange->request(), exchange);
  } catch (const std::exception& e) {
    log("error", "handler failed for " + sanitize(exchange->request().path, 100) + ": " +
                     sanitize(e.what(), 200));
    exchange->respond(error_response(500, "internal error"));
  }
}

bool Connection::authorized(const Request& request) const {
  const auto& token = options_.token;
  if (token.empty() || !request.path.starts_with("/api/")) return true;
  if (const auto auth = request.header("authorization")) {
    const std::string_view value = *auth;
    if (value.size() > 7 && istarts_with(value, "bearer ") &&
        constant_time_equal(trim(value.substr(7)), token))
      return true;
  }
  const auto param = request.param("access_token");
  return param && constant_time_equal(*param, token);
}

// ---- responses ----

std::string Connection::head(const Response& response, std::size_t length, bool keep_alive) const {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    std::string(reason_phrase(response.status)) + "\r\n";
  if (!response.content_type.empty()) out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(length) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const auto& [name, value] : response.headers) {
    // A CR or LF from a handler would split the response (header injection): such a field is
    // dropped rather than sent.
    if (name.find_first_of("\r\n:") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos)
      continue;
    out += name + ": " + value + "\r\n";
  }
  out += "\r\n";
  return out;
}

bool Connection::respond(Exchange& exchange, Response response) {
  if (closing_ || &exchange != exchange_.get() || exchange.answered_ || exchange.streaming_)
    return false;
  exchange.answered_ = true;
  exchange.connection_ = nullptr;
  exchange.on_close_ = nullptr;
  const auto hold = std::move(exchange_);  // the exchange outlives this call even if unowned
  const bool keep_alive = keep_alive_ && !close_when_flushed_;
  std::string out = head(response, response.body.size(), keep_alive);
  if (!head_) out += response.body;
  response.body.clear();
  send(std::move(out));
  if (!keep_alive) {
    close_when_flushed_ = true;
    finish_close_when_flushed();
  } else {
    process();
  }
  return true;
}

bool Connection::start_events(Exchange& exchange) {
  if (closing_ || &exchange != exchange_.get() || exchange.answered_ || exchange.streaming_)
    return false;
  exchange.streaming_ = true;
  streaming_ = true;
  input_.clear();  // the stream is the connection's last exchange
  send(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Connection: close\r\nX-Accel-Buffering: no\r\n\r\n");
  arm_timer(options_.event_keepalive_seconds * 1000ULL);
  return true;
}

void Connection::send_stream(Exchange& exchange, std::string_view bytes) {
  if (closing_ || !streaming_ || &exchange != exchange_.get()) return;
  send(std::string(bytes));
  if (!closing_ && write_queue_size() > kStreamLimit) {
    log("refused", "event stream client is not reading; disconnected");
    close("event stream not read");
  }
}

void Connection::refuse(int status, std::string_view why) {
  log("refused", std::to_string(status) + " " + std::string(why));
  lingering_ = true;
  input_.clear();
  auto response = error_response(status, why);
  send(head(response, response.body.size(), false) + response.body);
  if (closing_) return;
  // Half-close once the answer is out, then read and discard until the client closes.
  auto* req = new uv_shutdown_t;
  if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&tcp_),
                  [](uv_shutdown_t* r, int) { delete r; }) != 0) {
    delete req;
    close("refused");
    return;
  }
  arm_timer(kLingerMs);
  update_reading();
}

std::size_t Connection::write_queue_size() const {
  return uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&tcp_));
}

void Connection::send(std::string bytes) {
  if (closing_ || bytes.empty()) return;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  std::size_t sent = 0;
  if (pending_writes_ == 0) {
    // Most responses fit the socket buffer: written at once, without a copy.
    uv_buf_t buf = uv_buf_init(bytes.data(), static_cast<unsigned>(bytes.size()));
    const int n = uv_try_write(stream, &buf, 1);
    if (n == static_cast<int>(bytes.size())) return;
    if (n > 0) {
      sent = static_cast<std::size_t>(n);
    } else if (n != UV_EAGAIN && n != UV_ENOSYS) {
      close(uv_strerror(n));
      return;
    }
  }
  auto* req = new WriteRequest;
  req->data = sent ? bytes.substr(sent) : std::move(bytes);
  req->req.data = this;
  uv_buf_t buf = uv_buf_init(req->data.data(), static_cast<unsigned>(req->data.size()));
  if (const int rc = uv_write(&req->req, stream, &buf, 1, on_write); rc != 0) {
    delete req;
    close(uv_strerror(rc));
    return;
  }
  ++pending_writes_;
  if (write_queue_size() > kHighWater) output_blocked_ = true;
}

void Connection::on_write(uv_write_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  delete reinterpret_cast<WriteRequest*>(req);
  c->on_write_done(status);
}

void Connection::on_write_done(int status) {
  --pending_writes_;
  if (closing_) return;
  if (status != 0) {
    close(uv_strerror(status));
    return;
  }
  last_activity_ = uv_now(loop_);
  if (output_blocked_ && write_queue_size() < kLowWater) {
    output_blocked_ = false;
    process();
  }
  finish_close_when_flushed();
}

void Connection::finish_close_when_flushed() {
  if (close_when_flushed_ && pending_writes_ == 0 && !closing_) close("response sent");
}

// ---- reading, timer, close ----

void Connection::update_reading() {
  if (closing_) return;
  // Reading goes on while a request is in flight (to notice a client that leaves a long poll),
  // up to a bound on what may wait unparsed behind it.
  const std::size_t input_limit = options_.max_header_size + options_.max_request_size;
  const bool want = lingering_ || streaming_ ||
                    (!close_when_flushed_ && !output_blocked_ && input_.size() <= input_limit);
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (want && !reading_) {
    uv_read_start(stream, on_alloc, on_read);
  } else if (!want && reading_) {
    uv_read_stop(stream);
  }
  reading_ = want;
}

void Connection::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(handle->data);
  *buf = uv_buf_init(c->server_->read_buffer_.get(), static_cast<unsigned>(kReadBufferSize));
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  if (nread > 0) {
    if (c->lingering_ || c->streaming_) return;  // nothing more is parsed on this connection
    c->last_activity_ = uv_now(c->loop_);
    c->input_.append(buf->base, static_cast<std::size_t>(nread));
    c->process();
  } else if (nread == UV_EOF) {
    c->on_eof();
  } else if (nread < 0) {
    c->close(uv_strerror(static_cast<int>(nread)));
  }
}

void Connection::on_eof() {
  // A client that leaves while its request is pending (a long poll) or its stream is open is
  // gone; one that only half-closed after its requests still gets the answers already written.
  if (exchange_ || streaming_ || lingering_ || parsed_) {
    close("client closed the connection");
    return;
  }
  input_.clear();
  close_when_flushed_ = true;
  update_reading();
  finish_close_when_flushed();
}

void Connection::arm_timer(std::uint64_t ms) { uv_timer_start(&timer_, on_timer_cb, ms, 0); }

void Connection::on_timer_cb(uv_timer_t* handle) {
  static_cast<Connection*>(handle->data)->on_timer();
}

void Connection::on_timer() {
  if (closing_) return;
  if (lingering_) {
    close("refused");
    return;
  }
  const std::uint64_t idle_ms = options_idle_ms(options_);
  if (streaming_) {
    send_stream(*exchange_, ": keep-alive\n\n");
    arm_timer(options_.event_keepalive_seconds * 1000ULL);
    return;
  }
  if (exchange_) {
    // The handler bounds its own wait (the API's wait timeout); look again later.
    arm_timer(idle_ms);
    return;
  }
  // Reads and write completions only stamp the time; the timer re-arms for what is left. A
  // request being received must be complete within the idle timeout from its first byte, so a
  // client trickling a byte a minute cannot hold a connection.
  const std::uint64_t now = uv_now(loop_);
  const std::uint64_t since = request_started_ ? request_started_ : last_activity_;
  if (now - since < idle_ms) {
    arm_timer(idle_ms - (now - since));
    return;
  }
  if (request_started_ && pending_writes_ == 0)
    refuse(408, "request not completed within " + std::to_string(idle_ms / 1000) + " s");
  else
    close("idle timeout");
}

void Connection::close(std::string_view /*why*/) {
  if (closing_) return;
  closing_ = true;
  if (server_) {
    std::erase(server_->connections_, this);
    server_ = nullptr;
  }
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close);
  parsed_.reset();
  // Last, as the callback may do anything: this connection is already closing.
  if (const auto exchange = std::move(exchange_)) {
    exchange->closed_ = true;
    exchange->connection_ = nullptr;
    if (auto callback = std::move(exchange->on_close_)) {
      exchange->on_close_ = nullptr;
      callback();
    }
  }
}

bool Connection::closed_behind_our_back() const {
  return !closing_ && uv_is_closing(reinterpret_cast<const uv_handle_t*>(&tcp_));
}

void Connection::reap() {
  if (exchange_) {
    exchange_->closed_ = true;
    exchange_->connection_ = nullptr;
    exchange_->on_close_ = nullptr;
  }
  delete this;
}

void Connection::on_close(uv_handle_t* handle) {
  auto* c = static_cast<Connection*>(handle->data);
  if (--c->handles_open_ == 0) delete c;
}

}  // namespace sevenport::http
