// Fixtures for the POP3 transcript tests: a store holding alice's maildrop (a plain message, one
// with lines starting with ".", one with 8-bit bytes, one without a final CRLF), the users, the
// policies of a port-110 (STLS) and a port-995 (implicit TLS) listener, and a client that drives a
// Pop3Session without sockets and records bytes, actions and events.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/common/engine.hpp"
#include "protocols/common/text.hpp"
#include "protocols/common/users.hpp"
#include "protocols/pop3/pop3_policy.hpp"
#include "protocols/pop3/pop3_session.hpp"
#include "protocols/store/mail_store.hpp"

namespace pop3_test {

using sevenport::Action;
using sevenport::Event;
using sevenport::EventKind;
using sevenport::Output;
using sevenport::pop3::Pop3Policy;
using sevenport::pop3::Pop3Session;
using sevenport::pop3::State;

inline constexpr std::string_view kAlice = "alice@example.test";

inline const std::string kMessage1 =
    "From: bob@example.test\r\nTo: alice@example.test\r\nSubject: one\r\n\r\n"
    "Hello Alice.\r\nSecond line.\r\nThird line.\r\n";
inline const std::string kMessage2 =
    "From: bob@example.test\r\nSubject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nlast\r\n";
inline const std::string kMessage2Stuffed =
    "From: bob@example.test\r\nSubject: dots\r\n\r\n..leading dot\r\n...two dots\r\n..\r\nlast\r\n";
inline const std::string kMessage3 =
    "From: bob@example.test\r\nSubject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n\r\nGr\xC3\xBC\xC3\x9F"
    "e \xFF\x80\xFE\r\n";
inline const std::string kMessage4 = "Subject: tail\r\n\r\nbody line\r\n.";
inline const std::string kMessage4Sent = "Subject: tail\r\n\r\nbody line\r\n..\r\n.\r\n";

inline const std::string kOctets =
    std::to_string(kMessage1.size() + kMessage2.size() + kMessage3.size() + kMessage4.size());

// An account with a password and every behaviour off; tests switch behaviours on one by one.
inline sevenport::User account(std::string_view address, std::string_view password) {
  sevenport::User user;
  user.address = address;
  user.password = password;
  return user;
}

struct World {
  sevenport::store::MailStore store;
  sevenport::UserDirectory users;
  Pop3Policy port110;  // security = starttls: STLS offered, logins only after it
  Pop3Policy port995;  // security = implicit: TLS from the first byte

  World() {
    users.add(account(kAlice, "secret"));
    users.add(account("bob@example.test", "hunter2"));
    for (const auto* raw : {&kMessage1, &kMessage2, &kMessage3, &kMessage4}) deliver(*raw);
    port110.hostname = "pop.example.test";
    port110.stls_offered = true;
    port110.auth_requires_tls = true;
    port995.hostname = "pop.example.test";
    port995.stls_offered = false;
    port995.auth_requires_tls = true;
  }

  void deliver(const std::string& raw) {
    sevenport::store::Message message;
    message.raw = raw;
    message.mail_from = "bob@example.test";
    store.deliver(std::move(message), {std::string(kAlice)});
  }

  sevenport::store::Mailbox& inbox() { return store.account(kAlice).inbox(); }

  // The UIDL value the engine gives the INBOX entry with this UID.
  std::string uidl(std::uint32_t uid) {
    return std::to_string(inbox().uid_validity()) + "." + std::to_string(uid);
  }
};

// One connection: start() at construction (its bytes in `greeting`, its action and events
// recorded), then feed() as the server glue would, each call with a fresh Output.
struct Client {
  Pop3Session session;
  std::string greeting;
  Action action = Action::none;
  std::vector<Event> events;

  Client(World& world, const Pop3Policy& policy, bool tls_active)
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
  std::string timeout() {
    Output out;
    session.on_timeout(out);
    return take(out);
  }
  std::string shutdown() {
    Output out;
    session.on_shutdown(out);
    return take(out);
  }
  bool has_event(EventKind kind) const {
    for (const auto& e : events)
      if (e.kind == kind) return true;
    return false;
  }
  // The texts of the events of one kind, in order.
  std::vector<std::string> texts(EventKind kind) const {
    std::vector<std::string> found;
    for (const auto& e : events)
      if (e.kind == kind) found.push_back(e.text);
    return found;
  }
};

// PLAIN credentials, base64-encoded (RFC 4616).
inline std::string plain(std::string_view authzid, std::string_view authcid,
                         std::string_view password) {
  std::string message(authzid);
  message += '\0';
  message += authcid;
  message += '\0';
  message += password;
  return sevenport::base64_encode(message);
}

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

// Runs a transcript on a fresh session: the greeting, then each segment fed in turn, with a TLS
// handshake reported after every segment that ended in start_tls. With `split` = {segment, at},
// that segment is fed in two pieces cut at byte `at`. Returns every byte and action in order.
inline std::string run(World& world, const Pop3Policy& policy, bool tls_active,
                       const std::vector<std::string>& segments,
                       std::optional<std::pair<std::size_t, std::size_t>> split = {}) {
  Client client(world, policy, tls_active);
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
  return log;
}

}  // namespace pop3_test
