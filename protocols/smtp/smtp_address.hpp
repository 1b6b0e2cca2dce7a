// Parses the reverse-path and forward-path of MAIL and RCPT (RFC 5321 4.1.2) and the ESMTP
// parameters that follow them (4.1.2 Mail-parameters). Pure functions with no state; the session
// decides what an address means (local, relayed, postmaster).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sevenport::smtp {

struct Path {
  enum class Kind : std::uint8_t {
    null,        // "<>": the null reverse-path (bounces)
    postmaster,  // "<Postmaster>" without a domain (RFC 5321 4.5.1), any case
    mailbox,     // "<local@domain>"
  };
  Kind kind = Kind::null;
  std::string mailbox;  // local-part "@" domain as written, source route removed; empty for null
  std::string domain;   // the domain (or address literal with its brackets) of a mailbox
  bool ascii = true;    // false if an octet >= 0x80 appeared: SMTPUTF8 needed (RFC 6531 3.4)
  std::string_view parameters;  // the text after ">", leading spaces removed
};

// Parses text that starts with "<" (the caller has removed "FROM:" or "TO:" and any spaces after
// it). An A-d-l source route ("<@a,@b:user@d>") is accepted and dropped (RFC 5321 4.1.2, C.).
// The local part is a Dot-string or a Quoted-string of at most 64 octets, the domain at most 255
// (4.5.3.1); UTF-8 octets are allowed and flagged. nullopt on any syntax error, including text
// after ">" that is not separated by a space. `parameters` views `text`.
std::optional<Path> parse_path(std::string_view text);

struct Parameter {
  std::string_view keyword;
  std::optional<std::string_view> value;  // nullopt: no "="; may be empty after "="
};

// Splits the next esmtp-param ("keyword[=value]", RFC 5321 4.1.2) off the front of `parameters`,
// skipping spaces; nullopt when none is left. Keyword and value are checked by the caller.
std::optional<Parameter> next_parameter(std::string_view& parameters);

}  // namespace sevenport::smtp
