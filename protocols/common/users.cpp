#include "protocols/common/users.hpp"

#include <algorithm>

#include "protocols/common/text.hpp"

namespace sevenport {

void UserDirectory::add(User user) {
  for (auto& existing : users_) {
    if (iequals(existing.address, user.address)) {
      existing = std::move(user);
      return;
    }
  }
  users_.push_back(std::move(user));
}

bool UserDirectory::remove(std::string_view address) {
  const auto it = std::find_if(users_.begin(), users_.end(),
                               [&](const User& u) { return iequals(u.address, address); });
  if (it == users_.end()) return false;
  users_.erase(it);
  return true;
}

const User* UserDirectory::find_address(std::string_view address) const {
  for (const auto& u : users_)
    if (iequals(u.address, address)) return &u;
  return nullptr;
}

const User* UserDirectory::find_login(std::string_view login) const {
  if (const User* u = find_address(login)) return u;
  if (login.find('@') != std::string_view::npos) return nullptr;
  const User* found = nullptr;
  for (const auto& u : users_) {
    const auto at = u.address.find('@');
    if (at != std::string::npos && iequals(std::string_view(u.address).substr(0, at), login)) {
      if (found) return nullptr;  // ambiguous local part
      found = &u;
    }
  }
  return found;
}

std::optional<std::string> UserDirectory::authenticate(std::string_view login,
                                                       std::string_view password) const {
  const User* u = find_login(login);
  if (!u) return std::nullopt;
  // Compare without an early exit, so timing says nothing about how much of a password matched.
  unsigned diff = u->password.size() != password.size();
  for (std::size_t i = 0; i < password.size(); ++i)
    diff |= static_cast<unsigned char>(password[i]) ^
            static_cast<unsigned char>(i < u->password.size() ? u->password[i] : 0);
  if (diff) return std::nullopt;
  return u->address;
}

}  // namespace sevenport
