#include "server/http/http_server.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

#include "server/http/http_connection.hpp"
#include "server/http/http_util.hpp"

namespace sevenport::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// ---- helpers ----

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space, bool strict) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      const int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
      if (strict) return false;
      out += c;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

bool split_target(std::string_view target, std::string& path, std::string& query) {
  if (const auto hash = target.find('#'); hash != std::string_view::npos)
    target = target.substr(0, hash);
  // Absolute-form (RFC 9112 3.2.2), as sent to proxies: keep what follows the authority.
  if (!target.empty() && target.front() != '/' && target != "*") {
    const auto scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return false;
    const auto path_start = target.find_first_of("/?", scheme_end + 3);
    target =
        path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
    if (target.front() == '?') {
      query = std::string(target.substr(1));
      path = "/";
      return true;
    }
  }
  const auto question = target.find('?');
  query =
      question == std::string_view::npos ? std::string() : std::string(target.substr(question + 1));
  if (!percent_decode(target.substr(0, question), path, false, true)) return false;
  return path.find('\0') == std::string::npos;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string peer_name(const uv_tcp_t* tcp) {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  char ip[64] = "?";
  if (addr.ss_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    uv_ip6_name(a6, ip, sizeof ip);
    return "[" + std::string(ip) + "]:" + std::to_string(ntohs(a6->sin6_port));
  }
  const auto* a4 = reinterpret_cast<const sockaddr_in*>(&addr);
  uv_ip4_name(a4, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(a4->sin_port));
}

// ---- Request, Response ----

std::optional<std::string> Request::header(std::string_view name) const {
  const auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Request::param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    std::string key;
    percent_decode(pair.substr(0, eq), key, true, false);
    if (key != name) continue;
    std::string value;
    if (eq != std::string_view::npos) percent_decode(pair.substr(eq + 1), value, true, false);
    return value;
  }
  return std::nullopt;
}

Response error_response(int status, std::string_view message) {
  Response response;
  response.status = status;
  response.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                          nlohmann::json::error_handler_t::replace);
  return response;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

// ---- Exchange ----

bool Exchange::respond(Response response) {
  return connection_ && connection_->respond(*this, std::move(response));
}

void Exchange::end() {
  on_close_ = nullptr;
  if (connection_) connection_->close("ended by the handler");
}

bool Exchange::start_events() { return connection_ && connection_->start_events(*this); }

void Exchange::send_event(std::string_view name, std::string_view data) {
  if (!connection_ || !streaming_) return;
  std::string out = "event: " + std::string(name) + "\n";
  // Each line of the data is its own "data:" field; the client joins them with LF. An event
  // stream ends a line at CRLF, LF or a bare CR (HTML, "Server-sent events"), so all three split
  // here: a CR left inside a field would start a field of the client's choosing.
  for (;;) {
    const auto end = data.find_first_of("\r\n");
    out += "data: " + std::string(data.substr(0, end)) + "\n";
    if (end == std::string_view::npos) break;
    data.remove_prefix(data.compare(end, 2, "\r\n") == 0 ? end + 2 : end + 1);
  }
  out += "\n";
  connection_->send_stream(*this, out);
}

void Exchange::comment(std::string_view text) {
  if (!connection_ || !streaming_) return;
  std::string out;
  for (;;) {
    const auto end = text.find_first_of("\r\n");
    out += ": " + std::string(text.substr(0, end)) + "\n";
    if (end == std::string_view::npos) break;
    text.remove_prefix(text.compare(end, 2, "\r\n") == 0 ? end + 2 : end + 1);
  }
  out += "\n";
  connection_->send_stream(*this, out);
}

// ---- HttpServer ----

HttpServer::HttpServer(uv_loop_t* loop, Options options, Handler handler)
    : loop_(loop),
      options_(std::move(options)),
      handler_(std::move(handler)),
      read_buffer_(new char[kReadBufferSize]) {}

HttpServer::~HttpServer() {
  // A loop-wide uv_walk (a server tearing down its loop) may have closed our handles with no
  // callback, after which the loop ran: nothing will free what they belonged to but us.
  for (Connection* c : std::vector<Connection*>(connections_)) {
    if (c->closed_behind_our_back()) {
      std::erase(connections_, c);
      c->reap();
    }
  }
  if (listener_ && uv_is_closing(reinterpret_cast<uv_handle_t*>(listener_))) {
    delete listener_;
    listener_ = nullptr;
  }
  close();
}

void HttpServer::log(std::string_view kind, std::string_view text) const {
  if (options_.log) options_.log(kind, text);
}

void HttpServer::bind() {
  sockaddr_storage addr{};
  const bool v6 = options_.address.find(':') != std::string::npos;
  int rc = v6 ? uv_ip6_addr(options_.address.c_str(), options_.port,
                            reinterpret_cast<sockaddr_in6*>(&addr))
              : uv_ip4_addr(options_.address.c_str(), options_.port,
                            reinterpret_cast<sockaddr_in*>(&addr));
  const std::string where =
      (v6 ? "[" + options_.address + "]" : options_.address) + ":" + std::to_string(options_.port);
  const std::string prefix = "cannot listen on " + where + " for " + options_.name + ": ";
  if (rc != 0) throw std::runtime_error(prefix + "bad address");
  if (listener_) throw std::runtime_error(prefix + "already listening");
  listener_ = new uv_tcp_t{};
  uv_tcp_init(loop_, listener_);
  listener_->data = this;
  rc = uv_tcp_bind(listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), 511, on_connection);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(listener_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    listener_ = nullptr;
  }
  if (rc == UV_EACCES || rc == UV_EPERM) {
    throw std::runtime_error(
        prefix +
        "permission denied. Ports below 1024 need privileges: choose another port "
        "under [http], or move every port up with --port-offset");
  }
  if (rc == UV_EADDRINUSE) {
    throw std::runtime_error(prefix +
                             "the port is already in use by another program (another "
                             "sevenport?); `ss -ltnp 'sport = :" +
                             std::to_string(options_.port) +
                             "'` shows which. Choose another port under [http], or "
                             "--port-offset N.");
  }
  if (rc == UV_EADDRNOTAVAIL)
    throw std::runtime_error(prefix + "that address does not belong to this machine");
  if (rc != 0) throw std::runtime_error(prefix + uv_strerror(rc));
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

void HttpServer::on_connection(uv_stream_t* handle, int status) {
  auto* self = static_cast<HttpServer*>(handle->data);
  if (status < 0) {
    self->log("error", std::string("accept: ") + uv_strerror(status));
    return;
  }
  Connection::accept(*self, handle);
}

void HttpServer::close() {
  if (listener_) {
    uv_close(reinterpret_cast<uv_handle_t*>(listener_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    listener_ = nullptr;
  }
  // Each connection removes itself from the list as it closes.
  for (Connection* c : std::vector<Connection*>(connections_)) c->close("server closing");
}

}  // namespace sevenport::http
