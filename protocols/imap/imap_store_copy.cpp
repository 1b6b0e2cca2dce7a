// Selected-state commands that change messages: STORE (RFC 3501 6.4.6), COPY with COPYUID
// (RFC 4315), MOVE (RFC 6851), EXPUNGE and UID EXPUNGE (RFC 4315), CLOSE and UNSELECT (RFC 3691).
#include <algorithm>

#include "protocols/common/text.hpp"
#include "protocols/imap/imap_format.hpp"
#include "protocols/imap/imap_session.hpp"

namespace sevenport::imap {

namespace {

// "1:3,5" from ascending UIDs: the form COPYUID uses.
std::string compact_set(const std::vector<std::uint32_t>& uids) {
  std::string s;
  for (std::size_t i = 0; i < uids.size();) {
    std::size_t j = i;
    while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) ++j;
    if (!s.empty()) s += ',';
    s += std::to_string(uids[i]);
    if (j > i) s += ':' + std::to_string(uids[j]);
    i = j + 1;
  }
  return s;
}

bool has_keyword(const std::vector<std::string>& keywords, std::string_view k) {
  return std::any_of(keywords.begin(), keywords.end(),
                     [&](const std::string& e) { return iequals(e, k); });
}

}  // namespace

void ImapSession::cmd_store(const Request& req, Output& out) {
  auto item = req.args[1].kind == Token::Kind::atom ? req.args[1].text : std::string_view{};
  const bool silent = item.size() > 7 && iequals(item.substr(item.size() - 7), ".SILENT");
  if (silent) item.remove_suffix(7);
  char mode = 0;
  if (!item.empty() && (item.front() == '+' || item.front() == '-')) {
    mode = item.front();
    item.remove_prefix(1);
  }
  if (!iequals(item, "FLAGS"))
    return bad(out, req.tag, "Syntax: STORE set [+|-]FLAGS[.SILENT] (flags)");
  // Flags come as a list or, as RFC 3501 9 also allows, as bare atoms.
  const auto rest = req.args.subspan(2);
  const bool listed = rest.size() == 1 && rest[0].kind == Token::Kind::list;
  std::uint8_t flags = 0;
  std::vector<std::string> keywords;
  for (const auto& flag : listed ? std::span<const Token>(rest[0].items) : rest) {
    if (flag.kind != Token::Kind::atom) return bad(out, req.tag, "Invalid flag");
    if (const auto b = system_flag(flag.text)) {
      flags |= b;
    } else if (flag.text.front() != '\\') {
      if (!is_keyword(flag.text)) return bad(out, req.tag, "Invalid flag");
      if (!has_keyword(keywords, flag.text)) keywords.emplace_back(flag.text);
    } else if (!iequals(flag.text, "\\Recent")) {
      return bad(out, req.tag, "Unknown system flag");
    }
  }
  std::vector<std::size_t> msns;
  if (!resolve_set(req, req.args[0], msns, out)) return;
  if (selected_->read_only) return no(out, req.tag, "[READ-ONLY] Mailbox is read-only");
  for (const auto msn : msns) {
    const auto uid = selected_->uids[msn - 1];
    store::Entry* entry = mutable_entry(uid);
    if (!entry) continue;
    const auto old_flags = entry->flags;
    const auto old_keywords = entry->keywords;
    if (mode == '+') {
      entry->flags |= flags;
      for (const auto& k : keywords)
        if (!has_keyword(entry->keywords, k)) entry->keywords.push_back(k);
    } else if (mode == '-') {
      entry->flags &= static_cast<std::uint8_t>(~flags);
      std::erase_if(entry->keywords,
                    [&](const std::string& k) { return has_keyword(keywords, k); });
    } else {
      entry->flags = flags;
      entry->keywords = keywords;
    }
    if (!silent) {
      std::string line = "* " + std::to_string(msn) + " FETCH (";
      if (req.uid) line += "UID " + std::to_string(uid) + " ";
      out.line(line + "FLAGS " + flag_list(entry->flags, entry->keywords, is_recent(uid)) + ")");
    }
    if (entry->flags != old_flags || entry->keywords != old_keywords) notify_flags(uid);
  }
  ok(out, req.tag, req.uid ? "UID STORE completed" : "STORE completed");
}

void ImapSession::cmd_copy(const Request& req, Output& out) {
  const bool move = iequals(req.verb, "MOVE");
  if (!req.args[1].is_astring()) return bad(out, req.tag, "Syntax: COPY set mailbox");
  std::vector<std::size_t> msns;
  if (!resolve_set(req, req.args[0], msns, out)) return;
  if (move && selected_->read_only) return no(out, req.tag, "[READ-ONLY] Mailbox is read-only");
  auto& account = store_.account(owner_);
  std::string target_name(req.args[1].text);
  if (iequals(target_name, "INBOX")) target_name = "INBOX";
  store::Mailbox* target = account.find(target_name);
  if (!target) return no(out, req.tag, "[TRYCREATE] Mailbox does not exist");

  // Collected first: the target may be the selected mailbox itself, whose entries grow.
  std::vector<store::Entry> copies;
  for (const auto msn : msns)
    if (const auto* entry = entry_for(selected_->uids[msn - 1])) copies.push_back(*entry);
  std::vector<std::uint32_t> source_uids;
  std::vector<std::uint32_t> target_uids;
  for (const auto& entry : copies) {
    // RFC 3501 6.4.7: flags are kept, and the copy is \Recent in the target.
    const auto uid = target->append(entry.message, entry.flags, entry.internal_date);
    target->entries().back().keywords = entry.keywords;
    source_uids.push_back(entry.uid);
    target_uids.push_back(uid);
    store_.notify(
        {store::StoreEvent::Kind::appended, owner_, target->name(), uid, entry.message->id});
  }
  std::string code;
  if (!source_uids.empty()) {
    code = "[COPYUID " + std::to_string(target->uid_validity()) + " " + compact_set(source_uids) +
           " " + compact_set(target_uids) + "] ";
  }
  if (!move) return ok(out, req.tag, code + (req.uid ? "UID COPY completed" : "COPY completed"));
  // RFC 6851 4.3: COPYUID goes in an untagged OK, before the EXPUNGEs.
  if (!code.empty()) out.line("* OK " + code + "Moved");
  store_.expunge(owner_, selected_->name, {source_uids.begin(), source_uids.end()});
  ok(out, req.tag, req.uid ? "UID MOVE completed" : "MOVE completed");
}

void ImapSession::cmd_expunge(const Request& req, Output& out) {
  std::vector<std::size_t> msns;
  if (req.uid && !resolve_set(req, req.args[0], msns, out)) return;
  if (selected_->read_only) return no(out, req.tag, "[READ-ONLY] Mailbox is read-only");
  std::set<std::uint32_t> uids;
  if (req.uid) {
    // RFC 4315 2.1: only the named messages, and only those marked \Deleted.
    for (const auto msn : msns) {
      const auto* entry = entry_for(selected_->uids[msn - 1]);
      if (entry && (entry->flags & store::flag_deleted)) uids.insert(entry->uid);
    }
  } else if (auto* box = selected_mailbox()) {
    for (const auto& e : box->entries())
      if (e.flags & store::flag_deleted) uids.insert(e.uid);
  }
  // The store tells every observer, this session included; ok() then reports the EXPUNGEs.
  if (!uids.empty()) store_.expunge(owner_, selected_->name, uids);
  ok(out, req.tag, req.uid ? "UID EXPUNGE completed" : "EXPUNGE completed");
}

void ImapSession::cmd_close(const Request& req, Output& out) {
  // RFC 3501 6.4.2: expunge silently (not in a read-only mailbox), then leave the mailbox.
  if (!selected_->read_only) {
    std::set<std::uint32_t> uids;
    if (auto* box = selected_mailbox()) {
      for (const auto& e : box->entries())
        if (e.flags & store::flag_deleted) uids.insert(e.uid);
    }
    if (!uids.empty()) store_.expunge(owner_, selected_->name, uids);
  }
  deselect();
  ok(out, req.tag, "CLOSE completed");
}

void ImapSession::cmd_unselect(const Request& req, Output& out) {
  deselect();
  ok(out, req.tag, "UNSELECT completed");
}

}  // namespace sevenport::imap
