// Framing, the command table with its generic checks, the one reply helper, and the commands that
// manage the session itself (EHLO, HELO, RSET, NOOP, QUIT, VRFY, HELP, STARTTLS).
#include "protocols/smtp/smtp_session.hpp"

#include <algorithm>

#include "protocols/common/text.hpp"

namespace sevenport::smtp {

namespace {

using State = SmtpSession::State;

constexpr std::uint16_t bit(State state) {
  return static_cast<std::uint16_t>(1u << static_cast<unsigned>(state));
}
constexpr std::uint16_t kCommandStates =
    bit(State::initial) | bit(State::greeted) | bit(State::mail) | bit(State::rcpt);

template <typename T>
void release(T& value) {
  T().swap(value);
}

}  // namespace

// One row of the command table. The generic checks in command() run in this order: known verb,
// offered (502), allowed in the current state (503/554), TLS before AUTH (538), argument shape
// (501); the handler then does only what is specific to its command.
struct SmtpSession::CommandSpec {
  enum class Offer : std::uint8_t { always, never, starttls, auth };
  enum class Arguments : std::uint8_t { none, optional, required };

  std::string_view verb;
  Offer offer;
  std::uint16_t states;  // bit(State) of each state the command is allowed in
  Arguments arguments;
  std::string_view prefix;  // required start of the arguments ("FROM:"), removed with the spaces
                            // after it, which some clients send (RFC 5321 is strict, 4.1.2)
  bool tls_for_auth;        // refused with 538 before TLS when policy.auth_requires_tls
  bool sasl;                // may be kSaslLineLimit long; logged without its initial response
  std::string_view syntax;  // for "501 5.5.4 Syntax: ..."
  Reply in_transaction;     // the refusal when given during a mail transaction
  Handler handler;          // nullptr: known but not implemented
};

const SmtpSession::CommandSpec* SmtpSession::find_command(std::string_view verb) {
  using Offer = CommandSpec::Offer;
  using Arguments = CommandSpec::Arguments;
  constexpr auto any = kCommandStates;
  constexpr auto greeted = bit(State::greeted);
  constexpr auto before_transaction = bit(State::initial) | bit(State::greeted);
  constexpr auto need = Reply::need_mail;  // unused for commands allowed in transactions
  static constexpr CommandSpec kCommands[] = {
      {"EHLO", Offer::always, any, Arguments::required, "", false, false, "EHLO hostname", need,
       &SmtpSession::cmd_ehlo},
      {"HELO", Offer::always, any, Arguments::required, "", false, false, "HELO hostname", need,
       &SmtpSession::cmd_helo},
      {"MAIL", Offer::always, greeted, Arguments::required, "FROM:", false, false,
       "MAIL FROM:<address> [parameters]", Reply::nested_mail, &SmtpSession::cmd_mail},
      {"RCPT", Offer::always, bit(State::mail) | bit(State::rcpt), Arguments::required,
       "TO:", false, false, "RCPT TO:<address>", need, &SmtpSession::cmd_rcpt},
      // RFC 5321 3.3: DATA with no accepted recipient is refused with 554 (or 503).
      {"DATA", Offer::always, bit(State::rcpt), Arguments::none, "", false, false, "DATA",
       Reply::no_valid_recipients, &SmtpSession::cmd_data},
      {"RSET", Offer::always, any, Arguments::none, "", false, false, "RSET", need,
       &SmtpSession::cmd_rset},
      {"NOOP", Offer::always, any, Arguments::optional, "", false, false, "NOOP", need,
       &SmtpSession::cmd_noop},
      {"QUIT", Offer::always, any, Arguments::none, "", false, false, "QUIT", need,
       &SmtpSession::cmd_quit},
      {"VRFY", Offer::always, any, Arguments::required, "", false, false, "VRFY address", need,
       &SmtpSession::cmd_vrfy},
      {"HELP", Offer::always, any, Arguments::optional, "", false, false, "HELP", need,
       &SmtpSession::cmd_help},
      {"STARTTLS", Offer::starttls, before_transaction, Arguments::none, "", false, false,
       "STARTTLS", Reply::transaction_in_progress, &SmtpSession::cmd_starttls},
      // RFC 4954 4: not during a mail transaction, and only after EHLO.
      {"AUTH", Offer::auth, greeted, Arguments::required, "", true, true,
       "AUTH mechanism [initial-response]", Reply::transaction_in_progress, &SmtpSession::cmd_auth},
      // Known verbs that sevenport does not implement: 502, not 500 (RFC 5321 4.2.4).
      {"EXPN", Offer::never, any, Arguments::optional, "", false, false, "", need, nullptr},
      {"TURN", Offer::never, any, Arguments::optional, "", false, false, "", need, nullptr},
      {"ETRN", Offer::never, any, Arguments::optional, "", false, false, "", need, nullptr},
      {"ATRN", Offer::never, any, Arguments::optional, "", false, false, "", need, nullptr},
      {"BDAT", Offer::never, any, Arguments::optional, "", false, false, "", need, nullptr},
      {"SEND", Offer::never, any, Arguments::optional, "", false, false, "", need, nullptr},
      {"SOML", Offer::never, any, Arguments::optional, "", false, false, "", need, nullptr},
      {"SAML", Offer::never, any, Arguments::optional, "", false, false, "", need, nullptr},
  };
  for (const auto& spec : kCommands)
    if (iequals(spec.verb, verb)) return &spec;
  return nullptr;
}

void SmtpSession::Transaction::reset() {
  release(mail_from);
  release(recipients);
  release(owners);
  smtputf8 = false;
}

void SmtpSession::SaslExchange::reset() {
  mechanism = Mechanism::none;
  have_username = false;
  release(username);
}

SmtpSession::SmtpSession(const SmtpPolicy& policy, store::MailStore& store,
                         const UserDirectory& users)
    : policy_(policy),
      store_(store),
      users_(users),
      // AUTH lines and SASL responses may reach 12288 octets (RFC 4954 4); other command lines are
      // held to policy.max_line_length in command().
      framer_(std::max(kSaslLineLimit, policy.max_line_length)) {}

Event SmtpSession::make_event(EventKind kind, std::string text) {
  Event event;
  event.kind = kind;
  event.text = std::move(text);
  return event;
}

bool SmtpSession::reading() const {
  return state_ != State::not_started && state_ != State::starttls && state_ != State::closed;
}

void SmtpSession::start(const SessionContext& context, Output& out) {
  if (state_ != State::not_started) return;
  context_ = context;
  state_ = State::initial;
  if (policy_.unavailable) {
    // RFC 5321 3.1: a server that cannot serve may answer the connection with 421 and close.
    close_with(out, Reply::service_unavailable, {policy_.hostname});
    out.event(make_event(EventKind::behaviour,
                         "greeting replaced by 421 4.3.2 Service not available, connection "
                         "closed (greeting = \"unavailable\")"));
    return;
  }
  reply(out, Reply::greeting, {policy_.hostname});
}

void SmtpSession::refuse_plaintext(std::string_view advice, Output& out) {
  if (state_ == State::closed) return;
  // Built without reply(): no protocol_error, the server has already logged its diagnosis of the
  // client's mistake.
  append_reply(out.bytes, Reply::plaintext_refused, {sanitize(advice, 400)});
  out.action = Action::close;
  state_ = State::closed;
  framer_.reset();
}

void SmtpSession::feed(std::string_view bytes, Output& out) {
  if (!reading()) return;
  framer_.feed(bytes);
  while (reading()) {
    if (state_ == State::data) {
      if (!receive_content(out)) break;
    } else {
      const auto item = framer_.next();
      if (item.kind == LineFramer::Kind::need_more) break;
      if (state_ == State::auth) {
        if (item.kind == LineFramer::Kind::too_long) {
          note_client("[over-long SASL response discarded]");
          sasl_too_long(out);
        } else {
          // A SASL response is a credential (base64 is no protection); "*" cancels.
          note_client(trim(item.text) == "*" ? "*" : "****");
          sasl_response(trim(item.text), false, out);
        }
      } else if (item.kind == LineFramer::Kind::too_long) {
        note_client("[over-long line discarded]");
        line_too_long(out);
      } else {
        command(item.text, out);
      }
    }
    command_ = {};
    if (policy_.max_bad_commands != 0 && bad_commands_ >= policy_.max_bad_commands && reading())
      close_with(out, Reply::too_many_errors, {policy_.hostname});
  }
  // RFC 3207 4.2 / STARTTLS injection: whatever the client pipelined behind STARTTLS (or QUIT)
  // was sent in plaintext and must never be executed, not even once TLS is up.
  if (!reading()) framer_.reset();
}

void SmtpSession::command(std::string_view line, Output& out) {
  const auto [verb, rest] = split_verb(line);
  const CommandSpec* spec = find_command(verb);
  command_ = line;
  if (spec && spec->sasl) {
    // The initial response carries the password (base64 is no protection): log the mechanism only.
    command_ = line.substr(0, verb.size() + 1 + std::min(rest.find(' '), rest.size()));
    note_client(command_.size() < line.size() ? std::string(command_) + " ****" : line);
  } else {
    note_client(line);
    if (line.size() + 2 > policy_.max_line_length) return line_too_long(out);
  }
  if (!spec) {
    if (line.size() >= 2 && line[0] == '\x16' && line[1] == '\x03')
      out.event(make_event(EventKind::diagnosis, std::string(tls_on_plaintext_hint)));
    return reply(out, Reply::unrecognized);
  }
  if (!offered(*spec)) {
    if (spec->offer == CommandSpec::Offer::starttls &&
        starttls_fault() == StartTlsFault::not_advertised)
      return behave(out, Reply::not_implemented, {},
                    "STARTTLS answered with 502 5.5.1 as if the server had no STARTTLS "
                    "(starttls_fault = \"not-advertised\")");
    return reply(out, Reply::not_implemented);
  }
  if (!(spec->states & bit(state_))) return reply(out, wrong_state_reply(*spec));
  if (spec->tls_for_auth && policy_.auth_requires_tls && !context_.tls_active)
    return reply(out, Reply::encryption_required);
  auto args = trim(rest);
  if ((spec->arguments == CommandSpec::Arguments::none && !args.empty()) ||
      (spec->arguments == CommandSpec::Arguments::required && args.empty()))
    return reply(out, Reply::syntax, {spec->syntax});
  if (!spec->prefix.empty()) {
    if (!istarts_with(args, spec->prefix)) return reply(out, Reply::syntax, {spec->syntax});
    args = trim(args.substr(spec->prefix.size()));
  }
  (this->*spec->handler)(args, out);
}

bool SmtpSession::offered(const CommandSpec& spec) const {
  switch (spec.offer) {
    case CommandSpec::Offer::always:
      return true;
    case CommandSpec::Offer::never:
      return false;
    // Once TLS is up, STARTTLS is a known command in the wrong place (554), not an unknown one.
    case CommandSpec::Offer::starttls:
      return context_.tls_active ||
             (policy_.starttls_offered && starttls_fault() != StartTlsFault::not_advertised);
    case CommandSpec::Offer::auth:
      return policy_.auth != AuthMode::off;
  }
  return false;
}

Reply SmtpSession::wrong_state_reply(const CommandSpec& spec) const {
  switch (state_) {
    case State::initial:
      return Reply::need_ehlo;
    case State::greeted:
      return Reply::need_mail;
    default:
      return spec.in_transaction;
  }
}

void SmtpSession::reply(Output& out, Reply reply, std::initializer_list<std::string_view> args,
                        std::span<const std::string> more_lines) {
  respond(out, reply, args, more_lines, nullptr);
}

void SmtpSession::behave(Output& out, Reply reply, std::initializer_list<std::string_view> args,
                         std::string what) {
  respond(out, reply, args, {}, &what);
}

void SmtpSession::respond(Output& out, Reply reply, std::initializer_list<std::string_view> args,
                          std::span<const std::string> more_lines, std::string* behaviour) {
  const auto start = out.bytes.size();
  append_reply(out.bytes, reply, args, more_lines);
  const auto& spec = reply_spec(reply);
  if (behaviour) out.event(make_event(EventKind::behaviour, std::move(*behaviour)));
  // Every refusal but the closing 421s counts towards max_bad_commands (a client that cannot get
  // anything right, or guesses passwords, is disconnected) and is logged with its command, unless
  // a configured behaviour chose it: that is logged as the behaviour.
  if (spec.code >= 400 && spec.code != 421) ++bad_commands_;
  if (spec.code >= 400 && spec.code != 421 && !behaviour) {
    auto line = std::string_view(out.bytes).substr(start);
    line = line.substr(0, line.find("\r\n"));
    std::string text = command_.empty() ? std::string() : sanitize(command_) + ": ";
    text.append(line);
    out.event(make_event(EventKind::protocol_error, std::move(text)));
  }
  if (!spec.hint.empty()) out.event(make_event(EventKind::diagnosis, std::string(spec.hint)));
}

void SmtpSession::close_with(Output& out, Reply reply_id,
                             std::initializer_list<std::string_view> args) {
  reply(out, reply_id, args);
  out.action = Action::close;
  state_ = State::closed;
  transaction_.reset();
  content_.reset();
  sasl_.reset();
}

void SmtpSession::line_too_long(Output& out) { reply(out, Reply::line_too_long); }

void SmtpSession::end_transaction() {
  transaction_.reset();
  content_.reset();
  if (state_ == State::mail || state_ == State::rcpt || state_ == State::data)
    state_ = State::greeted;
}

void SmtpSession::cmd_ehlo(std::string_view args, Output& out) {
  // RFC 5321 4.1.4: EHLO in a session resets it as RSET does (and keeps AUTH, RFC 4954).
  end_transaction();
  helo_ = sanitize(args, 255);
  esmtp_ = true;
  state_ = State::greeted;
  std::vector<std::string> extensions;
  extensions.reserve(8);
  extensions.emplace_back("PIPELINING");
  extensions.emplace_back("SIZE " + std::to_string(policy_.max_message_size));
  extensions.emplace_back("8BITMIME");
  extensions.emplace_back("ENHANCEDSTATUSCODES");
  extensions.emplace_back("SMTPUTF8");
  if (policy_.starttls_offered && !context_.tls_active) {
    if (starttls_fault() != StartTlsFault::not_advertised) {
      extensions.emplace_back("STARTTLS");
    } else if (!starttls_hidden_reported_) {
      starttls_hidden_reported_ = true;
      out.event(make_event(EventKind::behaviour,
                           "STARTTLS left out of the EHLO reply, as a man in the middle would "
                           "strip it (starttls_fault = \"not-advertised\")"));
    }
  }
  // RFC 4954 4 and RFC 8314 3: no AUTH offer where credentials would travel in plaintext.
  if (policy_.auth != AuthMode::off && (context_.tls_active || !policy_.auth_requires_tls))
    extensions.emplace_back("AUTH PLAIN LOGIN");
  extensions.emplace_back("HELP");
  reply(out, Reply::ehlo, {policy_.hostname, helo_, context_.peer_ip}, extensions);
}

void SmtpSession::cmd_helo(std::string_view args, Output& out) {
  end_transaction();
  helo_ = sanitize(args, 255);
  esmtp_ = false;
  state_ = State::greeted;
  reply(out, Reply::helo, {policy_.hostname});
}

void SmtpSession::cmd_rset(std::string_view, Output& out) {
  end_transaction();
  reply(out, Reply::ok);
}

void SmtpSession::cmd_noop(std::string_view, Output& out) { reply(out, Reply::ok); }

void SmtpSession::cmd_quit(std::string_view, Output& out) { close_with(out, Reply::bye); }

// RFC 5321 3.5.3: 252 says "perhaps" without telling an address harvester anything.
void SmtpSession::cmd_vrfy(std::string_view, Output& out) { reply(out, Reply::cannot_vrfy); }

void SmtpSession::cmd_help(std::string_view, Output& out) { reply(out, Reply::help); }

StartTlsFault SmtpSession::starttls_fault() const {
  return policy_.starttls_offered && !context_.tls_active ? policy_.starttls_fault
                                                          : StartTlsFault::none;
}

void SmtpSession::cmd_starttls(std::string_view, Output& out) {
  if (context_.tls_active) return reply(out, Reply::tls_already_active);
  const auto fault = starttls_fault();
  if (fault == StartTlsFault::refused)
    return behave(out, Reply::tls_temporarily_unavailable, {},
                  "STARTTLS refused with 454 4.7.0 (starttls_fault = \"refused\")");
  reply(out, Reply::ready_to_start_tls);
  out.action = Action::start_tls;
  out.event(make_event(EventKind::starttls, {}));
  state_ = State::starttls;
  transaction_.reset();
  // In the same Output, hence the same write: a client that reads on after the 220 instead of
  // starting the handshake (RFC 3207 4.2) will take this line for the reply to its next command.
  if (fault == StartTlsFault::inject_response)
    behave(out, Reply::injected_response, {},
           "STARTTLS accepted, and a forged \"250 INJECTED: ...\" line sent in plaintext right "
           "behind the 220 (starttls_fault = \"inject-response\")");
}

void SmtpSession::tls_started(const TlsInfo& info, Output&) {
  if (state_ == State::closed || state_ == State::not_started) return;
  // RFC 3207 4.2: forget everything learnt from the client before TLS; it must greet again.
  context_.tls_active = true;
  context_.tls = info;
  framer_.reset();
  transaction_.reset();
  content_.reset();
  sasl_.reset();
  release(helo_);
  release(auth_user_);
  esmtp_ = false;
  state_ = State::initial;
}

void SmtpSession::on_timeout(Output& out) {
  if (state_ == State::closed) return;
  if (state_ == State::starttls || state_ == State::not_started) {
    out.action = Action::close;
    state_ = State::closed;
    return;
  }
  close_with(out, Reply::timeout, {policy_.hostname});
}

void SmtpSession::on_shutdown(Output& out) {
  if (state_ == State::closed) return;
  if (state_ == State::starttls || state_ == State::not_started) {
    out.action = Action::close;
    state_ = State::closed;
    return;
  }
  close_with(out, Reply::shutting_down, {policy_.hostname});
}

void SmtpSession::on_disconnect() {
  transaction_.reset();
  content_.reset();
  sasl_.reset();
  framer_.reset();
  state_ = State::closed;
}

}  // namespace sevenport::smtp
