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

namespace {

// Compares without an early exit, so timing says nothing about how much of a password matched.
bool same_secret(std::string_view expected, std::string_view given) {
  unsigned diff = expected.size() != given.size();
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i]) ^
            static_cast<unsigned char>(i < expected.size() ? expected[i] : 0);
  return diff == 0;
}

}  // namespace

std::string_view to_string(Service service) {
  switch (service) {
    case Service::smtp:
      return "smtp";
    case Service::imap:
      return "imap";
    case Service::pop3:
      return "pop3";
  }
  return "smtp";
}

std::string_view describe(LoginOutcome outcome, Service service) {
  switch (outcome) {
    case LoginOutcome::ok:
      return "";
    case LoginOutcome::bad_credentials:
      return "wrong user name or password";
    case LoginOutcome::app_password_required:
      return "app password required: the account's main password was given, and this account "
             "(app_password set) accepts only its app password";
    case LoginOutcome::service_disabled:
      return service == Service::pop3
                 ? "POP3 access is disabled for this account (pop3_enabled = false)"
                 : "IMAP access is disabled for this account (imap_enabled = false)";
    case LoginOutcome::locked:
      return "the account is locked (locked = true)";
    case LoginOutcome::password_expired:
      return "the account's password has expired (password_expired = true)";
  }
  return "";
}

LoginResult UserDirectory::login(std::string_view login, std::string_view password,
                                 Service service) const {
  LoginResult result;
  const User* u = find_login(login);
  if (!u) return result;
  const bool main = same_secret(u->password, password);
  const bool app = !u->app_password.empty() && same_secret(u->app_password, password);
  if (!main && !app) return result;
  result.address = u->address;
  result.app_password = app;
  const bool disabled = (service == Service::imap && !u->imap_enabled) ||
                        (service == Service::pop3 && !u->pop3_enabled);
  if (u->locked)
    result.outcome = LoginOutcome::locked;
  else if (u->password_expired)
    result.outcome = LoginOutcome::password_expired;
  else if (disabled)
    result.outcome = LoginOutcome::service_disabled;
  else if (!app && !u->app_password.empty())
    result.outcome = LoginOutcome::app_password_required;
  else
    result.outcome = LoginOutcome::ok;
  return result;
}

std::optional<std::string> UserDirectory::authenticate(std::string_view login,
                                                       std::string_view password) const {
  const User* u = find_login(login);
  if (!u || !same_secret(u->password, password)) return std::nullopt;
  return u->address;
}

}  // namespace sevenport
