#include "server/tls_channel.hpp"

#include <openssl/err.h>

namespace sevenport::server {

namespace {
// Drains OpenSSL's thread error queue into one readable line, so that no stale error is seen by
// the next connection's SSL_get_error.
std::string take_openssl_errors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    const char* reason = ERR_reason_error_string(code);
    if (!out.empty()) out += "; ";
    out += reason ? reason : buf;
  }
  return out;
}

int protocol_version(std::string_view version) {
  if (version == "1.0") return TLS1_VERSION;
  if (version == "1.1") return TLS1_1_VERSION;
  if (version == "1.3") return TLS1_3_VERSION;
  return TLS1_2_VERSION;
}

TlsOptions options_with_min(std::string_view min_version) {
  TlsOptions options;
  options.min_version = std::string(min_version);
  return options;
}
}  // namespace

TlsContext::TlsContext(const std::filesystem::path& cert_file,
                       const std::filesystem::path& key_file, std::string_view min_version)
    : TlsContext(cert_file, key_file, options_with_min(min_version)) {}

TlsContext::TlsContext(const std::filesystem::path& cert_file,
                       const std::filesystem::path& key_file, const TlsOptions& options) {
  ctx_ = SSL_CTX_new(TLS_server_method());
  if (!ctx_) throw TlsError("cannot create TLS context: " + take_openssl_errors());
  // Level 0 before anything is loaded: at the default level OpenSSL refuses the weak
  // certificates outright, and offers no cipher that TLS 1.0/1.1 could use.
  if (options.legacy_security_level || protocol_version(options.min_version) < TLS1_2_VERSION)
    SSL_CTX_set_security_level(ctx_, 0);
  SSL_CTX_set_min_proto_version(ctx_, protocol_version(options.min_version));
  SSL_CTX_set_max_proto_version(ctx_, protocol_version(options.max_version));
  // No renegotiation (STYLE: TLS channel); release idle buffers so an idle TLS connection stays
  // small; write partial records so large responses stream out.
  SSL_CTX_set_options(
      ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                             SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_SERVER);
  // One TLS 1.3 session ticket is enough for a client to resume; OpenSSL's default of two costs
  // a second ticket's encryption on every handshake.
  SSL_CTX_set_num_tickets(ctx_, 1);
  // SSL_CTX_set_cipher_list fails only when no cipher at all matches; a partly unknown list is
  // accepted, as by every OpenSSL-based server.
  if (!options.ciphers.empty() && SSL_CTX_set_cipher_list(ctx_, options.ciphers.c_str()) != 1) {
    const auto why = take_openssl_errors();
    SSL_CTX_free(ctx_);
    throw TlsCipherError("OpenSSL rejects the cipher list \"" + options.ciphers + "\": " + why,
                         false);
  }
  if (!options.ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(ctx_, options.ciphersuites.c_str()) != 1) {
    const auto why = take_openssl_errors();
    SSL_CTX_free(ctx_);
    throw TlsCipherError(
        "OpenSSL rejects the TLS 1.3 cipher suites \"" + options.ciphersuites + "\": " + why, true);
  }
  const auto cert = cert_file.string();
  const auto key = key_file.string();
  if (SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) != 1) {
    const auto why = take_openssl_errors();
    SSL_CTX_free(ctx_);
    throw TlsError("cannot load certificate " + cert + ": " + why);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx_) != 1) {
    const auto why = take_openssl_errors();
    SSL_CTX_free(ctx_);
    throw TlsError("cannot load private key " + key +
                   " (or it does not match the certificate): " + why);
  }
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

TlsChannel::TlsChannel(SSL_CTX* ctx, bool server) {
  ssl_ = SSL_new(ctx);
  if (!ssl_) throw TlsError("cannot create TLS session: " + take_openssl_errors());
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  // An empty read BIO means "want more input", not end of file.
  BIO_set_mem_eof_return(rbio_, -1);
  BIO_set_mem_eof_return(wbio_, -1);
  SSL_set_bio(ssl_, rbio_, wbio_);
  if (server)
    SSL_set_accept_state(ssl_);
  else
    SSL_set_connect_state(ssl_);
}

TlsChannel::~TlsChannel() { SSL_free(ssl_); }

TlsChannel::Status TlsChannel::fail(int ssl_error) {
  auto why = take_openssl_errors();
  if (why.empty()) why = ssl_error == SSL_ERROR_SYSCALL ? "unexpected end of stream" : "TLS error";
  error_ = std::move(why);
  return Status::failed;
}

TlsChannel::Status TlsChannel::start() { return pump_handshake(); }

TlsChannel::Status TlsChannel::pump_handshake() {
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    established_ = true;
    return Status::ok;
  }
  const int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::ok;
  return fail(err);
}

TlsChannel::Status TlsChannel::read_all(std::string& plaintext) {
  char buf[16384];
  for (;;) {
    std::size_t got = 0;
    const int rc = SSL_read_ex(ssl_, buf, sizeof buf, &got);
    if (rc == 1) {
      plaintext.append(buf, got);
      continue;
    }
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::ok;
    if (err == SSL_ERROR_ZERO_RETURN) {
      ERR_clear_error();
      return Status::closed;
    }
    return fail(err);
  }
}

TlsChannel::Status TlsChannel::feed(std::string_view ciphertext, std::string& plaintext) {
  while (!ciphertext.empty()) {
    std::size_t written = 0;
    if (BIO_write_ex(rbio_, ciphertext.data(), ciphertext.size(), &written) != 1) {
      error_ = "cannot buffer TLS input";
      return Status::failed;
    }
    ciphertext.remove_prefix(written);
  }
  if (!established_) {
    const auto status = pump_handshake();
    if (status != Status::ok || !established_) return status;
  }
  return read_all(plaintext);
}

TlsChannel::Status TlsChannel::write(std::string_view plaintext) {
  while (!plaintext.empty()) {
    std::size_t written = 0;
    const int rc = SSL_write_ex(ssl_, plaintext.data(), plaintext.size(), &written);
    if (rc != 1) return fail(SSL_get_error(ssl_, rc));
    plaintext.remove_prefix(written);
  }
  return Status::ok;
}

void TlsChannel::take_ciphertext(std::string& out) {
  const auto pending = BIO_ctrl_pending(wbio_);
  if (pending == 0) return;
  const auto old = out.size();
  out.resize(old + pending);
  const int got = BIO_read(wbio_, out.data() + old, static_cast<int>(pending));
  out.resize(old + (got > 0 ? static_cast<std::size_t>(got) : 0));
}

bool TlsChannel::has_ciphertext() const { return BIO_ctrl_pending(wbio_) > 0; }

void TlsChannel::shutdown() {
  if (established_) SSL_shutdown(ssl_);
  ERR_clear_error();
}

TlsInfo TlsChannel::info() const {
  TlsInfo info;
  info.version = SSL_get_version(ssl_);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_))
    info.cipher = SSL_CIPHER_get_name(cipher);
  if (const char* sni = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name)) info.sni = sni;
  return info;
}

}  // namespace sevenport::server
