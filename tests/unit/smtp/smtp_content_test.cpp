// ContentReader on its own: where the data ends, what is kept, and that large content is scanned
// in runs and comes out whole whatever the piece sizes.
#include <catch2/catch.hpp>

#include <random>

#include "protocols/smtp/smtp_content.hpp"

using sevenport::smtp::ContentReader;

TEST_CASE("content reader stops right after the terminator", "[smtp][content]") {
  ContentReader reader;
  reader.begin(1000);
  const std::string input = "a\r\n.\r\nQUIT\r\n";
  CHECK(reader.consume(input) == 6);
  CHECK(reader.complete());
  CHECK(!reader.bare_line_ending());
  CHECK(reader.size() == 3);
  CHECK(reader.take() == "a\r\n");
}

TEST_CASE("content reader counts but does not keep oversize content", "[smtp][content]") {
  ContentReader reader;
  reader.begin(10);
  CHECK(reader.consume("0123456789\r\n") == 12);
  CHECK(reader.oversize());
  CHECK(reader.consume(".\r\n") == 3);
  CHECK(reader.complete());
  CHECK(reader.size() == 12);
  CHECK(reader.take().empty());
}

TEST_CASE("content reader reassembles large content from random pieces", "[smtp][content]") {
  std::mt19937 random(5321);
  std::string expected;
  std::string wire;
  for (int line = 0; line < 20000; ++line) {
    std::string text = line % 7 == 0 ? "." : "";
    text.append(random() % 120, static_cast<char>('a' + line % 26));
    expected += text;
    expected += "\r\n";
    if (text.starts_with(".")) wire += '.';
    wire += text;
    wire += "\r\n";
  }
  wire += ".\r\n";
  ContentReader reader;
  reader.begin(expected.size());
  std::size_t at = 0;
  while (at < wire.size() && !reader.complete()) {
    const std::size_t n = std::min<std::size_t>(1 + random() % 3000, wire.size() - at);
    at += reader.consume(std::string_view(wire).substr(at, n));
  }
  CHECK(at == wire.size());
  CHECK(reader.complete());
  CHECK(!reader.oversize());
  CHECK(reader.take() == expected);
}

TEST_CASE("content reader reset forgets a message in progress", "[smtp][content]") {
  ContentReader reader;
  reader.begin(100);
  reader.consume("half a mess");
  reader.reset();
  CHECK(reader.complete());
  CHECK(reader.size() == 0);
  CHECK(reader.take().empty());
}
