#include "protocols/pop3/pop3_session.hpp"

#include <string>
#include <tuple>
#include <utility>

#include "protocols/common/text.hpp"

namespace sevenport::pop3 {

namespace {
constexpr std::uint8_t bit(State state) {
  return static_cast<std::uint8_t>(1U << static_cast<unsigned>(state));
}
constexpr std::uint8_t kAuthorization = bit(State::authorization);
constexpr std::uint8_t kTransaction = bit(State::transaction);

Event diagnosis(std::string text) {
  Event event;
  event.kind = EventKind::diagnosis;
  event.text = std::move(text);
  return event;
}

Event protocol_error(std::string_view verb, std::string_view text) {
  Event event;
  event.kind = EventKind::protocol_error;
  if (!verb.empty()) {
    event.text = sanitize(verb, 16);
    event.text += ": ";
  }
  event.text += text;
  return event;
}
}  // namespace

// One row per command: the generic checks in execute() read it, so handlers only do what is
// specific to their command.
struct Pop3Session::Command {
  std::string_view verb;
  std::uint8_t states;  // bits of the states where the command is valid
  bool logs_in;         // USER, PASS, AUTH: need auth_enabled, and TLS if required
  std::uint8_t min_args;
  std::uint8_t max_args;
  bool rest_is_argument;  // PASS: one argument that may contain spaces (RFC 1939 7)
  std::string_view syntax;
  Handler handler;
};

const Pop3Session::Command* Pop3Session::find_command(std::string_view verb) {
  static const Command commands[] = {
      {"CAPA", kAuthorization | kTransaction, false, 0, 0, false, "CAPA", &Pop3Session::cmd_capa},
      {"STLS", kAuthorization, false, 0, 0, false, "STLS", &Pop3Session::cmd_stls},
      {"USER", kAuthorization, true, 1, 1, false, "USER name", &Pop3Session::cmd_user},
      {"PASS", kAuthorization, true, 1, 1, true, "PASS password", &Pop3Session::cmd_pass},
      {"AUTH", kAuthorization, true, 0, 2, false, "AUTH [mechanism [initial-response]]",
       &Pop3Session::cmd_auth},
      {"QUIT", kAuthorization | kTransaction, false, 0, 0, false, "QUIT", &Pop3Session::cmd_quit},
      {"STAT", kTransaction, false, 0, 0, false, "STAT", &Pop3Session::cmd_stat},
      {"LIST", kTransaction, false, 0, 1, false, "LIST [msg]", &Pop3Session::cmd_list},
      {"RETR", kTransaction, false, 1, 1, false, "RETR msg", &Pop3Session::cmd_retr},
      {"TOP", kTransaction, false, 2, 2, false, "TOP msg lines", &Pop3Session::cmd_top},
      {"DELE", kTransaction, false, 1, 1, false, "DELE msg", &Pop3Session::cmd_dele},
      {"NOOP", kTransaction, false, 0, 0, false, "NOOP", &Pop3Session::cmd_noop},
      {"RSET", kTransaction, false, 0, 0, false, "RSET", &Pop3Session::cmd_rset},
      {"UIDL", kTransaction, false, 0, 1, false, "UIDL [msg]", &Pop3Session::cmd_uidl},
  };
  for (const auto& command : commands)
    if (iequals(command.verb, verb)) return &command;
  return nullptr;
}

bool Pop3Session::split_args(const Command& command, std::string_view rest, Args& args) {
  if (command.rest_is_argument) {
    if (rest.empty()) return false;
    args.arg[0] = rest;
    args.count = 1;
    return true;
  }
  // RFC 1939 3 separates arguments by a single space; runs of spaces and a trailing space (common
  // in hand-typed sessions) are tolerated.
  for (;;) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) break;
    if (args.count == command.max_args) return false;
    const auto space = rest.find(' ');
    args.arg[args.count++] = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space);
  }
  return args.count >= command.min_args;
}

Pop3Session::Pop3Session(const Pop3Policy& policy, store::MailStore& store,
                         const UserDirectory& users)
    : policy_(policy), store_(store), users_(users), framer_(policy.max_line_length) {}

Pop3Session::~Pop3Session() { release_maildrop(); }

void Pop3Session::start(const SessionContext& context, Output& out) {
  tls_active_ = context.tls_active;
  if (policy_.unavailable) {
    // RFC 3206 4: SYS/TEMP is a passing problem of the server, so the client tries again later
    // instead of telling its user the account is wrong.
    out.line("-ERR [SYS/TEMP] " + policy_.hostname +
             " POP3 service not available, try again later");
    behaviour(out,
              "-ERR [SYS/TEMP] service not available sent instead of the greeting, connection "
              "closed (greeting = \"unavailable\")");
    return close(out);
  }
  // No APOP timestamp in the greeting: APOP is not offered (RFC 1939 7).
  ok(out, policy_.hostname + " POP3 server ready");
}

void Pop3Session::refuse_plaintext(std::string_view advice, Output& out) {
  if (closed_) return;
  out.bytes.append("-ERR ");
  out.line(advice);
  close(out);
}

void Pop3Session::feed(std::string_view bytes, Output& out) {
  if (closed_) return;
  if (awaiting_tls_) {
    if (!bytes.empty()) {
      out.event(diagnosis("discarded " + std::to_string(bytes.size()) +
                          " plaintext bytes sent before the TLS handshake (STLS injection "
                          "defence)"));
    }
    return;
  }
  framer_.feed(bytes);
  while (!closed_ && !awaiting_tls_) {
    const auto item = framer_.next();
    if (item.kind == LineFramer::Kind::need_more) return;
    if (item.kind == LineFramer::Kind::too_long) {
      // An over-long line also ends an AUTH exchange: it cannot be a sensible PLAIN response.
      note_client("[over-long line discarded]");
      sasl_pending_ = false;
      bad_command(out, {}, "Line too long");
    } else if (sasl_pending_) {
      note_client(trim(item.text) == "*" ? "*" : "****");  // a credential; "*" cancels
      sasl_response(item.text, out);
    } else {
      note_client(masked(item.text));
      execute(item.text, out);
    }
  }
  // An action was set: whatever the client pipelined behind that command is never run.
  const auto rest = framer_.window().size();
  if (awaiting_tls_ && rest != 0) {
    out.event(diagnosis("discarded " + std::to_string(rest) +
                        " plaintext bytes pipelined after STLS (STLS injection defence)"));
  }
  framer_.reset();
}

void Pop3Session::tls_started(const TlsInfo& /*info*/, Output& /*out*/) {
  awaiting_tls_ = false;
  tls_active_ = true;
  framer_.reset();
  reset_authorization();
}

void Pop3Session::on_timeout(Output& out) { farewell(out, "-ERR Autologout: idle for too long"); }

void Pop3Session::on_shutdown(Output& out) { farewell(out, "-ERR Server shutting down"); }

void Pop3Session::on_disconnect() {
  release_maildrop();
  closed_ = true;
}

// The line as the transcript shows it: PASS's argument and AUTH's initial response are
// credentials.
std::string Pop3Session::masked(std::string_view line) {
  const auto [verb, rest] = split_verb(line);
  if (iequals(verb, "PASS") && !rest.empty()) return std::string(verb) + " ****";
  if (iequals(verb, "AUTH")) {
    const auto space = rest.find(' ');
    if (space != std::string_view::npos)
      return std::string(verb) + " " + std::string(rest.substr(0, space)) + " ****";
  }
  return std::string(line);
}

void Pop3Session::execute(std::string_view line, Output& out) {
  Args args;
  std::string_view rest;
  std::tie(args.verb, rest) = split_verb(line);
  const Command* command = find_command(args.verb);
  if (command != nullptr && command->handler == &Pop3Session::cmd_stls &&
      stls_fault() == StartTlsFault::not_advertised) {
    // As if STLS were never implemented, in every state: what a client sees when a man in the
    // middle strips STLS from CAPA and rewrites the answer.
    behaviour(out, "STLS answered as an unknown command (starttls_fault = \"not-advertised\")");
    command = nullptr;
  }
  if (command == nullptr) return bad_command(out, args.verb, "Unknown command");
  if ((command->states & bit(state_)) == 0) {
    return bad_command(out, args.verb,
                       state_ == State::authorization
                           ? "Command not valid in this state: log in first"
                           : "Command not valid in this state: already logged in");
  }
  if (command->logs_in) {
    if (!policy_.auth_enabled) {
      return bad_command(out, args.verb, "[SYS/PERM] Logins are disabled on this server");
    }
    // RFC 2595 4: a server may refuse plaintext logins until STLS; say how to get there. A
    // listener that hides STLS does not give it away here either.
    if (policy_.auth_requires_tls && !tls_active_) {
      return bad_command(out, args.verb,
                         policy_.stls_offered && stls_fault() != StartTlsFault::not_advertised
                             ? "[AUTH] TLS is required first: send STLS, then log in"
                             : "[AUTH] TLS is required first: use the POP3S (implicit TLS) port");
    }
  }
  if (!split_args(*command, rest, args)) {
    return bad_command(out, args.verb, "Syntax: " + std::string(command->syntax));
  }
  (this->*command->handler)(args, out);
}

void Pop3Session::ok(Output& out, std::string_view text) {
  out.bytes.append("+OK ");
  out.line(text);
}

void Pop3Session::error(Output& out, std::string_view verb, std::string_view text) {
  out.bytes.append("-ERR ");
  out.line(text);
  out.event(protocol_error(verb, text));
}

void Pop3Session::bad_command(Output& out, std::string_view verb, std::string_view text) {
  out.event(protocol_error(verb, text));
  if (count_bad_command(out)) return;
  out.bytes.append("-ERR ");
  out.line(text);
}

bool Pop3Session::count_bad_command(Output& out) {
  ++bad_commands_;
  if (policy_.max_bad_commands == 0 || bad_commands_ < policy_.max_bad_commands) return false;
  out.event(protocol_error(
      {}, "too many bad commands (" + std::to_string(bad_commands_) + "), closing the connection"));
  out.line("-ERR Too many bad commands, closing connection");
  release_maildrop();
  close(out);
  return true;
}

void Pop3Session::farewell(Output& out, std::string_view line) {
  if (closed_) return;
  release_maildrop();
  if (!awaiting_tls_) out.line(line);
  close(out);
}

void Pop3Session::close(Output& out) {
  out.action = Action::close;
  closed_ = true;
  sasl_pending_ = false;
}

void Pop3Session::reset_authorization() {
  state_ = State::authorization;
  sasl_pending_ = false;
  user_.clear();
}

void Pop3Session::behaviour(Output& out, std::string text) {
  Event event;
  event.kind = EventKind::behaviour;
  event.text = std::move(text);
  out.event(std::move(event));
}

StartTlsFault Pop3Session::stls_fault() const {
  return policy_.stls_offered && !tls_active_ ? policy_.starttls_fault : StartTlsFault::none;
}

void Pop3Session::release_maildrop() {
  if (locked_) {
    store_.unlock(owner_);
    locked_ = false;
  }
  maildrop_.clear();
  maildrop_.shrink_to_fit();
}

}  // namespace sevenport::pop3
