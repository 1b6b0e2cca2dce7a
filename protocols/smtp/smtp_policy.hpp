// How one SMTP listener behaves: built by server/ from the listener's config, shared (by
// reference) by every session on that listener.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "protocols/common/engine.hpp"

namespace sevenport::smtp {

class SmtpThrottle;

enum class AuthMode { off, optional, required };

struct SmtpPolicy {
  std::string hostname = "localhost";
  std::vector<std::string> local_domains;  // lower case; mail to these needs no AUTH
  bool starttls_offered = false;           // true on a security = starttls listener
  AuthMode auth = AuthMode::optional;      // required: MAIL before AUTH gets 530 5.7.0
  bool auth_requires_tls = true;           // AUTH before TLS gets 538 5.7.11, not advertised
  std::size_t max_line_length = 1000;      // command lines, CRLF included (AUTH lines: 12288)
  std::size_t max_message_size = 25 * 1024 * 1024;  // advertised as SIZE
  std::size_t max_recipients = 100;
  unsigned max_bad_commands = 20;  // 4xx/5xx replies in a session before 421 and close; 0: no limit

  // Deliberate behaviours (docs/BEHAVIOURS.md); each one that takes effect is reported as an
  // EventKind::behaviour event.
  StartTlsFault starttls_fault = StartTlsFault::none;  // only with starttls_offered
  bool unavailable = false;  // greeting = "unavailable": 421 4.3.2 instead of 220, then close
  bool reject_unknown_users = false;   // RCPT to a local domain without such a user: 550 5.1.1
  std::uint32_t greylist_seconds = 0;  // > 0: greylisting (451 4.7.1 for that long), needs throttle
  std::uint32_t rate_limit_messages = 0;  // > 0: messages per client IP per window (421 4.7.0)
  std::uint32_t rate_limit_window_seconds = 60;
  // Greylist and rate-limit memory, shared by the listener's sessions (owned by server/);
  // nullptr: greylisting and rate limits are off whatever the settings above say.
  SmtpThrottle* throttle = nullptr;
  // Clock for the Received header, message timestamps, greylisting and rate limits; unset means
  // the system clock.
  std::function<std::chrono::system_clock::time_point()> clock;
};

}  // namespace sevenport::smtp
