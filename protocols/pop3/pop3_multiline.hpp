// POP3 multi-line response bodies (RFC 1939 3): dot-stuffing, the closing CRLF and terminator,
// and the part of a message that TOP sends. Byte-exact: 8-bit bytes pass through untouched.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sevenport::pop3 {

// Appends `text` to `out` as the body of a multi-line response, then the ".\r\n" terminator.
// Every line that starts with "." gets one more "."; if `text` is not empty and does not end with
// CRLF, a CRLF is added before the terminator. One pass over `text`; `out` is grown once in the
// usual case, so multi-megabyte messages cost one copy.
void append_multiline(std::string& out, std::string_view text);

// What TOP sends of `message` (RFC 1939 7): the header section, the empty line that ends it, then
// at most `body_lines` lines of the body. The whole message when it has no empty line or when the
// body has no more than `body_lines` lines. A view into `message`.
std::string_view top_prefix(std::string_view message, std::uint64_t body_lines);

}  // namespace sevenport::pop3
