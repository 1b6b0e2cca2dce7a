// How one POP3 listener behaves: built by server/ from the listener's config, shared (by
// reference) by every session on that listener.
#pragma once

#include <cstddef>
#include <string>

namespace sevenport::pop3 {

struct Pop3Policy {
  std::string hostname = "localhost";
  bool stls_offered = false;           // true on a security = starttls listener
  bool auth_enabled = true;            // USER/PASS and AUTH offered at all
  bool auth_requires_tls = true;       // USER/PASS/AUTH refused until STLS (RFC 2595 4)
  std::size_t max_line_length = 1000;  // CRLF included
  unsigned max_bad_commands = 20;
};

}  // namespace sevenport::pop3
