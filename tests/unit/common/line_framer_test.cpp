#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "protocols/common/line_framer.hpp"

using sevenport::LineFramer;

namespace {
// Feeds `input` in the given pieces and records what the framer reports.
std::vector<std::string> frame(LineFramer& framer, const std::vector<std::string>& pieces) {
  std::vector<std::string> out;
  for (const auto& piece : pieces) {
    framer.feed(piece);
    for (;;) {
      const auto item = framer.next();
      if (item.kind == LineFramer::Kind::need_more) break;
      out.push_back(item.kind == LineFramer::Kind::line ? std::string(item.text) : "<too long>");
    }
  }
  return out;
}

std::vector<std::string> frame_split(std::size_t limit, const std::string& input, std::size_t at) {
  LineFramer framer(limit);
  return frame(framer, {input.substr(0, at), input.substr(at)});
}
}  // namespace

TEST_CASE("line framer yields CRLF lines and tolerates bare LF", "[framer]") {
  LineFramer framer(100);
  CHECK(frame(framer, {"EHLO a\r\nNOOP\nQUIT\r\n"}) ==
        std::vector<std::string>{"EHLO a", "NOOP", "QUIT"});
}

TEST_CASE("line framer gives the same lines however the input is split", "[framer]") {
  const std::string input = "one\r\ntwo\r\n" + std::string(30, 'x') + "\r\nthree\r\n";
  const auto whole = frame_split(20, input, 0);
  CHECK(whole == std::vector<std::string>{"one", "two", "<too long>", "three"});
  for (std::size_t at = 0; at <= input.size(); ++at) {
    INFO("split at " << at);
    CHECK(frame_split(20, input, at) == whole);
  }
}

TEST_CASE("line framer limit counts the CRLF", "[framer]") {
  LineFramer framer(6);
  CHECK(frame(framer, {"abcd\r\n", "abcde\r\n"}) == std::vector<std::string>{"abcd", "<too long>"});
}

TEST_CASE("line framer never buffers more than the limit of an endless line", "[framer]") {
  LineFramer framer(10);
  const std::string chunk(100, 'y');  // the framer keeps a view: the bytes must outlive next()
  for (int i = 0; i < 1000; ++i) {
    framer.feed(chunk);
    CHECK(framer.next().kind == LineFramer::Kind::need_more);
  }
  CHECK(frame(framer, {"tail\r\nok\r\n"}) == std::vector<std::string>{"<too long>", "ok"});
}

TEST_CASE("line framer hands the rest of the window over", "[framer]") {
  LineFramer framer(100);
  framer.feed("DATA\r\nSubject: x\r\n");
  const auto item = framer.next();
  REQUIRE(item.kind == LineFramer::Kind::line);
  CHECK(item.text == "DATA");
  CHECK(framer.take_rest() == "Subject: x\r\n");
  CHECK(framer.next().kind == LineFramer::Kind::need_more);
}

TEST_CASE("line framer reset drops a partial line", "[framer]") {
  LineFramer framer(100);
  framer.feed("STARTTLS\r\nEHLO inj");
  CHECK(framer.next().text == "STARTTLS");
  framer.reset();
  CHECK(!framer.partial());
  CHECK(frame(framer, {"ected\r\nEHLO real\r\n"}) ==
        std::vector<std::string>{"ected", "EHLO real"});
}
