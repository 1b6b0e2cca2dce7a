// What happened in each session, kept for the HTTP API and the web UI: listener, peer, how the
// connection was secured as it happened (plaintext -> STARTTLS -> TLS, or implicit TLS), TLS
// details, every AUTH attempt, diagnoses, delivered messages, and a transcript in which each line
// says whether it travelled in plaintext or inside TLS (secrets masked). Bounded: the oldest
// closed sessions are forgotten first. Lives in the loop thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/engine.hpp"

namespace sevenport::server {

struct AuthAttempt {
  std::int64_t at_ms = 0;  // Unix time, milliseconds
  std::string mechanism;
  std::string user;
  bool success = false;
  bool over_tls = false;
  std::string reason;  // why it failed, if it did
};

struct TranscriptLine {
  enum class Direction : std::uint8_t { client, server, note };
  std::int64_t at_ms = 0;
  Direction direction = Direction::note;
  bool tls = false;  // travelled inside TLS
  std::string text;  // one protocol line (no CRLF), sanitised, secrets masked, long data summarised
};

struct SessionRecord {
  std::uint64_t id = 0;
  std::string listener;
  std::string protocol;  // "smtp", "imap", "pop3"
  std::uint16_t port = 0;
  Security security = Security::none;  // how the listener is configured
  std::string peer;                    // "ip:port"
  std::int64_t started_ms = 0;
  std::int64_t ended_ms = 0;  // 0 while open
  // How TLS actually came about: "none" (never), "starttls", "implicit".
  std::string tls_mode = "none";
  bool tls_active = false;
  TlsInfo tls;
  std::vector<AuthAttempt> auth;
  std::vector<std::string> diagnoses;
  // Deliberately configured behaviours that took effect (docs/BEHAVIOURS.md), in plain words.
  std::vector<std::string> behaviours;
  std::vector<std::string> errors;  // protocol errors, sanitised
  std::vector<std::uint64_t> messages;
  std::vector<TranscriptLine> transcript;
  bool transcript_truncated = false;
  std::string close_reason;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;

  bool open() const { return ended_ms == 0; }
};

// A change the API streams to its subscribers (Server-Sent Events).
struct SessionChange {
  enum class Kind { opened, tls, auth, closed };
  Kind kind = Kind::opened;
  const SessionRecord* session = nullptr;  // valid only during the callback
  const AuthAttempt* auth = nullptr;       // for Kind::auth
};

class SessionRegistry {
 public:
  struct Limits {
    std::size_t max_sessions = 1000;         // kept sessions, open ones included
    std::size_t max_transcript_lines = 500;  // per session; later lines are dropped
    std::size_t max_transcript_line = 300;   // characters of one line before it is cut
  };
  SessionRegistry() = default;
  explicit SessionRegistry(Limits limits) : limits_(limits) {}

  SessionRecord& open(std::uint64_t id, std::string listener, std::string protocol,
                      std::uint16_t port, Security security, std::string peer);
  void tls_established(SessionRecord& s, const TlsInfo& info, bool via_starttls);
  void auth(SessionRecord& s, AuthAttempt attempt);
  void close(SessionRecord& s, std::string reason);

  // Transcript: client lines (already masked by the engine) and server output (split into
  // lines here; long data is summarised so a FETCH of a large message stays one short line).
  void client_line(SessionRecord& s, std::string_view line);
  void server_output(SessionRecord& s, std::string_view bytes);
  void note(SessionRecord& s, std::string_view text);

  SessionRecord* find(std::uint64_t id);
  // Oldest first.
  const std::deque<std::unique_ptr<SessionRecord>>& sessions() const { return sessions_; }
  // Forgets closed sessions (reset); open ones stay.
  void clear_closed();

  using Observer = std::function<void(const SessionChange&)>;
  std::uint64_t observe(Observer observer);
  void unobserve(std::uint64_t token);

  static std::int64_t now_ms();

 private:
  void add_line(SessionRecord& s, TranscriptLine::Direction direction, std::string_view text);
  void notify(const SessionChange& change);
  void evict();

  Limits limits_;
  std::deque<std::unique_ptr<SessionRecord>> sessions_;
  std::map<std::uint64_t, Observer> observers_;
  std::uint64_t next_observer_ = 1;
};

}  // namespace sevenport::server
