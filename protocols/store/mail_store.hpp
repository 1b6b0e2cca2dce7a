// The mail store shared by every listener in the loop thread: SMTP delivers into it, POP3 and IMAP
// read it, the API inspects it. In memory. A message is immutable once stored and shared between
// the mailboxes that hold it; a mailbox holds per-entry state (UID, flags).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/engine.hpp"

namespace sevenport::store {

// How a message reached sevenport, for tests that assert on it.
struct Arrival {
  std::uint64_t session_id = 0;  // the session that delivered it (see the session log / API)
  std::string listener;
  std::uint16_t port = 0;
  Security security = Security::none;
  bool tls = false;  // whether the message itself travelled inside TLS
  std::string tls_version;
  std::string tls_cipher;
  std::string auth_user;  // empty when not authenticated
  std::string peer;       // "ip:port"
  std::string helo;
  // How TLS came about for the session: "none", "starttls" or "implicit".
  std::string tls_mode() const {
    return !tls ? "none" : security == Security::implicit ? "implicit" : "starttls";
  }
};

struct Message {
  std::uint64_t id = 0;  // assigned by the store, increasing from 1
  std::string raw;       // RFC 5322 bytes, CRLF line ends, as stored (trace headers included)
  std::string mail_from;
  std::vector<std::string> recipients;
  std::chrono::system_clock::time_point received_at{};
  Arrival arrival;
};
using MessagePtr = std::shared_ptr<const Message>;

// IMAP system flags as bits; POP3 uses none of them.
enum Flag : std::uint8_t {
  flag_seen = 1,
  flag_answered = 2,
  flag_flagged = 4,
  flag_deleted = 8,
  flag_draft = 16,
};

struct Entry {
  std::uint32_t uid = 0;
  MessagePtr message;
  std::uint8_t flags = 0;
  std::vector<std::string> keywords;
  bool recent = true;
  std::chrono::system_clock::time_point internal_date{};
};

class Mailbox {
 public:
  Mailbox(std::string name, std::uint32_t uid_validity, std::string special_use = {})
      : name_(std::move(name)), special_use_(std::move(special_use)), uid_validity_(uid_validity) {}

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  const std::string& special_use() const { return special_use_; }  // "\\Sent", ... or empty
  std::uint32_t uid_validity() const { return uid_validity_; }
  std::uint32_t uid_next() const { return uid_next_; }
  bool subscribed = true;

  // Entries in UID order (ascending), which is also message sequence order.
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>& entries() { return entries_; }

  // Appends with the next UID; returns that UID.
  std::uint32_t append(MessagePtr message, std::uint8_t flags,
                       std::chrono::system_clock::time_point internal_date);
  // Index of the entry with this UID, or -1.
  long index_of_uid(std::uint32_t uid) const;
  // Removes the entries with these UIDs; returns the removed UIDs in ascending order.
  std::vector<std::uint32_t> remove_uids(const std::set<std::uint32_t>& uids);

 private:
  std::string name_;
  std::string special_use_;
  std::uint32_t uid_validity_;
  std::uint32_t uid_next_ = 1;
  std::vector<Entry> entries_;
};

// One user's folders. INBOX always exists; the special-use folders are created with the account.
class Account {
 public:
  Account(std::string owner, std::function<std::uint32_t()> next_uid_validity);
  const std::string& owner() const { return owner_; }
  Mailbox& inbox() { return *find("INBOX"); }
  // Case-insensitive for INBOX (RFC 3501 5.1), exact otherwise; nullptr if absent.
  Mailbox* find(std::string_view name);
  // nullptr if the name exists already.
  Mailbox* create(const std::string& name, std::string special_use = {});
  bool remove(std::string_view name);
  bool rename(std::string_view from, const std::string& to);
  const std::map<std::string, std::unique_ptr<Mailbox>>& mailboxes() const { return mailboxes_; }

 private:
  std::string owner_;
  std::function<std::uint32_t()> next_uid_validity_;
  std::map<std::string, std::unique_ptr<Mailbox>> mailboxes_;
};

struct StoreEvent {
  enum class Kind { delivered, appended, expunged, flags_changed, cleared };
  Kind kind = Kind::delivered;
  std::string owner;    // account, lower case; empty for delivered-with-no-owner and cleared
  std::string mailbox;  // mailbox name
  std::uint32_t uid = 0;
  std::uint64_t message_id = 0;
};

class MailStore {
 public:
  MailStore();

  // Stores a message whole and places it in the INBOX of every owner (lower-cased addresses of
  // local accounts; may be empty: relayed mail is kept for inspection only). Assigns and returns
  // the message id. Observers hear one `delivered` event per owner (and one with no owner if none).
  std::uint64_t deliver(Message message, const std::vector<std::string>& owners);

  // The account for an address (case-insensitive), created on first use.
  Account& account(std::string_view owner);
  Account* find_account(std::string_view owner);

  // Every message accepted, oldest first.
  const std::deque<MessagePtr>& messages() const { return messages_; }
  MessagePtr find_message(std::uint64_t id) const;
  // Forgets a message everywhere (store list and every mailbox); false if unknown.
  bool remove_message(std::uint64_t id);
  // Forgets every message; accounts and folders stay.
  void clear_messages();

  // Removes entries from a mailbox and tells observers, one `expunged` event per UID.
  std::vector<std::uint32_t> expunge(std::string_view owner, std::string_view mailbox,
                                     const std::set<std::uint32_t>& uids);
  // Tells observers that a mailbox changed (append, flags) so other sessions can report it.
  void notify(const StoreEvent& event);

  using Observer = std::function<void(const StoreEvent&)>;
  std::uint64_t observe(Observer observer);
  void unobserve(std::uint64_t token);

  // POP3 maildrop lock (RFC 1939: one session per maildrop). false if already held.
  bool try_lock(std::string_view owner);
  void unlock(std::string_view owner);

 private:
  std::uint32_t next_uid_validity();

  std::uint64_t next_id_ = 1;
  std::uint32_t uid_validity_seed_;
  std::deque<MessagePtr> messages_;
  std::map<std::string, std::unique_ptr<Account>, std::less<>> accounts_;
  std::map<std::uint64_t, Observer> observers_;
  std::uint64_t next_observer_ = 1;
  std::set<std::string, std::less<>> locks_;
};

}  // namespace sevenport::store
