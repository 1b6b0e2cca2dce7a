#include "server/session_log.hpp"

#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>

namespace sevenport::server {

namespace {
std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(millis));
  return buf;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}
}  // namespace

SessionLog::SessionLog(LogFormat format, std::FILE* out) : format_(format), out_(out) {}

SessionLog::~SessionLog() { flush(); }

void SessionLog::session(const SessionRef& who, std::string_view kind, std::string_view text,
                         const std::vector<std::pair<std::string_view, std::string>>& fields) {
  if (format_ == LogFormat::json) {
    nlohmann::json j;
    j["ts"] = timestamp();
    j["session"] = who.id;
    j["listener"] = who.listener;
    j["peer"] = who.peer;
    j["event"] = kind;
    j["text"] = text;
    for (const auto& [key, value] : fields) j[std::string(key)] = value;
    buffer_ += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    buffer_ += '\n';
    return;
  }
  buffer_ += timestamp();
  buffer_ += " #";
  buffer_ += std::to_string(who.id);
  buffer_ += ' ';
  buffer_ += who.listener;
  buffer_ += ' ';
  buffer_ += who.peer;
  buffer_ += ' ';
  buffer_ += kind;
  buffer_ += ": ";
  buffer_ += text;
  buffer_ += '\n';
}

void SessionLog::event(const SessionRef& who, const Event& e) {
  const char* over = e.over_tls ? "over TLS" : "in plaintext";
  switch (e.kind) {
    case EventKind::authenticated:
      session(who, "auth", "authenticated " + e.user + " with " + e.mechanism + " " + over,
              {{"result", "success"},
               {"user", e.user},
               {"mechanism", e.mechanism},
               {"tls", e.over_tls ? "true" : "false"}});
      break;
    case EventKind::auth_failed:
      session(who, "auth",
              "authentication failed for " + (e.user.empty() ? std::string("?") : e.user) +
                  " with " + e.mechanism + " " + over + (e.text.empty() ? "" : ": " + e.text),
              {{"result", "failure"},
               {"user", e.user},
               {"mechanism", e.mechanism},
               {"tls", e.over_tls ? "true" : "false"}});
      break;
    case EventKind::delivered:
      session(who, "delivered",
              "message " + std::to_string(e.message_id) + " accepted, " + std::to_string(e.size) +
                  " octets, for " + join(e.recipients),
              {{"message_id", std::to_string(e.message_id)},
               {"size", std::to_string(e.size)},
               {"recipients", join(e.recipients)}});
      break;
    case EventKind::protocol_error:
      session(who, "error", e.text);
      break;
    case EventKind::diagnosis:
      session(who, "diagnosis", e.text);
      break;
    case EventKind::starttls:
      session(who, "starttls", "client asked for TLS; handshake follows");
      break;
    case EventKind::behaviour:
      session(who, "behaviour", e.text);
      break;
  }
}

void SessionLog::server(std::string_view kind, std::string_view text) {
  session(SessionRef{0, "server", "-"}, kind, text);
}

void SessionLog::flush() {
  if (buffer_.empty()) return;
  if (!out_) {  // no log wanted (an embedded server)
    buffer_.clear();
    return;
  }
  std::fwrite(buffer_.data(), 1, buffer_.size(), out_);
  std::fflush(out_);
  buffer_.clear();
}

}  // namespace sevenport::server
