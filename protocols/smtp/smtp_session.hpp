// One SMTP server session (RFC 5321 with STARTTLS 3207, AUTH 4954, SIZE 1870, 8BITMIME 6152,
// PIPELINING 2920, ENHANCEDSTATUSCODES 2034, SMTPUTF8 6531), sans-I/O: server/Connection owns one
// per connection and drives it through the Engine contract. Accepted messages go whole into the
// MailStore before the 250 reply. Policy, store and users are shared and must outlive the session.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/engine.hpp"
#include "protocols/common/line_framer.hpp"
#include "protocols/common/users.hpp"
#include "protocols/smtp/smtp_content.hpp"
#include "protocols/smtp/smtp_policy.hpp"
#include "protocols/smtp/smtp_replies.hpp"
#include "protocols/store/mail_store.hpp"

namespace sevenport::smtp {

// Octets an AUTH command or a SASL response may have, CRLF included (RFC 4954 4).
inline constexpr std::size_t kSaslLineLimit = 12288;

class SmtpSession final : public Engine {
 public:
  // Where the session is in RFC 5321's command sequence (4.1.4), plus the exchanges that suspend
  // command parsing.
  enum class State : std::uint8_t {
    not_started,  // start() not yet called: input is ignored
    initial,      // greeting sent (or TLS just started): EHLO/HELO expected
    greeted,      // EHLO/HELO accepted, no mail transaction
    mail,         // MAIL accepted, no recipient yet
    rcpt,         // at least one RCPT accepted
    data,         // reading message content after 354 (RFC 5321 4.1.1.4)
    auth,         // SASL exchange after a 334 challenge (RFC 4954 4)
    starttls,     // 220 sent for STARTTLS: input is dropped until tls_started() (RFC 3207 4.2)
    closed,       // 221 or 421 sent: input is dropped
  };

  SmtpSession(const SmtpPolicy& policy, store::MailStore& store, const UserDirectory& users);

  // Sends "220 <hostname> ESMTP sevenport". context.tls_active marks an implicit-TLS listener:
  // STARTTLS is then never offered and AUTH is allowed at once. With policy.unavailable, sends
  // "421 4.3.2 <hostname> Service not available, closing transmission channel" and Action::close.
  void start(const SessionContext& context, Output& out) override;

  // Instead of start(), for a plaintext client on an implicit-TLS listener: "554 5.7.0 <advice>"
  // and Action::close. Nothing once closed.
  void refuse_plaintext(std::string_view advice, Output& out) override;

  // Executes every complete command in `bytes` (and any message content after DATA), appending all
  // replies to `out`. Stops at the first command that sets an action (QUIT, STARTTLS, a 421) and
  // drops the rest of the input, then and in later calls until tls_started().
  void feed(std::string_view bytes, Output& out) override;

  // After a STARTTLS handshake: forgets EHLO, AUTH, any transaction and buffered input, and records
  // `info` for the Received header and the stored message's arrival. Produces no output.
  void tls_started(const TlsInfo& info, Output& out) override;

  // 421 with Action::close. While the STARTTLS handshake is pending, Action::close alone: a
  // plaintext line would only corrupt the handshake. Nothing once closed.
  void on_timeout(Output& out) override;
  void on_shutdown(Output& out) override;

  // Drops any partial message or transaction; nothing is stored.
  void on_disconnect() override;

  State state() const { return state_; }
  bool tls_active() const { return context_.tls_active; }
  // The canonical address of the authenticated user, empty if none.
  const std::string& auth_user() const { return auth_user_; }

 private:
  struct CommandSpec;
  using Handler = void (SmtpSession::*)(std::string_view args, Output& out);

  // The mail transaction (RFC 5321 3.3): what MAIL and RCPT gathered. reset() is RSET, EHLO,
  // the end of DATA, and STARTTLS.
  struct Transaction {
    std::string mail_from;                // "" for the null reverse-path
    std::vector<std::string> recipients;  // as accepted, duplicates left out
    std::vector<std::string> owners;      // lower-cased local recipients: the INBOXes to fill
    bool smtputf8 = false;
    void reset();
  };

  // An AUTH exchange in progress (RFC 4954): LOGIN keeps the username between its two challenges.
  struct SaslExchange {
    enum class Mechanism : std::uint8_t { none, plain, login };
    Mechanism mechanism = Mechanism::none;
    bool have_username = false;
    std::string username;
    void reset();
  };

  // smtp_session.cpp: framing, dispatch, replies, session commands.
  static const CommandSpec* find_command(std::string_view verb);
  void command(std::string_view line, Output& out);
  bool offered(const CommandSpec& spec) const;
  Reply wrong_state_reply(const CommandSpec& spec) const;
  // The one way a reply goes out: formatted from the reply table; a 4xx/5xx (421 excepted) counts
  // as a bad command and is logged as protocol_error with command_; a table hint becomes a
  // diagnosis event.
  void reply(Output& out, Reply reply, std::initializer_list<std::string_view> args = {},
             std::span<const std::string> more_lines = {});
  // A reply that a deliberate behaviour (docs/BEHAVIOURS.md) chose: as reply(), but reported as
  // a behaviour event with `what` (what was done, and the setting that did it) instead of a
  // protocol_error. A refusal still counts towards max_bad_commands.
  void behave(Output& out, Reply reply, std::initializer_list<std::string_view> args,
              std::string what);
  void respond(Output& out, Reply reply, std::initializer_list<std::string_view> args,
               std::span<const std::string> more_lines, std::string* behaviour);
  void close_with(Output& out, Reply reply, std::initializer_list<std::string_view> args = {});
  bool reading() const;
  void line_too_long(Output& out);
  void end_transaction();
  void cmd_ehlo(std::string_view args, Output& out);
  void cmd_helo(std::string_view args, Output& out);
  void cmd_rset(std::string_view args, Output& out);
  void cmd_noop(std::string_view args, Output& out);
  void cmd_quit(std::string_view args, Output& out);
  void cmd_vrfy(std::string_view args, Output& out);
  void cmd_help(std::string_view args, Output& out);
  void cmd_starttls(std::string_view args, Output& out);
  // The STARTTLS fault in force: policy.starttls_fault while STARTTLS is offered and TLS is not
  // yet up, none otherwise.
  StartTlsFault starttls_fault() const;

  // smtp_transaction.cpp: MAIL, RCPT, DATA and delivery.
  void cmd_mail(std::string_view args, Output& out);
  void cmd_rcpt(std::string_view args, Output& out);
  void cmd_data(std::string_view args, Output& out);
  bool receive_content(Output& out);
  void finish_message(Output& out);
  std::string received_header(std::chrono::system_clock::time_point now) const;
  bool is_local_domain(std::string_view domain) const;
  std::string peer() const;
  std::chrono::system_clock::time_point now() const;

  // smtp_behaviours.cpp: the deliberate refusals of MAIL and RCPT (docs/BEHAVIOURS.md).
  // At MAIL: true if the client IP reached policy.rate_limit_messages; 421 sent, closed.
  bool rate_limited(Output& out);
  // Records an accepted message for the rate limit.
  void count_message(std::chrono::system_clock::time_point when);
  // At RCPT, for a recipient that would otherwise be accepted: true if unknown-user rejection,
  // greylisting or a full mailbox refused it (the reply is sent). `postmaster`: the address is
  // the postmaster mailbox, which must always be accepted (RFC 5321 4.5.1).
  bool recipient_refused(const std::string& address, bool local, bool postmaster, Output& out);

  // smtp_auth.cpp: AUTH PLAIN and LOGIN.
  void cmd_auth(std::string_view args, Output& out);
  void sasl_response(std::string_view response, bool initial, Output& out);
  void sasl_too_long(Output& out);
  void authenticate(std::string_view login, std::string_view password, std::string_view authzid,
                    Output& out);
  void refuse_credentials(std::string_view login, std::string_view why, Output& out,
                          Reply refusal = Reply::auth_failed, std::string behaviour = {});
  std::string_view mechanism_name() const;

  static Event make_event(EventKind kind, std::string text);

  const SmtpPolicy& policy_;
  store::MailStore& store_;
  const UserDirectory& users_;
  SessionContext context_;
  LineFramer framer_;
  State state_ = State::not_started;
  bool esmtp_ = false;  // EHLO rather than HELO: the Received "with" keyword (RFC 3848)
  bool starttls_hidden_reported_ = false;  // the not-advertised event for EHLO was sent
  std::string helo_;                       // the EHLO/HELO argument, sanitised
  std::string auth_user_;                  // canonical address once authenticated
  Transaction transaction_;
  SaslExchange sasl_;
  ContentReader content_;
  unsigned bad_commands_ = 0;
  std::uint64_t messages_ = 0;  // messages accepted in this session, for the Received id
  std::string_view command_;    // the command being answered, for protocol_error events; never a
                                // SASL response or an AUTH initial response
};

}  // namespace sevenport::smtp
