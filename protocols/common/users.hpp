// The accounts a sevenport instance accepts, shared by every protocol engine. Lives in the loop
// thread; users may be added and removed at run time.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sevenport {

struct User {
  std::string address;  // canonical form: as configured, compared case-insensitively
  std::string password;
};

class UserDirectory {
 public:
  // Adds or replaces (same address, case-insensitively) a user.
  void add(User user);
  // Removes a user; false if there was none.
  bool remove(std::string_view address);
  const std::vector<User>& all() const { return users_; }

  // Resolves a login name: the full address, or its local part when exactly one user has it.
  const User* find_login(std::string_view login) const;
  // The user whose address is exactly `address` (case-insensitive), or nullptr.
  const User* find_address(std::string_view address) const;

  // Checks a login name and password; the canonical address on success.
  std::optional<std::string> authenticate(std::string_view login, std::string_view password) const;

 private:
  std::vector<User> users_;
};

}  // namespace sevenport
