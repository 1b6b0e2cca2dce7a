// Fixtures for the IMAP transcript tests: a store with alice's INBOX, the users, the policies of
// a port-143 (STARTTLS) and a port-993 (implicit TLS) listener, and a client that drives an
// ImapSession without sockets and records bytes, actions and events.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/common/engine.hpp"
#include "protocols/common/text.hpp"
#include "protocols/common/users.hpp"
#include "protocols/imap/imap_policy.hpp"
#include "protocols/imap/imap_session.hpp"
#include "protocols/store/mail_store.hpp"

namespace imap_test {

using sevenport::Action;
using sevenport::Event;
using sevenport::EventKind;
using sevenport::Output;
using sevenport::imap::ImapPolicy;
using sevenport::imap::ImapSession;
using sevenport::imap::State;

inline constexpr std::string_view kAlice = "alice@example.test";

inline const std::string kPlain =
    "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: one\r\n"
    "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <1@example.test>\r\n\r\n"
    "Hello Alice.\r\nSecond line.\r\n";

inline const std::string kAlternative =
    "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: alt\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
    "preamble\r\n--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
    "--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain text\r\n"
    "--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html</p>\r\n--inner--\r\n"
    "--outer\r\nContent-Type: application/pdf; name=a.pdf\r\n"
    "Content-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n"
    "\r\nJVBERi0=\r\n--outer--\r\n";

inline const std::string kForward =
    "From: carol@example.test\r\nTo: alice@example.test\r\nSubject: fwd\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n"
    "--b1\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
    "--b1\r\nContent-Type: message/rfc822\r\n\r\n"
    "From: dave@example.test\r\nSubject: inner\r\n\r\ninner body\r\n--b1--\r\n";

// An account with a password and every behaviour off.
inline sevenport::User account(std::string address, std::string password) {
  sevenport::User user;
  user.address = std::move(address);
  user.password = std::move(password);
  return user;
}

struct World {
  sevenport::store::MailStore store;
  sevenport::UserDirectory users;
  ImapPolicy port143;  // STARTTLS offered, logins only after it
  ImapPolicy port993;  // TLS from the first byte

  World() {
    users.add(account(std::string(kAlice), "secret"));
    users.add(account("bob@example.test", "hunter2"));
    port143.hostname = "imap.example.test";
    port143.starttls_offered = true;
    port993.hostname = "imap.example.test";
  }

  void deliver(const std::string& raw) {
    sevenport::store::Message message;
    message.raw = raw;
    message.mail_from = "bob@example.test";
    message.received_at = std::chrono::sys_days(std::chrono::year(2024) / 3 / 5);
    store.deliver(std::move(message), {std::string(kAlice)});
  }

  sevenport::store::Mailbox& inbox() { return store.account(kAlice).inbox(); }
  std::string uidvalidity() { return std::to_string(inbox().uid_validity()); }
};

inline std::string action_name(Action action) {
  switch (action) {
    case Action::none:
      return "";
    case Action::start_tls:
      return "[start_tls]";
    case Action::close:
      return "[close]";
  }
  return "";
}

// One connection: start() at construction, then feed() as the server glue would.
struct Client {
  ImapSession session;
  std::string greeting;
  Action action = Action::none;
  std::vector<Event> events;

  Client(World& world, const ImapPolicy& policy, bool tls_active)
      : session(policy, world.store, world.users) {
    sevenport::SessionContext context;
    context.tls_active = tls_active;
    context.security = tls_active ? sevenport::Security::implicit : sevenport::Security::starttls;
    Output out;
    session.start(context, out);
    greeting = take(out);
  }

  std::string take(Output& out) {
    if (out.action != Action::none) action = out.action;
    for (auto& e : out.events) events.push_back(std::move(e));
    return out.bytes;
  }
  std::string send(std::string_view bytes) {
    Output out;
    session.feed(bytes, out);
    return take(out);
  }
  std::string tls_started() {
    Output out;
    session.tls_started({"TLSv1.3", "TLS_AES_128_GCM_SHA256", ""}, out);
    action = Action::none;
    return take(out);
  }
  std::string updates() {
    Output out;
    session.take_pending_updates(out);
    return take(out);
  }
  bool has_event(EventKind kind) const {
    for (const auto& e : events)
      if (e.kind == kind) return true;
    return false;
  }
  // The texts of the events of one kind, oldest first.
  std::vector<std::string> texts(EventKind kind) const {
    std::vector<std::string> found;
    for (const auto& e : events)
      if (e.kind == kind) found.push_back(e.text);
    return found;
  }
};

// Runs a transcript on a fresh session over a fresh world prepared by `setup`: the greeting, then
// each segment fed in turn, with the TLS handshake reported after a start_tls. With
// `split` = {segment, at}, that segment is fed in two pieces cut at byte `at`.
template <typename Setup>
std::string run(Setup&& setup, bool implicit_tls, const std::vector<std::string>& segments,
                std::optional<std::pair<std::size_t, std::size_t>> split = {}) {
  World world;
  setup(world);
  Client client(world, implicit_tls ? world.port993 : world.port143, implicit_tls);
  std::string log = client.greeting;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    std::vector<std::string_view> pieces{segments[i]};
    if (split && split->first == i) {
      const std::string_view s = segments[i];
      pieces = {s.substr(0, split->second), s.substr(split->second)};
    }
    bool handshake = false;
    for (const auto piece : pieces) {
      Output out;
      client.session.feed(piece, out);
      log += out.bytes + action_name(out.action);
      handshake = handshake || out.action == Action::start_tls;
    }
    if (handshake) log += client.tls_started() + "[tls up]";
  }
  client.session.on_disconnect();
  // UIDVALIDITY comes from the clock: name it by mailbox so that runs compare equal.
  for (const auto& [name, box] : world.store.account(kAlice).mailboxes()) {
    const auto value = std::to_string(box->uid_validity());
    for (auto at = log.find(value); at != std::string::npos; at = log.find(value, at))
      log.replace(at, value.size(), "<uidvalidity " + name + ">");
  }
  return log;
}

// Checks that a transcript gives the same bytes whatever byte boundary its input is cut at.
template <typename Setup>
void check_every_split(Setup&& setup, bool implicit_tls, const std::vector<std::string>& segments) {
  const auto whole = run(setup, implicit_tls, segments);
  for (std::size_t s = 0; s < segments.size(); ++s) {
    for (std::size_t at = 1; at < segments[s].size(); ++at) {
      INFO("segment " << s << " split at " << at);
      REQUIRE(run(setup, implicit_tls, segments, std::make_pair(s, at)) == whole);
    }
  }
}

inline constexpr std::string_view kCaps =
    "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE SPECIAL-USE "
    "CHILDREN";

}  // namespace imap_test
