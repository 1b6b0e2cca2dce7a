// A real libuv loop with an HttpServer on an ephemeral loopback port, and a plain blocking socket
// client that runs on its own thread. Every socket operation has a timeout; the loop runs until
// the client signals that it is done (uv_async), or a watchdog gives up. Catch2 is not
// thread-safe, so clients record what they saw and the test checks it after the run.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "server/http/http_server.hpp"

namespace sevenport::http::test {

// One parsed HTTP response.
struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class Client {
 public:
  explicit Client(std::uint16_t port, int timeout_ms = 5000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Receive buffer size: small values make the server's writes block sooner.
  void set_receive_buffer(int bytes) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }

  void send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // Like send, but returns false instead of throwing when the server stops taking bytes.
  bool try_send(std::string_view data) {
    try {
      send(data);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  // Reads more bytes into the buffer; false on EOF, throws on timeout or error.
  bool fill() {
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == ECONNRESET) return false;
      throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  std::string line() {
    for (;;) {
      const auto lf = buffer_.find('\n');
      if (lf != std::string::npos) {
        std::string l = buffer_.substr(0, lf);
        buffer_.erase(0, lf + 1);
        if (!l.empty() && l.back() == '\r') l.pop_back();
        return l;
      }
      if (!fill()) throw std::runtime_error("connection closed; pending: " + buffer_);
    }
  }

  // One response with a Content-Length body (or none, for HEAD when `head`).
  Reply response(bool head = false) {
    Reply r;
    const std::string status = line();
    if (status.rfind("HTTP/1.1 ", 0) != 0) throw std::runtime_error("bad status line: " + status);
    r.status = std::stoi(status.substr(9, 3));
    for (std::string l; !(l = line()).empty();) {
      const auto colon = l.find(':');
      std::string name = l.substr(0, colon);
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = l.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[name] = value;
    }
    if (head || r.status == 100) return r;
    const std::size_t length = std::stoul(r.headers.at("content-length"));
    while (buffer_.size() < length)
      if (!fill()) throw std::runtime_error("connection closed inside a body");
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return r;
  }

  // True if the server closes the connection (EOF or reset) before the timeout.
  bool closed_by_server() {
    try {
      while (fill()) {
      }
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  std::string& buffer() { return buffer_; }

 private:
  int fd_ = -1;
  std::string buffer_;
};

// A loop with one HttpServer bound to 127.0.0.1, port 0.
class Fixture {
 public:
  explicit Fixture(Handler handler, Options options = {}) {
    uv_loop_init(&loop_);
    options.address = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<HttpServer>(&loop_, std::move(options), std::move(handler));
    server_->bind();
  }
  ~Fixture() {
    server_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }

  uv_loop_t* loop() { return &loop_; }
  HttpServer& server() { return *server_; }
  std::uint16_t port() const { return server_->port(); }

  // Runs the loop while `client` runs on a thread; returns once the client is done. Rethrows
  // what the client threw. A watchdog stops a run that takes longer than `limit_ms`.
  void run(const std::function<void()>& client, std::uint64_t limit_ms = 20000) {
    struct State {
      uv_loop_t* loop;
      bool done = false;
    } state{&loop_};
    uv_async_t done{};
    uv_timer_t watchdog{};
    uv_async_init(&loop_, &done, [](uv_async_t* a) {
      auto* s = static_cast<State*>(a->data);
      s->done = true;
      uv_stop(s->loop);
    });
    done.data = &state;
    uv_timer_init(&loop_, &watchdog);
    watchdog.data = &state;
    uv_timer_start(
        &watchdog, [](uv_timer_t* t) { uv_stop(static_cast<State*>(t->data)->loop); }, limit_ms, 0);
    std::exception_ptr error;
    std::thread thread([&] {
      try {
        client();
      } catch (...) {
        error = std::current_exception();
      }
      uv_async_send(&done);
    });
    while (!state.done) {
      uv_run(&loop_, UV_RUN_DEFAULT);
      if (!state.done && !uv_is_active(reinterpret_cast<uv_handle_t*>(&watchdog))) break;
    }
    thread.join();
    uv_close(reinterpret_cast<uv_handle_t*>(&done), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    if (!state.done) throw std::runtime_error("the client did not finish in time");
    if (error) std::rethrow_exception(error);
  }

 private:
  uv_loop_t loop_{};
  std::unique_ptr<HttpServer> server_;
};

// A one-shot timer that calls `f` after `ms` and frees itself.
inline void after(uv_loop_t* loop, std::uint64_t ms, std::function<void()> f) {
  struct Timer {
    uv_timer_t handle;
    std::function<void()> f;
  };
  auto* t = new Timer{{}, std::move(f)};
  uv_timer_init(loop, &t->handle);
  t->handle.data = t;
  uv_timer_start(
      &t->handle,
      [](uv_timer_t* h) {
        auto* timer = static_cast<Timer*>(h->data);
        timer->f();
        uv_close(reinterpret_cast<uv_handle_t*>(h),
                 [](uv_handle_t* closed) { delete static_cast<Timer*>(closed->data); });
      },
      ms, 0);
}

inline std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n";
}

}  // namespace sevenport::http::test
