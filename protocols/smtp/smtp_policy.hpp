// How one SMTP listener behaves: built by server/ from the listener's config, shared (by
// reference) by every session on that listener.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace sevenport::smtp {

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
  // Clock for the Received header and message timestamps; unset means the system clock.
  std::function<std::chrono::system_clock::time_point()> clock;
};

}  // namespace sevenport::smtp
