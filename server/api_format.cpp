#include "server/api_format.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace sevenport::server::api {

using nlohmann::json;

// ---- times ----

std::string iso_time(std::int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  const int millis = static_cast<int>(ms - static_cast<std::int64_t>(seconds) * 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[96];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return out;
}

std::int64_t unix_ms(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Exactly `width` digits at `text`, consumed.
std::optional<int> take_digits(std::string_view& text, std::size_t width) {
  if (text.size() < width) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    if (!is_digit(text[i])) return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  text.remove_prefix(width);
  return value;
}

bool take(std::string_view& text, char c) {
  if (text.empty() || text.front() != c) return false;
  text.remove_prefix(1);
  return true;
}

std::optional<std::int64_t> parse_unix_seconds(std::string_view text) {
  const auto dot = text.find('.');
  const auto whole = text.substr(0, dot);
  const auto fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 12 || (dot != std::string_view::npos && fraction.empty()))
    return std::nullopt;
  std::int64_t ms = 0;
  for (const char c : whole) {
    if (!is_digit(c)) return std::nullopt;
    ms = ms * 10 + (c - '0');
  }
  ms *= 1000;
  std::int64_t scale = 100;
  for (const char c : fraction) {
    if (!is_digit(c)) return std::nullopt;
    ms += (c - '0') * scale;
    scale /= 10;
  }
  return ms;
}

}  // namespace

std::optional<std::int64_t> parse_time(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.find('-') == std::string_view::npos) return parse_unix_seconds(text);
  const auto year = take_digits(text, 4);
  if (!year || !take(text, '-')) return std::nullopt;
  const auto month = take_digits(text, 2);
  if (!month || !take(text, '-')) return std::nullopt;
  const auto day = take_digits(text, 2);
  if (!day) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::sys_days(date).time_since_epoch())
                        .count();
  if (text.empty()) return ms;
  if (!take(text, 'T') && !take(text, 't') && !take(text, ' ')) return std::nullopt;
  const auto hour = take_digits(text, 2);
  if (!hour || *hour > 23 || !take(text, ':')) return std::nullopt;
  const auto minute = take_digits(text, 2);
  if (!minute || *minute > 59) return std::nullopt;
  int second = 0;
  if (take(text, ':')) {
    const auto s = take_digits(text, 2);
    if (!s || *s > 60) return std::nullopt;
    second = std::min(*s, 59);  // a leap second counts as the second before it
    if (take(text, '.') || take(text, ',')) {
      std::int64_t scale = 100;
      std::size_t digits = 0;
      while (!text.empty() && is_digit(text.front())) {
        ms += (text.front() - '0') * scale;
        scale /= 10;
        text.remove_prefix(1);
        ++digits;
      }
      if (digits == 0) return std::nullopt;
    }
  }
  ms += ((*hour * 60LL + *minute) * 60 + second) * 1000;
  if (text.empty()) return ms;
  if (take(text, 'Z') || take(text, 'z')) return text.empty() ? std::optional(ms) : std::nullopt;
  const bool east = text.front() == '+';
  if (!take(text, '+') && !take(text, '-')) return std::nullopt;
  const auto offset_hours = take_digits(text, 2);
  if (!offset_hours || *offset_hours > 23) return std::nullopt;
  take(text, ':');
  const auto offset_minutes = take_digits(text, 2);
  if (!offset_minutes || *offset_minutes > 59 || !text.empty()) return std::nullopt;
  const std::int64_t offset = (*offset_hours * 60LL + *offset_minutes) * 60 * 1000;
  return east ? ms - offset : ms + offset;
}

// ---- numbers ----

std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

std::optional<double> parse_seconds(std::string_view text, double max) {
  const auto dot = text.find('.');
  const auto whole = parse_uint(text.substr(0, dot), 1000000);
  if (!whole) return std::nullopt;
  double value = static_cast<double>(*whole);
  if (dot != std::string_view::npos) {
    const auto fraction = text.substr(dot + 1);
    if (fraction.empty() || fraction.size() > 6) return std::nullopt;
    double scale = 0.1;
    for (const char c : fraction) {
      if (!is_digit(c)) return std::nullopt;
      value += (c - '0') * scale;
      scale /= 10;
    }
  }
  if (value > max) return std::nullopt;
  return value;
}

// ---- JSON ----

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

http::Response json_response(int status, const json& value) {
  http::Response response;
  response.status = status;
  response.body = dump(value);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

json arrival_json(const store::Arrival& a) {
  return {{"session", a.session_id},
          {"listener", a.listener},
          {"port", a.port},
          {"security", std::string(to_string(a.security))},
          {"tls", a.tls},
          {"tls_mode", a.tls_mode()},
          {"tls_version", a.tls_version},
          {"tls_cipher", a.tls_cipher},
          {"auth_user", a.auth_user},
          {"peer", a.peer},
          {"helo", a.helo}};
}

namespace {

std::string_view direction_name(TranscriptLine::Direction direction) {
  switch (direction) {
    case TranscriptLine::Direction::client:
      return "client";
    case TranscriptLine::Direction::server:
      return "server";
    case TranscriptLine::Direction::note:
      return "note";
  }
  return "note";
}

}  // namespace

json session_json(const SessionRecord& s, bool full) {
  json auth = json::array();
  for (const auto& a : s.auth) {
    auth.push_back({{"at", iso_time(a.at_ms)},
                    {"mechanism", a.mechanism},
                    {"user", a.user},
                    {"success", a.success},
                    {"over_tls", a.over_tls},
                    {"reason", a.reason}});
  }
  json j = {
      {"id", s.id},
      {"listener", s.listener},
      {"protocol", s.protocol},
      {"port", s.port},
      {"security", std::string(to_string(s.security))},
      {"peer", s.peer},
      {"started_at", iso_time(s.started_ms)},
      {"ended_at", s.open() ? json(nullptr) : json(iso_time(s.ended_ms))},
      {"open", s.open()},
      {"tls_mode", s.tls_mode},
      {"tls", s.tls_active
                  ? json{{"version", s.tls.version}, {"cipher", s.tls.cipher}, {"sni", s.tls.sni}}
                  : json(nullptr)},
      {"auth", std::move(auth)},
      {"diagnoses", s.diagnoses},
      {"behaviours", s.behaviours},
      {"messages", s.messages},
      {"close_reason", s.close_reason},
      {"bytes_in", s.bytes_in},
      {"bytes_out", s.bytes_out},
      {"transcript_truncated", s.transcript_truncated}};
  if (full) {
    j["errors"] = s.errors;
    json transcript = json::array();
    for (const auto& line : s.transcript) {
      transcript.push_back({{"at", iso_time(line.at_ms)},
                            {"direction", direction_name(line.direction)},
                            {"tls", line.tls},
                            {"text", line.text}});
    }
    j["transcript"] = std::move(transcript);
  }
  return j;
}

}  // namespace sevenport::server::api
