// The API's formats, in one place (internal to server/api*.cpp): times (ISO 8601 UTC with
// milliseconds out; ISO or Unix seconds in), query numbers, the JSON of sessions and arrivals,
// and the MIME view of a message (GMime) for the detail and attachment routes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocols/store/mail_store.hpp"
#include "server/http/http_server.hpp"
#include "server/session_registry.hpp"

namespace sevenport::server::api {

// ---- times ----

// "2026-11-22T01:40:14.871Z".
std::string iso_time(std::int64_t unix_ms);
std::int64_t unix_ms(std::chrono::system_clock::time_point time);
// Unix seconds ("1763800000", "1763800000.25") or ISO 8601: "2026-11-22", "2026-11-22T10:00",
// "2026-11-22T10:00:00", with optional fraction and "Z" or "+01:00" (no offset means UTC).
// Returns Unix milliseconds, or nullopt if the text is neither.
std::optional<std::int64_t> parse_time(std::string_view text);

// ---- numbers in query strings ----

// A decimal integer in [0, max] without sign or spaces, else nullopt.
std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max);
// Seconds as a decimal number ("10", "0.5") in [0, max], else nullopt.
std::optional<double> parse_seconds(std::string_view text, double max);

// ---- JSON ----

// Serialised with invalid UTF-8 replaced (message bytes are not guaranteed to be UTF-8).
std::string dump(const nlohmann::json& value);
http::Response json_response(int status, const nlohmann::json& value);

nlohmann::json arrival_json(const store::Arrival& arrival);
// SessionSummary, or with `full` the whole session (transcript and errors too).
nlohmann::json session_json(const SessionRecord& session, bool full);

// ---- MIME (api_mime.cpp) ----

// RFC 2047 encoded words decoded, folding removed, as UTF-8.
std::string decode_header_text(std::string_view raw_value);

struct HeaderFacts {
  std::string subject;      // decoded
  std::string date;         // as written
  std::string from_header;  // decoded
};
HeaderFacts header_facts(std::string_view raw_message);

struct Attachment {
  std::string filename;      // "" if the part names none
  std::string content_type;  // "type/subtype"
  std::string data;          // decoded (transfer encoding undone)
};

struct MessageView {
  std::vector<std::pair<std::string, std::string>> headers;  // decoded values, in order
  std::optional<std::string> text;  // the first text/plain body part, as UTF-8
  std::optional<std::string> html;  // the first text/html body part, as UTF-8
  std::vector<Attachment> attachments;
};
// Parses a message with GMime. Never fails: what GMime cannot make sense of shows as text.
MessageView view_message(std::string_view raw);

}  // namespace sevenport::server::api
