// An example of a C++ test suite using sevenport in-process: start a server on ephemeral ports,
// send it mail over a socket, look at what arrived, stop it.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "protocols/store/mail_store.hpp"
#include "server/embedded.hpp"

namespace {

// A tiny blocking SMTP client, enough for the example: sends `lines` and returns what the server
// answered. Every read has a timeout.
class Socket {
 public:
  explicit Socket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval timeout{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~Socket() { ::close(fd_); }
  // Reads one reply line (up to CRLF).
  std::string line() {
    std::string out;
    char c = 0;
    while (::recv(fd_, &c, 1, 0) == 1) {
      out += c;
      if (out.size() >= 2 && out.ends_with("\r\n")) return out.substr(0, out.size() - 2);
    }
    return out;
  }
  // Sends a command and reads the last line of its (possibly multi-line) reply.
  std::string command(const std::string& text) {
    ::send(fd_, text.data(), text.size(), 0);
    std::string reply = line();
    while (reply.size() > 3 && reply[3] == '-') reply = line();
    return reply;
  }

 private:
  int fd_;
};

}  // namespace

TEST_CASE("an embedded sevenport receives mail and stops cleanly", "[embedding]") {
  sevenport::EmbeddedServer server({.users = {{"carol@example.test", "carol-secret"}}});
  CHECK(std::filesystem::exists(server.ca_file()));
  CHECK(server.port("smtp") != 0);
  CHECK(server.port("imaps") != 0);
  CHECK_THROWS_AS(server.port("nonsense"), std::out_of_range);

  {
    Socket smtp(server.port("smtp"));
    CHECK(smtp.line().starts_with("220 "));
    CHECK(smtp.command("EHLO example-suite.test\r\n").starts_with("250 "));
    CHECK(smtp.command("MAIL FROM:<suite@example.test>\r\n").starts_with("250 "));
    CHECK(smtp.command("RCPT TO:<carol@example.test>\r\n").starts_with("250 "));
    CHECK(smtp.command("DATA\r\n").starts_with("354 "));
    CHECK(smtp.command("Subject: from the embedding example\r\n\r\nhello\r\n.\r\n")
              .starts_with("250 2.0.0 Ok: queued as 1"));
    CHECK(smtp.command("QUIT\r\n").starts_with("221 "));
  }

  const auto subject_found = server.with_store([](sevenport::store::MailStore& store) {
    return store.messages().size() == 1 &&
           store.messages().front()->raw.find("Subject: from the embedding example") !=
               std::string::npos &&
           store.account("carol@example.test").inbox().entries().size() == 1;
  });
  CHECK(subject_found);
  server.stop();
  server.stop();  // idempotent
}

TEST_CASE("an embedded sevenport reports a bad config", "[embedding]") {
  CHECK_THROWS_WITH(sevenport::EmbeddedServer({.config_toml = "hostname = 7\n"}),
                    Catch::Contains("<embedded>:1:"));
}
