#include "protocols/common/engine.hpp"

namespace sevenport {

std::string_view to_string(Security security) {
  switch (security) {
    case Security::none:
      return "none";
    case Security::starttls:
      return "starttls";
    case Security::implicit:
      return "implicit";
  }
  return "none";
}

std::string_view to_string(StartTlsFault fault) {
  switch (fault) {
    case StartTlsFault::none:
      return "none";
    case StartTlsFault::not_advertised:
      return "not-advertised";
    case StartTlsFault::refused:
      return "refused";
    case StartTlsFault::abort_handshake:
      return "abort-handshake";
    case StartTlsFault::inject_response:
      return "inject-response";
  }
  return "none";
}

}  // namespace sevenport
