// The reply table as a whole: every entry formats as a well-formed reply whose enhanced code
// agrees with its basic code (RFC 3463 2: the class digit is the same) and appears on every line
// (RFC 2034 4).
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
    std::string reply_text;
    append_reply(reply_text, reply, {"x", "y", "z"});
    REQUIRE(reply_text.ends_with("\r\n"));
    CHECK(reply_text.find("{}") == std::string::npos);
    std::string_view rest = reply_text;
    while (!rest.empty()) {
      const auto end = rest.find("\r\n");
      REQUIRE(end != std::string_view::npos);
      const auto line = rest.substr(0, end);
      rest.remove_prefix(end + 2);
      INFO("line: " << line);
      CHECK(line.find_first_of("\r\n") == std::string_view::npos);
      CHECK(line.rfind(std::to_string(spec.code) + (rest.empty() ? " " : "-"), 0) == 0);
      if (!spec.enhanced.empty())
        CHECK(line.substr(4, spec.enhanced.size() + 1) == std::string(spec.enhanced) + " ");
    }
  }
}

TEST_CASE("multi-line replies use a hyphen on every line but the last", "[smtp][replies]") {
  std::string out;
  const std::string more[] = {"PIPELINING", "HELP"};
  append_reply(out, Reply::ehlo, {"mx", "client", "192.0.2.1"}, more);
  CHECK(out == "250-mx Hello client [192.0.2.1]\r\n250-PIPELINING\r\n250 HELP\r\n");
}

TEST_CASE("a reply text of two lines carries its enhanced code on both", "[smtp][replies]") {
  std::string out;
  append_reply(out, Reply::app_password_required, {});
  CHECK(out ==
        "534-5.7.9 Application-specific password required.\r\n"
        "534 5.7.9 Log in with an app password for this account, not the account password\r\n");
}

TEST_CASE("arguments fill the placeholders in order", "[smtp][replies]") {
  std::string out;
  append_reply(out, Reply::greylisted, {"a@example.test", "42"});
  CHECK(out ==
        "451 4.7.1 <a@example.test>: Recipient address rejected: Greylisted, try again in 42 "
        "seconds\r\n");
}
