// AUTHORIZATION-state commands: CAPA, STLS, USER/PASS, AUTH PLAIN, and the login that locks the
// maildrop and takes its snapshot.
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "protocols/common/text.hpp"
#include "protocols/pop3/pop3_session.hpp"

namespace sevenport::pop3 {

namespace {
// starttls_fault = "inject-response": the forged line. "INJECTED" is what tests and people look
// for in a vulnerable client's view.
constexpr std::string_view kInjected = "+OK INJECTED: sent in plaintext after the STLS reply";

// A refused login whose password was right (docs/BEHAVIOURS.md, Accounts), with its RFC 3206
// response code: AUTH when the credentials are the problem, SYS/PERM when the account is.
std::string_view refusal(LoginOutcome outcome) {
  switch (outcome) {
    case LoginOutcome::app_password_required:
      return "[AUTH] Application-specific password required: log in with an app password";
    case LoginOutcome::service_disabled:
      return "[SYS/PERM] POP3 access is disabled for this account: enable it in the account "
             "settings";
    case LoginOutcome::locked:
      return "[SYS/PERM] Account locked: contact your administrator";
    case LoginOutcome::password_expired:
      return "[AUTH] Password expired: change it and log in again";
    case LoginOutcome::ok:
    case LoginOutcome::bad_credentials:
      break;
  }
  return "[AUTH] Authentication failed";
}
}  // namespace

bool Pop3Session::auth_possible() const {
  return state_ == State::authorization && policy_.auth_enabled &&
         (tls_active_ || !policy_.auth_requires_tls);
}

void Pop3Session::cmd_capa(const Args& /*args*/, Output& out) {
  // RFC 2449 5: the list reflects the current state, so a client that asks again after STLS
  // (RFC 2595 4) sees USER and SASL appear and STLS go.
  ok(out, "Capability list follows");
  out.line("TOP");
  out.line("UIDL");
  out.line("RESP-CODES");
  out.line("AUTH-RESP-CODE");
  out.line("PIPELINING");
  if (state_ == State::authorization && policy_.stls_offered && !tls_active_) {
    if (stls_fault() == StartTlsFault::not_advertised) {
      behaviour(out, "STLS left out of CAPA (starttls_fault = \"not-advertised\")");
    } else {
      out.line("STLS");
    }
  }
  if (auth_possible()) {
    out.line("USER");
    out.line("SASL PLAIN");
  }
  out.line("IMPLEMENTATION sevenport");
  out.line(".");
}

void Pop3Session::cmd_stls(const Args& args, Output& out) {
  if (tls_active_) return bad_command(out, args.verb, "TLS already active");
  if (!policy_.stls_offered) return bad_command(out, args.verb, "STLS not available");
  // not_advertised never gets here: execute() answers STLS as an unknown command.
  const StartTlsFault fault = stls_fault();
  if (fault == StartTlsFault::refused) {
    // The server's passing trouble, not the client's mistake: no bad-command count. RFC 2595 4
    // lets the client go on (in plaintext, if it dares) after -ERR.
    out.line("-ERR [SYS/TEMP] STLS not available, try again later");
    return behaviour(out, "STLS refused with -ERR [SYS/TEMP] (starttls_fault = \"refused\")");
  }
  ok(out, "Begin TLS negotiation");
  if (fault == StartTlsFault::inject_response) {
    // In the same write as the +OK, before the handshake: a client that keeps it reads it as the
    // answer to its first command over TLS; a correct one discards it.
    out.line(kInjected);
    behaviour(out, "forged plaintext line \"" + std::string(kInjected) +
                       "\" sent after the STLS reply, before the handshake (starttls_fault = "
                       "\"inject-response\")");
  }
  out.action = Action::start_tls;
  awaiting_tls_ = true;
  reset_authorization();
  Event event;
  event.kind = EventKind::starttls;
  out.event(std::move(event));
}

void Pop3Session::cmd_user(const Args& args, Output& out) {
  // The same reply for every name, so USER cannot be used to probe for accounts (RFC 1939 13).
  user_ = args.arg[0];
  ok(out, "Send PASS");
}

void Pop3Session::cmd_pass(const Args& args, Output& out) {
  if (user_.empty()) return bad_command(out, args.verb, "Send USER first");
  const std::string login = std::move(user_);
  user_.clear();
  log_in("USER", args.verb, login, args.arg[0], out);
}

void Pop3Session::cmd_auth(const Args& args, Output& out) {
  if (args.count == 0) {
    // Not in RFC 5034, but older clients (Outlook among them) probe with a bare AUTH and expect
    // the mechanism list as a multi-line reply.
    out.line("+OK");
    out.line("PLAIN");
    out.line(".");
    return;
  }
  if (!iequals(args.arg[0], "PLAIN")) return error(out, args.verb, "Unsupported mechanism");
  if (args.count == 1) {
    // RFC 5034 4: an empty server challenge, the client answers on the next line.
    sasl_pending_ = true;
    out.line("+ ");
    return;
  }
  finish_plain(args.verb, args.arg[1], out);
}

void Pop3Session::sasl_response(std::string_view line, Output& out) {
  sasl_pending_ = false;
  // RFC 5034 4: "*" cancels the exchange.
  if (line == "*") return error(out, "AUTH", "Authentication cancelled");
  finish_plain("AUTH", line, out);
}

void Pop3Session::finish_plain(std::string_view verb, std::string_view response, Output& out) {
  // RFC 5034 4: "=" is an initial response of zero length.
  const auto decoded =
      response == "=" ? std::optional<std::string>(std::string()) : base64_decode(response);
  if (!decoded) {
    return auth_failed("PLAIN", {}, "invalid base64 in the PLAIN response",
                       "[AUTH] Invalid base64 in the AUTH PLAIN response", out);
  }
  const auto credentials = parse_sasl_plain(*decoded);
  if (!credentials) {
    return auth_failed("PLAIN", {}, "malformed PLAIN response",
                       "[AUTH] Malformed PLAIN response (authzid NUL authcid NUL password)", out);
  }
  // Logging in as someone else (RFC 4616 authzid) is not supported.
  if (!credentials->authzid.empty() && credentials->authzid != credentials->authcid) {
    return auth_failed("PLAIN", credentials->authcid, "authorization identity differs from login",
                       "[AUTH] The authorization identity must be empty or equal the login", out);
  }
  log_in("PLAIN", verb, credentials->authcid, credentials->password, out);
}

void Pop3Session::log_in(std::string_view mechanism, std::string_view verb, std::string_view login,
                         std::string_view password, Output& out) {
  auto result = users_.login(login, password, Service::pop3);
  if (!result) {
    // The session log says why (describe()); the client gets the provider-style answer, which
    // only a right password can earn.
    if (result.outcome != LoginOutcome::bad_credentials) {
      const auto answer = refusal(result.outcome);
      behaviour(out, "login of " + sanitize(result.address, 300) + " refused with -ERR " +
                         std::string(answer.substr(0, answer.find(']') + 1)) + ": " +
                         std::string(describe(result.outcome, Service::pop3)));
    }
    return auth_failed(mechanism, login, describe(result.outcome, Service::pop3),
                       refusal(result.outcome), out);
  }
  // RFC 1939 8: one session per maildrop; RFC 2449 8.1.2 names the reason.
  if (!store_.try_lock(result.address)) {
    reset_authorization();
    return error(out, verb, "[IN-USE] Mailbox is locked by another POP3 session");
  }
  owner_ = std::move(result.address);
  locked_ = true;
  const auto& inbox = store_.account(owner_).inbox();
  uid_validity_ = inbox.uid_validity();
  maildrop_.reserve(inbox.entries().size());
  std::uint64_t octets = 0;
  for (const auto& entry : inbox.entries()) {
    maildrop_.push_back({entry.uid, false, entry.message});
    octets += entry.message->raw.size();
  }
  state_ = State::transaction;
  user_.clear();

  Event event;
  event.kind = EventKind::authenticated;
  event.mechanism = std::string(mechanism);
  event.user = sanitize(owner_);
  event.over_tls = tls_active_;
  out.event(std::move(event));
  ok(out, "Logged in, maildrop has " + std::to_string(maildrop_.size()) +
              (maildrop_.size() == 1 ? " message (" : " messages (") + std::to_string(octets) +
              " octets)");
}

void Pop3Session::auth_failed(std::string_view mechanism, std::string_view login,
                              std::string_view why, std::string_view reply, Output& out) {
  // RFC 1939 7: after a failed PASS the server returns to a fresh AUTHORIZATION state.
  reset_authorization();
  Event event;
  event.kind = EventKind::auth_failed;
  event.mechanism = std::string(mechanism);
  event.user = sanitize(login, 100);
  event.over_tls = tls_active_;
  event.text = std::string(why);
  out.event(std::move(event));
  // Failed logins count as bad commands, so that password guessing ends with the connection.
  if (count_bad_command(out)) return;
  out.bytes.append("-ERR ");
  out.line(reply);
}

}  // namespace sevenport::pop3
