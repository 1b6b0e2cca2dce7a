// The pieces without sockets: request targets and query parameters, the API's time and number
// formats, and the MIME view of messages.
#include <catch2/catch.hpp>

#include "server/api_format.hpp"
#include "server/http/http_util.hpp"

using namespace sevenport::http;
namespace api = sevenport::server::api;

TEST_CASE("request targets split into a decoded path and a raw query", "[http]") {
  struct Case {
    const char* target;
    bool ok;
    const char* path;
    const char* query;
  };
  const Case cases[] = {
      {"/", true, "/", ""},
      {"/a%20b/c?x=1&y=%41", true, "/a b/c", "x=1&y=%41"},
      {"/users/carol%40example.test", true, "/users/carol@example.test", ""},
      {"/p?", true, "/p", ""},
      {"/p#frag", true, "/p", ""},
      {"/p?q=1#frag", true, "/p", "q=1"},
      {"http://localhost:8025/api/v1/info?x", true, "/api/v1/info", "x"},
      {"http://localhost:8025", true, "/", ""},
      {"http://localhost?q", true, "/", "q"},
      {"*", true, "*", ""},
      {"/a+b", true, "/a+b", ""},  // '+' is a space only in queries
      {"/%zz", false, "", ""},
      {"/%4", false, "", ""},
      {"/%00", false, "", ""},
      {"relative", false, "", ""},
  };
  for (const auto& c : cases) {
    INFO(c.target);
    std::string path, query;
    REQUIRE(split_target(c.target, path, query) == c.ok);
    if (!c.ok) continue;
    CHECK(path == c.path);
    CHECK(query == c.query);
  }
}

TEST_CASE("query parameters are form-decoded; the first one counts", "[http]") {
  Request r;
  r.query = "to=bob%2Btag%40example.test&subject=two+words&empty=&flag&to=second&bad=%zz&%61=b";
  CHECK(r.param("to") == "bob+tag@example.test");
  CHECK(r.param("subject") == "two words");
  CHECK(r.param("empty") == "");
  CHECK(r.param("flag") == "");
  CHECK(r.param("bad") == "%zz");
  CHECK(r.param("a") == "b");
  CHECK(r.param("missing") == std::nullopt);
  r.headers = {{"x-one", "1"}};
  CHECK(r.header("x-one") == "1");
  CHECK(r.header("x-two") == std::nullopt);
}

TEST_CASE("tokens compare in constant time, and only equal ones match", "[http]") {
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "ab"));
  CHECK(constant_time_equal("", ""));
}

TEST_CASE("error responses are JSON, reason phrases come from one table", "[http]") {
  const auto r = error_response(404, "no message \"7\"\n");
  CHECK(r.status == 404);
  CHECK(r.content_type == "application/json");
  CHECK(r.body == R"({"error":"no message \"7\"\n"})");
  CHECK(reason_phrase(431) == "Request Header Fields Too Large");
  CHECK(reason_phrase(299) == "Unknown");
}

TEST_CASE("times are ISO 8601 UTC with milliseconds, read back in several forms", "[api]") {
  CHECK(api::iso_time(0) == "1970-01-01T00:00:00.000Z");
  CHECK(api::iso_time(1795311614871) == "2026-11-22T01:40:14.871Z");
  struct Case {
    const char* text;
    std::optional<std::int64_t> ms;
  };
  const Case cases[] = {
      {"2026-11-22T01:40:14.871Z", 1795311614871},
      {"2026-11-22T01:40:14Z", 1795311614000},
      {"2026-11-22t01:40:14z", 1795311614000},
      {"2026-11-22 01:40:14", 1795311614000},
      {"2026-11-22T01:40", 1795311600000},
      {"2026-11-22", 1795305600000},
      {"2026-11-22T02:40:14.871+01:00", 1795311614871},
      {"2026-11-21T20:40:14.871-0500", 1795311614871},
      {"2026-11-22T01:40:14.8719Z", 1795311614871},
      {"1795311614", 1795311614000},
      {"1795311614.5", 1795311614500},
      {"0", 0},
      {"", std::nullopt},
      {"yesterday", std::nullopt},
      {"2026-13-01", std::nullopt},
      {"2026-02-30", std::nullopt},
      {"2026-11-22T24:00:00Z", std::nullopt},
      {"2026-11-22T01:60Z", std::nullopt},
      {"2026-11-22T01:40:14.Z", std::nullopt},
      {"2026-11-22T01:40:14Zjunk", std::nullopt},
      {"2026-11-22T01:40:14+1", std::nullopt},
      {"17954004145.", std::nullopt},
      {"-5", std::nullopt},
      {"1e9", std::nullopt},
      {"9999999999999", std::nullopt},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(api::parse_time(c.text) == c.ms);
  }
}

TEST_CASE("query numbers: plain decimal integers and seconds within their range", "[api]") {
  CHECK(api::parse_uint("0", 10) == 0u);
  CHECK(api::parse_uint("10", 10) == 10u);
  CHECK(api::parse_uint("11", 10) == std::nullopt);
  CHECK(api::parse_uint("", 10) == std::nullopt);
  CHECK(api::parse_uint("+1", 10) == std::nullopt);
  CHECK(api::parse_uint(" 1", 10) == std::nullopt);
  CHECK(api::parse_uint("18446744073709551615", UINT64_MAX) == std::nullopt);  // 20 digits
  CHECK(api::parse_seconds("10", 300) == 10.0);
  CHECK(api::parse_seconds("0.25", 300) == 0.25);
  CHECK(api::parse_seconds("300", 300) == 300.0);
  CHECK(api::parse_seconds("300.5", 300) == std::nullopt);
  CHECK(api::parse_seconds("1.", 300) == std::nullopt);
  CHECK(api::parse_seconds(".5", 300) == std::nullopt);
  CHECK(api::parse_seconds("-1", 300) == std::nullopt);
  CHECK(api::parse_seconds("nan", 300) == std::nullopt);
}

TEST_CASE("header facts: decoded Subject and From, Date as written", "[api]") {
  const auto facts = api::header_facts(
      "Received: x\r\nSubject: =?iso-8859-1?q?caf=E9?=\r\n  =?utf-8?b?4oKs?= price\r\n"
      "From: =?utf-8?q?Z=C3=BC?= <z@example.test>\r\nDate:  Sun, 22 Nov 2026 10:00:00 +0000 \r\n"
      "Subject: second\r\n\r\nSubject: in the body\r\n");
  CHECK(facts.subject == "café€ price");
  CHECK(facts.from_header == "Zü <z@example.test>");
  CHECK(facts.date == "Sun, 22 Nov 2026 10:00:00 +0000");
  const auto none = api::header_facts("X: y\r\n\r\nbody");
  CHECK(none.subject.empty());
  CHECK(none.date.empty());
}

TEST_CASE("the MIME view: body parts, attachments, forwarded messages", "[api]") {
  const std::string raw =
      "From: a@example.test\r\nSubject: nested\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\npreamble\r\n"
      "--m\r\nContent-Type: multipart/related; boundary=r\r\n\r\n"
      "--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hi <img src=\"cid:i\"></p>\r\n"
      "--r\r\nContent-Type: image/png\r\nContent-ID: <i>\r\nContent-Transfer-Encoding: "
      "base64\r\n\r\n"
      "iVBORw0K\r\n--r--\r\n"
      "--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nfooter text\r\n"
      "--m\r\nContent-Type: text/plain; name=notes.txt\r\nContent-Disposition: attachment\r\n\r\n"
      "notes\r\n"
      "--m\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; "
      "filename=fwd.eml\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
      "--m--\r\n";
  const auto view = api::view_message(raw);
  REQUIRE(view.headers.size() == 4);
  CHECK(view.headers[1] == std::pair<std::string, std::string>("Subject", "nested"));
  CHECK(view.html == "<p>hi <img src=\"cid:i\"></p>");
  CHECK(view.text == "footer text");
  REQUIRE(view.attachments.size() == 3);
  CHECK(view.attachments[0].content_type == "image/png");
  CHECK(view.attachments[0].filename.empty());
  CHECK(view.attachments[0].data == std::string("\x89PNG\r\n", 6));
  CHECK(view.attachments[1].filename == "notes.txt");
  CHECK(view.attachments[1].content_type == "text/plain");
  CHECK(view.attachments[1].data == "notes");
  CHECK(view.attachments[2].filename == "fwd.eml");
  CHECK(view.attachments[2].content_type == "message/rfc822");
  CHECK(view.attachments[2].data.find("inner body") != std::string::npos);
}

TEST_CASE("the MIME view never fails on broken or odd messages", "[api]") {
  for (const std::string& raw :
       {std::string(), std::string("no header at all"), std::string("\r\n\r\n"),
        std::string("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nunterminated"),
        std::string("Content-Type: text/plain; charset=no-such-charset\r\n\r\n\xff\xfe text"),
        std::string("Subject: \xff\xfe raw 8-bit\r\n\r\nbody"),
        std::string("Content-Type: multipart/mixed\r\n\r\nno boundary"),
        std::string("Subject: nul\0inside\r\n\r\nbody", 28)}) {
    INFO(raw);
    const auto view = api::view_message(raw);
    CHECK((view.text || view.html || !view.attachments.empty() || raw.empty() ||
           !view.headers.empty()));
  }
  // A deeply nested message stops at the depth limit instead of recursing without end.
  std::string deep;
  for (int i = 0; i < 200; ++i)
    deep += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" +
            std::to_string(i) + "\r\n";
  deep += "Content-Type: text/plain\r\n\r\ndeep\r\n";
  CHECK_NOTHROW(api::view_message(deep));
}
