// The selected mailbox as one session sees it (RFC 3501 2.3.1): its own sequence-number -> UID
// map, which changes only when this session reports a change, so that numbers the client holds
// stay right. Changes by others arrive as store notifications and are reported at the next
// point RFC 3501 7.4.1 allows (never an EXPUNGE during FETCH, STORE or SEARCH).
#include <algorithm>

#include "protocols/imap/imap_format.hpp"
#include "protocols/imap/imap_mime.hpp"
#include "protocols/imap/imap_session.hpp"

namespace sevenport::imap {

store::Mailbox* ImapSession::selected_mailbox() const {
  if (!selected_) return nullptr;
  auto* account = store_.find_account(owner_);
  return account ? account->find(selected_->name) : nullptr;
}

const store::Entry* ImapSession::entry_for(std::uint32_t uid) const {
  const auto* box = selected_mailbox();
  if (!box) return nullptr;
  const long index = box->index_of_uid(uid);
  return index < 0 ? nullptr : &box->entries()[static_cast<std::size_t>(index)];
}

store::Entry* ImapSession::mutable_entry(std::uint32_t uid) {
  return const_cast<store::Entry*>(entry_for(uid));
}

bool ImapSession::is_recent(std::uint32_t uid) const {
  return selected_ && std::binary_search(selected_->recent.begin(), selected_->recent.end(), uid);
}

void ImapSession::deselect() {
  if (!selected_) return;
  store_.unobserve(selected_->observer);
  selected_.reset();
  structures_.clear();
  structures_.shrink_to_fit();
  if (state_ == State::selected) state_ = State::authenticated;
}

void ImapSession::on_store_event(const store::StoreEvent& event) {
  if (!selected_ || event.owner != owner_ || event.mailbox != selected_->name) return;
  using Kind = store::StoreEvent::Kind;
  if (event.kind == Kind::expunged) {
    selected_->expunged.insert(event.uid);
  } else if (event.kind == Kind::flags_changed && !muted_) {
    selected_->flags_changed.insert(event.uid);
  }
  // New messages need no bookkeeping: they are the store's entries past the view's last UID.
}

void ImapSession::report_updates(Output& out, bool expunge_allowed) {
  auto& view = *selected_;
  auto msn_of = [&](std::uint32_t uid) -> std::size_t {
    const auto it = std::lower_bound(view.uids.begin(), view.uids.end(), uid);
    return it != view.uids.end() && *it == uid
               ? static_cast<std::size_t>(it - view.uids.begin()) + 1
               : 0;
  };
  if (expunge_allowed && !view.expunged.empty()) {
    // Highest first: each reported number is still right when the client applies it, and the
    // lower ones do not move.
    for (auto it = view.expunged.rbegin(); it != view.expunged.rend(); ++it) {
      const auto msn = msn_of(*it);
      if (msn == 0) continue;
      out.line("* " + std::to_string(msn) + " EXPUNGE");
      view.uids.erase(view.uids.begin() + static_cast<long>(msn) - 1);
      std::erase(view.recent, *it);
      view.flags_changed.erase(*it);
    }
    view.expunged.clear();
  }
  if (auto* box = selected_mailbox()) {
    const std::uint32_t last = view.uids.empty() ? 0 : view.uids.back();
    auto& entries = box->entries();
    auto it = std::upper_bound(entries.begin(), entries.end(), last,
                               [](std::uint32_t u, const store::Entry& e) { return u < e.uid; });
    const bool grew = it != entries.end();
    for (; it != entries.end(); ++it) {
      view.uids.push_back(it->uid);
      // \Recent belongs to the first session that sees the message (RFC 3501 2.3.2); EXAMINE
      // shows it without taking it.
      if (it->recent) {
        if (!view.read_only) it->recent = false;
        view.recent.push_back(it->uid);
      }
    }
    if (grew) {
      out.line("* " + std::to_string(view.uids.size()) + " EXISTS");
      out.line("* " + std::to_string(view.recent.size()) + " RECENT");
    }
  }
  for (const auto uid : view.flags_changed) {
    const auto msn = msn_of(uid);
    const auto* entry = entry_for(uid);
    if (msn == 0 || !entry) continue;
    out.line("* " + std::to_string(msn) + " FETCH (FLAGS " +
             flag_list(entry->flags, entry->keywords, is_recent(uid)) + ")");
  }
  view.flags_changed.clear();
}

bool ImapSession::resolve_set(const Request& req, const Token& token,
                              std::vector<std::size_t>& msns, Output& out) {
  const auto set = token.kind == Token::Kind::atom ? parse_sequence_set(token.text) : std::nullopt;
  if (!set) {
    bad(out, req.tag, "Invalid sequence set");
    return false;
  }
  const auto& uids = selected_->uids;
  if (req.uid) {
    // RFC 3501 6.4.8: UIDs that do not exist are ignored; "*" is the highest UID in use.
    const std::uint32_t largest = uids.empty() ? 0 : uids.back();
    for (std::size_t i = 0; i < uids.size(); ++i)
      if (set->contains(uids[i], largest)) msns.push_back(i + 1);
    return true;
  }
  const auto count = static_cast<std::uint32_t>(uids.size());
  for (const auto& [lo, hi] : set->ranges) {
    if (lo > count || hi > count || (count == 0 && (lo == 0 || hi == 0))) {
      bad(out, req.tag, "Message sequence number out of range");
      return false;
    }
  }
  for (std::uint32_t n = 1; n <= count; ++n)
    if (set->contains(n, count)) msns.push_back(n);
  return true;
}

void ImapSession::notify_flags(std::uint32_t uid) {
  // Other sessions on this mailbox report it; this one already did (or was told to be silent).
  muted_ = true;
  store_.notify({store::StoreEvent::Kind::flags_changed, owner_, selected_->name, uid, 0});
  muted_ = false;
}

std::shared_ptr<const MessageStructure> ImapSession::structure(const store::MessagePtr& message) {
  for (const auto& s : structures_)
    if (s->message == message) return s;
  // A handful of parsed messages covers a client fetching ENVELOPE then BODYSTRUCTURE then parts
  // of the same message, without holding a whole mailbox's worth.
  constexpr std::size_t kCached = 4;
  if (structures_.size() == kCached) structures_.erase(structures_.begin());
  structures_.push_back(analyse_message(message));
  return structures_.back();
}

}  // namespace sevenport::imap
