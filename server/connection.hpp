// One client connection: its socket and timer, its transport (plaintext or a TlsChannel), and the
// protocol engine it feeds. The only place where bytes, TLS and the engine meet. Freed only after
// both of its libuv handles have closed.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "protocols/common/engine.hpp"
#include "server/session_registry.hpp"
#include "server/tls_channel.hpp"

namespace sevenport::server {

class Listener;
class Server;

class Connection final : private TranscriptSink {
 public:
  // Accepts a pending connection from the listener's socket and starts the session: the greeting
  // on plaintext listeners, the TLS handshake on implicit-TLS ones. Deletes itself when closed.
  static void accept(Listener& listener, uv_stream_t* server_handle);

  // The server is shutting down: the engine's farewell, then close.
  void shutdown();
  // The store changed: let an engine that waits for it (IMAP IDLE) say so now.
  void pull_async_updates();

  // Closes at once, dropping anything not yet written.
  void abort(std::string_view why) { close(why); }

  // Intrusive list links, owned by Server.
  Connection* prev = nullptr;
  Connection* next = nullptr;

 private:
  Connection(Listener& listener, std::uint64_t id);
  ~Connection();

  void begin();
  void on_bytes(std::string_view bytes);
  bool sniff(std::string_view first_bytes);
  void on_tls_bytes(std::string_view ciphertext);
  void on_established();
  void start_engine();
  void deliver(Output& out);
  void send(std::string_view bytes);
  void flush_tls();
  void start_tls();
  void close(std::string_view why);
  void finish_close_when_flushed();
  void on_write_done(int status);
  void arm_timer(std::uint64_t ms);
  void on_timer();
  SessionContext context() const;
  void log(std::string_view kind, std::string_view text);
  // A deliberately configured behaviour took effect: the log, the session record, the transcript.
  void behaviour(const std::string& text);
  // The session record's side of a behaviour: its list and a transcript note.
  void record_behaviour(const std::string& text);
  // Reading stops for backpressure and while a reply or the greeting is held back; it resumes
  // only once none of these holds.
  void pause_reading();
  void resume_reading();
  // Engine output that answers client input: sent at once, or after command_delay_ms.
  void reply(Output& out);
  // Feeds client plaintext to the engine, honouring drop_after_commands.
  void feed_engine(std::string_view plaintext);
  // Starts the engine, after greeting_delay_ms if one is configured.
  void greet();
  // hint = true: a plaintext client on an implicit-TLS port is told, in plaintext, what to do.
  void refuse_plaintext();
  void start_delay(std::uint64_t ms);
  void on_delay();
  // A client mistake explained in plain words: the log and the session record.
  void diagnose(const std::string& text);
  void record_events(const Output& out);
  void client_line(std::string_view text) override;

  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_close(uv_handle_t* handle);
  static void on_timer_cb(uv_timer_t* handle);
  static void on_delay_cb(uv_timer_t* handle);

  Listener& listener_;
  Server& server_;
  std::uint64_t id_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  std::unique_ptr<Engine> engine_;
  SessionRecord* record_ = nullptr;  // owned by the server's SessionRegistry, kept while open
  // Only on listeners with greeting_delay_ms or command_delay_ms: the one delay at a time.
  std::unique_ptr<uv_timer_t> delay_timer_;
  std::unique_ptr<Output> delayed_;  // a reply held back by command_delay_ms
  Output* feeding_ = nullptr;        // the Output the engine is filling, during feed_engine()
  std::size_t drop_at_ = 0;          // octets of *feeding_ to keep when dropping
  std::unique_ptr<TlsChannel> tls_;
  TlsInfo tls_info_;
  std::string peer_ip_;
  std::string peer_;  // "ip:port"
  std::uint16_t peer_port_ = 0;
  std::uint64_t started_at_ = 0;     // loop time, ms
  std::uint64_t last_activity_ = 0;  // loop time, ms
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
  unsigned pending_writes_ = 0;
  std::uint8_t handles_open_ = 0;
  bool engine_started_ = false;
  bool got_bytes_ = false;
  bool reading_ = false;
  bool closing_ = false;  // close() ran: handles are closing
  bool close_when_flushed_ = false;
  bool silence_diagnosed_ = false;
  bool via_starttls_ = false;
  bool async_waiting_ = false;     // registered with the server for async updates
  bool silent_ = false;            // greeting = "silent": never a word, input ignored
  bool greeting_pending_ = false;  // the delay running is greeting_delay_ms
  bool abort_handshake_ = false;   // starttls_fault = "abort-handshake" after the STARTTLS reply
  bool drop_ = false;              // drop_after_commands reached during this feed
  bool delay_noted_ = false;       // command_delay_ms already reported in the log
  std::uint32_t commands_ = 0;     // client lines reported by the engine
};

}  // namespace sevenport::server
