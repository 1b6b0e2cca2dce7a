// Commands of any state and of the not-authenticated state (RFC 3501 6.1, 6.2): CAPABILITY,
// NOOP/CHECK, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE PLAIN (with SASL-IR, RFC 4959), plus the small
// authenticated-state extensions ID (RFC 2971), ENABLE (RFC 5161), NAMESPACE (RFC 2342) and
// IDLE (RFC 2177).
#include <string>

#include "protocols/common/text.hpp"
#include "protocols/imap/imap_session.hpp"

namespace sevenport::imap {

namespace {

// The forged response of starttls_fault = inject_response. A client that reads it as the answer
// to its first command inside TLS (typically CAPABILITY) was injected into; "INJECTED" makes that
// plain wherever it shows up.
constexpr std::string_view kInjectedLine = "* CAPABILITY IMAP4rev1 INJECTED AUTH=PLAIN";

// The tagged answer to a refused login, after the tag. Only bad_credentials is possible with a
// wrong password, so the others tell a guesser nothing (docs/BEHAVIOURS.md, Accounts).
std::string_view login_refusal(LoginOutcome outcome) {
  switch (outcome) {
    case LoginOutcome::ok:
    case LoginOutcome::bad_credentials:
      break;
    case LoginOutcome::app_password_required:
      return " NO [AUTHENTICATIONFAILED] Application-specific password required: log in with an "
             "app password";
    case LoginOutcome::service_disabled:
      // RFC 3501 7.1: ALERT text must be shown to the user, who alone can change the setting.
      return " NO [ALERT] IMAP access is disabled for this account: enable it in the account "
             "settings";
    case LoginOutcome::locked:
      return " NO [CONTACTADMIN] Account locked: contact your administrator";  // RFC 5530 3
    case LoginOutcome::password_expired:
      return " NO [EXPIRED] Password expired: change it and log in again";  // RFC 5530 3
  }
  return " NO [AUTHENTICATIONFAILED] Authentication failed";
}

}  // namespace

bool ImapSession::logins_allowed() const {
  return policy_.auth_enabled && (tls_active_ || !policy_.auth_requires_tls);
}

StartTlsFault ImapSession::starttls_fault() const {
  return policy_.starttls_offered && !tls_active_ ? policy_.starttls_fault : StartTlsFault::none;
}

void ImapSession::note_behaviour(Output& out, std::string text) {
  Event event;
  event.kind = EventKind::behaviour;
  event.text = std::move(text);
  out.event(std::move(event));
}

void ImapSession::note_starttls_fault(Output& out, std::string_view what) const {
  note_behaviour(out, std::string(what) + " (starttls_fault = \"" +
                          std::string(to_string(policy_.starttls_fault)) + "\")");
}

void ImapSession::note_starttls_hidden(Output& out) {
  // capabilities() lists STARTTLS only before login.
  if (starttls_hidden_noted_ || state_ != State::not_authenticated ||
      starttls_fault() != StartTlsFault::not_advertised)
    return;
  starttls_hidden_noted_ = true;
  note_starttls_fault(out, "STARTTLS left out of the capabilities");
}

void ImapSession::cmd_capability(const Request& req, Output& out) {
  out.line("* CAPABILITY " + capabilities());
  note_starttls_hidden(out);
  ok(out, req.tag, "CAPABILITY completed");
}

void ImapSession::cmd_noop(const Request& req, Output& out) {
  ok(out, req.tag, iequals(req.verb, "CHECK") ? "CHECK completed" : "NOOP completed");
}

void ImapSession::cmd_logout(const Request& req, Output& out) {
  out.line("* BYE IMAP4rev1 Server logging out");
  deselect();
  out.bytes.append(req.tag);
  out.line(" OK LOGOUT completed");
  close(out);
}

void ImapSession::cmd_starttls(const Request& req, Output& out) {
  if (tls_active_) return bad(out, req.tag, "TLS is already active");
  if (!policy_.starttls_offered) return bad(out, req.tag, "STARTTLS is not offered here");
  const auto fault = starttls_fault();
  if (fault == StartTlsFault::refused) {
    // RFC 5530 3: UNAVAILABLE is temporary. Not the client's error, so no protocol_error and no
    // bad-command count: the behaviour event says what happened.
    out.bytes.append(req.tag);
    out.line(" NO [UNAVAILABLE] STARTTLS not available, try again later");
    return note_starttls_fault(out, "STARTTLS refused with NO [UNAVAILABLE]");
  }
  ok(out, req.tag, "Begin TLS negotiation now");
  out.action = Action::start_tls;
  awaiting_tls_ = true;
  Event event;
  event.kind = EventKind::starttls;
  out.event(std::move(event));
  if (fault == StartTlsFault::inject_response) {
    // In the same write as the OK, so the client has it buffered before its handshake starts:
    // RFC 3501 6.2.1 (and RFC 2595 4) say it must be thrown away.
    out.line(kInjectedLine);
    note_starttls_fault(out, "forged plaintext line \"" + std::string(kInjectedLine) +
                                 "\" sent right after the STARTTLS OK");
  }
}

void ImapSession::cmd_login(const Request& req, Output& out) {
  if (!req.args[0].is_astring() || !req.args[1].is_astring())
    return bad(out, req.tag, "Syntax: LOGIN user password");
  log_in("LOGIN", req.tag, req.args[0].text, req.args[1].text, out);
}

void ImapSession::cmd_authenticate(const Request& req, Output& out) {
  if (!req.args[0].is_atom("PLAIN")) return no(out, req.tag, "Unsupported mechanism");
  if (req.args.size() == 2) {
    // RFC 4959: "=" is an empty initial response.
    const auto ir = req.args[1].text;
    return finish_plain_tagged(req.tag, ir == "=" ? std::string_view{} : ir, out);
  }
  // RFC 4616 has the client speak first: an empty challenge.
  pending_tag_ = req.tag;
  sasl_pending_ = true;
  out.line("+ ");
}

void ImapSession::sasl_response(std::string_view line, Output& out) {
  sasl_pending_ = false;
  const std::string tag = std::move(pending_tag_);
  pending_tag_.clear();
  // RFC 3501 6.2.2: "*" cancels the exchange.
  if (line == "*") return bad(out, tag, "AUTHENTICATE cancelled");
  finish_plain_tagged(tag, line, out);
}

void ImapSession::finish_plain_tagged(std::string_view tag, std::string_view response,
                                      Output& out) {
  const auto decoded = base64_decode(response);
  const auto credentials = decoded ? parse_sasl_plain(*decoded) : std::nullopt;
  if (!credentials) return bad(out, tag, "Invalid base64 or PLAIN message");
  // Acting as someone else (an authzid other than the authcid) is not offered.
  if (!credentials->authzid.empty() && !iequals(credentials->authzid, credentials->authcid)) {
    return no(out, tag, "[AUTHORIZATIONFAILED] Cannot act as another user");
  }
  log_in("PLAIN", tag, credentials->authcid, credentials->password, out);
}

void ImapSession::log_in(std::string_view mechanism, std::string_view tag, std::string_view login,
                         std::string_view password, Output& out) {
  Event event;
  event.mechanism = std::string(mechanism);
  event.user = sanitize(login, 100);
  event.over_tls = tls_active_;
  const auto result = users_.login(login, password, Service::imap);
  if (!result) {
    event.kind = EventKind::auth_failed;
    event.text = std::string(describe(result.outcome, Service::imap));
    out.event(std::move(event));
    const auto answer = login_refusal(result.outcome);
    if (result.outcome != LoginOutcome::bad_credentials) {
      // The password was right: an account behaviour refused it (as SMTP and POP3 report too).
      const auto code_end = answer.find(']');
      note_behaviour(out, "login of " + sanitize(result.address, 300) + " refused with" +
                              std::string(answer.substr(0, code_end + 1)) + ": " +
                              std::string(describe(result.outcome, Service::imap)));
    }
    out.bytes.append(tag);
    out.line(answer);
    // Failed logins count as bad commands: a password guesser is cut off after a few tries, and
    // so is a client that retries a refused account in a loop.
    count_bad_command(out);
    return;
  }
  owner_ = ascii_lower(result.address);
  store_.account(owner_);  // every account has its folders from its first login
  state_ = State::authenticated;
  event.kind = EventKind::authenticated;
  event.user = result.address;
  out.event(std::move(event));
  ok(out, tag, "[CAPABILITY " + capabilities() + "] Logged in");
}

void ImapSession::cmd_id(const Request& req, Output& out) {
  if (!req.args[0].is_nil() && req.args[0].kind != Token::Kind::list)
    return bad(out, req.tag, "Syntax: ID (field value ...) | NIL");
  out.line("* ID (\"name\" \"sevenport\")");
  ok(out, req.tag, "ID completed");
}

void ImapSession::cmd_enable(const Request& req, Output& out) {
  // RFC 5161 3.1: unknown extensions are ignored; none of ours needs enabling.
  out.line("* ENABLED");
  ok(out, req.tag, "ENABLE completed");
}

void ImapSession::cmd_namespace(const Request& req, Output& out) {
  out.line("* NAMESPACE ((\"\" \"/\")) NIL NIL");
  ok(out, req.tag, "NAMESPACE completed");
}

void ImapSession::cmd_idle(const Request& req, Output& out) {
  pending_tag_ = req.tag;
  idling_ = true;
  out.line("+ idling");
  // What happened before IDLE is reported at once (RFC 2177 3).
  if (selected_) report_updates(out, true);
}

void ImapSession::idle_line(std::string_view line, Output& out) {
  idling_ = false;
  const std::string tag = std::move(pending_tag_);
  pending_tag_.clear();
  if (!iequals(line, "DONE")) return bad(out, tag, "Expected DONE to end IDLE");
  ok(out, tag, "IDLE terminated");
}

bool ImapSession::take_pending_updates(Output& out) {
  if (!idling_ || closed_ || !selected_) return false;
  const auto before = out.bytes.size();
  report_updates(out, true);
  return out.bytes.size() != before;
}

}  // namespace sevenport::imap
