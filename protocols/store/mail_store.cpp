#include "protocols/store/mail_store.hpp"

#include <algorithm>
#include <ctime>

#include "protocols/common/text.hpp"

namespace sevenport::store {

std::uint32_t Mailbox::append(MessagePtr message, std::uint8_t flags,
                              std::chrono::system_clock::time_point internal_date) {
  Entry entry;
  entry.uid = uid_next_++;
  entry.message = std::move(message);
  entry.flags = flags;
  entry.internal_date = internal_date;
  entries_.push_back(std::move(entry));
  return entries_.back().uid;
}

long Mailbox::index_of_uid(std::uint32_t uid) const {
  const auto it = std::lower_bound(entries_.begin(), entries_.end(), uid,
                                   [](const Entry& e, std::uint32_t u) { return e.uid < u; });
  if (it == entries_.end() || it->uid != uid) return -1;
  return static_cast<long>(it - entries_.begin());
}

std::vector<std::uint32_t> Mailbox::remove_uids(const std::set<std::uint32_t>& uids) {
  std::vector<std::uint32_t> removed;
  std::erase_if(entries_, [&](const Entry& e) {
    if (!uids.count(e.uid)) return false;
    removed.push_back(e.uid);
    return true;
  });
  return removed;
}

Account::Account(std::string owner, std::function<std::uint32_t()> next_uid_validity)
    : owner_(std::move(owner)), next_uid_validity_(std::move(next_uid_validity)) {
  create("INBOX");
  // RFC 6154 special-use folders, as providers create them for every account.
  create("Sent", "\\Sent");
  create("Drafts", "\\Drafts");
  create("Trash", "\\Trash");
  create("Junk", "\\Junk");
}

Mailbox* Account::find(std::string_view name) {
  if (iequals(name, "INBOX")) name = "INBOX";
  const auto it = mailboxes_.find(std::string(name));
  return it == mailboxes_.end() ? nullptr : it->second.get();
}

Mailbox* Account::create(const std::string& name, std::string special_use) {
  const std::string key = iequals(name, "INBOX") ? "INBOX" : name;
  if (mailboxes_.count(key)) return nullptr;
  auto box = std::make_unique<Mailbox>(key, next_uid_validity_(), std::move(special_use));
  auto* raw = box.get();
  mailboxes_.emplace(key, std::move(box));
  return raw;
}

bool Account::remove(std::string_view name) {
  if (iequals(name, "INBOX")) return false;
  return mailboxes_.erase(std::string(name)) > 0;
}

bool Account::rename(std::string_view from, const std::string& to) {
  if (iequals(from, "INBOX") || iequals(to, "INBOX") || mailboxes_.count(to)) return false;
  auto it = mailboxes_.find(std::string(from));
  if (it == mailboxes_.end()) return false;
  // UIDs stay valid across a rename, so UIDVALIDITY and UIDNEXT are kept (RFC 3501 6.3.5).
  auto box = std::move(it->second);
  box->set_name(to);
  mailboxes_.erase(it);
  mailboxes_.emplace(to, std::move(box));
  return true;
}

MailStore::MailStore() : uid_validity_seed_(static_cast<std::uint32_t>(std::time(nullptr))) {}

std::uint32_t MailStore::next_uid_validity() { return uid_validity_seed_++; }

Account& MailStore::account(std::string_view owner) {
  const std::string key = ascii_lower(owner);
  auto it = accounts_.find(key);
  if (it == accounts_.end()) {
    it = accounts_
             .emplace(key, std::make_unique<Account>(key, [this] { return next_uid_validity(); }))
             .first;
  }
  return *it->second;
}

Account* MailStore::find_account(std::string_view owner) {
  const auto it = accounts_.find(ascii_lower(owner));
  return it == accounts_.end() ? nullptr : it->second.get();
}

std::uint64_t MailStore::deliver(Message message, const std::vector<std::string>& owners) {
  message.id = next_id_++;
  auto ptr = std::make_shared<const Message>(std::move(message));
  messages_.push_back(ptr);
  if (owners.empty()) {
    notify({StoreEvent::Kind::delivered, {}, {}, 0, ptr->id});
  }
  for (const auto& owner : owners) {
    auto& box = account(owner).inbox();
    const auto uid = box.append(ptr, 0, ptr->received_at);
    notify({StoreEvent::Kind::delivered, ascii_lower(owner), box.name(), uid, ptr->id});
  }
  return ptr->id;
}

MessagePtr MailStore::find_message(std::uint64_t id) const {
  // Ids increase along the deque: binary search.
  const auto it = std::lower_bound(messages_.begin(), messages_.end(), id,
                                   [](const MessagePtr& m, std::uint64_t v) { return m->id < v; });
  if (it == messages_.end() || (*it)->id != id) return nullptr;
  return *it;
}

bool MailStore::remove_message(std::uint64_t id) {
  const auto it = std::lower_bound(messages_.begin(), messages_.end(), id,
                                   [](const MessagePtr& m, std::uint64_t v) { return m->id < v; });
  if (it == messages_.end() || (*it)->id != id) return false;
  messages_.erase(it);
  for (auto& [owner, account] : accounts_) {
    for (auto& [name, box] : account->mailboxes()) {
      std::set<std::uint32_t> uids;
      for (const auto& e : box->entries())
        if (e.message->id == id) uids.insert(e.uid);
      if (!uids.empty()) expunge(owner, name, uids);
    }
  }
  return true;
}

void MailStore::clear_messages() {
  messages_.clear();
  for (auto& [owner, account] : accounts_) {
    for (auto& [name, box] : account->mailboxes()) {
      std::set<std::uint32_t> uids;
      for (const auto& e : box->entries()) uids.insert(e.uid);
      if (!uids.empty()) expunge(owner, name, uids);
    }
  }
  notify({StoreEvent::Kind::cleared, {}, {}, 0, 0});
}

std::vector<std::uint32_t> MailStore::expunge(std::string_view owner, std::string_view mailbox,
                                              const std::set<std::uint32_t>& uids) {
  Account* account = find_account(owner);
  if (!account) return {};
  Mailbox* box = account->find(mailbox);
  if (!box) return {};
  auto removed = box->remove_uids(uids);
  for (const auto uid : removed)
    notify({StoreEvent::Kind::expunged, account->owner(), box->name(), uid, 0});
  return removed;
}

void MailStore::notify(const StoreEvent& event) {
  // An observer may unobserve itself (or others) while being called: iterate over a snapshot.
  std::vector<std::uint64_t> tokens;
  tokens.reserve(observers_.size());
  for (const auto& [token, _] : observers_) tokens.push_back(token);
  for (const auto token : tokens) {
    const auto it = observers_.find(token);
    if (it != observers_.end()) it->second(event);
  }
}

std::uint64_t MailStore::observe(Observer observer) {
  const auto token = next_observer_++;
  observers_.emplace(token, std::move(observer));
  return token;
}

void MailStore::unobserve(std::uint64_t token) { observers_.erase(token); }

bool MailStore::try_lock(std::string_view owner) {
  return locks_.insert(ascii_lower(owner)).second;
}

void MailStore::unlock(std::string_view owner) { locks_.erase(ascii_lower(owner)); }

}  // namespace sevenport::store
