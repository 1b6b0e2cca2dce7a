// SEARCH and UID SEARCH (RFC 3501 6.4.4). Text keys match case-insensitively as substrings of
// the raw header values and bytes (no decoding of encoded words or transfer encodings).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>

#include "protocols/common/text.hpp"
#include "protocols/imap/imap_format.hpp"
#include "protocols/imap/imap_mime.hpp"
#include "protocols/imap/imap_session.hpp"

namespace sevenport::imap {

namespace {

struct Key {
  enum class Op : std::uint8_t {
    all,
    and_,
    or_,
    not_,
    flag_set,
    flag_clear,
    keyword,
    unkeyword,
    recent,
    new_,
    old,
    header,
    body,
    text,
    since,
    before,
    on,
    sent_since,
    sent_before,
    sent_on,
    larger,
    smaller,
    uid_set,
    seq_set
  };
  Op op = Op::all;
  std::uint8_t flag = 0;
  std::string_view name;   // header field, keyword
  std::string_view value;  // the text searched for
  std::chrono::sys_days day{};
  std::uint64_t size = 0;
  SequenceSet set;
  std::vector<Key> children;
};

struct Message {
  std::uint32_t msn = 0;
  std::uint32_t count = 0;  // messages in the view, for "*"
  std::uint32_t largest_uid = 0;
  const store::Entry* entry = nullptr;
  bool recent = false;
};

bool contains_ci(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  const auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                              [](char a, char b) { return ascii_lower(a) == ascii_lower(b); });
  return it != haystack.end();
}

class KeyParser {
 public:
  explicit KeyParser(std::span<const Token> tokens) : tokens_(tokens) {}
  std::string error;

  bool parse_all(Key& root) {
    root.op = Key::Op::and_;
    while (pos_ < tokens_.size()) {
      Key key;
      if (!parse(key, 0)) return false;
      root.children.push_back(std::move(key));
    }
    return true;
  }

 private:
  const Token* next() { return pos_ < tokens_.size() ? &tokens_[pos_++] : nullptr; }
  bool fail(std::string why) {
    error = std::move(why);
    return false;
  }
  bool string_arg(std::string_view& out) {
    const Token* t = next();
    if (!t || !t->is_astring()) return fail("Missing search argument");
    out = t->text;
    return true;
  }
  bool day_arg(std::chrono::sys_days& day) {
    std::string_view s;
    if (!string_arg(s)) return false;
    const auto d = parse_date(s);
    if (!d) return fail("Invalid date");
    day = *d;
    return true;
  }

  bool parse(Key& key, int depth) {
    using Op = Key::Op;
    if (depth > 16) return fail("Search keys nested too deeply");
    const Token* t = next();
    if (!t) return fail("Missing search key");
    if (t->kind == Token::Kind::list) {
      key.op = Op::and_;
      KeyParser inner(t->items);
      for (; inner.pos_ < inner.tokens_.size();) {
        Key child;
        if (!inner.parse(child, depth + 1)) return fail(inner.error);
        key.children.push_back(std::move(child));
      }
      return !key.children.empty() || fail("Empty search group");
    }
    if (t->kind != Token::Kind::atom) return fail("Invalid search key");
    const auto w = t->text;
    static constexpr std::pair<std::string_view, std::uint8_t> flags[] = {
        {"SEEN", store::flag_seen},
        {"ANSWERED", store::flag_answered},
        {"FLAGGED", store::flag_flagged},
        {"DELETED", store::flag_deleted},
        {"DRAFT", store::flag_draft}};
    for (const auto& [name, bit] : flags) {
      if (iequals(w, name)) {
        key.op = Op::flag_set;
        key.flag = bit;
        return true;
      }
      if (istarts_with(w, "UN") && iequals(w.substr(2), name)) {
        key.op = Op::flag_clear;
        key.flag = bit;
        return true;
      }
    }
    static constexpr std::pair<std::string_view, std::string_view> headers[] = {
        {"FROM", "From"}, {"TO", "To"}, {"CC", "Cc"}, {"BCC", "Bcc"}, {"SUBJECT", "Subject"}};
    for (const auto& [word, field] : headers) {
      if (iequals(w, word)) {
        key.op = Op::header;
        key.name = field;
        return string_arg(key.value);
      }
    }
    static constexpr std::pair<std::string_view, Op> dates[] = {
        {"SINCE", Op::since},          {"BEFORE", Op::before},          {"ON", Op::on},
        {"SENTSINCE", Op::sent_since}, {"SENTBEFORE", Op::sent_before}, {"SENTON", Op::sent_on}};
    for (const auto& [word, op] : dates) {
      if (iequals(w, word)) {
        key.op = op;
        return day_arg(key.day);
      }
    }
    if (iequals(w, "ALL")) return true;
    if (iequals(w, "RECENT")) return (key.op = Op::recent, true);
    if (iequals(w, "NEW")) return (key.op = Op::new_, true);
    if (iequals(w, "OLD")) return (key.op = Op::old, true);
    if (iequals(w, "KEYWORD")) return (key.op = Op::keyword, string_arg(key.name));
    if (iequals(w, "UNKEYWORD")) return (key.op = Op::unkeyword, string_arg(key.name));
    if (iequals(w, "HEADER"))
      return (key.op = Op::header, string_arg(key.name) && string_arg(key.value));
    if (iequals(w, "BODY")) return (key.op = Op::body, string_arg(key.value));
    if (iequals(w, "TEXT")) return (key.op = Op::text, string_arg(key.value));
    if (iequals(w, "LARGER") || iequals(w, "SMALLER")) {
      key.op = iequals(w, "LARGER") ? Op::larger : Op::smaller;
      std::string_view n;
      if (!string_arg(n)) return false;
      const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), key.size);
      return (ec == std::errc() && end == n.data() + n.size()) || fail("Invalid number");
    }
    if (iequals(w, "NOT")) {
      key.op = Op::not_;
      key.children.emplace_back();
      return parse(key.children.back(), depth + 1);
    }
    if (iequals(w, "OR")) {
      key.op = Op::or_;
      key.children.resize(2);
      return parse(key.children[0], depth + 1) && parse(key.children[1], depth + 1);
    }
    if (iequals(w, "UID")) {
      key.op = Op::uid_set;
      std::string_view s;
      if (!string_arg(s)) return false;
      auto set = parse_sequence_set(s);
      if (!set) return fail("Invalid UID set");
      key.set = std::move(*set);
      return true;
    }
    if (auto set = parse_sequence_set(w)) {
      key.op = Op::seq_set;
      key.set = std::move(*set);
      return true;
    }
    return fail("Unknown search key");
  }

  std::span<const Token> tokens_;
  std::size_t pos_ = 0;
};

bool header_matches(const store::Entry& entry, std::string_view name, std::string_view value) {
  const auto header = split_entity(entry.message->raw).first;
  const auto v = header_value(header, name);
  return v && contains_ci(*v, value);
}

bool matches(const Key& key, const Message& m) {
  using Op = Key::Op;
  const auto& e = *m.entry;
  const auto day = std::chrono::floor<std::chrono::days>(e.internal_date);
  auto sent_day = [&] {
    const auto date = header_value(split_entity(e.message->raw).first, "Date");
    return date ? parse_header_date(*date) : std::nullopt;
  };
  switch (key.op) {
    case Op::all:
      return true;
    case Op::and_:
      return std::all_of(key.children.begin(), key.children.end(),
                         [&](const Key& k) { return matches(k, m); });
    case Op::or_:
      return matches(key.children[0], m) || matches(key.children[1], m);
    case Op::not_:
      return !matches(key.children[0], m);
    case Op::flag_set:
      return (e.flags & key.flag) != 0;
    case Op::flag_clear:
      return (e.flags & key.flag) == 0;
    case Op::keyword:
    case Op::unkeyword: {
      const bool has = std::any_of(e.keywords.begin(), e.keywords.end(),
                                   [&](const std::string& k) { return iequals(k, key.name); });
      return key.op == Op::keyword ? has : !has;
    }
    case Op::recent:
      return m.recent;
    case Op::new_:
      return m.recent && !(e.flags & store::flag_seen);
    case Op::old:
      return !m.recent;
    case Op::header:
      return header_matches(e, key.name, key.value);
    case Op::body:
      return contains_ci(split_entity(e.message->raw).second, key.value);
    case Op::text:
      return contains_ci(e.message->raw, key.value);
    case Op::since:
      return day >= key.day;
    case Op::before:
      return day < key.day;
    case Op::on:
      return day == key.day;
    case Op::sent_since: {
      const auto d = sent_day();
      return d && *d >= key.day;
    }
    case Op::sent_before: {
      const auto d = sent_day();
      return d && *d < key.day;
    }
    case Op::sent_on: {
      const auto d = sent_day();
      return d && *d == key.day;
    }
    case Op::larger:
      return e.message->raw.size() > key.size;
    case Op::smaller:
      return e.message->raw.size() < key.size;
    case Op::uid_set:
      return key.set.contains(e.uid, m.largest_uid);
    case Op::seq_set:
      return key.set.contains(m.msn, m.count);
  }
  return false;
}

}  // namespace

void ImapSession::cmd_search(const Request& req, Output& out) {
  auto args = req.args;
  if (args.size() >= 2 && args[0].is_atom("CHARSET")) {
    // RFC 3501 6.4.4: US-ASCII must be supported; UTF-8 is what clients send.
    if (!iequals(args[1].text, "UTF-8") && !iequals(args[1].text, "US-ASCII"))
      return no(out, req.tag, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
    args = args.subspan(2);
  }
  if (args.empty()) return bad(out, req.tag, "Missing search criteria");
  Key root;
  KeyParser parser(args);
  if (!parser.parse_all(root)) return bad(out, req.tag, parser.error);
  std::string line = "* SEARCH";
  const auto& uids = selected_->uids;
  Message m;
  m.count = static_cast<std::uint32_t>(uids.size());
  m.largest_uid = uids.empty() ? 0 : uids.back();
  for (std::size_t i = 0; i < uids.size(); ++i) {
    m.msn = static_cast<std::uint32_t>(i + 1);
    m.entry = entry_for(uids[i]);
    if (!m.entry) continue;
    m.recent = is_recent(uids[i]);
    if (matches(root, m)) line += ' ' + std::to_string(req.uid ? uids[i] : m.msn);
  }
  out.line(line);
  ok(out, req.tag, req.uid ? "UID SEARCH completed" : "SEARCH completed");
}

}  // namespace sevenport::imap
