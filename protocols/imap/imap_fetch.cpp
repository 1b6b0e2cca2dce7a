// FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2).
#include <algorithm>

#include "protocols/common/text.hpp"
#include "protocols/imap/imap_format.hpp"
#include "protocols/imap/imap_mime.hpp"
#include "protocols/imap/imap_session.hpp"

namespace sevenport::imap {

namespace {

using Kind = FetchAttribute::Kind;

bool add_macro_or_attribute(std::string_view atom, std::vector<FetchAttribute>& attributes) {
  auto add = [&](Kind kind) {
    FetchAttribute a;
    a.kind = kind;
    attributes.push_back(a);
  };
  // RFC 3501 6.4.5 macros.
  if (iequals(atom, "ALL") || iequals(atom, "FAST") || iequals(atom, "FULL")) {
    add(Kind::flags);
    add(Kind::internaldate);
    add(Kind::rfc822_size);
    if (!iequals(atom, "FAST")) add(Kind::envelope);
    if (iequals(atom, "FULL")) add(Kind::body);
    return true;
  }
  auto attribute = parse_fetch_attribute(atom);
  if (!attribute) return false;
  attributes.push_back(std::move(*attribute));
  return true;
}

void append_literal(std::string& out, std::string_view bytes) {
  out += '{';
  out += std::to_string(bytes.size());
  out += "}\r\n";
  out.append(bytes);
}

}  // namespace

void ImapSession::cmd_fetch(const Request& req, Output& out) {
  std::vector<FetchAttribute> attributes;
  const auto items = req.args.subspan(1);
  const bool parenthesised = items.size() == 1 && items[0].kind == Token::Kind::list;
  for (const auto& item : parenthesised ? std::span<const Token>(items[0].items) : items) {
    // Macros stand alone (RFC 3501 9: "ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att ")").
    const bool macro =
        iequals(item.text, "ALL") || iequals(item.text, "FAST") || iequals(item.text, "FULL");
    if (item.kind != Token::Kind::atom || (macro && (parenthesised || items.size() > 1)) ||
        !add_macro_or_attribute(item.text, attributes))
      return bad(out, req.tag, "Invalid FETCH item");
  }
  if (attributes.empty()) return bad(out, req.tag, "Invalid FETCH item");
  if (req.uid && std::none_of(attributes.begin(), attributes.end(),
                              [](const FetchAttribute& a) { return a.kind == Kind::uid; })) {
    // RFC 3501 6.4.8: UID FETCH always reports the UID, first where clients look for it.
    FetchAttribute uid;
    uid.kind = Kind::uid;
    attributes.insert(attributes.begin(), uid);
  }
  std::vector<std::size_t> msns;
  if (!resolve_set(req, req.args[0], msns, out)) return;

  for (const auto msn : msns) {
    const auto uid = selected_->uids[msn - 1];
    store::Entry* entry = mutable_entry(uid);
    if (!entry) continue;  // expunged by another session, not yet reported: nothing to show
    const auto& raw = entry->message->raw;
    bool set_seen = false;
    std::string line = "* " + std::to_string(msn) + " FETCH (";
    bool first = true;
    std::size_t flags_at = std::string::npos;
    auto item = [&](std::string_view name) {
      if (!first) line += ' ';
      first = false;
      line += name;
    };
    for (const auto& a : attributes) {
      switch (a.kind) {
        case Kind::flags:
          item("FLAGS ");
          flags_at = line.size();  // filled in once \Seen is settled
          break;
        case Kind::uid:
          item("UID " + std::to_string(uid));
          break;
        case Kind::internaldate:
          item("INTERNALDATE \"" + format_date_time(entry->internal_date) + "\"");
          break;
        case Kind::rfc822_size:
          item("RFC822.SIZE " + std::to_string(raw.size()));
          break;
        case Kind::envelope:
          item("ENVELOPE " + structure(entry->message)->envelope);
          break;
        case Kind::body:
          item("BODY " + structure(entry->message)->body);
          break;
        case Kind::bodystructure:
          item("BODYSTRUCTURE " + structure(entry->message)->bodystructure);
          break;
        case Kind::rfc822:
          item("RFC822 ");
          append_literal(line, raw);
          set_seen = true;
          break;
        case Kind::rfc822_header:
          item("RFC822.HEADER ");
          append_literal(line, split_entity(raw).first);
          break;
        case Kind::rfc822_text:
          item("RFC822.TEXT ");
          append_literal(line, split_entity(raw).second);
          set_seen = true;
          break;
        case Kind::body_section: {
          // BODY[], BODY[HEADER] and BODY[TEXT] of the message itself are slices of the stored
          // bytes: no MIME parse (and no copy) for what clients fetch most.
          std::optional<std::string> bytes;
          std::string_view content;
          bool found = true;
          if (a.section.path.empty() && a.section.text == Section::Text::none) {
            content = raw;
          } else if (a.section.path.empty() && a.section.text == Section::Text::header) {
            content = split_entity(raw).first;
          } else if (a.section.path.empty() && a.section.text == Section::Text::text) {
            content = split_entity(raw).second;
          } else {
            bytes = section_bytes(*structure(entry->message), a.section);
            found = bytes.has_value();
            if (bytes) content = *bytes;
          }
          std::string name = "BODY[" + a.section.spelling() + "]";
          if (a.partial) {
            // RFC 3501 6.4.5: the response names only the origin octet.
            name += "<" + std::to_string(a.partial->first) + ">";
            content = a.partial->first >= content.size()
                          ? std::string_view{}
                          : content.substr(a.partial->first, a.partial->second);
          }
          item(name + " ");
          if (found) {
            append_literal(line, content);
          } else {
            line += "NIL";
          }
          set_seen = set_seen || !a.peek;
          break;
        }
      }
    }
    // RFC 3501 6.4.5: fetching body text without PEEK sets \Seen, and the new flags are reported.
    const bool newly_seen = set_seen && !selected_->read_only && !(entry->flags & store::flag_seen);
    if (newly_seen) entry->flags |= store::flag_seen;
    const auto flags = flag_list(entry->flags, entry->keywords, is_recent(uid));
    if (flags_at != std::string::npos) {
      line.insert(flags_at, flags);
    } else if (newly_seen) {
      item("FLAGS " + flags);
    }
    line += ')';
    out.line(line);
    if (newly_seen) notify_flags(uid);
  }
  ok(out, req.tag, req.uid ? "UID FETCH completed" : "FETCH completed");
}

}  // namespace sevenport::imap
