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

}  // namespace sevenport
