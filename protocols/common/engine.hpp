// The contract every protocol engine (SMTP, IMAP, POP3) fulfils, so that server/Connection is
// written once. Engines are sans-I/O: bytes in through feed(), replies, one transport action and
// session-log events out through Output. Nothing here knows about sockets, libuv or OpenSSL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sevenport {

// How a listener is secured: no TLS at all, STARTTLS/STLS offered on a plaintext start, or TLS
// from the first byte.
enum class Security : std::uint8_t { none, starttls, implicit };

// "none", "starttls", "implicit".
std::string_view to_string(Security security);

// Deliberate STARTTLS faults a security = "starttls" listener can be set to, so that a client can
// be seen handling them (config key starttls_fault).
enum class StartTlsFault : std::uint8_t {
  none,
  // Not announced in EHLO / CAPABILITY / CAPA, as when a man in the middle strips it; the
  // command itself is answered as the protocol answers an unknown command. A correct client that
  // was told to use STARTTLS refuses to go on in plaintext.
  not_advertised,
  // Announced, but the command is refused: SMTP 454 4.7.0, IMAP NO, POP3 -ERR.
  refused,
  // Accepted; the transport then aborts the handshake with a TLS alert. Engines behave as for
  // none: server/ does the aborting.
  abort_handshake,
  // Accepted, and a forged plaintext response follows the OK in the same write. A correct client
  // discards it (RFC 3207 4.2, RFC 3501 6.2.1, RFC 2595 4); one that reads it as the answer to
  // its first command inside TLS is vulnerable to response injection.
  inject_response,
};

// "none", "not-advertised", "refused", "abort-handshake", "inject-response".
std::string_view to_string(StartTlsFault fault);

// Facts of an established TLS session, filled in by the transport.
struct TlsInfo {
  std::string version;  // e.g. "TLSv1.3"
  std::string cipher;   // e.g. "TLS_AES_256_GCM_SHA384"
  std::string sni;      // server name the client asked for, empty if none
};

// What an engine knows of its connection when it starts.
struct SessionContext {
  std::uint64_t session_id = 0;
  std::string listener;    // the listener's configured name, e.g. "submission"
  std::uint16_t port = 0;  // the port actually bound
  Security security = Security::none;
  std::string peer_ip;  // printable, e.g. "127.0.0.1" or "::1"
  std::uint16_t peer_port = 0;
  bool tls_active = false;  // true on implicit-TLS listeners: the handshake is already done
  TlsInfo tls;              // meaningful only when tls_active
};

// What the transport must do once the bytes of an Output are written.
enum class Action : std::uint8_t {
  none,
  start_tls,  // flush the bytes in plaintext, then begin the server-side TLS handshake
  close,      // flush the bytes, then close the connection
};

enum class EventKind : std::uint8_t {
  authenticated,   // mechanism, user, over_tls
  auth_failed,     // mechanism, user (as given, sanitised), over_tls, text = why
  delivered,       // message_id, size, recipients
  protocol_error,  // text = what was wrong, sanitised
  diagnosis,       // text = a plain-words explanation of a client mistake and its fix
  starttls,        // the engine accepted STARTTLS/STLS; the handshake follows
  behaviour,       // text = a deliberately configured behaviour took effect (a STARTTLS fault,
                   // greylisting, a full mailbox, ...), and what the client was told
};

// One fact for the session log. Every string in it is already sanitised (printable ASCII).
struct Event {
  EventKind kind = EventKind::protocol_error;
  std::string text;
  std::string mechanism;
  std::string user;
  bool over_tls = false;
  std::uint64_t message_id = 0;
  std::size_t size = 0;
  std::vector<std::string> recipients;
};

// Everything an engine produced for one call: bytes to send, then at most one action.
struct Output {
  std::string bytes;
  Action action = Action::none;
  std::vector<Event> events;

  // Appends `line` and CRLF.
  void line(std::string_view text) {
    bytes.append(text);
    bytes.append("\r\n");
  }
  void event(Event e) { events.push_back(std::move(e)); }
  void clear() {
    bytes.clear();
    action = Action::none;
    events.clear();
  }
};

// Where an engine reports what the client said, for the session transcript: one call per
// command or response line, with secrets already masked ("AUTH PLAIN ****", "PASS ****") and
// message content summarised ("[message content: 1234 octets]"). Server output needs no engine:
// the transport records it.
class TranscriptSink {
 public:
  virtual void client_line(std::string_view text) = 0;

 protected:
  ~TranscriptSink() = default;
};

// The surface server/Connection drives. One engine object per connection.
//
// Rules every engine keeps:
// - feed() consumes all of `bytes`. Every complete command is executed and its reply appended, so a
//   pipelined burst is answered with one write.
// - Once an Output carries Action::start_tls or Action::close, the engine ignores the rest of the
//   input it was given and any later feed() until tls_started() (start_tls) — that is the STARTTLS
//   injection defence: plaintext pipelined behind STARTTLS is never executed.
// - No exception crosses this boundary: peer errors become protocol replies.
class Engine {
 public:
  virtual ~Engine() = default;

  // Called once, when the connection is ready for the protocol (after the handshake on an
  // implicit-TLS listener). Produces the greeting.
  virtual void start(const SessionContext& context, Output& out) = 0;

  // Feeds bytes the client sent (plaintext, already decrypted).
  virtual void feed(std::string_view bytes, Output& out) = 0;

  // The STARTTLS handshake the engine asked for has completed. The engine resets its state as the
  // RFCs require (SMTP forgets EHLO and AUTH, IMAP/POP3 refresh capabilities). Produces nothing
  // for SMTP/IMAP/POP3, but may.
  virtual void tls_started(const TlsInfo& info, Output& out) = 0;

  // The connection was idle for the configured time: produce the farewell and Action::close.
  virtual void on_timeout(Output& out) = 0;

  // The server is shutting down: produce the protocol's farewell and Action::close.
  virtual void on_shutdown(Output& out) = 0;

  // Asynchronous output (IMAP IDLE): true while the engine may have something to say without
  // new input. The server asks after every call into the engine.
  virtual bool wants_async_updates() const { return false; }

  // A plaintext client on an implicit-TLS listener whose `hint` setting is on: instead of start(),
  // one protocol error in plaintext carrying `advice` (SMTP "554 5.7.0 <advice>", IMAP
  // "* BYE <advice>", POP3 "-ERR <advice>"), and Action::close. The client shows it to its user.
  virtual void refuse_plaintext(std::string_view advice, Output& out) = 0;

  // Called by the server, once per loop iteration in which the store changed, on engines that
  // want async updates: appends what the engine has to say (e.g. "* 3 EXISTS"); true if it did.
  virtual bool take_pending_updates(Output& out) {
    (void)out;
    return false;
  }

  // Where to report client lines for the transcript; nullptr (the default) reports nothing.
  void set_transcript(TranscriptSink* sink) { transcript_ = sink; }

  // The peer went away (or the transport failed). Abandon any transaction in progress: nothing
  // half-received is stored, POP3 does not enter UPDATE. Called at most once; no output.
  virtual void on_disconnect() {}

 protected:
  // For engines: report one client line (masked, summarised) to the transcript, if any.
  void note_client(std::string_view text) const {
    if (transcript_) transcript_->client_line(text);
  }

 private:
  TranscriptSink* transcript_ = nullptr;
};

}  // namespace sevenport
