// What the SMTP engine reports for the session transcript: every client line, credentials
// masked, message content summarised.
#include <catch2/catch.hpp>

#include "smtp_harness.hpp"

using namespace smtp_test;

namespace {
struct Lines final : sevenport::TranscriptSink {
  std::vector<std::string> lines;
  void client_line(std::string_view text) override { lines.emplace_back(text); }
};
}  // namespace

TEST_CASE("SMTP transcript masks credentials and summarises content", "[smtp][transcript]") {
  Harness h(Role::implicit);
  Lines lines;
  h.start();
  h.session->set_transcript(&lines);
  h.send("EHLO client.test\r\n");
  h.send("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=\r\n");
  h.send("MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n");
  h.send("Subject: x\r\n\r\nsecret body\r\n.\r\n");
  CHECK(lines.lines == std::vector<std::string>{
                           "EHLO client.test", "AUTH PLAIN ****", "MAIL FROM:<alice@example.test>",
                           "RCPT TO:<bob@example.org>", "DATA", "[message content: 27 octets]"});
}

TEST_CASE("SMTP transcript masks SASL responses of AUTH LOGIN", "[smtp][transcript]") {
  Harness h(Role::implicit);
  Lines lines;
  h.start();
  h.session->set_transcript(&lines);
  h.send("EHLO c\r\nAUTH LOGIN\r\n");
  h.send("YWxpY2VAZXhhbXBsZS50ZXN0\r\n");
  h.send("c2VjcmV0\r\n");
  CHECK(lines.lines == std::vector<std::string>{"EHLO c", "AUTH LOGIN", "****", "****"});
  for (const auto& line : lines.lines) CHECK(line.find("c2VjcmV0") == std::string::npos);
}
