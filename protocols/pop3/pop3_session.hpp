// The POP3 engine: RFC 1939 with CAPA, RESP-CODES and PIPELINING (RFC 2449), STLS (RFC 2595),
// SASL PLAIN (RFC 5034) and the RFC 3206 response codes; no APOP. One object per connection,
// driven by server/Connection through the Engine contract. It reads the logged-in user's INBOX,
// holds that maildrop's lock while in TRANSACTION, and removes messages only in UPDATE (QUIT).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/engine.hpp"
#include "protocols/common/line_framer.hpp"
#include "protocols/common/users.hpp"
#include "protocols/pop3/pop3_policy.hpp"
#include "protocols/store/mail_store.hpp"

namespace sevenport::pop3 {

// The session states of RFC 1939 3. UPDATE lasts only while QUIT applies the deletions.
enum class State : std::uint8_t { authorization, transaction, update };

class Pop3Session final : public Engine {
 public:
  // `policy`, `store` and `users` are held by reference and must outlive the session. Nothing is
  // allocated up front: an idle session costs about the size of the object.
  Pop3Session(const Pop3Policy& policy, store::MailStore& store, const UserDirectory& users);
  // Releases the maildrop lock if it is still held; deletes nothing.
  ~Pop3Session() override;
  Pop3Session(const Pop3Session&) = delete;
  Pop3Session& operator=(const Pop3Session&) = delete;

  // "+OK <hostname> POP3 server ready". With context.tls_active (implicit TLS) STLS is not
  // offered and logins are allowed at once. With policy.unavailable instead
  // "-ERR [SYS/TEMP] <hostname> POP3 service not available, try again later" (RFC 3206 4), a
  // behaviour event, and Action::close.
  void start(const SessionContext& context, Output& out) override;

  // Instead of start(), for a plaintext client on an implicit-TLS listener: "-ERR <advice>" and
  // Action::close. Nothing after it.
  void refuse_plaintext(std::string_view advice, Output& out) override;

  // Runs every complete command line in `bytes` and appends the replies to `out`. Lines longer
  // than policy.max_line_length (CRLF included) are answered "-ERR Line too long". Each bad
  // command (unknown, wrong state, TLS required, syntax, failed login, over-long line) counts
  // towards policy.max_bad_commands per session (0: no limit); the one that reaches it is answered
  // "-ERR Too many bad commands, closing connection" with Action::close. Once a command sets an
  // action (STLS: start_tls; QUIT: close), the rest of `bytes` and every later feed() until
  // tls_started() are discarded unexecuted (STARTTLS injection defence); after close, all input.
  void feed(std::string_view bytes, Output& out) override;

  // The STLS handshake succeeded: a fresh AUTHORIZATION state over TLS (RFC 2595 4), USER
  // forgotten; CAPA now offers USER and SASL PLAIN and no STLS. No output.
  void tls_started(const TlsInfo& info, Output& out) override;

  // "-ERR Autologout: idle for too long" and close, without UPDATE (RFC 1939 3): the lock is
  // released and nothing is deleted. While a TLS handshake is pending: close with no bytes, since
  // plaintext would corrupt the handshake. Nothing after close.
  void on_timeout(Output& out) override;

  // "-ERR Server shutting down" and close; same rules as on_timeout.
  void on_shutdown(Output& out) override;

  // Releases the lock and deletes nothing; every later call is ignored.
  void on_disconnect() override;

  State state() const { return state_; }
  bool tls_active() const { return tls_active_; }

 private:
  struct Args {
    std::string_view verb;
    std::array<std::string_view, 2> arg{};
    std::size_t count = 0;
  };
  using Handler = void (Pop3Session::*)(const Args&, Output&);
  struct Command;
  static const Command* find_command(std::string_view verb);
  static std::string masked(std::string_view line);
  static bool split_args(const Command& command, std::string_view rest, Args& args);

  // One message of the maildrop as it was at login: numbers stay fixed for the whole session
  // (RFC 1939 5), deliveries after login show up in the next session.
  struct Drop {
    std::uint32_t uid = 0;
    bool deleted = false;
    store::MessagePtr message;
  };

  // pop3_session.cpp: dispatch and replies.
  void execute(std::string_view line, Output& out);
  void ok(Output& out, std::string_view text);
  void error(Output& out, std::string_view verb, std::string_view text);
  void bad_command(Output& out, std::string_view verb, std::string_view text);
  // Counts a bad command; at the limit writes the farewell, closes and returns true.
  bool count_bad_command(Output& out);
  void farewell(Output& out, std::string_view line);
  void close(Output& out);
  void reset_authorization();
  void release_maildrop();
  // Reports a deliberately configured behaviour that took effect (docs/BEHAVIOURS.md): `text`
  // says what the client was told and names the setting.
  static void behaviour(Output& out, std::string text);
  // policy.starttls_fault where it can take effect (STLS offered, TLS not yet active); else none.
  StartTlsFault stls_fault() const;

  // pop3_authorization.cpp
  bool auth_possible() const;
  void cmd_capa(const Args& args, Output& out);
  void cmd_stls(const Args& args, Output& out);
  void cmd_user(const Args& args, Output& out);
  void cmd_pass(const Args& args, Output& out);
  void cmd_auth(const Args& args, Output& out);
  void sasl_response(std::string_view line, Output& out);
  void finish_plain(std::string_view verb, std::string_view response, Output& out);
  void log_in(std::string_view mechanism, std::string_view verb, std::string_view login,
              std::string_view password, Output& out);
  void auth_failed(std::string_view mechanism, std::string_view login, std::string_view why,
                   std::string_view reply, Output& out);

  // pop3_transaction.cpp
  Drop* find_drop(std::string_view verb, std::string_view number, Output& out);
  std::string unique_id(const Drop& drop) const;
  void cmd_stat(const Args& args, Output& out);
  void cmd_list(const Args& args, Output& out);
  void cmd_retr(const Args& args, Output& out);
  void cmd_top(const Args& args, Output& out);
  void cmd_dele(const Args& args, Output& out);
  void cmd_noop(const Args& args, Output& out);
  void cmd_rset(const Args& args, Output& out);
  void cmd_uidl(const Args& args, Output& out);
  void cmd_quit(const Args& args, Output& out);

  const Pop3Policy& policy_;
  store::MailStore& store_;
  const UserDirectory& users_;
  LineFramer framer_;
  State state_ = State::authorization;
  bool tls_active_ = false;
  bool sasl_pending_ = false;  // AUTH PLAIN sent "+ ": the next line is the client's response
  bool awaiting_tls_ = false;  // STLS accepted, handshake not yet reported
  bool closed_ = false;
  bool locked_ = false;  // owner_'s maildrop lock is ours
  unsigned bad_commands_ = 0;
  std::uint32_t uid_validity_ = 0;  // of the INBOX, for UIDL
  std::string user_;                // USER name awaiting PASS
  std::string owner_;               // the logged-in address
  std::vector<Drop> maildrop_;
};

}  // namespace sevenport::pop3
