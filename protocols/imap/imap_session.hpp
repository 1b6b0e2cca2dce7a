// The IMAP engine: RFC 3501 IMAP4rev1 with LITERAL+, SASL-IR, ID, ENABLE, IDLE, NAMESPACE,
// UNSELECT, UIDPLUS, MOVE, SPECIAL-USE and CHILDREN. One object per connection, driven by
// server/Connection through the Engine contract. Commands run one at a time. While a mailbox is
// selected the session keeps its own view of it (message sequence number -> UID) and hears the
// store's change notifications, which it reports as untagged responses where RFC 3501 7.4.1
// allows them.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/engine.hpp"
#include "protocols/common/users.hpp"
#include "protocols/imap/imap_parser.hpp"
#include "protocols/imap/imap_policy.hpp"
#include "protocols/store/mail_store.hpp"

namespace sevenport::imap {

struct MessageStructure;

// RFC 3501 3.
enum class State : std::uint8_t { not_authenticated, authenticated, selected, logout };

class ImapSession final : public Engine {
 public:
  // `policy`, `store` and `users` are held by reference and must outlive the session. Nothing
  // big is allocated until it is used: an idle session costs little more than the object.
  ImapSession(const ImapPolicy& policy, store::MailStore& store, const UserDirectory& users);
  // Stops observing the store.
  ~ImapSession() override;
  ImapSession(const ImapSession&) = delete;
  ImapSession& operator=(const ImapSession&) = delete;

  // "* OK [CAPABILITY ...] <hostname> IMAP4rev1 sevenport ready". With policy.unavailable:
  // "* BYE [UNAVAILABLE] <hostname> IMAP service not available, try again later", a behaviour
  // event and close. With starttls_fault = not_advertised the capabilities lack STARTTLS (a
  // behaviour event, once per session).
  void start(const SessionContext& context, Output& out) override;

  // Instead of start(), for a plaintext client on an implicit-TLS listener: "* BYE <advice>"
  // (sanitised) and close.
  void refuse_plaintext(std::string_view advice, Output& out) override;

  // Runs every complete command in `bytes`, appending responses to `out` (with "+ Ready for
  // literal data" for each accepted synchronising literal). Lines over policy.max_line_length
  // get "* BAD Line too long"; literals over the limit "<tag> NO [TOOBIG] ..." before any of their
  // bytes are read. Bad commands count towards policy.max_bad_commands ("* BYE Too many bad
  // commands" and close). Once a command sets an action (STARTTLS, LOGOUT), the rest of `bytes`
  // and every later feed() until tls_started() are discarded unexecuted.
  void feed(std::string_view bytes, Output& out) override;

  // The STARTTLS handshake succeeded: capabilities now offer AUTH=PLAIN and no STARTTLS (clients
  // ask again, RFC 3501 6.2.1). No output.
  void tls_started(const TlsInfo& info, Output& out) override;

  // "* BYE Autologout; idle for too long" and close (no bytes while a TLS handshake is pending).
  void on_timeout(Output& out) override;
  // "* BYE Server shutting down" and close.
  void on_shutdown(Output& out) override;
  // Forgets the selected mailbox and stops observing the store; later calls are ignored.
  void on_disconnect() override;

  // IDLE (RFC 2177). True while the client is idling: the server should then call
  // take_pending_updates() after every change to the store (e.g. after each delivery), since an
  // idling session has no command to answer and would otherwise report nothing.
  bool wants_async_updates() const override { return idling_; }
  // While idling: appends the untagged EXISTS/RECENT/EXPUNGE/FETCH responses for changes made
  // by others since the last report; true if any bytes were added. Otherwise does nothing and
  // returns false.
  bool take_pending_updates(Output& out) override;

  State state() const { return state_; }
  bool tls_active() const { return tls_active_; }

 private:
  struct Request {
    std::string_view tag;
    std::string_view verb;
    std::span<const Token> args;
    bool uid = false;  // UID FETCH, UID STORE, ...
  };
  using Handler = void (ImapSession::*)(const Request&, Output&);
  struct CommandSpec;
  static const CommandSpec* find_command(std::string_view verb, bool uid);

  // The selected mailbox as this session sees it.
  struct Selected {
    std::string name;
    bool read_only = false;
    std::uint32_t uid_validity = 0;
    std::vector<std::uint32_t> uids;        // index + 1 = message sequence number
    std::vector<std::uint32_t> recent;      // UIDs that are \Recent in this session, ascending
    std::set<std::uint32_t> expunged;       // removed from the store, not yet reported
    std::set<std::uint32_t> flags_changed;  // by others, not yet reported
    std::uint64_t observer = 0;
  };

  // imap_session.cpp: input, dispatch, replies.
  static std::string transcript_form(std::string_view text);
  void execute(std::string& text, Output& out);
  void ok(Output& out, std::string_view tag, std::string_view text);
  void no(Output& out, std::string_view tag, std::string_view text);
  void bad(Output& out, std::string_view tag, std::string_view text);
  bool count_bad_command(Output& out);
  void farewell(Output& out, std::string_view line);
  void close(Output& out);
  std::string capabilities() const;

  // imap_auth.cpp
  bool logins_allowed() const;
  // policy.starttls_fault where it can take effect (STARTTLS offered, TLS not yet up), else none.
  StartTlsFault starttls_fault() const;
  // A behaviour event: what was done and, in parentheses, the setting that asked for it.
  static void note_behaviour(Output& out, std::string text);
  void note_starttls_fault(Output& out, std::string_view what) const;
  // not_advertised: reports, once per session, that a capability list left STARTTLS out.
  void note_starttls_hidden(Output& out);
  void cmd_capability(const Request& req, Output& out);
  void cmd_noop(const Request& req, Output& out);
  void cmd_logout(const Request& req, Output& out);
  void cmd_starttls(const Request& req, Output& out);
  void cmd_login(const Request& req, Output& out);
  void cmd_authenticate(const Request& req, Output& out);
  void sasl_response(std::string_view line, Output& out);
  void finish_plain_tagged(std::string_view tag, std::string_view response, Output& out);
  void log_in(std::string_view mechanism, std::string_view tag, std::string_view login,
              std::string_view password, Output& out);
  void cmd_id(const Request& req, Output& out);
  void cmd_enable(const Request& req, Output& out);
  void cmd_namespace(const Request& req, Output& out);
  void cmd_idle(const Request& req, Output& out);
  void idle_line(std::string_view line, Output& out);

  // imap_mailbox.cpp
  void cmd_select(const Request& req, Output& out);
  void cmd_create(const Request& req, Output& out);
  void cmd_delete(const Request& req, Output& out);
  void cmd_rename(const Request& req, Output& out);
  void cmd_subscribe(const Request& req, Output& out);
  void cmd_list(const Request& req, Output& out);
  void cmd_status(const Request& req, Output& out);
  void cmd_append(const Request& req, Output& out);

  // imap_view.cpp: the selected mailbox's view and its updates.
  store::Mailbox* selected_mailbox() const;
  const store::Entry* entry_for(std::uint32_t uid) const;
  store::Entry* mutable_entry(std::uint32_t uid);
  bool is_recent(std::uint32_t uid) const;
  void deselect();
  void on_store_event(const store::StoreEvent& event);
  void report_updates(Output& out, bool expunge_allowed);
  // The message sequence numbers (1-based) a set names; false (and BAD) if it cannot be read.
  bool resolve_set(const Request& req, const Token& token, std::vector<std::size_t>& msns,
                   Output& out);
  void notify_flags(std::uint32_t uid);
  std::shared_ptr<const MessageStructure> structure(const store::MessagePtr& message);

  // imap_fetch.cpp
  void cmd_fetch(const Request& req, Output& out);
  // imap_store_copy.cpp
  void cmd_store(const Request& req, Output& out);
  void cmd_copy(const Request& req, Output& out);
  void cmd_expunge(const Request& req, Output& out);
  void cmd_close(const Request& req, Output& out);
  void cmd_unselect(const Request& req, Output& out);
  // imap_search.cpp
  void cmd_search(const Request& req, Output& out);

  const ImapPolicy& policy_;
  store::MailStore& store_;
  const UserDirectory& users_;
  CommandReader reader_;
  SessionContext context_;
  State state_ = State::not_authenticated;
  bool tls_active_ = false;
  bool awaiting_tls_ = false;  // STARTTLS accepted, handshake not yet reported
  bool closed_ = false;
  bool idling_ = false;
  bool sasl_pending_ = false;    // AUTHENTICATE sent "+ ": the next line is the client's response
  bool muted_ = false;           // our own flag notifications are not news to us
  bool expunge_allowed_ = true;  // the running command may report EXPUNGE (RFC 3501 7.4.1)
  bool starttls_hidden_noted_ = false;  // the not_advertised behaviour event was sent
  unsigned bad_commands_ = 0;
  std::string pending_tag_;  // of the IDLE or AUTHENTICATE in progress
  std::string owner_;        // the logged-in account (lower case)
  std::unique_ptr<Selected> selected_;
  std::vector<std::shared_ptr<const MessageStructure>> structures_;  // a few, most recent last
};

}  // namespace sevenport::imap
