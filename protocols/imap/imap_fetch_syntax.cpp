// The argument shapes that travel as atoms: sequence sets (RFC 3501 9 "sequence-set") and fetch
// attributes with their section specs and partial ranges (RFC 3501 6.4.5).
#include <cctype>
#include <charconv>

#include "protocols/common/text.hpp"
#include "protocols/imap/imap_parser.hpp"

namespace sevenport::imap {

bool SequenceSet::contains(std::uint32_t n, std::uint32_t largest) const {
  for (auto [lo, hi] : ranges) {
    if (lo == 0) lo = largest;
    if (hi == 0) hi = largest;
    if (lo > hi) std::swap(lo, hi);
    if (n >= lo && n <= hi) return true;
  }
  return false;
}

namespace {
std::optional<std::uint32_t> seq_number(std::string_view s) {
  if (s == "*") return 0;
  std::uint32_t n = 0;
  if (s.empty() || s.front() == '0') return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}
}  // namespace

std::optional<SequenceSet> parse_sequence_set(std::string_view text) {
  SequenceSet set;
  if (text.empty()) return std::nullopt;
  for (;;) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    const auto colon = item.find(':');
    const auto lo = seq_number(item.substr(0, colon));
    if (!lo) return std::nullopt;
    auto hi = lo;
    if (colon != std::string_view::npos) {
      hi = seq_number(item.substr(colon + 1));
      if (!hi) return std::nullopt;
    }
    set.ranges.emplace_back(*lo, *hi);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return set;
}

std::string Section::spelling() const {
  std::string s;
  for (const auto n : path) {
    if (!s.empty()) s += '.';
    s += std::to_string(n);
  }
  const char* word = nullptr;
  switch (text) {
    case Text::none:
      break;
    case Text::header:
      word = "HEADER";
      break;
    case Text::header_fields:
      word = "HEADER.FIELDS";
      break;
    case Text::header_fields_not:
      word = "HEADER.FIELDS.NOT";
      break;
    case Text::text:
      word = "TEXT";
      break;
    case Text::mime:
      word = "MIME";
      break;
  }
  if (word) {
    if (!s.empty()) s += '.';
    s += word;
  }
  if (text == Text::header_fields || text == Text::header_fields_not) {
    s += " (";
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i) s += ' ';
      s += fields[i];
    }
    s += ')';
  }
  return s;
}

namespace {
// The inside of BODY[...].
bool parse_section(std::string_view spec, Section& section) {
  while (!spec.empty() && std::isdigit(static_cast<unsigned char>(spec.front()))) {
    const auto dot = spec.find('.');
    const auto number = seq_number(spec.substr(0, dot));
    if (!number || *number == 0) return false;
    section.path.push_back(*number);
    if (dot == std::string_view::npos) return true;
    spec.remove_prefix(dot + 1);
    if (spec.empty()) return false;
  }
  if (spec.empty()) return true;
  const auto space = spec.find(' ');
  const auto word = spec.substr(0, space);
  if (iequals(word, "HEADER.FIELDS") || iequals(word, "HEADER.FIELDS.NOT")) {
    section.text =
        word.size() == 13 ? Section::Text::header_fields : Section::Text::header_fields_not;
    auto list = space == std::string_view::npos ? std::string_view{} : spec.substr(space + 1);
    if (list.size() < 3 || list.front() != '(' || list.back() != ')') return false;
    list = list.substr(1, list.size() - 2);
    while (!list.empty()) {
      const auto next = list.find(' ');
      auto field = list.substr(0, next);
      if (field.size() >= 2 && field.front() == '"' && field.back() == '"')
        field = field.substr(1, field.size() - 2);
      if (field.empty() || field.find_first_of("\":()") != std::string_view::npos) return false;
      section.fields.emplace_back(field);
      if (next == std::string_view::npos) break;
      list.remove_prefix(next + 1);
    }
    return !section.fields.empty();
  }
  if (space != std::string_view::npos) return false;
  if (iequals(word, "HEADER")) {
    section.text = Section::Text::header;
  } else if (iequals(word, "TEXT")) {
    section.text = Section::Text::text;
  } else if (iequals(word, "MIME") && !section.path.empty()) {
    section.text = Section::Text::mime;  // RFC 3501 6.4.5: MIME only with a part number
  } else {
    return false;
  }
  return true;
}
}  // namespace

std::optional<FetchAttribute> parse_fetch_attribute(std::string_view atom) {
  using Kind = FetchAttribute::Kind;
  FetchAttribute attribute;
  static constexpr std::pair<std::string_view, Kind> simple[] = {
      {"FLAGS", Kind::flags},
      {"UID", Kind::uid},
      {"INTERNALDATE", Kind::internaldate},
      {"RFC822.SIZE", Kind::rfc822_size},
      {"ENVELOPE", Kind::envelope},
      {"BODY", Kind::body},
      {"BODYSTRUCTURE", Kind::bodystructure},
      {"RFC822", Kind::rfc822},
      {"RFC822.HEADER", Kind::rfc822_header},
      {"RFC822.TEXT", Kind::rfc822_text},
  };
  for (const auto& [word, kind] : simple) {
    if (iequals(atom, word)) {
      attribute.kind = kind;
      return attribute;
    }
  }
  std::string_view rest;
  if (istarts_with(atom, "BODY.PEEK[")) {
    attribute.peek = true;
    rest = atom.substr(10);
  } else if (istarts_with(atom, "BODY[")) {
    rest = atom.substr(5);
  } else {
    return std::nullopt;
  }
  attribute.kind = Kind::body_section;
  const auto close = rest.find(']');
  if (close == std::string_view::npos) return std::nullopt;
  if (!parse_section(rest.substr(0, close), attribute.section)) return std::nullopt;
  rest.remove_prefix(close + 1);
  if (rest.empty()) return attribute;
  // <offset.length>: RFC 3501 6.4.5; the length must be non-zero.
  if (rest.size() < 5 || rest.front() != '<' || rest.back() != '>') return std::nullopt;
  rest = rest.substr(1, rest.size() - 2);
  const auto dot = rest.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  const auto a = rest.substr(0, dot);
  const auto b = rest.substr(dot + 1);
  auto r1 = std::from_chars(a.data(), a.data() + a.size(), offset);
  auto r2 = std::from_chars(b.data(), b.data() + b.size(), length);
  if (a.empty() || b.empty() || r1.ec != std::errc() || r1.ptr != a.data() + a.size() ||
      r2.ec != std::errc() || r2.ptr != b.data() + b.size() || length == 0)
    return std::nullopt;
  attribute.partial = std::make_pair(offset, length);
  return attribute;
}

}  // namespace sevenport::imap
