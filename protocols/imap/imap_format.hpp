// Writing IMAP response syntax (RFC 3501 9): strings as quoted or literal, nstrings, flag lists
// and date-times. Shared by the session's command groups and the MIME renderer.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sevenport::imap {

// A string as a quoted string when it can be one (7-bit, no CR/LF/NUL, not too long), else as a
// literal "{n}\r\n<bytes>".
void append_string(std::string& out, std::string_view s);
// NIL for an absent value, else append_string.
void append_nstring(std::string& out, std::optional<std::string_view> s);
// A mailbox name: always quoted (or literal), which every client reads.
inline void append_mailbox(std::string& out, std::string_view name) { append_string(out, name); }

// "(\Seen \Answered keyword ...)" from the store's flag bits and keywords, plus \Recent.
std::string flag_list(std::uint8_t flags, const std::vector<std::string>& keywords, bool recent);
// True if `text` may be a flag keyword (RFC 3501 9: an atom without "]", 7-bit).
bool is_keyword(std::string_view text);
// The flag bit for a system flag name ("\\Seen"), 0 if it is none (then it is a keyword, or
// \Recent, which clients cannot set).
std::uint8_t system_flag(std::string_view name);

// "17-Jul-1996 02:44:25 +0000" (RFC 3501 date-time), in UTC.
std::string format_date_time(std::chrono::system_clock::time_point t);
// Parses an RFC 3501 date-time ("17-Jul-1996 02:44:25 -0700", day may be " 7" or "7").
std::optional<std::chrono::system_clock::time_point> parse_date_time(std::string_view s);
// Parses an RFC 3501 date ("1-Feb-1994") to the start of that day, UTC.
std::optional<std::chrono::sys_days> parse_date(std::string_view s);
// Parses an RFC 5322 Date: header value loosely, to the day (UTC). nullopt if unreadable.
std::optional<std::chrono::sys_days> parse_header_date(std::string_view s);

}  // namespace sevenport::imap
