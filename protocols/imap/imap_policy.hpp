// How one IMAP listener behaves: built by server/ from the listener's config, shared (by
// reference) by every session on that listener.
#pragma once

#include <cstddef>
#include <string>

#include "protocols/common/engine.hpp"

namespace sevenport::imap {

struct ImapPolicy {
  std::string hostname = "localhost";
  bool starttls_offered = false;  // true on a security = starttls listener
  bool auth_enabled = true;       // LOGIN and AUTHENTICATE offered at all
  bool auth_requires_tls = true;  // logins refused until STARTTLS (RFC 3501 6.2.3, LOGINDISABLED)
  std::size_t max_line_length = 65536;              // one line of a command, CRLF included
  std::size_t max_literal_size = 25 * 1024 * 1024;  // APPEND literals; other commands' literals
                                                    // are limited to max_line_length
  unsigned max_bad_commands = 20;                   // 0: no limit

  // Deliberate behaviours (docs/BEHAVIOURS.md); each one that takes effect is reported as an
  // EventKind::behaviour event.
  StartTlsFault starttls_fault = StartTlsFault::none;  // only with starttls_offered
  bool unavailable = false;  // greeting = "unavailable": "* BYE [UNAVAILABLE] ..." instead of the
                             // greeting, then close
};

}  // namespace sevenport::imap
