// TLS for one connection on OpenSSL memory BIOs: ciphertext in from the socket, plaintext up to
// the engine, engine output down, ciphertext out. No sockets and no libuv in here, so the same
// channel serves implicit TLS (handshake at accept) and STARTTLS (handshake when the engine asks),
// and two channels can be tested against each other in memory.
#pragma once

#include <openssl/ssl.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "protocols/common/engine.hpp"

namespace sevenport::server {

class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One SSL_CTX: certificate chain, key, protocol range. Made once at start-up, shared by every
// connection of the listeners that use it.
class TlsContext {
 public:
  // Loads a PEM chain and key. min_version is "1.2" or "1.3". Throws TlsError.
  TlsContext(const std::filesystem::path& cert_file, const std::filesystem::path& key_file,
             std::string_view min_version);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }

 private:
  SSL_CTX* ctx_ = nullptr;
};

// The server side of one TLS session.
class TlsChannel {
 public:
  explicit TlsChannel(SSL_CTX* ctx, bool server = true);
  ~TlsChannel();
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  enum class Status {
    ok,      // progress made (or nothing to do); call take_ciphertext() and check established()
    failed,  // fatal TLS error: send take_ciphertext() (an alert, maybe) and close; see error()
    closed,  // the peer sent close_notify
  };

  // Feeds ciphertext from the peer, advances the handshake, and appends any decrypted
  // application data to `plaintext`.
  Status feed(std::string_view ciphertext, std::string& plaintext);

  // Encrypts application data (only once established()).
  Status write(std::string_view plaintext);

  // Moves everything waiting to go to the peer into `out` (appends).
  void take_ciphertext(std::string& out);
  bool has_ciphertext() const;

  // Starts the handshake from this side (client mode only; servers wait for the ClientHello).
  Status start();

  // Queues a close_notify alert (take_ciphertext() afterwards).
  void shutdown();

  bool established() const { return established_; }
  // Version, cipher, SNI of the established session.
  TlsInfo info() const;
  // Why the last call failed, in words (OpenSSL's reason string).
  const std::string& error() const { return error_; }

 private:
  Status pump_handshake();
  Status read_all(std::string& plaintext);
  Status fail(int ssl_error);

  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // ciphertext from the peer (owned by ssl_)
  BIO* wbio_ = nullptr;  // ciphertext to the peer (owned by ssl_)
  bool established_ = false;
  std::string error_;
};

}  // namespace sevenport::server
