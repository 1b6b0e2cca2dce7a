// What the POP3 engine reports for the session transcript: PASS and AUTH credentials masked.
#include <catch2/catch.hpp>

#include "pop3_harness.hpp"

using namespace pop3_test;

namespace {
struct Lines final : sevenport::TranscriptSink {
  std::vector<std::string> lines;
  void client_line(std::string_view text) override { lines.emplace_back(text); }
};
}  // namespace

TEST_CASE("POP3 transcript masks PASS and AUTH credentials", "[pop3][transcript]") {
  World world;
  Client client(world, world.port995, true);
  Lines lines;
  client.session.set_transcript(&lines);
  client.send("USER alice@example.test\r\nPASS secret\r\nQUIT\r\n");
  Client second(world, world.port995, true);
  second.session.set_transcript(&lines);
  second.send("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=\r\n");
  second.send("AUTH PLAIN\r\n");
  CHECK(lines.lines == std::vector<std::string>{"USER alice@example.test", "PASS ****", "QUIT",
                                                "AUTH PLAIN ****", "AUTH PLAIN"});
}
