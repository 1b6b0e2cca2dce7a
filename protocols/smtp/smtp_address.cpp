#include "protocols/smtp/smtp_address.hpp"

#include <cstring>

#include "protocols/common/text.hpp"

namespace sevenport::smtp {

namespace {

constexpr std::size_t kMaxLocalPart = 64;  // RFC 5321 4.5.3.1.1
constexpr std::size_t kMaxDomain = 255;    // RFC 5321 4.5.3.1.2

bool is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// UTF-8 octets count as letters: RFC 6531 3.3 extends atext, qtext and sub-domain with them. The
// session refuses them unless the client asked for SMTPUTF8.
bool is_let_dig(unsigned char c) { return is_alnum(c) || c >= 0x80; }

bool is_atext(unsigned char c) {
  return is_let_dig(c) || (c != 0 && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr);
}

unsigned char at(std::string_view s, std::size_t i) {
  return i < s.size() ? static_cast<unsigned char>(s[i]) : 0;
}

// Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]. Returns the index after
// the domain, or npos.
std::size_t parse_domain(std::string_view s, std::size_t i) {
  for (;;) {
    if (!is_let_dig(at(s, i))) return std::string_view::npos;
    while (is_let_dig(at(s, i)) || at(s, i) == '-') ++i;
    if (s[i - 1] == '-') return std::string_view::npos;  // a label ends with a Let-dig
    if (at(s, i) != '.') return i;
    ++i;
  }
}

// address-literal = "[" 1*dcontent "]", dcontent = %d33-90 / %d94-126: the general form, which
// also covers IPv4 and "IPv6:" literals (RFC 5321 4.1.3).
std::size_t parse_address_literal(std::string_view s, std::size_t i) {
  const std::size_t open = i++;
  while (i < s.size() && s[i] != ']') {
    const auto c = at(s, i);
    if (c < 33 || c > 126 || c == '[' || c == '\\') return std::string_view::npos;
    ++i;
  }
  if (at(s, i) != ']' || i == open + 1) return std::string_view::npos;
  return i + 1;
}

// Quoted-string = DQUOTE *QcontentSMTP DQUOTE. Returns the index after the closing quote.
std::size_t parse_quoted(std::string_view s, std::size_t i) {
  ++i;
  while (i < s.size()) {
    const auto c = at(s, i);
    if (c == '"') return i + 1;
    if (c == '\\') {
      const auto next = at(s, i + 1);
      if (next < 32 || next > 126) return std::string_view::npos;
      i += 2;
    } else if ((c >= 32 && c <= 126) || c >= 0x80) {
      ++i;
    } else {
      return std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

// Dot-string = Atom *("." Atom).
std::size_t parse_dot_string(std::string_view s, std::size_t i) {
  for (;;) {
    if (!is_atext(at(s, i))) return std::string_view::npos;
    while (is_atext(at(s, i))) ++i;
    if (at(s, i) != '.') return i;
    ++i;
  }
}

}  // namespace

std::optional<Path> parse_path(std::string_view text) {
  constexpr auto npos = std::string_view::npos;
  if (at(text, 0) != '<') return std::nullopt;
  Path path;
  std::size_t i = 1;
  if (at(text, i) == '>') {
    ++i;
  } else {
    // A-d-l = At-domain *("," At-domain) ":" — obsolete source routes, which RFC 5321 4.1.2 says
    // to accept and ignore.
    if (at(text, i) == '@') {
      for (;;) {
        if (at(text, i) != '@') return std::nullopt;
        i = parse_domain(text, i + 1);
        if (i == npos) return std::nullopt;
        if (at(text, i) == ',') {
          ++i;
          continue;
        }
        if (at(text, i) != ':') return std::nullopt;
        ++i;
        break;
      }
    }
    const std::size_t local_start = i;
    const bool quoted = at(text, i) == '"';
    i = quoted ? parse_quoted(text, i) : parse_dot_string(text, i);
    if (i == npos || i - local_start > kMaxLocalPart) return std::nullopt;
    const auto local = text.substr(local_start, i - local_start);
    if (at(text, i) == '>' && !quoted && iequals(local, "postmaster")) {
      path.kind = Path::Kind::postmaster;
      path.mailbox = std::string(local);
      ++i;
    } else {
      if (at(text, i) != '@') return std::nullopt;
      const std::size_t domain_start = ++i;
      i = at(text, i) == '[' ? parse_address_literal(text, i) : parse_domain(text, i);
      if (i == npos || i - domain_start > kMaxDomain || at(text, i) != '>') return std::nullopt;
      path.kind = Path::Kind::mailbox;
      path.domain = std::string(text.substr(domain_start, i - domain_start));
      path.mailbox = std::string(text.substr(local_start, i - local_start));
      ++i;
    }
  }
  auto rest = text.substr(i);
  if (!rest.empty() && rest.front() != ' ') return std::nullopt;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  path.parameters = rest;
  for (const char c : path.mailbox)
    if (static_cast<unsigned char>(c) >= 0x80) path.ascii = false;
  return path;
}

std::optional<Parameter> next_parameter(std::string_view& parameters) {
  while (!parameters.empty() && parameters.front() == ' ') parameters.remove_prefix(1);
  if (parameters.empty()) return std::nullopt;
  const auto space = parameters.find(' ');
  const auto token = parameters.substr(0, space);
  parameters.remove_prefix(space == std::string_view::npos ? parameters.size() : space);
  Parameter parameter;
  const auto equals = token.find('=');
  parameter.keyword = token.substr(0, equals);
  if (equals != std::string_view::npos) parameter.value = token.substr(equals + 1);
  return parameter;
}

}  // namespace sevenport::smtp
