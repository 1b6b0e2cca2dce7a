#include <catch2/catch.hpp>

#include "server/session_registry.hpp"

using namespace sevenport::server;
using Direction = TranscriptLine::Direction;

TEST_CASE("a session's transcript marks where plaintext ends and TLS begins", "[registry]") {
  SessionRegistry registry;
  std::vector<SessionChange::Kind> changes;
  registry.observe([&](const SessionChange& c) { changes.push_back(c.kind); });
  auto& s =
      registry.open(7, "submission", "smtp", 587, sevenport::Security::starttls, "127.0.0.1:1");
  registry.server_output(s, "220 localhost ESMTP sevenport\r\n");
  registry.client_line(s, "STARTTLS");
  registry.server_output(s, "220 2.0.0 Ready to start TLS\r\n");
  registry.tls_established(s, {"TLSv1.3", "TLS_AES_256_GCM_SHA384", "localhost"}, true);
  registry.client_line(s, "AUTH PLAIN ****");
  registry.auth(s, {0, "PLAIN", "alice@example.test", true, true, ""});
  registry.close(s, "session ended");
  REQUIRE(s.transcript.size() == 5);
  CHECK(!s.transcript[0].tls);
  CHECK(s.transcript[1].direction == Direction::client);
  CHECK(!s.transcript[2].tls);
  CHECK(s.transcript[3].direction == Direction::note);
  CHECK(s.transcript[4].tls);
  CHECK(s.tls_mode == "starttls");
  CHECK(!s.open());
  CHECK(s.auth.size() == 1);
  CHECK(changes ==
        std::vector<SessionChange::Kind>{SessionChange::Kind::opened, SessionChange::Kind::tls,
                                         SessionChange::Kind::auth, SessionChange::Kind::closed});
  CHECK(registry.find(7) == &s);
  CHECK(!registry.find(8));
}

TEST_CASE("large responses are summarised and transcripts are bounded", "[registry]") {
  SessionRegistry registry({10, 5, 40});
  auto& s = registry.open(1, "pop3", "pop3", 110, sevenport::Security::starttls, "p");
  std::string body = "+OK message follows\r\n";
  for (int i = 0; i < 100; ++i) body += "line " + std::to_string(i) + "\r\n";
  registry.server_output(s, body);
  REQUIRE(s.transcript.size() == 5);
  CHECK(s.transcript_truncated);
  registry.client_line(s, std::string(100, 'x'));
  CHECK(s.transcript.size() == 5);

  auto& t = registry.open(2, "pop3", "pop3", 110, sevenport::Security::starttls, "p");
  registry.client_line(t, std::string(100, 'y') + "\x01");
  CHECK(t.transcript[0].text == std::string(40, 'y') + "...");
}

TEST_CASE("the registry forgets the oldest closed sessions, never open ones", "[registry]") {
  SessionRegistry registry({3, 10, 100});
  auto& open_one = registry.open(1, "l", "smtp", 25, sevenport::Security::none, "p");
  for (std::uint64_t id = 2; id <= 6; ++id) {
    auto& s = registry.open(id, "l", "smtp", 25, sevenport::Security::none, "p");
    registry.close(s, "done");
  }
  CHECK(registry.sessions().size() == 3);
  CHECK(registry.find(1) == &open_one);
  CHECK(registry.find(6));
  CHECK(!registry.find(2));
  registry.clear_closed();
  CHECK(registry.sessions().size() == 1);
}
