// The command reader and the argument parsers: atoms, quoted strings, literals (synchronising and
// LITERAL+), lists, sequence sets, fetch sections, limits and every error.
#include <catch2/catch.hpp>

#include "protocols/imap/imap_parser.hpp"

using namespace sevenport::imap;
using Kind = CommandReader::Kind;

namespace {
// Parses one command written as it would be reassembled by the reader.
ParseResult parse(std::string& text) { return parse_command(text); }
}  // namespace

TEST_CASE("imap parser: tag, name, atoms, quoted strings and lists", "[imap][parser]") {
  std::string text = R"(a1 LIST "" "a \"quoted\\ name" (x (y z) NIL) \Seen)";
  auto r = parse(text);
  REQUIRE(r.command);
  CHECK(r.command->tag == "a1");
  CHECK(r.command->name == "LIST");
  const auto& args = r.command->args;
  REQUIRE(args.size() == 4);
  CHECK(args[0].kind == Token::Kind::quoted);
  CHECK(args[0].text.empty());
  CHECK(args[1].text == "a \"quoted\\ name");
  REQUIRE(args[2].kind == Token::Kind::list);
  REQUIRE(args[2].items.size() == 3);
  CHECK(args[2].items[1].items.size() == 2);
  CHECK(args[2].items[1].items[1].text == "z");
  CHECK(args[2].items[2].is_nil());
  CHECK(args[3].text == "\\Seen");
}

TEST_CASE("imap parser: fetch sections are one atom, spaces and all", "[imap][parser]") {
  std::string text = "7 FETCH 1:* (BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100> UID)";
  auto r = parse(text);
  REQUIRE(r.command);
  REQUIRE(r.command->args.size() == 2);
  REQUIRE(r.command->args[1].items.size() == 2);
  const auto atom = r.command->args[1].items[0].text;
  CHECK(atom == "BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100>");
  const auto a = parse_fetch_attribute(atom);
  REQUIRE(a);
  CHECK(a->peek);
  CHECK(a->kind == FetchAttribute::Kind::body_section);
  CHECK(a->section.path == std::vector<std::uint32_t>{1, 2});
  CHECK(a->section.text == Section::Text::header_fields);
  CHECK(a->section.fields == std::vector<std::string>{"From", "To"});
  CHECK(a->section.spelling() == "1.2.HEADER.FIELDS (From To)");
  REQUIRE(a->partial);
  CHECK(a->partial->first == 0);
  CHECK(a->partial->second == 100);
}

TEST_CASE("imap parser: fetch attributes, good and bad", "[imap][parser]") {
  for (const auto* good : {"FLAGS", "uid", "BODY[]", "BODY[TEXT]", "BODY[1]", "BODY[1.MIME]",
                           "BODY[2.HEADER]", "BODY[HEADER.FIELDS.NOT (X-A)]", "RFC822.SIZE",
                           "BODY[]<5.10>", "BODYSTRUCTURE", "ENVELOPE"}) {
    INFO(good);
    CHECK(parse_fetch_attribute(good));
  }
  for (const auto* bad :
       {"BODY[MIME]", "BODY[0]", "BODY[1.]", "BODY[HEADER.FIELDS ()]", "BODY[]<5>", "BODY[]<5.0>",
        "BODY[TEXT", "BODY[FOO]", "RFC822.FOO", "BODY[HEADER.FIELDS From]"}) {
    INFO(bad);
    CHECK_FALSE(parse_fetch_attribute(bad));
  }
}

TEST_CASE("imap parser: sequence sets", "[imap][parser]") {
  auto set = parse_sequence_set("1:*,3,5:7");
  REQUIRE(set);
  CHECK(set->ranges.size() == 3);
  CHECK(set->contains(9, 9));
  set = parse_sequence_set("5:7,10");
  REQUIRE(set);
  CHECK(set->contains(6, 20));
  CHECK_FALSE(set->contains(8, 20));
  CHECK(parse_sequence_set("*:4")->contains(5, 5));
  CHECK(parse_sequence_set("9:*")->contains(4, 4));  // reversed ranges hold (RFC 3501 9)
  for (const auto* bad : {"", "0", "1:0", "1,", ",1", "a", "1:2:3", "01", "1::2", "-1"}) {
    INFO(bad);
    CHECK_FALSE(parse_sequence_set(bad));
  }
}

TEST_CASE("imap parser: every syntax error has a clear text and keeps the tag", "[imap][parser]") {
  const std::pair<std::string, std::string> cases[] = {
      {"a1 LOGIN \"unterminated", "Unterminated quoted string"},
      {"a1 LOGIN \"bad\\escape\"", "Invalid escape in a quoted string"},
      {"a1 LIST (a (b)", "Missing \")\""},
      {"a1 LIST a)", "Expected a space between arguments"},
      {"a1 LIST )", "Unexpected \")\""},
      {"a1 FETCH 1 BODY[TEXT", "Missing \"]\""},
      {"a1 LIST \"\"\"\"", "Expected a space between arguments"},
      {"a1 LOGIN {5}", "Literal must end its line"},
      {"a1 LOGIN a\x01", "Invalid character in an atom"},
      {"a1", "Missing command"},
      {"a1 FE%CH", "Invalid command name"},
      {"a1 LIST " + std::string(20, '(') + std::string(20, ')'), "Lists nested too deeply"},
  };
  for (auto [text, error] : cases) {
    INFO(text);
    auto r = parse(text);
    CHECK_FALSE(r.command);
    CHECK(r.tag == "a1");
    CHECK(r.error == error);
  }
  std::string untagged = "* LOGIN a b";
  CHECK(parse(untagged).tag == "*");
  std::string empty;
  CHECK(parse(empty).error == "Empty command");
}

TEST_CASE("imap reader: synchronising literal asks for continuation", "[imap][parser]") {
  ImapPolicy policy;
  CommandReader reader(policy);
  reader.feed("a1 LOGIN {5}\r\n");
  CHECK(reader.next().kind == Kind::continuation);
  CHECK(reader.next().kind == Kind::need_more);
  reader.feed("alice {6+}\r\nsecret\r\nb1 NOOP\r\n");
  auto item = reader.next();
  REQUIRE(item.kind == Kind::command);
  CHECK(item.text == "a1 LOGIN {5}\r\nalice {6+}\r\nsecret");
  auto r = parse_command(reader.command_text());
  REQUIRE(r.command);
  CHECK(r.command->args[0].kind == Token::Kind::literal);
  CHECK(r.command->args[0].text == "alice");
  CHECK(r.command->args[1].text == "secret");
  item = reader.next();
  REQUIRE(item.kind == Kind::command);
  CHECK(item.text == "b1 NOOP");
  CHECK(reader.next().kind == Kind::need_more);
}

TEST_CASE("imap reader: literal bytes are never read as commands", "[imap][parser]") {
  ImapPolicy policy;
  CommandReader reader(policy);
  reader.feed("a1 LOGIN {12+}\r\nb2 LOGOUT\r\n x\r\n");
  const auto item = reader.next();
  REQUIRE(item.kind == Kind::command);
  CHECK(item.text == "a1 LOGIN {12+}\r\nb2 LOGOUT\r\n x");
}

TEST_CASE("imap reader: oversized literals are refused before reading them", "[imap][parser]") {
  ImapPolicy policy;
  policy.max_line_length = 100;
  policy.max_literal_size = 1000;
  CommandReader reader(policy);
  SECTION("synchronising: refused at once, the client sends nothing more") {
    reader.feed("a1 APPEND INBOX {1001}\r\nb1 NOOP\r\n");
    auto item = reader.next();
    REQUIRE(item.kind == Kind::literal_refused);
    CHECK(item.tag == "a1");
    CHECK(item.size == 1001);
    CHECK(reader.next().text == "b1 NOOP");
  }
  SECTION("non-synchronising: exactly n bytes are swallowed") {
    const std::string input =
        "a1 APPEND INBOX {1001+}\r\n" + std::string(1001, 'x') + "\r\nb1 NOOP\r\n";
    reader.feed(input);
    auto item = reader.next();
    REQUIRE(item.kind == Kind::literal_refused);
    CHECK(item.tag == "a1");
    CHECK(reader.next().text == "b1 NOOP");
  }
  SECTION("non-APPEND literals are held to the line limit") {
    reader.feed("a1 LOGIN {101}\r\n");
    CHECK(reader.next().kind == Kind::literal_refused);
    reader.feed("a1 LOGIN {100}\r\n");
    CHECK(reader.next().kind == Kind::continuation);
  }
}

TEST_CASE("imap reader: over-long lines are discarded through their end", "[imap][parser]") {
  ImapPolicy policy;
  policy.max_line_length = 20;
  CommandReader reader(policy);
  const std::string input = "a1 " + std::string(30, 'x') + "\r\nb1 NOOP\r\n";
  reader.feed(input);
  CHECK(reader.next().kind == Kind::too_long);
  CHECK(reader.next().text == "b1 NOOP");
}

TEST_CASE("imap reader: raw lines for IDLE and SASL", "[imap][parser]") {
  ImapPolicy policy;
  CommandReader reader(policy);
  reader.feed("DONE {5}\r\n");
  const auto item = reader.next(true);
  CHECK(item.kind == Kind::line);
  CHECK(item.text == "DONE {5}");
}
