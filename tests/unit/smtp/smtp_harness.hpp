// Transcript harness for SmtpSession: a store, a user directory, a policy for one of the three
// listener roles, and a session driven without sockets. Tests compare exact reply bytes.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/engine.hpp"
#include "protocols/common/users.hpp"
#include "protocols/smtp/smtp_policy.hpp"
#include "protocols/smtp/smtp_session.hpp"
#include "protocols/store/mail_store.hpp"

namespace smtp_test {

using sevenport::Action;
using sevenport::Event;
using sevenport::EventKind;
using sevenport::Output;
using sevenport::SessionContext;
using sevenport::TlsInfo;
using sevenport::smtp::SmtpPolicy;
using sevenport::smtp::SmtpSession;

// The three ways a listener is set up: an MX on 25 (AUTH optional, STARTTLS offered), submission
// on 587 (AUTH required, only inside TLS, STARTTLS offered) and submissions on 465 (implicit TLS).
enum class Role { mx, submission, implicit };

// Sun, 22 Nov 2026 01:20:01 +0000
inline std::chrono::system_clock::time_point fixed_time() {
  using namespace std::chrono;
  return sys_days{year{2026} / 11 / 22} + hours{1} + minutes{20} + seconds{1};
}

inline constexpr std::string_view kDate = "Sun, 22 Nov 2026 01:20:01 +0000";

inline SmtpPolicy make_policy(Role role) {
  SmtpPolicy policy;
  policy.hostname = "mx.example.test";
  policy.local_domains = {"example.test", "example.org"};
  policy.starttls_offered = role != Role::implicit;
  policy.auth =
      role == Role::mx ? sevenport::smtp::AuthMode::optional : sevenport::smtp::AuthMode::required;
  policy.auth_requires_tls = true;
  policy.max_message_size = 10000;
  policy.max_recipients = 3;
  policy.max_bad_commands = 10;
  policy.clock = fixed_time;
  return policy;
}

inline SessionContext make_context(Role role) {
  SessionContext context;
  context.session_id = 7;
  context.listener = role == Role::mx           ? "mx"
                     : role == Role::submission ? "submission"
                                                : "submissions";
  context.port = role == Role::mx ? 2525 : role == Role::submission ? 2587 : 2465;
  context.security =
      role == Role::implicit ? sevenport::Security::implicit : sevenport::Security::starttls;
  context.peer_ip = "192.0.2.10";
  context.peer_port = 40000;
  context.tls_active = role == Role::implicit;
  if (context.tls_active) context.tls = {"TLSv1.3", "TLS_AES_256_GCM_SHA384", ""};
  return context;
}

inline constexpr std::string_view kGreeting = "220 mx.example.test ESMTP sevenport\r\n";
inline constexpr std::string_view kOk = "250 2.0.0 Ok\r\n";
inline constexpr std::string_view kPlainAlice =
    "AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=";  // \0alice@example.test\0secret

// The EHLO reply of the test policy, for "EHLO client.example.test" from 192.0.2.10.
inline std::string ehlo_reply(bool starttls, bool auth) {
  std::string r =
      "250-mx.example.test Hello client.example.test [192.0.2.10]\r\n"
      "250-PIPELINING\r\n"
      "250-SIZE 10000\r\n"
      "250-8BITMIME\r\n"
      "250-ENHANCEDSTATUSCODES\r\n"
      "250-SMTPUTF8\r\n";
  if (starttls) r += "250-STARTTLS\r\n";
  if (auth) r += "250-AUTH PLAIN LOGIN\r\n";
  r += "250 HELP\r\n";
  return r;
}

struct Harness {
  SmtpPolicy policy;
  sevenport::store::MailStore store;
  sevenport::UserDirectory users;
  SessionContext context;
  std::unique_ptr<SmtpSession> session;
  std::vector<Event> events;
  Action action = Action::none;

  explicit Harness(Role role = Role::mx) : policy(make_policy(role)), context(make_context(role)) {
    users.add({"alice@example.test", "secret"});
    users.add({"bob@example.org", "hunter2"});
  }
  // The session holds references into the harness.
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // Builds the session (after any change to policy or context) and returns the greeting.
  std::string start() {
    session = std::make_unique<SmtpSession>(policy, store, users);
    Output out;
    session->start(context, out);
    return collect(out);
  }

  // Builds the session and, instead of start(), refuses a plaintext client with `advice`.
  std::string refuse_plaintext(std::string_view advice) {
    session = std::make_unique<SmtpSession>(policy, store, users);
    Output out;
    session->refuse_plaintext(advice, out);
    return collect(out);
  }

  // The texts of every behaviour event so far, in order.
  std::vector<std::string> behaviours() const {
    std::vector<std::string> texts;
    for (const auto& e : events)
      if (e.kind == EventKind::behaviour) texts.push_back(e.text);
    return texts;
  }

  // Feeds `bytes` in one call and returns the reply bytes.
  std::string send(std::string_view bytes) {
    Output out;
    session->feed(bytes, out);
    return collect(out);
  }

  // Feeds each piece in its own call; returns every reply byte.
  std::string send_pieces(const std::vector<std::string>& pieces) {
    std::string all;
    for (const auto& piece : pieces) all += send(piece);
    return all;
  }

  std::string tls_started() {
    Output out;
    session->tls_started({"TLSv1.3", "TLS_AES_128_GCM_SHA256", "mx.example.test"}, out);
    return collect(out);
  }

  std::string timeout() {
    Output out;
    session->on_timeout(out);
    return collect(out);
  }

  std::string shutdown() {
    Output out;
    session->on_shutdown(out);
    return collect(out);
  }

  std::size_t count(EventKind kind) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.kind == kind;
    return n;
  }
  // The latest event of this kind, if any.
  std::optional<Event> last(EventKind kind) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->kind == kind) return *it;
    return std::nullopt;
  }

 private:
  std::string collect(Output& out) {
    if (out.action != Action::none) action = out.action;
    for (auto& e : out.events) events.push_back(std::move(e));
    return std::move(out.bytes);
  }
};

}  // namespace smtp_test
