// Fuzz target for the HTTP/1.1 server (server/http/): llhttp with the connection's callbacks,
// limits, pipelining, keep-alive, 100-continue, refusals and event streams. The parser lives inside
// http::Connection, which owns a libuv TCP handle, so each input is sent over a real loopback
// connection to an HttpServer running on a loop in this thread; the server's loop and the client
// socket are pumped in turn, with no threads and no sleeps. Also feeds the stream to the request-
// target helpers (split_target, percent_decode, Request::param) directly.
//
// What the handler does depends on the request path: "/later..." answers on the next loop
// iteration, "/never..." only when the client has sent everything (a long poll timing out),
// "/events..." starts an event stream ("/events/end" ends it), "/throw..." throws; anything else
// is answered at once with a header made from the query parameter "echo" (header injection).
//
// Input: four control bytes, then what the client sends.
//   byte 0: bits 0-1 the server (0 default limits; 1 a bearer token for /api/; 2 small limits;
//           3 both).
//   byte 1: how the stream is cut into writes (fuzz_support.hpp, cut()).
//   byte 2: bit 0 the client ends with a reset once the server is quiet, instead of closing its
//           side and reading to the end.
//   byte 3: unused.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.hpp"
#include "server/http/http_server.hpp"
#include "server/http/http_util.hpp"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24  // <linux/in.h>, which clashes with <netinet/in.h>
#endif

namespace {

using namespace sevenport;
using fuzz::check;

constexpr std::string_view kToken = "s3cret-token";

// An exchange the handler did not answer at once, and how often its on_close ran.
struct Kept {
  std::shared_ptr<http::Exchange> exchange;
  std::shared_ptr<int> on_close_calls;
  bool ended = false;  // the handler ended its event stream (no on_close then)
};

// What the handler saw and did during one input.
struct Exchanges {
  std::size_t requests = 0;                            // handler calls
  std::vector<std::shared_ptr<http::Exchange>> later;  // to answer after this loop iteration
  std::vector<std::shared_ptr<http::Exchange>> never;  // to answer when the client is done
  std::vector<Kept> kept;
};

Exchanges* g_exchanges = nullptr;

http::Response answer(const http::Request& request) {
  http::Response response;
  response.body = "{\"method\":\"" + request.method +
                  "\",\"body\":" + std::to_string(request.body.size()) + "}";
  response.headers.emplace_back("X-Method", request.method);
  // CR or LF in a field would split the response: the server must drop such fields.
  response.headers.emplace_back("X-Echo", request.param("echo").value_or(""));
  // A field name from the client too; an empty one would make ": v", which head() does not
  // check for (a handler's mistake, not the client's).
  auto name = request.param("name").value_or("X-Name");
  response.headers.emplace_back(name.empty() ? "X-Name" : name, "v");
  return response;
}

void check_request(const http::Request& request, const http::Options& options) {
  check(!request.method.empty() && fuzz::printable(request.method), "bad method", request.method);
  check(request.path.find('\0') == std::string::npos, "NUL in the decoded path", request.path);
  check(request.path.empty() || request.path.front() == '/' || request.path == "*",
        "path is neither origin-form nor *", request.path);
  check(request.body.size() <= options.max_request_size, "body over max_request_size");
  for (const auto& field : request.headers)
    for (const char c : field.first)
      check(c < 'A' || c > 'Z', "header name not lower-cased", field.first);
  check(request.headers.size() <= 100, "more header fields than the limit");
  check(!request.peer.empty(), "request without a peer");
}

void handle(const http::Request& request, std::shared_ptr<http::Exchange> exchange,
            const http::Options& options) {
  check(g_exchanges != nullptr, "a request outside an input");
  auto& ex = *g_exchanges;
  ++ex.requests;
  check_request(request, options);
  const std::string_view path = request.path;
  if (path.starts_with("/later") || path.starts_with("/never") || path.starts_with("/events")) {
    auto calls = std::make_shared<int>(0);
    exchange->on_close([calls] { ++*calls; });
    ex.kept.push_back({exchange, calls, path == "/events/end"});
  }
  if (path.starts_with("/throw")) throw std::runtime_error("handler failed\r\non purpose");
  if (path.starts_with("/later")) {
    ex.later.push_back(std::move(exchange));
  } else if (path.starts_with("/never")) {
    ex.never.push_back(std::move(exchange));
  } else if (path.starts_with("/events")) {
    check(exchange->start_events(), "start_events refused");
    check(!exchange->start_events() && !exchange->respond({}), "a stream started twice");
    auto data = request.param("data").value_or("line one\nline two\r\nthree");
    exchange->send_event("update", data);
    exchange->comment("keep\nalive");
    if (path == "/events/end") exchange->end();
  } else {
    check(exchange->respond(answer(request)), "respond refused");
    check(!exchange->respond(answer(request)), "answered twice");
  }
}

// One HttpServer per setting of control byte 0, on one loop, made on first use.
struct World {
  uv_loop_t loop{};
  std::unique_ptr<http::HttpServer> servers[4];

  World() {
    std::signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
  }
  ~World() {
    for (auto& server : servers) server.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }

  http::HttpServer& server(unsigned variant) {
    auto& server = servers[variant];
    if (server) return *server;
    http::Options options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.name = "fuzz";
    if (variant & 1U) options.token = std::string(kToken);
    if (variant & 2U) {
      options.max_request_size = 300;
      options.max_header_size = 400;
    }
    options.log = [](std::string_view kind, std::string_view text) {
      check(fuzz::printable(kind) && fuzz::printable(text), "a log line is not printable ASCII",
            text);
    };
    const auto copy = options;
    server = std::make_unique<http::HttpServer>(
        &loop, std::move(options),
        [copy](const http::Request& request, std::shared_ptr<http::Exchange> exchange) {
          handle(request, std::move(exchange), copy);
        });
    server->bind();
    return *server;
  }
};

class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    check(fd_ >= 0, "socket() failed", std::strerror(errno));
    // Close with a reset where that avoids TIME_WAIT. A client that half-closes first and then
    // sees the server close still ends in TIME_WAIT: each connection comes from its own loopback
    // address (127.1.0.1 to 127.1.255.254), so that millions of inputs neither run out of
    // ephemeral ports nor take those of 127.0.0.1 from everyone else on the machine.
    const linger abort_on_close{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    static std::uint32_t next_source = 0;
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl(0x7f010000U + 1 + next_source++ % 65534);
    check(::bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof source) == 0, "bind() failed",
          std::strerror(errno));
    // Non-blocking from the start, and a poll() that is retried: libFuzzer's timer signal would
    // interrupt a blocking connect. pump() then waits for the server's accept.
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    check(rc == 0 || errno == EINPROGRESS || errno == EINTR, "connect() failed",
          std::strerror(errno));
    pollfd connected{fd_, POLLOUT, 0};
    while (rc != 0 && ::poll(&connected, 1, 5000) < 0 && errno == EINTR) {
    }
  }

  // The error of a connect() that was in progress, 0 once connected.
  int connect_error() const {
    int error = 0;
    socklen_t size = sizeof error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size);
    return error;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int fd() const { return fd_; }
  bool eof() const { return eof_; }
  const std::string& received() const { return received_; }

  // Reads whatever has arrived.
  void drain() {
    char buffer[65536];
    while (!eof_) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        received_.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        eof_ = true;  // closed, or reset after the server stopped reading a refused request
      } else {
        return;
      }
    }
  }

  // Sends what the socket takes now; the number of bytes sent, or -1 once the server is gone.
  long send_some(std::string_view bytes) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n >= 0) return n;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Goes away with a reset (SO_LINGER 0); nothing more is read.
  void reset() {
    ::close(fd_);
    fd_ = -1;
    eof_ = true;
  }

 private:
  int fd_ = -1;
  std::string received_;
  bool eof_ = false;
};

// Runs the loop and reads the client's socket until `done`, or fails after `limit_ms`.
void pump(World& world, Client& client, Exchanges& ex, const std::function<bool()>& done,
          int limit_ms, std::string_view what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
  for (int round = 0;; ++round) {
    uv_run(&world.loop, UV_RUN_NOWAIT);
    // "/later": the answer comes on the next iteration, as from a handler waiting on something.
    auto later = std::move(ex.later);
    ex.later.clear();
    for (const auto& exchange : later) exchange->respond(answer(exchange->request()));
    client.drain();
    if (done()) return;
    check(std::chrono::steady_clock::now() < deadline, what);
    // Loopback delivers at once: wait (a millisecond at a time) only once spinning did not do.
    pollfd fds[2] = {{uv_backend_fd(&world.loop), POLLIN, 0}, {client.fd(), POLLIN, 0}};
    ::poll(fds, 2, round < 8 ? 0 : 1);
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view header_value(std::string_view head, std::string_view name) {
  std::size_t at = 0;
  while (at < head.size()) {
    const auto end = head.find("\r\n", at);
    const auto line = head.substr(at, end - at);
    at = end == std::string_view::npos ? head.size() : end + 2;
    if (line.size() > name.size() + 1 && line.substr(0, name.size()) == name &&
        line[name.size()] == ':')
      return trim(line.substr(name.size() + 1));
  }
  return {};
}

// The bytes the client received: interim 100 responses, then responses with a Content-Length
// body (omitted for HEAD), then perhaps one event stream. Nothing after "Connection: close".
// Every final response is the handler's (200, or 500 when it threw), a 401 for a missing token,
// or one refusal (400, 408, 413, 431, 503) that ends the connection. Returns how many responses
// need a handler call behind them. With `cut_short`, the last response may be incomplete.
std::size_t check_responses(std::string_view bytes, bool cut_short) {
  const std::string_view all = bytes;
  std::size_t from_handler = 0;
  while (!bytes.empty()) {
    const auto head_end = bytes.find("\r\n\r\n");
    if (head_end == std::string_view::npos && cut_short) break;
    check(head_end != std::string_view::npos, "HTTP response head without its end", all);
    const auto head = bytes.substr(0, head_end + 2);
    bytes.remove_prefix(head_end + 4);
    fuzz::check_crlf_only(head, "bare CR or LF in an HTTP response head");
    const auto status_line = head.substr(0, head.find("\r\n"));
    check(status_line.starts_with("HTTP/1.1 ") && status_line.size() > 13 &&
              status_line[12] == ' ' && fuzz::printable(status_line),
          "bad HTTP status line", head);
    const auto status = head.substr(9, 3);
    check(status.find_first_not_of("0123456789") == std::string_view::npos, "bad status code",
          head);
    // Fields a handler gives are sent as given, except those with CR or LF (or a colon in the
    // name), which are dropped: none may add a field of its own (header injection).
    std::size_t fields = 0;
    for (std::size_t at = head.find("\r\n") + 2; at < head.size(); ++fields) {
      const auto end = head.find("\r\n", at);
      const auto line = head.substr(at, end - at);
      at = end + 2;
      const auto colon = line.find(": ");
      check(colon != std::string_view::npos && colon > 0, "malformed HTTP header field", line);
    }
    // Content-Type, Content-Length, Connection, then X-Method, X-Echo and the named field from
    // the handler, or WWW-Authenticate on a 401.
    check(fields <= 6, "more header fields than were given", head);
    if (status == "100") continue;
    const bool refusal =
        status == "400" || status == "408" || status == "413" || status == "431" || status == "503";
    check(refusal || status == "200" || status == "401" || status == "500",
          "unexpected HTTP status", head);
    if (status == "500") ++from_handler;
    if (header_value(head, "Content-Type") == "text/event-stream") {
      // The stream is the connection's last exchange: lines of "event: ", "data: ", ": " or "".
      std::size_t at = 0;
      while (at < bytes.size()) {
        const auto end = bytes.find('\n', at);
        if (end == std::string_view::npos) break;  // an event cut short by the close
        const auto line = bytes.substr(at, end - at);
        at = end + 1;
        check(line.empty() || line.starts_with("event: ") || line.starts_with("data: ") ||
                  line.starts_with(": "),
              "bad event-stream line", line);
        check(line.find('\r') == std::string_view::npos, "CR in an event-stream line", line);
      }
      ++from_handler;
      return from_handler;
    }
    const auto length_text = header_value(head, "Content-Length");
    check(!length_text.empty() &&
              length_text.find_first_not_of("0123456789") == std::string_view::npos,
          "response without a Content-Length", head);
    const auto length = std::stoull(std::string(length_text));
    const auto method = header_value(head, "X-Method");
    if (!method.empty()) ++from_handler;
    if (refusal)
      check(header_value(head, "Connection") == "close", "a refusal keeps the connection", head);
    // HEAD: no body. Responses made by the server itself (401, 500, refusals) carry no X-Method;
    // their bodies are JSON objects.
    const bool body = method.empty() ? bytes.starts_with("{") : method != "HEAD";
    if (body) {
      if (length > bytes.size() && cut_short) break;
      check(length <= bytes.size(), "HTTP body shorter than its Content-Length", all);
      bytes.remove_prefix(length);
    }
    if (header_value(head, "Connection") == "close") {
      check(bytes.empty(), "bytes after a Connection: close response", all);
    } else {
      check(header_value(head, "Connection") == "keep-alive", "no Connection header", head);
    }
  }
  return from_handler;
}

// The request-target helpers, straight on the input.
void check_target_helpers(std::string_view bytes) {
  const auto target = bytes.substr(0, 512);
  std::string path;
  std::string query;
  if (http::split_target(target, path, query)) {
    check(path.find('\0') == std::string::npos, "split_target let a NUL through", target);
    check(path.empty() || path.front() == '/' || path == "*", "split_target path", target);
  }
  std::string decoded;
  check(http::percent_decode(target, decoded, true, false), "lenient percent_decode failed");
  check(decoded.size() <= target.size(), "percent_decode grew its input", target);
  http::Request request;
  request.query = std::string(target);
  const auto name = target.substr(0, target.find_first_of("=&"));
  (void)request.param(name);
  (void)request.param("");
  (void)request.param("echo");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  const fuzz::Input in(data, size);
  try {
    check_target_helpers(in.stream);
    auto& server = world.server(in.control[0] & 3U);
    Exchanges ex;
    g_exchanges = &ex;
    {
      Client client(server.port());
      pump(
          world, client, ex, [&] { return server.connection_count() == 1; }, 5000,
          "the server did not accept the connection");
      check(client.connect_error() == 0, "connect() failed", std::strerror(client.connect_error()));
      int stalled = 0;  // writes in a row that the socket did not take
      for (auto piece : fuzz::cut(in.stream, in.control[1])) {
        while (!piece.empty() && stalled < 1000) {
          const long n = client.send_some(piece);
          if (n < 0) break;  // the server closed: the rest is not sent
          piece.remove_prefix(static_cast<std::size_t>(n));
          // One loop iteration per write: the server parses each piece as it comes.
          pump(
              world, client, ex, [] { return true; }, 5000, "");
          stalled = n == 0 ? stalled + 1 : 0;
          // The server stops reading while a request waits with much input behind it: the
          // long polls time out, as they would.
          if (stalled == 10)
            for (const auto& exchange : ex.never) exchange->respond(answer(exchange->request()));
        }
      }
      const bool reset = in.bit(2, 0);
      if (reset) {
        // The long polls time out, and the client leaves with a reset once nothing more comes.
        for (const auto& exchange : ex.never) exchange->respond(answer(exchange->request()));
        std::size_t seen = 0;
        int quiet = 0;
        pump(
            world, client, ex,
            [&] {
              quiet = client.received().size() == seen ? quiet + 1 : 0;
              seen = client.received().size();
              return server.connection_count() == 0 || quiet >= 3;
            },
            5000, "");
        client.reset();
        pump(
            world, client, ex, [&] { return server.connection_count() == 0; }, 5000,
            "the connection was not closed after the client's reset");
      } else {
        client.shutdown_write();
        pump(
            world, client, ex, [] { return true; }, 5000, "");
        // The long polls time out: their handler answers now.
        for (const auto& exchange : ex.never) exchange->respond(answer(exchange->request()));
        pump(
            world, client, ex, [&] { return server.connection_count() == 0 && client.eof(); }, 5000,
            "the connection was not closed after the client's end of input");
      }
      check(check_responses(client.received(), reset) <= ex.requests,
            "more handler responses than requests", client.received());
    }
    // Every exchange the handler kept is finished: answered (on_close never runs then), or
    // closed, and on_close ran once unless the handler ended the stream itself.
    for (const auto& kept : ex.kept) {
      const auto& exchange = *kept.exchange;
      check(exchange.answered() || exchange.closed(), "an exchange was left open");
      const int expected = exchange.answered() || kept.ended ? 0 : 1;
      check(*kept.on_close_calls == expected, "on_close did not run exactly as documented",
            exchange.request().path);
    }
    g_exchanges = nullptr;
  } catch (const std::exception& e) {
    fuzz::fail("an exception escaped the HTTP server", e.what());
  }
  return 0;
}
