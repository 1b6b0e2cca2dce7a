#include "server/connection.hpp"

#include <cstring>

#include "protocols/common/text.hpp"
#include "server/server.hpp"

namespace sevenport::server {

namespace {
// Stop reading from a client that does not read our replies once this much is queued, and read
// again below the low-water mark: a client can never make us buffer without bound.
constexpr std::size_t kHighWater = 1024 * 1024;
constexpr std::size_t kLowWater = 256 * 1024;
// A client that connects to an implicit-TLS port and stays silent this long is almost certainly
// waiting for a plaintext greeting (set to STARTTLS or no security).
constexpr std::uint64_t kSilenceMs = 3000;

struct WriteRequest {
  uv_write_t req;
  std::string data;
};

bool looks_like_tls(std::string_view bytes) {
  // A TLS record starts with content type 22 (handshake) and major version 3.
  return bytes.size() >= 1 && static_cast<unsigned char>(bytes[0]) == 0x16 &&
         (bytes.size() < 2 || static_cast<unsigned char>(bytes[1]) == 0x03);
}

std::string first_line(std::string_view bytes) {
  const auto end = bytes.find_first_of("\r\n");
  return sanitize(bytes.substr(0, end), 60);
}

}  // namespace

void Connection::accept(Listener& listener, uv_stream_t* server_handle) {
  auto& server = listener.server();
  auto* c = new Connection(listener, server.next_session_id());
  uv_tcp_init(server.loop(), &c->tcp_);
  c->tcp_.data = c;
  uv_timer_init(server.loop(), &c->timer_);
  c->timer_.data = c;
  c->handles_open_ = 2;
  c->started_at_ = c->last_activity_ = uv_now(server.loop());
  server.add(c);
  if (uv_accept(server_handle, reinterpret_cast<uv_stream_t*>(&c->tcp_)) != 0) {
    c->record_ =
        &server.sessions().open(c->id_, listener.config().name, "", 0, Security::none, "?");
    c->close("accept failed");
    return;
  }
  uv_tcp_nodelay(&c->tcp_, 1);
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(&c->tcp_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    char ip[64] = "?";
    if (addr.ss_family == AF_INET6) {
      const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&addr);
      uv_ip6_name(a6, ip, sizeof ip);
      c->peer_port_ = ntohs(a6->sin6_port);
    } else {
      const auto* a4 = reinterpret_cast<const sockaddr_in*>(&addr);
      uv_ip4_name(a4, ip, sizeof ip);
      c->peer_port_ = ntohs(a4->sin_port);
    }
    c->peer_ip_ = ip;
    c->peer_ = (addr.ss_family == AF_INET6 ? "[" + c->peer_ip_ + "]" : c->peer_ip_) + ":" +
               std::to_string(c->peer_port_);
  }
  const auto& cfg = listener.config();
  c->record_ =
      &server.sessions().open(c->id_, cfg.name, std::string(config::to_string(cfg.protocol)),
                              listener.bound_port(), cfg.security, c->peer_);
  if (server.at_capacity()) {
    c->log("refused", "max_connections (" + std::to_string(server.config().max_connections) +
                          ") reached; raise max_connections in the config");
    c->close("server full");
    return;
  }
  c->begin();
}

Connection::Connection(Listener& listener, std::uint64_t id)
    : listener_(listener), server_(listener.server()), id_(id) {}

Connection::~Connection() { server_.remove(this); }

void Connection::log(std::string_view kind, std::string_view text) {
  server_.log().session({id_, listener_.config().name, peer_}, kind, text);
}

void Connection::behaviour(const std::string& text) {
  log("behaviour", text);
  record_behaviour(text);
}

void Connection::record_behaviour(const std::string& text) {
  record_->behaviours.push_back(text);
  server_.sessions().note(*record_, "behaviour: " + text);
}

void Connection::diagnose(const std::string& text) {
  log("diagnosis", text);
  record_->diagnoses.push_back(text);
  server_.sessions().note(*record_, "diagnosis: " + text);
}

void Connection::client_line(std::string_view text) {
  server_.sessions().client_line(*record_, text);
  // drop_after_commands: the engine reports each command before it answers it, so the octets
  // already in the Output are the answers to the commands before this one. Bracketed summaries
  // ("[message content: 1234 octets]") are not commands.
  const auto limit = listener_.config().behaviour.drop_after_commands;
  if (limit > 0 && !text.starts_with('[') && ++commands_ > limit && !drop_ && feeding_ != nullptr) {
    drop_ = true;
    drop_at_ = feeding_->bytes.size();
  }
}

void Connection::record_events(const Output& out) {
  auto& registry = server_.sessions();
  for (const auto& e : out.events) {
    switch (e.kind) {
      case EventKind::authenticated:
      case EventKind::auth_failed:
        registry.auth(*record_, {0, e.mechanism, e.user, e.kind == EventKind::authenticated,
                                 e.over_tls, e.text});
        break;
      case EventKind::delivered:
        record_->messages.push_back(e.message_id);
        break;
      case EventKind::protocol_error:
        if (record_->errors.size() < 100) record_->errors.push_back(e.text);
        break;
      case EventKind::diagnosis:
        record_->diagnoses.push_back(e.text);
        break;
      case EventKind::starttls:
        break;
      case EventKind::behaviour:
        record_behaviour(e.text);  // deliver() logged it
        break;
    }
  }
}

SessionContext Connection::context() const {
  SessionContext ctx;
  ctx.session_id = id_;
  ctx.listener = listener_.config().name;
  ctx.port = listener_.bound_port();
  ctx.security = listener_.config().security;
  ctx.peer_ip = peer_ip_;
  ctx.peer_port = peer_port_;
  ctx.tls_active = tls_ && tls_->established();
  ctx.tls = tls_info_;
  return ctx;
}

void Connection::begin() {
  const auto& cfg = listener_.config();
  const auto& setting = cfg.behaviour;
  log("connect", "port " + std::to_string(listener_.bound_port()) + ", " +
                     std::string(to_string(cfg.security)) + " (" +
                     std::string(config::display_name(cfg.protocol)) + ")");
  if (setting.greeting == config::Greeting::close) {
    behaviour("closed the connection at once, without a greeting (greeting = \"close\")");
    close("greeting = \"close\"");
    return;
  }
  if (setting.greeting_delay_ms > 0 || setting.command_delay_ms > 0) {
    delay_timer_ = std::make_unique<uv_timer_t>();
    uv_timer_init(server_.loop(), delay_timer_.get());
    delay_timer_->data = this;
    ++handles_open_;
  }
  engine_ = listener_.make_engine();
  engine_->set_transcript(this);
  if (setting.greeting == config::Greeting::silent) {
    silent_ = true;
    behaviour(
        "accepted the connection and will never greet: the client times out waiting for the "
        "greeting (greeting = \"silent\")");
    arm_timer(cfg.limits.idle_timeout_seconds * 1000ULL);
  } else if (cfg.security == Security::implicit) {
    tls_ = std::make_unique<TlsChannel>(listener_.tls()->get());
    arm_timer(std::min<std::uint64_t>(kSilenceMs, cfg.limits.idle_timeout_seconds * 1000ULL));
  } else {
    arm_timer(cfg.limits.idle_timeout_seconds * 1000ULL);
    greet();
  }
  resume_reading();
}

void Connection::pause_reading() {
  if (!reading_) return;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  reading_ = false;
}

void Connection::resume_reading() {
  // Not while a reply or the greeting is held back (the client's next bytes wait in the socket),
  // nor while more than the low-water mark is queued for a client that does not read.
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (reading_ || closing_ || close_when_flushed_ || delayed_ || greeting_pending_ ||
      uv_stream_get_write_queue_size(stream) >= kLowWater)
    return;
  uv_read_start(stream, on_alloc, on_read);
  reading_ = true;
}

void Connection::greet() {
  const auto delay = listener_.config().behaviour.greeting_delay_ms;
  if (delay == 0) {
    start_engine();
    return;
  }
  behaviour("greeting held back for " + std::to_string(delay) +
            " ms (greeting_delay_ms = " + std::to_string(delay) + ")");
  greeting_pending_ = true;
  pause_reading();
  start_delay(delay);
}

void Connection::start_delay(std::uint64_t ms) {
  uv_timer_start(delay_timer_.get(), on_delay_cb, ms, 0);
}

void Connection::on_delay_cb(uv_timer_t* handle) {
  static_cast<Connection*>(handle->data)->on_delay();
}

void Connection::on_delay() {
  if (closing_) return;
  if (greeting_pending_) {
    greeting_pending_ = false;
    start_engine();
  } else if (delayed_) {
    const auto out = std::move(delayed_);
    deliver(*out);
  }
  resume_reading();
}

void Connection::reply(Output& out) {
  const auto delay = listener_.config().behaviour.command_delay_ms;
  if (delay == 0 || (!delayed_ && out.bytes.empty() && out.action == Action::none)) {
    deliver(out);
    return;
  }
  if (!delay_noted_) {
    delay_noted_ = true;
    behaviour("every reply is sent " + std::to_string(delay) +
              " ms late (command_delay_ms = " + std::to_string(delay) + ")");
  }
  // Reading stops until the held reply is out, so replies keep their order and the client's
  // next commands wait in the socket.
  if (!delayed_) {
    delayed_ = std::make_unique<Output>(std::move(out));
    start_delay(delay);
  } else {
    delayed_->bytes += out.bytes;
    for (auto& e : out.events) delayed_->events.push_back(std::move(e));
    if (out.action != Action::none) delayed_->action = out.action;
  }
  pause_reading();
}

void Connection::feed_engine(std::string_view plaintext) {
  Output out;
  feeding_ = &out;
  engine_->feed(plaintext, out);
  feeding_ = nullptr;
  if (!drop_) {
    reply(out);
    return;
  }
  const auto limit = listener_.config().behaviour.drop_after_commands;
  out.bytes.resize(drop_at_);
  out.action = Action::none;
  deliver(out);
  behaviour("closed the connection without a reply to command " + std::to_string(limit + 1) +
            " (drop_after_commands = " + std::to_string(limit) + ")");
  close_when_flushed_ = true;
  finish_close_when_flushed();
}

void Connection::refuse_plaintext() {
  const auto& cfg = listener_.config();
  std::string advice = "This port expects TLS from the first byte: choose SSL/TLS";
  if (const auto alt = server_.port_for(cfg, Security::starttls))
    advice += ", or use port " + std::to_string(alt) + " with STARTTLS";
  Output out;
  engine_->refuse_plaintext(advice, out);
  const auto end = out.bytes.find("\r\n");
  behaviour("told the plaintext client in plaintext: \"" + out.bytes.substr(0, end) +
            "\" (hint = true)");
  tls_.reset();  // the answer goes out in plaintext
  deliver(out);
}

void Connection::start_engine() {
  Output out;
  engine_started_ = true;
  engine_->start(context(), out);
  deliver(out);
}

void Connection::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(handle->data);
  buf->base = c->server_.read_buffer();
  buf->len = Server::read_buffer_size;
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  if (nread > 0) {
    c->on_bytes(std::string_view(buf->base, static_cast<std::size_t>(nread)));
  } else if (nread < 0) {
    c->close(nread == UV_EOF ? "client closed the connection"
                             : uv_strerror(static_cast<int>(nread)));
  }
}

void Connection::on_bytes(std::string_view bytes) {
  if (closing_ || close_when_flushed_) return;
  bytes_in_ += bytes.size();
  last_activity_ = uv_now(server_.loop());
  if (silent_) return;
  if (abort_handshake_) {
    // A fatal handshake_failure alert (TLS record: alert, TLS 1.2 version, length 2, level fatal,
    // description 40) in answer to the ClientHello, then the connection closes.
    static constexpr char kAlert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
    behaviour(
        "answered the client's TLS ClientHello with a handshake_failure alert and closed "
        "(starttls_fault = \"abort-handshake\")");
    send(std::string_view(kAlert, sizeof kAlert));
    close_when_flushed_ = true;
    finish_close_when_flushed();
    return;
  }
  if (!got_bytes_) {
    got_bytes_ = true;
    if (!sniff(bytes)) return;
  }
  if (tls_) {
    on_tls_bytes(bytes);
    return;
  }
  feed_engine(bytes);
}

// The first bytes of a connection tell a TLS ClientHello from a plaintext command: a mismatch with
// the port's security is the classic wrong-TLS-mode client, worth explaining in plain words.
bool Connection::sniff(std::string_view first) {
  const auto& cfg = listener_.config();
  const bool tls_hello = looks_like_tls(first);
  const auto proto = std::string(config::display_name(cfg.protocol));
  const auto port = std::to_string(listener_.bound_port());
  if (cfg.security != Security::implicit && tls_hello) {
    std::string fix = "set the client's connection security to " +
                      std::string(cfg.security == Security::starttls ? "STARTTLS" : "none") +
                      " for port " + port;
    if (const auto alt = server_.port_for(cfg, Security::implicit))
      fix += ", or use port " + std::to_string(alt) + " for SSL/TLS";
    diagnose("client started a TLS handshake on " + proto + " port " + port +
             ", which expects plaintext first" +
             (cfg.security == Security::starttls ? " and upgrades with STARTTLS" : "") +
             ": the client is set to SSL/TLS (implicit TLS) on the wrong port. Fix: " + fix + ".");
    close("TLS handshake on a plaintext port");
    return false;
  }
  if (cfg.security == Security::implicit && !tls_hello) {
    std::string fix = "set the client's connection security to SSL/TLS for port " + port;
    if (const auto alt = server_.port_for(cfg, Security::starttls))
      fix += ", or use port " + std::to_string(alt) + " with STARTTLS";
    diagnose("client sent plaintext (\"" + first_line(first) + "\") to " + proto + " port " + port +
             ", which expects TLS from the first byte: the client is set to STARTTLS "
             "or no encryption. Fix: " +
             fix + ".");
    if (cfg.behaviour.hint) {
      refuse_plaintext();
      return false;
    }
    close("plaintext on an implicit-TLS port");
    return false;
  }
  return true;
}

void Connection::on_tls_bytes(std::string_view ciphertext) {
  const bool was_established = tls_->established();
  std::string plaintext;
  const auto status = tls_->feed(ciphertext, plaintext);
  flush_tls();
  if (status == TlsChannel::Status::failed) {
    std::string why = tls_->error();
    log("tls", std::string(was_established ? "TLS error: " : "handshake failed: ") + why);
    const bool about_certificate = why.find("unknown ca") != std::string::npos ||
                                   why.find("bad certificate") != std::string::npos ||
                                   why.find("certificate unknown") != std::string::npos;
    // On a broken profile any certificate alert (expired, unsupported, ...) is the refusal the
    // profile exists for.
    if (!was_established && listener_.broken_certificate() &&
        (about_certificate || why.find("certificate") != std::string::npos)) {
      diagnose("the client rejected the server certificate (" + why + "), as it should: listener " +
               listener_.config().name + " serves the deliberately broken \"" +
               listener_.config().tls.certificate +
               "\" certificate, and refusing it is the expected outcome.");
    } else if (!was_established && about_certificate) {
      diagnose("the client rejected the server certificate (" + why +
               "). Fix: make the client trust the CA file " + server_.ca_file().string());
    }
    close("TLS failure");
    return;
  }
  if (!was_established && tls_->established()) on_established();
  if (closing_ || close_when_flushed_) return;
  if (!plaintext.empty()) feed_engine(plaintext);
  if (status == TlsChannel::Status::closed && !closing_) close("client sent TLS close_notify");
}

void Connection::on_established() {
  tls_info_ = tls_->info();
  std::string text = tls_info_.version + " " + tls_info_.cipher +
                     (via_starttls_ ? " (after STARTTLS)" : " (implicit TLS)");
  if (!tls_info_.sni.empty()) text += ", SNI " + sanitize(tls_info_.sni, 100);
  server_.log().session(
      {id_, listener_.config().name, peer_}, "tls", text,
      {{"tls_version", tls_info_.version}, {"cipher", tls_info_.cipher}, {"sni", tls_info_.sni}});
  server_.sessions().tls_established(*record_, tls_info_, via_starttls_);
  arm_timer(listener_.config().limits.idle_timeout_seconds * 1000ULL);
  if (via_starttls_) {
    Output out;
    engine_->tls_started(tls_info_, out);
    deliver(out);
  } else {
    greet();
  }
}

void Connection::pull_async_updates() {
  if (closing_ || close_when_flushed_) return;
  Output out;
  if (engine_->take_pending_updates(out)) deliver(out);
}

void Connection::deliver(Output& out) {
  if (const bool want = engine_started_ && engine_->wants_async_updates(); want != async_waiting_) {
    async_waiting_ = want;
    server_.want_async_updates(this, want);
  }
  const SessionRef who{id_, listener_.config().name, peer_};
  for (const auto& event : out.events) server_.log().event(who, event);
  record_events(out);
  if (!out.bytes.empty()) {
    server_.sessions().server_output(*record_, out.bytes);
    if (tls_ && tls_->established()) {
      if (tls_->write(out.bytes) != TlsChannel::Status::ok) {
        log("tls", "TLS error while writing: " + tls_->error());
        close("TLS failure");
        return;
      }
      flush_tls();
    } else {
      send(out.bytes);
    }
  }
  switch (out.action) {
    case Action::none:
      break;
    case Action::start_tls:
      if (listener_.config().behaviour.starttls_fault == StartTlsFault::abort_handshake)
        abort_handshake_ = true;  // on_bytes answers the ClientHello with an alert
      else
        start_tls();
      break;
    case Action::close:
      if (tls_ && tls_->established()) {
        tls_->shutdown();
        flush_tls();
      }
      close_when_flushed_ = true;
      finish_close_when_flushed();
      break;
  }
}

void Connection::start_tls() {
  // The reply went out in plaintext above; from here on every byte is TLS. Plaintext the client
  // pipelined behind the command was already discarded by the engine.
  via_starttls_ = true;
  tls_ = std::make_unique<TlsChannel>(listener_.tls()->get());
}

void Connection::flush_tls() {
  std::string ciphertext;
  tls_->take_ciphertext(ciphertext);
  if (!ciphertext.empty()) send(ciphertext);
}

void Connection::send(std::string_view bytes) {
  if (closing_ || bytes.empty()) return;
  bytes_out_ += bytes.size();
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (pending_writes_ == 0) {
    // Most replies fit the socket buffer: write at once, without a copy or an allocation.
    uv_buf_t buf =
        uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
    const int n = uv_try_write(stream, &buf, 1);
    if (n == static_cast<int>(bytes.size())) return;
    if (n > 0)
      bytes.remove_prefix(static_cast<std::size_t>(n));
    else if (n != UV_EAGAIN && n != UV_ENOSYS) {
      close(uv_strerror(n));
      return;
    }
  }
  auto* req = new WriteRequest;
  req->data.assign(bytes);
  req->req.data = this;
  uv_buf_t buf = uv_buf_init(req->data.data(), static_cast<unsigned>(req->data.size()));
  const int rc = uv_write(&req->req, stream, &buf, 1, on_write);
  if (rc != 0) {
    delete req;
    close(uv_strerror(rc));
    return;
  }
  ++pending_writes_;
  if (uv_stream_get_write_queue_size(stream) > kHighWater) pause_reading();
}

void Connection::on_write(uv_write_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  delete reinterpret_cast<WriteRequest*>(req);
  c->on_write_done(status);
}

void Connection::on_write_done(int status) {
  --pending_writes_;
  if (closing_) return;
  if (status != 0) {
    close(uv_strerror(status));
    return;
  }
  resume_reading();
  finish_close_when_flushed();
}

void Connection::finish_close_when_flushed() {
  if (close_when_flushed_ && pending_writes_ == 0 && !closing_) close("session ended");
}

void Connection::arm_timer(std::uint64_t ms) { uv_timer_start(&timer_, on_timer_cb, ms, 0); }

void Connection::on_timer_cb(uv_timer_t* handle) {
  static_cast<Connection*>(handle->data)->on_timer();
}

void Connection::on_timer() {
  if (closing_) return;
  const auto& cfg = listener_.config();
  const std::uint64_t now = uv_now(server_.loop());
  const std::uint64_t idle_ms = cfg.limits.idle_timeout_seconds * 1000ULL;
  if (!got_bytes_ && !silent_ && cfg.security == Security::implicit && !silence_diagnosed_) {
    silence_diagnosed_ = true;
    std::string fix = "set the client's connection security to SSL/TLS for port " +
                      std::to_string(listener_.bound_port());
    if (const auto alt = server_.port_for(cfg, Security::starttls))
      fix += ", or use port " + std::to_string(alt) + " with STARTTLS";
    diagnose("client connected to an implicit-TLS port and sent nothing for " +
             std::to_string(kSilenceMs / 1000) +
             " s: it is probably waiting for a plaintext greeting, i.e. set to "
             "STARTTLS or no encryption. Fix: " +
             fix + ".");
    if (cfg.behaviour.hint) {
      refuse_plaintext();
      return;
    }
  }
  // Reads only stamp last_activity_; the timer re-arms for what is left, so a busy connection
  // costs no timer operation per read.
  if (now - last_activity_ < idle_ms) {
    arm_timer(idle_ms - (now - last_activity_));
    return;
  }
  log("timeout", "idle for " + std::to_string(cfg.limits.idle_timeout_seconds) + " s");
  if (engine_started_ && !close_when_flushed_) {
    Output out;
    engine_->on_timeout(out);
    deliver(out);
  }
  if (!closing_ && !close_when_flushed_) close("idle timeout");
}

void Connection::shutdown() {
  if (closing_ || close_when_flushed_) return;
  if (engine_started_) {
    Output out;
    engine_->on_shutdown(out);
    deliver(out);
  }
  if (!closing_ && !close_when_flushed_) close("server shutting down");
}

void Connection::close(std::string_view why) {
  if (closing_) return;
  closing_ = true;
  if (engine_ && engine_started_) engine_->on_disconnect();
  const auto ms = uv_now(server_.loop()) - started_at_;
  log("close", std::string(why) + " (" + std::to_string(ms) + " ms, " + std::to_string(bytes_in_) +
                   " bytes in, " + std::to_string(bytes_out_) + " bytes out)");
  record_->bytes_in = bytes_in_;
  record_->bytes_out = bytes_out_;
  server_.sessions().close(*record_, std::string(why));
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close);
  if (delay_timer_) {
    uv_timer_stop(delay_timer_.get());
    uv_close(reinterpret_cast<uv_handle_t*>(delay_timer_.get()), on_close);
  }
}

void Connection::on_close(uv_handle_t* handle) {
  auto* c = static_cast<Connection*>(handle->data);
  if (--c->handles_open_ == 0) delete c;
}

}  // namespace sevenport::server
