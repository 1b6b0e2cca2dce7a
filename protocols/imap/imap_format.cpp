#include "protocols/imap/imap_format.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>

#include "protocols/common/text.hpp"

namespace sevenport::imap {

namespace {
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int month_number(std::string_view s) {
  for (std::size_t i = 0; i < kMonths.size(); ++i)
    if (iequals(kMonths[i], s)) return static_cast<int>(i) + 1;
  return 0;
}

bool number(std::string_view s, int& n) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

std::optional<std::chrono::sys_days> make_day(int day, int month, int year) {
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year(year),
                           std::chrono::month(static_cast<unsigned>(month)),
                           std::chrono::day(static_cast<unsigned>(day))};
  // Years far from now would overflow system_clock's nanoseconds (1678 to 2261) when a date
  // becomes a time_point: such dates are refused rather than wrapped.
  if (month == 0 || !ymd.ok() || year < 1700 || year > 2200) return std::nullopt;
  return sys_days(ymd);
}
}  // namespace

void append_string(std::string& out, std::string_view s) {
  bool quotable = s.size() <= 1024;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u == 0 || c == '\r' || c == '\n' || u >= 0x80) {
      quotable = false;
      break;
    }
  }
  if (!quotable) {
    out += '{';
    out += std::to_string(s.size());
    out += "}\r\n";
    out.append(s);
    return;
  }
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void append_nstring(std::string& out, std::optional<std::string_view> s) {
  if (!s) {
    out += "NIL";
    return;
  }
  append_string(out, *s);
}

std::string flag_list(std::uint8_t flags, const std::vector<std::string>& keywords, bool recent) {
  static constexpr std::pair<std::uint8_t, std::string_view> names[] = {
      {1, "\\Seen"}, {2, "\\Answered"}, {4, "\\Flagged"}, {8, "\\Deleted"}, {16, "\\Draft"}};
  std::string s = "(";
  for (const auto& [bit, name] : names) {
    if (flags & bit) {
      if (s.size() > 1) s += ' ';
      s += name;
    }
  }
  for (const auto& keyword : keywords) {
    if (s.size() > 1) s += ' ';
    s += keyword;
  }
  if (recent) {
    if (s.size() > 1) s += ' ';
    s += "\\Recent";
  }
  s += ')';
  return s;
}

bool is_keyword(std::string_view text) {
  // RFC 3501 9: flag-keyword = atom, and an atom has no atom-specials, resp-specials or 8-bit.
  constexpr std::string_view kSpecials = "(){%*\"\\]";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b > 0x20 && b < 0x7f && kSpecials.find(c) == std::string_view::npos;
  });
}

std::uint8_t system_flag(std::string_view name) {
  if (iequals(name, "\\Seen")) return 1;
  if (iequals(name, "\\Answered")) return 2;
  if (iequals(name, "\\Flagged")) return 4;
  if (iequals(name, "\\Deleted")) return 8;
  if (iequals(name, "\\Draft")) return 16;
  return 0;
}

std::string format_date_time(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<seconds>(t - day)};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%02u-%s-%04d %02d:%02d:%02d +0000",
                static_cast<unsigned>(ymd.day()),
                std::string(kMonths[static_cast<unsigned>(ymd.month()) - 1]).c_str(),
                static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buffer;
}

std::optional<std::chrono::sys_days> parse_date(std::string_view s) {
  const auto d1 = s.find('-');
  const auto d2 = s.find('-', d1 == std::string_view::npos ? d1 : d1 + 1);
  if (d1 == std::string_view::npos || d2 == std::string_view::npos) return std::nullopt;
  int day = 0;
  int year = 0;
  if (!number(trim(s.substr(0, d1)), day) || !number(s.substr(d2 + 1), year)) return std::nullopt;
  return make_day(day, month_number(s.substr(d1 + 1, d2 - d1 - 1)), year);
}

std::optional<std::chrono::system_clock::time_point> parse_date_time(std::string_view s) {
  // "dd-Mon-yyyy hh:mm:ss +zzzz"
  s = trim(s);
  const auto space = s.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto day = parse_date(s.substr(0, space));
  const auto rest = s.substr(space + 1);
  if (!day || rest.size() != 14 || rest[2] != ':' || rest[5] != ':' || rest[8] != ' ')
    return std::nullopt;
  int h = 0, m = 0, sec = 0, zone = 0;
  if (!number(rest.substr(0, 2), h) || !number(rest.substr(3, 2), m) ||
      !number(rest.substr(6, 2), sec) || !number(rest.substr(10, 4), zone) || h > 23 || m > 59 ||
      sec > 60 || (rest[9] != '+' && rest[9] != '-'))
    return std::nullopt;
  using namespace std::chrono;
  auto offset = minutes((zone / 100) * 60 + zone % 100);
  if (rest[9] == '-') offset = -offset;
  return system_clock::time_point(*day) + hours(h) + minutes(m) + seconds(sec) - offset;
}

std::optional<std::chrono::sys_days> parse_header_date(std::string_view s) {
  // RFC 5322 3.3: [day-name ","] day month year time zone. The day is all SEARCH SENT* needs.
  s = trim(s);
  if (const auto comma = s.find(','); comma != std::string_view::npos)
    s = trim(s.substr(comma + 1));
  std::string_view words[3];
  for (auto& word : words) {
    const auto space = s.find(' ');
    word = s.substr(0, space);
    if (space == std::string_view::npos) {
      s = {};
    } else {
      s = trim(s.substr(space + 1));
    }
  }
  int day = 0;
  int year = 0;
  if (!number(words[0], day) || !number(words[2], year)) return std::nullopt;
  if (year < 50)
    year += 2000;
  else if (year < 1000)
    year += 1900;
  return make_day(day, month_number(words[1]), year);
}

}  // namespace sevenport::imap
