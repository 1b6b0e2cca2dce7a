// Two TlsChannels, a client and a server, pumping bytes to each other in memory: the handshake,
// application data both ways, record boundaries split anywhere, and failures.
#include <catch2/catch.hpp>

#include <openssl/ssl.h>

#include <filesystem>
#include <random>

#include "certs/local_ca.hpp"
#include "server/tls_channel.hpp"

using sevenport::server::TlsChannel;
using sevenport::server::TlsContext;

namespace {

struct Fixture {
  std::filesystem::path dir;
  sevenport::certs::LocalCa ca;
  std::unique_ptr<TlsContext> server_ctx;
  SSL_CTX* client_ctx = nullptr;

  explicit Fixture(std::string_view min_version = "1.2") {
    dir = std::filesystem::temp_directory_path() /
          ("sevenport-tls-test-" + std::to_string(std::random_device{}()));
    ca = sevenport::certs::ensure_local_ca(dir, "localhost");
    server_ctx = std::make_unique<TlsContext>(ca.cert_file, ca.key_file, min_version);
    client_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(client_ctx, ca.ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, nullptr);
  }
  ~Fixture() {
    SSL_CTX_free(client_ctx);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// Moves ciphertext between the two until neither has anything to say; returns false on failure.
bool pump(TlsChannel& client, TlsChannel& server, std::string& client_got, std::string& server_got,
          std::size_t chunk = 1 << 20) {
  for (int round = 0; round < 100; ++round) {
    std::string to_server, to_client;
    client.take_ciphertext(to_server);
    server.take_ciphertext(to_client);
    if (to_server.empty() && to_client.empty()) return true;
    for (std::size_t i = 0; i < to_server.size(); i += chunk)
      if (server.feed(std::string_view(to_server).substr(i, chunk), server_got) ==
          TlsChannel::Status::failed)
        return false;
    for (std::size_t i = 0; i < to_client.size(); i += chunk)
      if (client.feed(std::string_view(to_client).substr(i, chunk), client_got) ==
          TlsChannel::Status::failed)
        return false;
  }
  return false;
}

}  // namespace

TEST_CASE("TLS channels complete a handshake and carry data both ways", "[tls]") {
  Fixture f;
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{1} << 20}) {
    INFO("ciphertext fed in pieces of " << chunk);
    TlsChannel server(f.server_ctx->get(), true);
    TlsChannel client(f.client_ctx, false);
    REQUIRE(client.start() == TlsChannel::Status::ok);
    std::string client_got, server_got;
    REQUIRE(pump(client, server, client_got, server_got, chunk));
    CHECK(server.established());
    CHECK(client.established());
    CHECK(server.info().version == "TLSv1.3");
    CHECK(!server.info().cipher.empty());

    REQUIRE(client.write("EHLO client.test\r\n") == TlsChannel::Status::ok);
    REQUIRE(server.write("220 ready\r\n") == TlsChannel::Status::ok);
    REQUIRE(pump(client, server, client_got, server_got, chunk));
    CHECK(server_got == "EHLO client.test\r\n");
    CHECK(client_got == "220 ready\r\n");
  }
}

TEST_CASE("TLS channel carries a large message intact", "[tls]") {
  Fixture f;
  TlsChannel server(f.server_ctx->get(), true);
  TlsChannel client(f.client_ctx, false);
  client.start();
  std::string client_got, server_got;
  REQUIRE(pump(client, server, client_got, server_got));
  std::string big(3 * 1024 * 1024 + 17, '\0');
  std::mt19937 rng(42);
  for (auto& c : big) c = static_cast<char>(rng());
  REQUIRE(server.write(big) == TlsChannel::Status::ok);
  REQUIRE(pump(client, server, client_got, server_got, 16384));
  CHECK(client_got == big);
}

TEST_CASE("TLS channel fails cleanly on plaintext and on an untrusted server", "[tls]") {
  Fixture f;
  SECTION("plaintext instead of a ClientHello") {
    TlsChannel server(f.server_ctx->get(), true);
    std::string got;
    CHECK(server.feed("EHLO client.test\r\n", got) == TlsChannel::Status::failed);
    CHECK(!server.error().empty());
    CHECK(!server.established());
  }
  SECTION("a client that does not trust the CA aborts with an alert the server reports") {
    SSL_CTX* untrusting = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(untrusting, SSL_VERIFY_PEER, nullptr);
    TlsChannel server(f.server_ctx->get(), true);
    TlsChannel client(untrusting, false);
    client.start();
    std::string a, b;
    CHECK(!pump(client, server, a, b));
    CHECK(!client.established());
    // The server hears the client's alert (unknown CA / bad certificate).
    std::string to_server;
    client.take_ciphertext(to_server);
    if (!to_server.empty()) CHECK(server.feed(to_server, b) == TlsChannel::Status::failed);
    SSL_CTX_free(untrusting);
  }
}

TEST_CASE("a TLS 1.3-only context refuses a TLS 1.2-only client", "[tls]") {
  Fixture f("1.3");
  SSL_CTX* old_client = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(old_client, TLS1_2_VERSION);
  TlsChannel server(f.server_ctx->get(), true);
  TlsChannel client(old_client, false);
  client.start();
  std::string a, b;
  CHECK(!pump(client, server, a, b));
  CHECK(!server.established());
  SSL_CTX_free(old_client);
}
