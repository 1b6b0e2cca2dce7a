#include "protocols/imap/imap_session.hpp"

#include <algorithm>

#include "protocols/common/text.hpp"
#include "protocols/imap/imap_mime.hpp"

namespace sevenport::imap {

namespace {
constexpr std::uint8_t bit(State state) {
  return static_cast<std::uint8_t>(1U << static_cast<unsigned>(state));
}
constexpr std::uint8_t kAny =
    bit(State::not_authenticated) | bit(State::authenticated) | bit(State::selected);
constexpr std::uint8_t kNotAuth = bit(State::not_authenticated);
constexpr std::uint8_t kAuth = bit(State::authenticated) | bit(State::selected);
constexpr std::uint8_t kSelected = bit(State::selected);
constexpr std::uint8_t kMany = 255;

Event make_event(EventKind kind, std::string text) {
  Event event;
  event.kind = kind;
  event.text = std::move(text);
  return event;
}
}  // namespace

// One row per command: execute() runs the generic checks from it, so handlers only do what is
// specific to their command (RFC 3501 6 for states and arguments).
struct ImapSession::CommandSpec {
  std::string_view verb;
  bool uid;              // reached through the UID prefix (RFC 3501 6.4.8)
  std::uint8_t states;   // bits of the states where the command is valid
  bool logs_in;          // LOGIN, AUTHENTICATE: need auth_enabled, and TLS if required
  bool expunge_allowed;  // false for FETCH, STORE, SEARCH (RFC 3501 7.4.1)
  std::uint8_t min_args;
  std::uint8_t max_args;
  std::string_view syntax;
  Handler handler;
};

const ImapSession::CommandSpec* ImapSession::find_command(std::string_view verb, bool uid) {
  using S = ImapSession;
  static const CommandSpec commands[] = {
      {"CAPABILITY", false, kAny, false, true, 0, 0, "CAPABILITY", &S::cmd_capability},
      {"NOOP", false, kAny, false, true, 0, 0, "NOOP", &S::cmd_noop},
      {"LOGOUT", false, kAny, false, true, 0, 0, "LOGOUT", &S::cmd_logout},
      {"ID", false, kAny, false, true, 1, 1, "ID (field value ...) | NIL", &S::cmd_id},
      {"STARTTLS", false, kNotAuth, false, true, 0, 0, "STARTTLS", &S::cmd_starttls},
      {"LOGIN", false, kNotAuth, true, true, 2, 2, "LOGIN user password", &S::cmd_login},
      {"AUTHENTICATE", false, kNotAuth, true, true, 1, 2,
       "AUTHENTICATE mechanism [initial-response]", &S::cmd_authenticate},
      {"ENABLE", false, kAuth, false, true, 1, kMany, "ENABLE capability ...", &S::cmd_enable},
      {"NAMESPACE", false, kAuth, false, true, 0, 0, "NAMESPACE", &S::cmd_namespace},
      {"IDLE", false, kAuth, false, true, 0, 0, "IDLE", &S::cmd_idle},
      {"SELECT", false, kAuth, false, true, 1, 2, "SELECT mailbox", &S::cmd_select},
      {"EXAMINE", false, kAuth, false, true, 1, 2, "EXAMINE mailbox", &S::cmd_select},
      {"CREATE", false, kAuth, false, true, 1, 2, "CREATE mailbox", &S::cmd_create},
      {"DELETE", false, kAuth, false, true, 1, 1, "DELETE mailbox", &S::cmd_delete},
      {"RENAME", false, kAuth, false, true, 2, 2, "RENAME mailbox new-name", &S::cmd_rename},
      {"SUBSCRIBE", false, kAuth, false, true, 1, 1, "SUBSCRIBE mailbox", &S::cmd_subscribe},
      {"UNSUBSCRIBE", false, kAuth, false, true, 1, 1, "UNSUBSCRIBE mailbox", &S::cmd_subscribe},
      {"LIST", false, kAuth, false, true, 2, 5,
       "LIST [(options)] reference pattern [RETURN (options)]", &S::cmd_list},
      {"LSUB", false, kAuth, false, true, 2, 2, "LSUB reference pattern", &S::cmd_list},
      {"STATUS", false, kAuth, false, true, 2, 2, "STATUS mailbox (items)", &S::cmd_status},
      {"APPEND", false, kAuth, false, true, 2, 4, "APPEND mailbox [(flags)] [date-time] literal",
       &S::cmd_append},
      {"CHECK", false, kSelected, false, true, 0, 0, "CHECK", &S::cmd_noop},
      {"CLOSE", false, kSelected, false, true, 0, 0, "CLOSE", &S::cmd_close},
      {"UNSELECT", false, kSelected, false, true, 0, 0, "UNSELECT", &S::cmd_unselect},
      {"EXPUNGE", false, kSelected, false, true, 0, 0, "EXPUNGE", &S::cmd_expunge},
      {"FETCH", false, kSelected, false, false, 2, kMany, "FETCH set items", &S::cmd_fetch},
      {"STORE", false, kSelected, false, false, 3, kMany, "STORE set item flags", &S::cmd_store},
      {"COPY", false, kSelected, false, true, 2, 2, "COPY set mailbox", &S::cmd_copy},
      {"MOVE", false, kSelected, false, true, 2, 2, "MOVE set mailbox", &S::cmd_copy},
      {"SEARCH", false, kSelected, false, false, 1, kMany, "SEARCH criteria", &S::cmd_search},
      {"FETCH", true, kSelected, false, false, 2, kMany, "UID FETCH set items", &S::cmd_fetch},
      {"STORE", true, kSelected, false, false, 3, kMany, "UID STORE set item flags", &S::cmd_store},
      {"COPY", true, kSelected, false, true, 2, 2, "UID COPY set mailbox", &S::cmd_copy},
      {"MOVE", true, kSelected, false, true, 2, 2, "UID MOVE set mailbox", &S::cmd_copy},
      {"SEARCH", true, kSelected, false, false, 1, kMany, "UID SEARCH criteria", &S::cmd_search},
      {"EXPUNGE", true, kSelected, false, true, 1, 1, "UID EXPUNGE set", &S::cmd_expunge},
  };
  for (const auto& command : commands)
    if (command.uid == uid && iequals(command.verb, verb)) return &command;
  return nullptr;
}

ImapSession::ImapSession(const ImapPolicy& policy, store::MailStore& store,
                         const UserDirectory& users)
    : policy_(policy), store_(store), users_(users), reader_(policy) {}

ImapSession::~ImapSession() { deselect(); }

std::string ImapSession::capabilities() const {
  std::string caps =
      "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE SPECIAL-USE "
      "CHILDREN";
  if (state_ == State::not_authenticated) {
    if (policy_.starttls_offered && !tls_active_ &&
        starttls_fault() != StartTlsFault::not_advertised)
      caps += " STARTTLS";
    // RFC 3501 6.2.3 / 7.2.1: LOGINDISABLED tells the client not to try before STARTTLS.
    caps += logins_allowed() ? " AUTH=PLAIN" : " LOGINDISABLED";
  }
  return caps;
}

void ImapSession::start(const SessionContext& context, Output& out) {
  context_ = context;
  tls_active_ = context.tls_active;
  if (policy_.unavailable) {
    // RFC 3501 7.1.5: a BYE greeting refuses the connection; RFC 5530 3: UNAVAILABLE is a
    // temporary failure, so the client may come back later.
    const std::string bye =
        "* BYE [UNAVAILABLE] " + policy_.hostname + " IMAP service not available, try again later";
    out.line(bye);
    note_behaviour(out, "greeting replaced by \"" + sanitize(bye) +
                            "\", connection closed (greeting = \"unavailable\")");
    close(out);
    return;
  }
  out.line("* OK [CAPABILITY " + capabilities() + "] " + policy_.hostname +
           " IMAP4rev1 sevenport ready");
  note_starttls_hidden(out);
}

void ImapSession::refuse_plaintext(std::string_view advice, Output& out) {
  if (closed_) return;
  // The advice is ours, but a CR or LF in it would end the line early: keep it one printable line.
  out.line("* BYE " + sanitize(advice, 1000));
  close(out);
}

void ImapSession::feed(std::string_view bytes, Output& out) {
  if (closed_) return;
  if (awaiting_tls_) {
    if (!bytes.empty()) {
      out.event(make_event(EventKind::diagnosis,
                           "discarded " + std::to_string(bytes.size()) +
                               " plaintext bytes sent before the TLS handshake (STARTTLS "
                               "injection defence)"));
    }
    return;
  }
  reader_.feed(bytes);
  while (!closed_ && !awaiting_tls_) {
    const auto item = reader_.next(idling_ || sasl_pending_);
    using Kind = CommandReader::Kind;
    if (item.kind == Kind::need_more) break;
    switch (item.kind) {
      case Kind::continuation:
        out.line("+ Ready for literal data");
        break;
      case Kind::too_long:
        if (sasl_pending_) {
          // An over-long line cannot be a PLAIN response: the exchange ends, tagged.
          sasl_pending_ = false;
          bad(out, pending_tag_, "Line too long");
          pending_tag_.clear();
          break;
        }
        out.event(make_event(EventKind::protocol_error, "line too long"));
        if (!count_bad_command(out)) out.line("* BAD Line too long");
        break;
      case Kind::literal_refused:
        // RFC 7888 4: refused before "+" (or, for {n+}, after swallowing exactly n bytes).
        no(out, item.tag,
           "[TOOBIG] Literal of " + std::to_string(item.size) + " octets is over the limit");
        break;
      case Kind::line:
        if (idling_) {
          note_client(item.text);
          idle_line(item.text, out);
        } else {
          note_client(trim(item.text) == "*" ? "*" : "****");  // a SASL credential; "*" cancels
          sasl_response(item.text, out);
        }
        break;
      case Kind::command:
        note_client(transcript_form(reader_.command_text()));
        execute(reader_.command_text(), out);
        break;
      case Kind::need_more:
        break;
    }
  }
  // An action was set: whatever the client pipelined behind that command is never run.
  if (awaiting_tls_ || closed_) {
    const auto rest = reader_.unread();
    if (awaiting_tls_ && rest != 0) {
      out.event(make_event(EventKind::diagnosis,
                           "discarded " + std::to_string(rest) +
                               " plaintext bytes pipelined after STARTTLS (STARTTLS injection "
                               "defence)"));
    }
    reader_.reset();
  }
}

void ImapSession::tls_started(const TlsInfo& /*info*/, Output& /*out*/) {
  awaiting_tls_ = false;
  tls_active_ = true;
  reader_.reset();
}

void ImapSession::on_timeout(Output& out) { farewell(out, "* BYE Autologout; idle for too long"); }

void ImapSession::on_shutdown(Output& out) { farewell(out, "* BYE Server shutting down"); }

void ImapSession::on_disconnect() {
  deselect();
  closed_ = true;
}

// The command as the transcript shows it: each literal's bytes summarised ("{12} [12 octets]"),
// LOGIN's password and AUTHENTICATE's initial response masked. Masking works on words, so a
// quoted user name with spaces may lose its tail: it can hide too much, never too little.
std::string ImapSession::transcript_form(std::string_view text) {
  std::string shown;
  while (!text.empty()) {
    const auto open = text.find('{');
    const auto close = open == std::string_view::npos ? open : text.find("}\r\n", open);
    if (close == std::string_view::npos) {
      shown.append(text);
      break;
    }
    auto digits = text.substr(open + 1, close - open - 1);
    if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
    std::size_t size = 0;
    bool number = !digits.empty() && digits.size() < 12;
    for (const char c : digits) {
      if (c < '0' || c > '9')
        number = false;
      else
        size = size * 10 + static_cast<std::size_t>(c - '0');
    }
    if (!number || close + 3 + size > text.size()) {
      shown.append(text.substr(0, close + 1));
      text.remove_prefix(close + 1);
      continue;
    }
    shown.append(text.substr(0, close + 1));
    shown += " [" + std::to_string(size) + " octets]";
    text.remove_prefix(close + 3 + size);
  }
  // tag VERB arg1 arg2...: mask what follows LOGIN's user name and AUTHENTICATE's mechanism.
  // Words are split at runs of spaces: a command the parser will refuse ("a  LOGIN u p") must
  // not show its password either.
  std::string_view words[3];
  std::size_t pos = 0;
  for (auto& word : words) {
    pos = shown.find_first_not_of(' ', pos);
    if (pos == std::string::npos) return shown;
    const auto end = std::min(shown.find(' ', pos), shown.size());
    word = std::string_view(shown).substr(pos, end - pos);
    pos = end;
  }
  if (pos < shown.size() && (iequals(words[1], "LOGIN") || iequals(words[1], "AUTHENTICATE")))
    return shown.substr(0, pos) + " ****";
  return shown;
}

void ImapSession::execute(std::string& text, Output& out) {
  auto parsed = parse_command(text);
  if (!parsed.command) {
    if (parsed.tag == "*") {
      out.event(make_event(EventKind::protocol_error, parsed.error));
      if (!count_bad_command(out)) out.line("* BAD " + parsed.error);
      return;
    }
    return bad(out, parsed.tag, parsed.error);
  }
  const Command& command = *parsed.command;
  Request req{command.tag, command.name, command.args, false};
  if (iequals(req.verb, "UID")) {
    if (req.args.empty() || req.args[0].kind != Token::Kind::atom)
      return bad(out, req.tag, "UID must be followed by a command");
    req.uid = true;
    req.verb = req.args[0].text;
    req.args = req.args.subspan(1);
  }
  const CommandSpec* spec = find_command(req.verb, req.uid);
  // starttls_fault = not_advertised: STARTTLS is answered as a command this server lacks, in any
  // state, as by a server that never had it.
  if (spec != nullptr && spec->handler == &ImapSession::cmd_starttls &&
      starttls_fault() == StartTlsFault::not_advertised) {
    note_starttls_fault(out, "STARTTLS answered as an unknown command with BAD");
    spec = nullptr;
  }
  if (spec == nullptr) return bad(out, req.tag, "Unknown command");
  if ((spec->states & bit(state_)) == 0) {
    if (state_ == State::not_authenticated) return bad(out, req.tag, "Log in first");
    if (spec->states == kSelected) return bad(out, req.tag, "Select a mailbox first");
    return bad(out, req.tag, "Already logged in");
  }
  if (spec->logs_in) {
    if (!policy_.auth_enabled) return no(out, req.tag, "Logins are disabled on this server");
    if (policy_.auth_requires_tls && !tls_active_) {
      // A listener that withholds STARTTLS does not give it away here either.
      const bool hidden = starttls_fault() == StartTlsFault::not_advertised;
      out.event(make_event(
          EventKind::diagnosis,
          hidden ? "the client tried to log in before TLS although the capabilities said "
                   "LOGINDISABLED; with STARTTLS withheld (starttls_fault = \"not-advertised\") "
                   "a client set to use STARTTLS must stop instead of going on in plaintext"
                 : "the client tried to log in before TLS; it must use STARTTLS first (or the "
                   "implicit-TLS port)"));
      return no(out, req.tag,
                policy_.starttls_offered && !hidden
                    ? "[PRIVACYREQUIRED] TLS is required first: send STARTTLS, then log in"
                    : "[PRIVACYREQUIRED] TLS is required first: use the IMAPS (implicit TLS) "
                      "port");
    }
  }
  if (req.args.size() < spec->min_args || req.args.size() > spec->max_args)
    return bad(out, req.tag, "Syntax: " + std::string(spec->syntax));
  expunge_allowed_ = spec->expunge_allowed;
  (this->*spec->handler)(req, out);
  expunge_allowed_ = true;
}

void ImapSession::ok(Output& out, std::string_view tag, std::string_view text) {
  // Untagged news about the selected mailbox goes just before the tagged reply.
  if (selected_) report_updates(out, expunge_allowed_);
  out.bytes.append(tag);
  out.bytes.append(" OK ");
  out.line(text);
}

void ImapSession::no(Output& out, std::string_view tag, std::string_view text) {
  if (selected_) report_updates(out, expunge_allowed_);
  out.bytes.append(tag);
  out.bytes.append(" NO ");
  out.line(text);
  out.event(make_event(EventKind::protocol_error, std::string(text)));
}

void ImapSession::bad(Output& out, std::string_view tag, std::string_view text) {
  out.event(make_event(EventKind::protocol_error, std::string(text)));
  out.bytes.append(tag);
  out.bytes.append(" BAD ");
  out.line(text);
  count_bad_command(out);
}

bool ImapSession::count_bad_command(Output& out) {
  ++bad_commands_;
  if (policy_.max_bad_commands == 0 || bad_commands_ < policy_.max_bad_commands) return false;
  out.event(make_event(
      EventKind::protocol_error,
      "too many bad commands (" + std::to_string(bad_commands_) + "), closing the connection"));
  out.line("* BYE Too many bad commands");
  close(out);
  return true;
}

void ImapSession::farewell(Output& out, std::string_view line) {
  if (closed_) return;
  // Plaintext while a TLS handshake is pending would corrupt it.
  if (!awaiting_tls_) out.line(line);
  close(out);
}

void ImapSession::close(Output& out) {
  deselect();
  out.action = Action::close;
  closed_ = true;
  idling_ = false;
  sasl_pending_ = false;
  state_ = State::logout;
}

}  // namespace sevenport::imap
