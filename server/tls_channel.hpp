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

// A cipher list or suite string that OpenSSL rejects; `tls13` tells which of the two it was.
class TlsCipherError : public TlsError {
 public:
  TlsCipherError(const std::string& what, bool tls13) : TlsError(what), tls13_(tls13) {}
  bool tls13() const { return tls13_; }

 private:
  bool tls13_;
};

// What a context accepts besides its certificate.
struct TlsOptions {
  std::string min_version = "1.2";  // "1.0", "1.1", "1.2" or "1.3"
  std::string max_version = "1.3";  // the same, not below min_version
  std::string ciphers;              // TLS 1.2 and below (OpenSSL syntax); empty: the default
  std::string ciphersuites;         // TLS 1.3 (OpenSSL syntax); empty: the default
  // OpenSSL security level 0, without which OpenSSL 3 neither loads an RSA-1024 or SHA-1
  // certificate nor negotiates TLS 1.0/1.1. Set as well whenever min_version is below "1.2".
  bool legacy_security_level = false;
};

// One SSL_CTX: certificate chain, key, protocol range, ciphers. Made once at start-up, shared by
// every connection of the listeners that use it.
class TlsContext {
 public:
  // Loads a PEM chain and key. Throws TlsError, TlsCipherError for a rejected cipher string.
  // A version range the OpenSSL build cannot negotiate at all (TLS 1.0 in a build without it) is
  // not an error here: handshakes then fail, and are logged as such.
  TlsContext(const std::filesystem::path& cert_file, const std::filesystem::path& key_file,
             const TlsOptions& options);
  // The same with the default options and min_version "1.2" or "1.3".
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
