// TRANSACTION-state commands (RFC 1939 5, 7) over the snapshot taken at login, and QUIT, which in
// TRANSACTION is the only way into UPDATE and so the only place messages are removed.
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "protocols/pop3/pop3_multiline.hpp"
#include "protocols/pop3/pop3_session.hpp"

namespace sevenport::pop3 {

namespace {
// Decimal digits only (no sign, no space). Saturates rather than overflowing, so an absurd message
// number is just out of range and an absurd TOP line count means "all".
std::optional<std::uint64_t> parse_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (UINT64_MAX - digit) / 10 ? UINT64_MAX : value * 10 + digit;
  }
  return value;
}

std::string messages(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " message" : " messages");
}

struct Totals {
  std::size_t count = 0;
  std::uint64_t octets = 0;
};
}  // namespace

Pop3Session::Drop* Pop3Session::find_drop(std::string_view verb, std::string_view number,
                                          Output& out) {
  const auto n = parse_number(number);
  if (!n) {
    bad_command(out, verb, "Invalid message number");
    return nullptr;
  }
  if (*n == 0 || *n > maildrop_.size()) {
    error(out, verb, "no such message");
    return nullptr;
  }
  // RFC 1939 5: a deleted message may not be referred to again.
  Drop& drop = maildrop_[*n - 1];
  if (drop.deleted) {
    error(out, verb, "message " + std::to_string(*n) + " already deleted");
    return nullptr;
  }
  return &drop;
}

std::string Pop3Session::unique_id(const Drop& drop) const {
  // RFC 1939 7 wants ids that persist across sessions and are never reused for another message:
  // INBOX UIDs are never reused, and UIDVALIDITY tells one incarnation of the INBOX from another.
  return std::to_string(uid_validity_) + "." + std::to_string(drop.uid);
}

void Pop3Session::cmd_stat(const Args& /*args*/, Output& out) {
  Totals sum;
  for (const auto& drop : maildrop_) {
    if (drop.deleted) continue;
    ++sum.count;
    sum.octets += drop.message->raw.size();
  }
  ok(out, std::to_string(sum.count) + " " + std::to_string(sum.octets));
}

void Pop3Session::cmd_list(const Args& args, Output& out) {
  if (args.count == 1) {
    const Drop* drop = find_drop(args.verb, args.arg[0], out);
    if (drop == nullptr) return;
    ok(out, std::string(args.arg[0]) + " " + std::to_string(drop->message->raw.size()));
    return;
  }
  Totals sum;
  for (const auto& drop : maildrop_) {
    if (drop.deleted) continue;
    ++sum.count;
    sum.octets += drop.message->raw.size();
  }
  ok(out, messages(sum.count) + " (" + std::to_string(sum.octets) + " octets)");
  for (std::size_t i = 0; i < maildrop_.size(); ++i) {
    if (maildrop_[i].deleted) continue;
    out.line(std::to_string(i + 1) + " " + std::to_string(maildrop_[i].message->raw.size()));
  }
  out.line(".");
}

void Pop3Session::cmd_retr(const Args& args, Output& out) {
  const Drop* drop = find_drop(args.verb, args.arg[0], out);
  if (drop == nullptr) return;
  const std::string& raw = drop->message->raw;
  ok(out, std::to_string(raw.size()) + " octets");
  append_multiline(out.bytes, raw);
}

void Pop3Session::cmd_top(const Args& args, Output& out) {
  const Drop* drop = find_drop(args.verb, args.arg[0], out);
  if (drop == nullptr) return;
  const auto lines = parse_number(args.arg[1]);
  if (!lines) return bad_command(out, args.verb, "Invalid line count");
  ok(out, "Top of message follows");
  append_multiline(out.bytes, top_prefix(drop->message->raw, *lines));
}

void Pop3Session::cmd_dele(const Args& args, Output& out) {
  Drop* drop = find_drop(args.verb, args.arg[0], out);
  if (drop == nullptr) return;
  // Only marked here; removed in UPDATE, so RSET or a lost connection undoes it (RFC 1939 6).
  drop->deleted = true;
  ok(out, "message " + std::string(args.arg[0]) + " deleted");
}

void Pop3Session::cmd_noop(const Args& /*args*/, Output& out) { ok(out, "Still here"); }

void Pop3Session::cmd_rset(const Args& /*args*/, Output& out) {
  std::uint64_t octets = 0;
  for (auto& drop : maildrop_) {
    drop.deleted = false;
    octets += drop.message->raw.size();
  }
  ok(out,
     "maildrop has " + messages(maildrop_.size()) + " (" + std::to_string(octets) + " octets)");
}

void Pop3Session::cmd_uidl(const Args& args, Output& out) {
  if (args.count == 1) {
    const Drop* drop = find_drop(args.verb, args.arg[0], out);
    if (drop == nullptr) return;
    ok(out, std::string(args.arg[0]) + " " + unique_id(*drop));
    return;
  }
  ok(out, "Unique-ID listing follows");
  for (std::size_t i = 0; i < maildrop_.size(); ++i) {
    if (maildrop_[i].deleted) continue;
    out.line(std::to_string(i + 1) + " " + unique_id(maildrop_[i]));
  }
  out.line(".");
}

void Pop3Session::cmd_quit(const Args& /*args*/, Output& out) {
  if (state_ == State::authorization) {
    ok(out, "Bye");
    close(out);
    return;
  }
  // RFC 1939 6: QUIT from TRANSACTION enters UPDATE, where the marked messages are removed.
  state_ = State::update;
  std::set<std::uint32_t> uids;
  for (const auto& drop : maildrop_)
    if (drop.deleted) uids.insert(drop.uid);
  // The store ignores UIDs that are gone already (removed through the API meanwhile).
  if (!uids.empty()) store_.expunge(owner_, "INBOX", uids);
  release_maildrop();
  ok(out, policy_.hostname + " POP3 server signing off (" + messages(uids.size()) + " deleted)");
  close(out);
}

}  // namespace sevenport::pop3
