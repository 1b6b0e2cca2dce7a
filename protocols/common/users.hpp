// The accounts a sevenport instance accepts, shared by every protocol engine. Lives in the loop
// thread; users may be added and removed at run time.
//
// Besides a password, an account can carry the behaviours people meet with real providers: an
// app password that must be used instead of the main one, IMAP or POP3 access switched off, a
// locked account, an expired password, a full mailbox. Engines ask login() and turn its outcome
// into their protocol's answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sevenport {

// The protocol a login is for: access can be switched off per protocol.
enum class Service : std::uint8_t { smtp, imap, pop3 };

// Mail for a full mailbox is refused at RCPT: temporarily (452 4.2.2, the sender retries) or
// permanently (552 5.2.2, the sender bounces).
enum class MailboxFull : std::uint8_t { no, temporary, permanent };

struct User {
  User() = default;
  // An account with a password and no behaviours.
  User(std::string address_, std::string password_)
      : address(std::move(address_)), password(std::move(password_)) {}

  std::string address;  // canonical form: as configured, compared case-insensitively
  std::string password;
  // Non-empty: "app password required". The main password is refused with the provider-style
  // answer (SMTP 534 5.7.9, IMAP [AUTHENTICATIONFAILED], POP3 [AUTH]); this one logs in.
  std::string app_password;
  bool imap_enabled = true;       // false: IMAP logins refused even with the right password
  bool pop3_enabled = true;       // false: POP3 logins refused even with the right password
  bool locked = false;            // true: every login refused, the account is locked
  bool password_expired = false;  // true: logins refused, the password must be changed first
  MailboxFull mailbox_full = MailboxFull::no;
};

// Why a login was or was not accepted. Every outcome except bad_credentials means the password
// given was right (the main one or the app password): a guesser learns nothing from the answers.
enum class LoginOutcome : std::uint8_t {
  ok,
  bad_credentials,        // no such user, or neither password matches
  app_password_required,  // the main password of an account that has an app password
  service_disabled,       // IMAP or POP3 access is switched off for the account
  locked,                 // the account is locked
  password_expired,       // the password has expired
};

struct LoginResult {
  LoginOutcome outcome = LoginOutcome::bad_credentials;
  std::string address;        // the canonical address, for every outcome but bad_credentials
  bool app_password = false;  // the app password was the one given
  explicit operator bool() const { return outcome == LoginOutcome::ok; }
};

// Plain words for a refused login, for the session log: e.g. "app password required: the
// account's main password was given". Empty for ok.
std::string_view describe(LoginOutcome outcome, Service service);

// "smtp", "imap", "pop3".
std::string_view to_string(Service service);

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

  // Checks a login for `service`. The password is checked first; the account's behaviours
  // (locked, password expired, service disabled, app password required, in that order) only
  // once it matched.
  LoginResult login(std::string_view login, std::string_view password, Service service) const;

  // Checks a login name and password against the main password alone, ignoring the account's
  // behaviours; the canonical address on success.
  std::optional<std::string> authenticate(std::string_view login, std::string_view password) const;

 private:
  std::vector<User> users_;
};

}  // namespace sevenport
