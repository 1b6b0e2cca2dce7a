// Authenticated-state mailbox commands (RFC 3501 6.3): SELECT/EXAMINE, CREATE, DELETE, RENAME,
// SUBSCRIBE/UNSUBSCRIBE, LIST/LSUB (with the RFC 5258 forms SPECIAL-USE clients send, RFC 6154),
// STATUS and APPEND (with APPENDUID, RFC 4315). The hierarchy delimiter is "/".
#include <algorithm>
#include <cctype>
#include <chrono>
#include <vector>

#include "protocols/common/text.hpp"
#include "protocols/imap/imap_format.hpp"
#include "protocols/imap/imap_session.hpp"

namespace sevenport::imap {

namespace {

// A mailbox name as the store spells it: INBOX in any case is INBOX (RFC 3501 5.1), and a
// trailing delimiter is dropped (CREATE "a/" creates "a").
std::string mailbox_name(std::string_view name) {
  if (name.size() > 1 && name.back() == '/') name.remove_suffix(1);
  if (iequals(name, "INBOX")) return "INBOX";
  return std::string(name);
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find("//") != std::string_view::npos)
    return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == '*' || c == '%';
  });
}

// RFC 3501 6.3.8: "*" matches anything, "%" anything but the delimiter. Row by row over the
// pattern (O(pattern x name)), since backtracking on a hostile "*a*a*a..." would be exponential.
bool wildcard_match(std::string_view pattern, std::string_view name) {
  std::vector<char> row(name.size() + 1, 0);
  std::vector<char> next(name.size() + 1, 0);
  row[0] = 1;
  for (const char p : pattern) {
    for (std::size_t j = 0; j <= name.size(); ++j) {
      if (p == '*') {
        next[j] = row[j] || (j > 0 && next[j - 1]);
      } else if (p == '%') {
        next[j] = row[j] || (j > 0 && next[j - 1] && name[j - 1] != '/');
      } else {
        next[j] = j > 0 && row[j - 1] && name[j - 1] == p;
      }
    }
    row.swap(next);
  }
  return row[name.size()] != 0;
}

bool list_match(std::string_view pattern, const std::string& name) {
  if (name == "INBOX" && pattern.size() >= 5 && iequals(pattern.substr(0, 5), "INBOX"))
    return wildcard_match("INBOX" + std::string(pattern.substr(5)), name);
  return wildcard_match(pattern, name);
}

bool has_children(const store::Account& account, const std::string& name) {
  const auto prefix = name + "/";
  for (const auto& [other, _] : account.mailboxes())
    if (other.starts_with(prefix)) return true;
  return false;
}

}  // namespace

void ImapSession::cmd_select(const Request& req, Output& out) {
  const bool read_only = iequals(req.verb, "EXAMINE");
  if (!req.args[0].is_astring()) return bad(out, req.tag, "Syntax: SELECT mailbox");
  // RFC 3501 6.3.1: a SELECT first deselects, even when it then fails.
  deselect();
  const auto name = mailbox_name(req.args[0].text);
  auto& account = store_.account(owner_);
  store::Mailbox* box = account.find(name);
  if (!box) return no(out, req.tag, "[NONEXISTENT] Mailbox does not exist");

  selected_ = std::make_unique<Selected>();
  selected_->name = box->name();
  selected_->read_only = read_only;
  selected_->uid_validity = box->uid_validity();
  selected_->observer = store_.observe([this](const store::StoreEvent& e) { on_store_event(e); });
  state_ = State::selected;
  selected_->uids.reserve(box->entries().size());
  std::size_t first_unseen = 0;
  for (auto& entry : box->entries()) {
    selected_->uids.push_back(entry.uid);
    if (entry.recent) {
      if (!read_only) entry.recent = false;
      selected_->recent.push_back(entry.uid);
    }
    if (first_unseen == 0 && !(entry.flags & store::flag_seen))
      first_unseen = selected_->uids.size();
  }
  out.line("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
  out.line(read_only ? "* OK [PERMANENTFLAGS ()] Read-only mailbox"
                     : "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
                       "Flags permitted");
  out.line("* " + std::to_string(selected_->uids.size()) + " EXISTS");
  out.line("* " + std::to_string(selected_->recent.size()) + " RECENT");
  if (first_unseen)
    out.line("* OK [UNSEEN " + std::to_string(first_unseen) + "] First unseen message");
  out.line("* OK [UIDVALIDITY " + std::to_string(box->uid_validity()) + "] UIDs valid");
  out.line("* OK [UIDNEXT " + std::to_string(box->uid_next()) + "] Predicted next UID");
  ok(out, req.tag, read_only ? "[READ-ONLY] EXAMINE completed" : "[READ-WRITE] SELECT completed");
}

void ImapSession::cmd_create(const Request& req, Output& out) {
  if (!req.args[0].is_astring()) return bad(out, req.tag, "Syntax: CREATE mailbox");
  const auto name = mailbox_name(req.args[0].text);
  if (!valid_name(name)) return no(out, req.tag, "[CANNOT] Invalid mailbox name");
  auto& account = store_.account(owner_);
  if (account.find(name)) return no(out, req.tag, "[ALREADYEXISTS] Mailbox already exists");
  // RFC 3501 6.3.3: the superior hierarchy is created as needed.
  for (auto slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
    const auto parent = name.substr(0, slash);
    if (!account.find(parent)) account.create(parent);
  }
  account.create(name);
  ok(out, req.tag, "CREATE completed");
}

void ImapSession::cmd_delete(const Request& req, Output& out) {
  if (!req.args[0].is_astring()) return bad(out, req.tag, "Syntax: DELETE mailbox");
  const auto name = mailbox_name(req.args[0].text);
  if (name == "INBOX") return no(out, req.tag, "[CANNOT] INBOX cannot be deleted");
  auto& account = store_.account(owner_);
  if (!account.find(name)) return no(out, req.tag, "[NONEXISTENT] Mailbox does not exist");
  if (selected_ && selected_->name == name) deselect();
  account.remove(name);
  ok(out, req.tag, "DELETE completed");
}

void ImapSession::cmd_rename(const Request& req, Output& out) {
  if (!req.args[0].is_astring() || !req.args[1].is_astring())
    return bad(out, req.tag, "Syntax: RENAME mailbox new-name");
  const auto from = mailbox_name(req.args[0].text);
  const auto to = mailbox_name(req.args[1].text);
  auto& account = store_.account(owner_);
  store::Mailbox* source = account.find(from);
  if (!source) return no(out, req.tag, "[NONEXISTENT] Mailbox does not exist");
  if (!valid_name(to) || to == "INBOX") return no(out, req.tag, "[CANNOT] Invalid new name");
  if (account.find(to)) return no(out, req.tag, "[ALREADYEXISTS] Target mailbox exists");
  if (from == "INBOX") {
    // RFC 3501 6.3.5: renaming INBOX moves its messages to the new mailbox; INBOX stays, empty.
    store::Mailbox* target = account.create(to);
    std::set<std::uint32_t> uids;
    for (const auto& e : source->entries()) {
      target->append(e.message, e.flags, e.internal_date);
      target->entries().back().keywords = e.keywords;
      uids.insert(e.uid);
    }
    store_.expunge(owner_, "INBOX", uids);
    return ok(out, req.tag, "RENAME completed");
  }
  // Inferior names move along (RFC 3501 6.3.5).
  std::vector<std::string> children;
  for (const auto& [name, _] : account.mailboxes())
    if (name.starts_with(from + "/")) children.push_back(name);
  account.rename(from, to);
  for (const auto& child : children) account.rename(child, to + child.substr(from.size()));
  if (selected_ && selected_->name == from) selected_->name = to;
  ok(out, req.tag, "RENAME completed");
}

void ImapSession::cmd_subscribe(const Request& req, Output& out) {
  const bool subscribe = iequals(req.verb, "SUBSCRIBE");
  if (!req.args[0].is_astring()) return bad(out, req.tag, "Syntax: SUBSCRIBE mailbox");
  store::Mailbox* box = store_.account(owner_).find(mailbox_name(req.args[0].text));
  if (!box) return no(out, req.tag, "[NONEXISTENT] Mailbox does not exist");
  box->subscribed = subscribe;
  ok(out, req.tag, subscribe ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
}

void ImapSession::cmd_list(const Request& req, Output& out) {
  const bool lsub = iequals(req.verb, "LSUB");
  auto args = req.args;
  // RFC 5258: LIST [(selection options)] reference patterns [RETURN (return options)].
  bool only_special = false;
  bool only_subscribed = lsub;
  bool show_subscribed = false;
  auto options = [&](const Token& list) {
    for (const auto& option : list.items) {
      if (option.is_atom("SPECIAL-USE")) only_special = true;
      if (option.is_atom("SUBSCRIBED")) only_subscribed = show_subscribed = true;
    }
  };
  if (!lsub && !args.empty() && args[0].kind == Token::Kind::list) {
    options(args[0]);
    args = args.subspan(1);
  }
  if (!lsub && args.size() == 4 && args[2].is_atom("RETURN") && args[3].kind == Token::Kind::list) {
    for (const auto& option : args[3].items)
      if (option.is_atom("SUBSCRIBED")) show_subscribed = true;
    args = args.subspan(0, 2);
  }
  if (args.size() != 2 || !args[0].is_astring())
    return bad(out, req.tag, "Syntax: LIST [(options)] reference pattern [RETURN (options)]");
  std::vector<std::string_view> patterns;
  if (args[1].kind == Token::Kind::list) {
    for (const auto& p : args[1].items) patterns.push_back(p.text);
  } else {
    patterns.push_back(args[1].text);
  }
  const std::string_view word = lsub ? "LSUB" : "LIST";
  if (patterns.size() == 1 && patterns[0].empty()) {
    // RFC 3501 6.3.8: an empty pattern asks for the delimiter and the reference's root.
    out.line("* " + std::string(word) + " (\\Noselect) \"/\" \"\"");
    return ok(out, req.tag, std::string(word) + " completed");
  }
  const auto& account = store_.account(owner_);
  std::vector<const store::Mailbox*> boxes;
  for (const auto& [name, box] : account.mailboxes()) {
    if (name == "INBOX") {
      boxes.insert(boxes.begin(), box.get());  // INBOX first, as people expect
    } else {
      boxes.push_back(box.get());
    }
  }
  for (const auto* box : boxes) {
    const auto& name = box->name();
    bool matched = false;
    for (const auto pattern : patterns)
      matched = matched || list_match(std::string(args[0].text) + std::string(pattern), name);
    if (!matched || (only_subscribed && !box->subscribed) ||
        (only_special && box->special_use().empty()))
      continue;
    std::string attributes;
    auto add = [&](std::string_view a) {
      if (!attributes.empty()) attributes += ' ';
      attributes += a;
    };
    if (!lsub) add(has_children(account, name) ? "\\HasChildren" : "\\HasNoChildren");
    if (!lsub && !box->special_use().empty()) add(box->special_use());
    if (show_subscribed && box->subscribed) add("\\Subscribed");
    std::string line = "* " + std::string(word) + " (" + attributes + ") \"/\" ";
    append_mailbox(line, name);
    out.line(line);
  }
  ok(out, req.tag, std::string(word) + " completed");
}

void ImapSession::cmd_status(const Request& req, Output& out) {
  if (!req.args[0].is_astring() || req.args[1].kind != Token::Kind::list)
    return bad(out, req.tag, "Syntax: STATUS mailbox (items)");
  store::Mailbox* box = store_.account(owner_).find(mailbox_name(req.args[0].text));
  if (!box) return no(out, req.tag, "[NONEXISTENT] Mailbox does not exist");
  std::size_t recent = 0;
  std::size_t unseen = 0;
  for (const auto& e : box->entries()) {
    recent += e.recent;
    unseen += !(e.flags & store::flag_seen);
  }
  std::string items;
  for (const auto& item : req.args[1].items) {
    std::uint64_t value = 0;
    if (item.is_atom("MESSAGES")) {
      value = box->entries().size();
    } else if (item.is_atom("RECENT")) {
      value = recent;
    } else if (item.is_atom("UIDNEXT")) {
      value = box->uid_next();
    } else if (item.is_atom("UIDVALIDITY")) {
      value = box->uid_validity();
    } else if (item.is_atom("UNSEEN")) {
      value = unseen;
    } else {
      return bad(out, req.tag, "Unknown STATUS item");
    }
    if (!items.empty()) items += ' ';
    for (const char c : item.text)
      items += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    items += ' ' + std::to_string(value);
  }
  std::string line = "* STATUS ";
  append_mailbox(line, box->name());
  out.line(line + " (" + items + ")");
  ok(out, req.tag, "STATUS completed");
}

void ImapSession::cmd_append(const Request& req, Output& out) {
  const auto& args = req.args;
  const Token& content = args.back();
  if (!args[0].is_astring() || !content.is_string())
    return bad(out, req.tag, "Syntax: APPEND mailbox [(flags)] [date-time] literal");
  std::uint8_t flags = 0;
  std::vector<std::string> keywords;
  auto internal_date = std::chrono::system_clock::now();
  for (std::size_t i = 1; i + 1 < args.size(); ++i) {
    if (args[i].kind == Token::Kind::list) {
      for (const auto& flag : args[i].items) {
        if (flag.kind != Token::Kind::atom) return bad(out, req.tag, "Invalid flag");
        if (const auto b = system_flag(flag.text)) {
          flags |= b;
        } else if (flag.text.front() != '\\') {
          if (!is_keyword(flag.text)) return bad(out, req.tag, "Invalid flag");
          keywords.emplace_back(flag.text);
        }
      }
    } else if (args[i].kind == Token::Kind::quoted) {
      const auto date = parse_date_time(args[i].text);
      if (!date) return bad(out, req.tag, "Invalid date-time");
      internal_date = *date;
    } else {
      return bad(out, req.tag, "Syntax: APPEND mailbox [(flags)] [date-time] literal");
    }
  }
  auto& account = store_.account(owner_);
  store::Mailbox* box = account.find(mailbox_name(args[0].text));
  // RFC 3501 6.3.11: TRYCREATE tells the client it may CREATE and retry.
  if (!box) return no(out, req.tag, "[TRYCREATE] Mailbox does not exist");

  store::Message message;
  message.raw = std::string(content.text);
  message.received_at = std::chrono::system_clock::now();
  message.arrival.session_id = context_.session_id;
  message.arrival.listener = context_.listener;
  message.arrival.port = context_.port;
  message.arrival.security = context_.security;
  message.arrival.tls = tls_active_;
  message.arrival.auth_user = owner_;
  message.arrival.peer = context_.peer_ip + ":" + std::to_string(context_.peer_port);
  // Kept by the store (for inspection) without an owner's INBOX, then placed here.
  const auto id = store_.deliver(std::move(message), {});
  const auto uid = box->append(store_.find_message(id), flags, internal_date);
  box->entries().back().keywords = std::move(keywords);
  store_.notify({store::StoreEvent::Kind::appended, owner_, box->name(), uid, id});
  ok(out, req.tag,
     "[APPENDUID " + std::to_string(box->uid_validity()) + " " + std::to_string(uid) +
         "] APPEND completed");
}

}  // namespace sevenport::imap
