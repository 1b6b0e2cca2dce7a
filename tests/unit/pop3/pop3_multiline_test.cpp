// Multi-line response bodies: dot-stuffing, the closing CRLF, the terminator, and TOP's prefix.
#include <catch2/catch.hpp>

#include <string>

#include "protocols/pop3/pop3_multiline.hpp"

using sevenport::pop3::append_multiline;
using sevenport::pop3::top_prefix;

namespace {
std::string body(std::string_view text) {
  std::string out = "+OK\r\n";
  append_multiline(out, text);
  return out;
}
}  // namespace

TEST_CASE("pop3 multiline: dot-stuffing and termination", "[pop3][multiline]") {
  CHECK(body("") == "+OK\r\n.\r\n");
  CHECK(body("a\r\n") == "+OK\r\na\r\n.\r\n");
  CHECK(body("a") == "+OK\r\na\r\n.\r\n");
  CHECK(body(".") == "+OK\r\n..\r\n.\r\n");
  CHECK(body(".\r\n") == "+OK\r\n..\r\n.\r\n");
  CHECK(body("a\r\n.b\r\n..c\r\nd.e\r\n.") == "+OK\r\na\r\n..b\r\n...c\r\nd.e\r\n..\r\n.\r\n");
  CHECK(body("\r\n.\r\n\r\n") == "+OK\r\n\r\n..\r\n\r\n.\r\n");
  // A bare CR is not a line end; 8-bit bytes pass untouched.
  CHECK(body("a\r.b\r\n\xFF\x80.\r\n") == "+OK\r\na\r.b\r\n\xFF\x80.\r\n.\r\n");
  CHECK(body("x\r") == "+OK\r\nx\r\r\n.\r\n");
}

TEST_CASE("pop3 multiline: a large message is copied once, byte for byte", "[pop3][multiline]") {
  std::string raw;
  std::string expected;
  for (int i = 0; i < 20000; ++i) {
    const std::string line =
        (i % 7 == 0 ? "." : "") + std::string(70, static_cast<char>('a' + i % 26));
    raw += line + "\r\n";
    expected += (i % 7 == 0 ? "." : "") + line + "\r\n";
  }
  std::string out;
  append_multiline(out, raw);
  CHECK(out == expected + ".\r\n");
}

TEST_CASE("pop3 multiline: TOP prefix", "[pop3][multiline]") {
  const std::string m = "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3";
  CHECK(top_prefix(m, 0) == "A: 1\r\nB: 2\r\n\r\n");
  CHECK(top_prefix(m, 1) == "A: 1\r\nB: 2\r\n\r\nl1\r\n");
  CHECK(top_prefix(m, 2) == "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n");
  CHECK(top_prefix(m, 3) == m);
  CHECK(top_prefix(m, 1000) == m);
  // No empty line: everything is header.
  CHECK(top_prefix("A: 1\r\nB: 2\r\n", 0) == "A: 1\r\nB: 2\r\n");
  CHECK(top_prefix("A: 1", 0) == "A: 1");
  // An empty header section.
  CHECK(top_prefix("\r\nbody\r\n", 0) == "\r\n");
  CHECK(top_prefix("", 5).empty());
  // Bare LF line ends are tolerated.
  CHECK(top_prefix("A: 1\n\nx\ny\n", 1) == "A: 1\n\nx\n");
}
