#include "protocols/pop3/pop3_multiline.hpp"

#include <cstring>

namespace sevenport::pop3 {

void append_multiline(std::string& out, std::string_view text) {
  // Room for the text, the stuffed dots of an ordinary message, a CRLF and the terminator: a
  // message with unusually many dot lines grows the buffer once more, no worse.
  out.reserve(out.size() + text.size() + text.size() / 256 + 8);
  const char* const data = text.data();
  const std::size_t size = text.size();
  std::size_t copied = 0;  // bytes of `text` already in `out`
  std::size_t line = 0;    // start of the current line
  while (line < size) {
    if (data[line] == '.') {
      // Copy everything up to this line in bulk, then the stuffed dot; the line itself follows
      // with the next bulk copy.
      out.append(data + copied, line - copied);
      out.push_back('.');
      copied = line;
    }
    const void* lf = std::memchr(data + line, '\n', size - line);
    if (lf == nullptr) break;
    line = static_cast<std::size_t>(static_cast<const char*>(lf) - data) + 1;
  }
  out.append(data + copied, size - copied);
  // The terminator must start a line of its own, or the client would read on past the message.
  if (size != 0 && !(size >= 2 && data[size - 2] == '\r' && data[size - 1] == '\n')) {
    out.append("\r\n");
  }
  out.append(".\r\n");
}

std::string_view top_prefix(std::string_view message, std::uint64_t body_lines) {
  // The header section ends at the first empty line (RFC 5322 2.1).
  std::size_t pos = 0;
  bool body_found = false;
  while (pos < message.size()) {
    const auto lf = message.find('\n', pos);
    if (lf == std::string_view::npos) return message;
    const bool empty = lf == pos || (lf == pos + 1 && message[pos] == '\r');
    pos = lf + 1;
    if (empty) {
      body_found = true;
      break;
    }
  }
  if (!body_found) return message;
  for (std::uint64_t n = 0; n < body_lines && pos < message.size(); ++n) {
    const auto lf = message.find('\n', pos);
    if (lf == std::string_view::npos) return message;
    pos = lf + 1;
  }
  return message.substr(0, pos);
}

}  // namespace sevenport::pop3
