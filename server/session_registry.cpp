#include "server/session_registry.hpp"

#include <algorithm>
#include <chrono>

#include "protocols/common/text.hpp"

namespace sevenport::server {

namespace {
// A chunk of server output longer than this many lines is summarised after them (a RETR or
// FETCH of a whole message would otherwise fill the transcript with its body).
constexpr std::size_t kOutputLinesShown = 12;
}  // namespace

std::int64_t SessionRegistry::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SessionRecord& SessionRegistry::open(std::uint64_t id, std::string listener, std::string protocol,
                                     std::uint16_t port, Security security, std::string peer) {
  auto record = std::make_unique<SessionRecord>();
  record->id = id;
  record->listener = std::move(listener);
  record->protocol = std::move(protocol);
  record->port = port;
  record->security = security;
  record->peer = std::move(peer);
  record->started_ms = now_ms();
  sessions_.push_back(std::move(record));
  evict();
  auto& s = *sessions_.back();
  notify({SessionChange::Kind::opened, &s, nullptr});
  return s;
}

void SessionRegistry::tls_established(SessionRecord& s, const TlsInfo& info, bool via_starttls) {
  s.tls_active = true;
  s.tls = info;
  s.tls_mode = via_starttls ? "starttls" : "implicit";
  note(s, "TLS established: " + info.version + " " + info.cipher +
              (via_starttls ? " (after STARTTLS)" : " (implicit TLS)"));
  notify({SessionChange::Kind::tls, &s, nullptr});
}

void SessionRegistry::auth(SessionRecord& s, AuthAttempt attempt) {
  attempt.at_ms = now_ms();
  s.auth.push_back(std::move(attempt));
  notify({SessionChange::Kind::auth, &s, &s.auth.back()});
}

void SessionRegistry::close(SessionRecord& s, std::string reason) {
  if (!s.open()) return;
  s.ended_ms = now_ms();
  s.close_reason = std::move(reason);
  notify({SessionChange::Kind::closed, &s, nullptr});
  evict();
}

void SessionRegistry::add_line(SessionRecord& s, TranscriptLine::Direction direction,
                               std::string_view text) {
  if (s.transcript.size() >= limits_.max_transcript_lines) {
    s.transcript_truncated = true;
    return;
  }
  TranscriptLine line;
  line.at_ms = now_ms();
  line.direction = direction;
  line.tls = s.tls_active;
  line.text = sanitize(text, limits_.max_transcript_line);
  s.transcript.push_back(std::move(line));
}

void SessionRegistry::client_line(SessionRecord& s, std::string_view line) {
  add_line(s, TranscriptLine::Direction::client, line);
}

void SessionRegistry::server_output(SessionRecord& s, std::string_view bytes) {
  std::size_t shown = 0;
  while (!bytes.empty()) {
    if (shown == kOutputLinesShown) {
      add_line(s, TranscriptLine::Direction::note,
               "[" + std::to_string(bytes.size()) + " more octets of this response not shown]");
      return;
    }
    const auto lf = bytes.find('\n');
    auto line = bytes.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    add_line(s, TranscriptLine::Direction::server, line);
    ++shown;
    if (lf == std::string_view::npos) break;
    bytes.remove_prefix(lf + 1);
  }
}

void SessionRegistry::note(SessionRecord& s, std::string_view text) {
  add_line(s, TranscriptLine::Direction::note, text);
}

SessionRecord* SessionRegistry::find(std::uint64_t id) {
  // Ids increase along the deque.
  const auto it = std::lower_bound(
      sessions_.begin(), sessions_.end(), id,
      [](const std::unique_ptr<SessionRecord>& r, std::uint64_t v) { return r->id < v; });
  return it != sessions_.end() && (*it)->id == id ? it->get() : nullptr;
}

void SessionRegistry::clear_closed() {
  std::erase_if(sessions_, [](const std::unique_ptr<SessionRecord>& r) { return !r->open(); });
}

void SessionRegistry::evict() {
  // Forget the oldest closed sessions beyond the limit; an open session is never forgotten
  // (its Connection holds a reference to it).
  for (auto it = sessions_.begin();
       sessions_.size() > limits_.max_sessions && it != sessions_.end();) {
    if (!(*it)->open())
      it = sessions_.erase(it);
    else
      ++it;
  }
}

std::uint64_t SessionRegistry::observe(Observer observer) {
  const auto token = next_observer_++;
  observers_.emplace(token, std::move(observer));
  return token;
}

void SessionRegistry::unobserve(std::uint64_t token) { observers_.erase(token); }

void SessionRegistry::notify(const SessionChange& change) {
  std::vector<std::uint64_t> tokens;
  for (const auto& [token, _] : observers_) tokens.push_back(token);
  for (const auto token : tokens)
    if (const auto it = observers_.find(token); it != observers_.end()) it->second(change);
}

}  // namespace sevenport::server
