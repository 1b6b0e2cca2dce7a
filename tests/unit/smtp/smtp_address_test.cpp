// RFC 5321 4.1.2 paths, table-driven.
#include <catch2/catch.hpp>

#include "protocols/smtp/smtp_address.hpp"

using sevenport::smtp::next_parameter;
using sevenport::smtp::parse_path;
using sevenport::smtp::Path;

TEST_CASE("paths that parse", "[smtp][address]") {
  struct Row {
    const char* text;
    Path::Kind kind;
    const char* mailbox;
    const char* domain;
    const char* parameters;
  };
  const Row rows[] = {
      {"<>", Path::Kind::null, "", "", ""},
      {"<> SIZE=1", Path::Kind::null, "", "", "SIZE=1"},
      {"<a@b.example>", Path::Kind::mailbox, "a@b.example", "b.example", ""},
      {"<A.B+tag@Sub-1.Example>", Path::Kind::mailbox, "A.B+tag@Sub-1.Example", "Sub-1.Example",
       ""},
      {"<\"john doe\"@example.test>", Path::Kind::mailbox, "\"john doe\"@example.test",
       "example.test", ""},
      {"<\"a\\\"b\"@example.test>", Path::Kind::mailbox, "\"a\\\"b\"@example.test", "example.test",
       ""},
      {"<user@[192.0.2.1]>", Path::Kind::mailbox, "user@[192.0.2.1]", "[192.0.2.1]", ""},
      {"<user@[IPv6:2001:db8::1]>", Path::Kind::mailbox, "user@[IPv6:2001:db8::1]",
       "[IPv6:2001:db8::1]", ""},
      {"<@a.example,@b.example:u@d.example>", Path::Kind::mailbox, "u@d.example", "d.example", ""},
      {"<postmaster>", Path::Kind::postmaster, "postmaster", "", ""},
      {"<PostMaster>  X=1  Y", Path::Kind::postmaster, "PostMaster", "", "X=1  Y"},
      {"<!#$%&'*+-/=?^_`{|}~@x>", Path::Kind::mailbox, "!#$%&'*+-/=?^_`{|}~@x", "x", ""},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    const auto path = parse_path(row.text);
    REQUIRE(path);
    CHECK(path->kind == row.kind);
    CHECK(path->mailbox == row.mailbox);
    CHECK(path->domain == row.domain);
    CHECK(path->parameters == row.parameters);
    CHECK(path->ascii);
  }
}

TEST_CASE("paths that do not parse", "[smtp][address]") {
  for (const char* text : {"",
                           "a@b",
                           "<a@b",
                           "<a@b>x",
                           "<a>",
                           "<@a.example:>",
                           "<@a.example u@d>",
                           "<a..b@c>",
                           "<.a@c>",
                           "<a.@c>",
                           "<a@-b>",
                           "<a@b->",
                           "<a@b..c>",
                           "<a@b.>",
                           "<a@>",
                           "<@b>",
                           "<a b@c>",
                           "<\"unterminated@c>",
                           "<a@[]>",
                           "<a@[1.2\\3]>",
                           "<\"postmaster\">",
                           "<a@b@c>",
                           "<a\x01@b>"}) {
    INFO(text);
    CHECK(!parse_path(text));
  }
}

TEST_CASE("path length limits", "[smtp][address]") {
  CHECK(parse_path("<" + std::string(64, 'a') + "@b>"));
  CHECK(!parse_path("<" + std::string(65, 'a') + "@b>"));
  std::string domain;
  while (domain.size() < 250) domain += "abcdefghi.";
  domain += "xyzzz";
  CHECK(domain.size() == 255);
  CHECK(parse_path("<a@" + domain + ">"));
  CHECK(!parse_path("<a@x" + domain + ">"));
}

TEST_CASE("UTF-8 addresses are flagged", "[smtp][address]") {
  const auto path = parse_path(
      "<j\xc3\xb6rg@b\xc3\xbc"
      "cher.example>");
  REQUIRE(path);
  CHECK(!path->ascii);
}

TEST_CASE("ESMTP parameters", "[smtp][address]") {
  std::string_view rest = "  SIZE=10 SMTPUTF8 BODY= ";
  auto p = next_parameter(rest);
  REQUIRE(p);
  CHECK(p->keyword == "SIZE");
  CHECK(p->value == "10");
  p = next_parameter(rest);
  REQUIRE(p);
  CHECK(p->keyword == "SMTPUTF8");
  CHECK(!p->value);
  p = next_parameter(rest);
  REQUIRE(p);
  CHECK(p->keyword == "BODY");
  CHECK(p->value == "");
  CHECK(!next_parameter(rest));
}
