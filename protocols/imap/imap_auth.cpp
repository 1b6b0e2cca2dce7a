// Commands of any state and of the not-authenticated state (RFC 3501 6.1, 6.2): CAPABILITY,
// NOOP/CHECK, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE PLAIN (with SASL-IR, RFC 4959), plus the small
// authenticated-state extensions ID (RFC 2971), ENABLE (RFC 5161), NAMESPACE (RFC 2342) and
// IDLE (RFC 2177).
#include <string>

#include "protocols/common/text.hpp"
#include "protocols/imap/imap_session.hpp"

namespace sevenport::imap {

bool ImapSession::logins_allowed() const {
  return policy_.auth_enabled && (tls_active_ || !policy_.auth_requires_tls);
}

void ImapSession::cmd_capability(const Request& req, Output& out) {
  out.line("* CAPABILITY " + capabilities());
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
  ok(out, req.tag, "Begin TLS negotiation now");
  out.action = Action::start_tls;
  awaiting_tls_ = true;
  Event event;
  event.kind = EventKind::starttls;
  out.event(std::move(event));
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
  const auto address = users_.authenticate(login, password);
  if (!address) {
    event.kind = EventKind::auth_failed;
    event.text = "unknown user or wrong password";
    out.event(std::move(event));
    out.bytes.append(tag);
    out.line(" NO [AUTHENTICATIONFAILED] Authentication failed");
    // Failed logins count as bad commands: a password guesser is cut off after a few tries.
    count_bad_command(out);
    return;
  }
  owner_ = ascii_lower(*address);
  store_.account(owner_);  // every account has its folders from its first login
  state_ = State::authenticated;
  event.kind = EventKind::authenticated;
  event.user = *address;
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
