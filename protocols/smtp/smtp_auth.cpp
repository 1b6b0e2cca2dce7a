// AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms, with or without an initial
// response. Passwords never reach a reply, an event or command_.
#include "protocols/common/text.hpp"
#include "protocols/smtp/smtp_session.hpp"

namespace sevenport::smtp {

std::string_view SmtpSession::mechanism_name() const {
  return sasl_.mechanism == SaslExchange::Mechanism::login ? "LOGIN" : "PLAIN";
}

void SmtpSession::cmd_auth(std::string_view args, Output& out) {
  // RFC 4954 4: one successful AUTH per session.
  if (!auth_user_.empty()) return reply(out, Reply::already_authenticated);
  const auto [mechanism, initial_response] = split_verb(args);
  if (iequals(mechanism, "PLAIN")) {
    sasl_.mechanism = SaslExchange::Mechanism::plain;
  } else if (iequals(mechanism, "LOGIN")) {
    sasl_.mechanism = SaslExchange::Mechanism::login;
  } else {
    return reply(out, Reply::unknown_mechanism);
  }
  const auto response = trim(initial_response);
  if (response.empty()) {
    state_ = State::auth;
    return reply(out, sasl_.mechanism == SaslExchange::Mechanism::login
                          ? Reply::login_username_challenge
                          : Reply::sasl_empty_challenge);
  }
  sasl_response(response, true, out);
}

void SmtpSession::sasl_response(std::string_view response, bool initial, Output& out) {
  command_ = sasl_.mechanism == SaslExchange::Mechanism::login ? "AUTH LOGIN" : "AUTH PLAIN";
  state_ = State::greeted;  // the exchange ends here unless LOGIN asks for the password below
  if (!initial && response == "*") {
    sasl_.reset();
    return reply(out, Reply::auth_cancelled);
  }
  // RFC 4954 4: "=" is an empty initial response; an empty line an empty continuation.
  auto decoded =
      response == "=" ? std::optional<std::string>(std::string()) : base64_decode(response);
  if (!decoded) {
    sasl_.reset();
    return reply(out, Reply::cannot_decode);
  }
  if (sasl_.mechanism == SaslExchange::Mechanism::plain) {
    const auto credentials = parse_sasl_plain(*decoded);
    if (!credentials)
      return refuse_credentials(
          {}, "malformed PLAIN message: authzid NUL authcid NUL password expected", out);
    return authenticate(credentials->authcid, credentials->password, credentials->authzid, out);
  }
  if (!sasl_.have_username) {
    sasl_.username = std::move(*decoded);
    sasl_.have_username = true;
    state_ = State::auth;
    return reply(out, Reply::login_password_challenge);
  }
  const std::string username = std::move(sasl_.username);
  authenticate(username, *decoded, {}, out);
}

void SmtpSession::sasl_too_long(Output& out) {
  command_ = sasl_.mechanism == SaslExchange::Mechanism::login ? "AUTH LOGIN" : "AUTH PLAIN";
  sasl_.reset();
  state_ = State::greeted;
  reply(out, Reply::sasl_line_too_long);
}

void SmtpSession::authenticate(std::string_view login, std::string_view password,
                               std::string_view authzid, Output& out) {
  const auto result = users_.login(login, password, Service::smtp);
  const auto why = describe(result.outcome, Service::smtp);
  if (result.outcome == LoginOutcome::bad_credentials) return refuse_credentials(login, why, out);
  // RFC 4616 2: acting for another identity would need a proxy right that no user has here.
  if (!authzid.empty() && !iequals(authzid, login) && !iequals(authzid, result.address))
    return refuse_credentials(login, "authorization identity differs from the login name", out);
  // The password was right: the account's behaviours may still refuse the login, each with the
  // answer large providers give (docs/BEHAVIOURS.md, Accounts).
  const auto refuse = [&](Reply refusal, std::string_view told) {
    refuse_credentials(login, why, out, refusal,
                       "login of " + sanitize(result.address, 300) + " refused with " +
                           std::string(told) + ": " + std::string(why));
  };
  switch (result.outcome) {
    case LoginOutcome::ok:
      break;
    case LoginOutcome::app_password_required:
      return refuse(Reply::app_password_required, "534 5.7.9");
    case LoginOutcome::locked:
      return refuse(Reply::account_locked, "535 5.7.8");
    case LoginOutcome::password_expired:
      return refuse(Reply::password_expired, "535 5.7.8");
    case LoginOutcome::bad_credentials:
    case LoginOutcome::service_disabled:  // IMAP and POP3 only
      return refuse_credentials(login, why, out);
  }
  Event event;
  event.kind = EventKind::authenticated;
  event.mechanism = std::string(mechanism_name());
  event.user = sanitize(result.address);
  event.over_tls = context_.tls_active;
  auth_user_ = result.address;
  sasl_.reset();
  reply(out, Reply::auth_succeeded);
  out.event(std::move(event));
}

void SmtpSession::refuse_credentials(std::string_view login, std::string_view why, Output& out,
                                     Reply refusal, std::string behaviour) {
  Event event;
  event.kind = EventKind::auth_failed;
  event.mechanism = std::string(mechanism_name());
  event.user = sanitize(login, 100);
  event.over_tls = context_.tls_active;
  event.text = std::string(why);
  sasl_.reset();
  if (behaviour.empty())
    reply(out, refusal);
  else
    behave(out, refusal, {}, std::move(behaviour));
  out.event(std::move(event));
}

}  // namespace sevenport::smtp
