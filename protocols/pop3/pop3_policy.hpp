// How one POP3 listener behaves: built by server/ from the listener's config, shared (by
// reference) by every session on that listener.
#pragma once

#include <cstddef>
#include <string>

#include "protocols/common/engine.hpp"

namespace sevenport::pop3 {

struct Pop3Policy {
  std::string hostname = "localhost";
  bool stls_offered = false;           // true on a security = starttls listener
  bool auth_enabled = true;            // USER/PASS and AUTH offered at all
  bool auth_requires_tls = true;       // USER/PASS/AUTH refused until STLS (RFC 2595 4)
  std::size_t max_line_length = 1000;  // CRLF included
  unsigned max_bad_commands = 20;

  // Deliberate behaviours (docs/BEHAVIOURS.md); each one that takes effect is reported as an
  // EventKind::behaviour event.
  StartTlsFault starttls_fault = StartTlsFault::none;  // only with stls_offered
  // greeting = "unavailable": "-ERR [SYS/TEMP] ..." instead of the greeting, then close.
  bool unavailable = false;
};

}  // namespace sevenport::pop3
