// The reply table as a whole: every entry formats as one well-formed reply line whose enhanced
// code agrees with its basic code (RFC 3463 2: the class digit is the same).
#include <catch2/catch.hpp>

#include "protocols/smtp/smtp_replies.hpp"

using sevenport::smtp::append_reply;
using sevenport::smtp::Reply;
using sevenport::smtp::reply_spec;

TEST_CASE("every reply in the table is well formed", "[smtp][replies]") {
  for (unsigned i = 0; i <= static_cast<unsigned>(Reply::unsupported_parameter); ++i) {
    const auto reply = static_cast<Reply>(i);
    const auto& spec = reply_spec(reply);
    INFO("reply " << i << ": " << spec.text);
    CHECK(spec.code >= 200);
    CHECK(spec.code <= 599);
    if (!spec.enhanced.empty()) CHECK(spec.enhanced[0] == static_cast<char>('0' + spec.code / 100));
    std::string line;
    append_reply(line, reply, {"x", "y", "z"});
    CHECK(line.rfind(std::to_string(spec.code) + " ", 0) == 0);
    CHECK(line.ends_with("\r\n"));
    CHECK(line.find("{}") == std::string::npos);
    CHECK(line.find('\n') == line.size() - 1);
  }
}

TEST_CASE("multi-line replies use a hyphen on every line but the last", "[smtp][replies]") {
  std::string out;
  const std::string more[] = {"PIPELINING", "HELP"};
  append_reply(out, Reply::ehlo, {"mx", "client", "192.0.2.1"}, more);
  CHECK(out == "250-mx Hello client [192.0.2.1]\r\n250-PIPELINING\r\n250 HELP\r\n");
}
