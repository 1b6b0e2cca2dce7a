// The session log: one line per fact of a connection (connect, TLS, STARTTLS, AUTH, delivery,
// protocol errors, diagnoses, close) on stderr, readable text or JSON lines. Lines are buffered
// and flushed once per loop iteration, so a busy server does not pay a write(2) per line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/common/engine.hpp"

namespace sevenport::server {

enum class LogFormat { text, json };

// Who a log line is about.
struct SessionRef {
  std::uint64_t id = 0;
  std::string_view listener;
  std::string_view peer;  // "ip:port"
};

class SessionLog {
 public:
  // `out` nullptr: lines are formatted but dropped (an embedded server without a log).
  explicit SessionLog(LogFormat format, std::FILE* out = stderr);
  ~SessionLog();

  // A fact about a session. `kind` is a short word ("connect", "tls", "auth", "delivered",
  // "error", "diagnosis", "close"); `text` is the readable rest; `fields` become JSON members (and
  // are not repeated in text mode). Every string must already be sanitised.
  void session(const SessionRef& who, std::string_view kind, std::string_view text,
               const std::vector<std::pair<std::string_view, std::string>>& fields = {});
  // An engine event, mapped to a line.
  void event(const SessionRef& who, const Event& event);
  // A server-wide line (start-up, shutdown).
  void server(std::string_view kind, std::string_view text);

  void flush();

 private:
  LogFormat format_;
  std::FILE* out_;
  std::string buffer_;
};

}  // namespace sevenport::server
