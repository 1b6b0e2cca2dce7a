// The schema's enum names and per-protocol limit defaults: the one place these values live.
#include "config/config.hpp"

namespace sevenport::config {

std::string_view to_string(Protocol protocol) {
  switch (protocol) {
    case Protocol::smtp:
      return "smtp";
    case Protocol::imap:
      return "imap";
    case Protocol::pop3:
      return "pop3";
  }
  return "smtp";
}

std::string_view display_name(Protocol protocol) {
  switch (protocol) {
    case Protocol::smtp:
      return "SMTP";
    case Protocol::imap:
      return "IMAP";
    case Protocol::pop3:
      return "POP3";
  }
  return "SMTP";
}

std::string_view to_string(SmtpRole role) {
  switch (role) {
    case SmtpRole::mx:
      return "mx";
    case SmtpRole::submission:
      return "submission";
  }
  return "mx";
}

std::string_view to_string(AuthMode mode) {
  switch (mode) {
    case AuthMode::off:
      return "off";
    case AuthMode::optional:
      return "optional";
    case AuthMode::required:
      return "required";
  }
  return "optional";
}

std::string_view to_string(Greeting greeting) {
  switch (greeting) {
    case Greeting::normal:
      return "normal";
    case Greeting::silent:
      return "silent";
    case Greeting::close:
      return "close";
    case Greeting::unavailable:
      return "unavailable";
  }
  return "normal";
}

Limits defaults_for(Protocol protocol) {
  Limits limits;  // the struct's initialisers are the SMTP values and the shared ones
  switch (protocol) {
    case Protocol::smtp:
      break;
    case Protocol::pop3:
      limits.idle_timeout_seconds = 600;
      break;
    case Protocol::imap:
      limits.idle_timeout_seconds = 1800;
      // IMAP lines carry whole UID sets and SEARCH programs; clients send far more than 1000.
      limits.max_line_length = 65536;
      break;
  }
  return limits;
}

}  // namespace sevenport::config
