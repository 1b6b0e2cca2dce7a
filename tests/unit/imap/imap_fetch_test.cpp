// FETCH: ENVELOPE and BODYSTRUCTURE from GMime (multipart/alternative with an attachment, an
// attached message/rfc822), sections, partial fetches, \Seen on non-PEEK fetches.
#include <catch2/catch.hpp>

#include "tests/unit/imap/imap_harness.hpp"

using namespace imap_test;

namespace {
void setup(World& world) {
  world.deliver(kPlain);
  world.deliver(kAlternative);
  world.deliver(kForward);
}

const std::string kLogin = "a1 LOGIN alice secret\r\na2 SELECT INBOX\r\n";

std::string logged_in(Client& c) { return c.send(kLogin); }

const std::string kBob = "((\"Bob\" NIL \"bob\" \"example.test\"))";
const std::string kAliceAddress = "((NIL NIL \"alice\" \"example.test\"))";
}  // namespace

TEST_CASE("imap fetch: ENVELOPE and BODYSTRUCTURE", "[imap][fetch]") {
  World world;
  setup(world);
  Client c(world, world.port993, true);
  logged_in(c);
  CHECK(c.send("f1 FETCH 1 (UID RFC822.SIZE ENVELOPE BODYSTRUCTURE)\r\n") ==
        "* 1 FETCH (UID 1 RFC822.SIZE " + std::to_string(kPlain.size()) +
            " ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"one\" " + kBob + " " + kBob + " " +
            kBob + " " + kAliceAddress +
            " NIL NIL NIL \"<1@example.test>\") BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" "
            "\"US-ASCII\") NIL NIL \"7BIT\" 28 2 NIL NIL NIL NIL))\r\nf1 OK FETCH completed\r\n");
  CHECK(
      c.send("f2 FETCH 2 BODYSTRUCTURE\r\n") ==
      "* 2 FETCH (BODYSTRUCTURE (((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 10 "
      "1 NIL NIL NIL NIL)(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 11 1 NIL NIL "
      "NIL NIL) \"ALTERNATIVE\" (\"BOUNDARY\" \"inner\") NIL NIL NIL)(\"APPLICATION\" \"PDF\" "
      "(\"NAME\" \"a.pdf\") NIL NIL \"BASE64\" 8 NIL (\"ATTACHMENT\" (\"FILENAME\" \"a.pdf\")) "
      "NIL NIL) \"MIXED\" (\"BOUNDARY\" \"outer\") NIL NIL NIL))\r\nf2 OK FETCH completed\r\n");
  const std::string inner_envelope =
      "(NIL \"inner\" ((NIL NIL \"dave\" \"example.test\")) ((NIL NIL \"dave\" \"example.test\")) "
      "((NIL NIL \"dave\" \"example.test\")) NIL NIL NIL NIL NIL)";
  CHECK(
      c.send("f3 FETCH 3 (BODYSTRUCTURE BODY)\r\n") ==
      "* 3 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
      "9 1 NIL NIL NIL NIL)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 53 " +
          inner_envelope +
          " (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 10 1 NIL NIL NIL NIL) "
          "4 NIL NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"b1\") NIL NIL NIL) BODY ((\"TEXT\" "
          "\"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 9 1)(\"MESSAGE\" \"RFC822\" NIL "
          "NIL NIL \"7BIT\" 53 " +
          inner_envelope +
          " (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 10 1) 4) \"MIXED\"))"
          "\r\nf3 OK FETCH completed\r\n");
  CHECK(c.send("f4 FETCH 1 FAST\r\n") ==
        "* 1 FETCH (FLAGS (\\Recent) INTERNALDATE \"05-Mar-2024 00:00:00 +0000\" RFC822.SIZE " +
            std::to_string(kPlain.size()) + ")\r\nf4 OK FETCH completed\r\n");
}

TEST_CASE("imap fetch: sections, partial, PEEK and \\Seen", "[imap][fetch]") {
  World world;
  setup(world);
  Client c(world, world.port993, true);
  logged_in(c);
  CHECK(c.send("f1 FETCH 2 (BODY.PEEK[1.1] BODY.PEEK[1.2.MIME] BODY.PEEK[HEADER.FIELDS (Subject "
               "from)])\r\n") ==
        "* 2 FETCH (BODY[1.1] {10}\r\nplain text BODY[1.2.MIME] {42}\r\nContent-Type: text/html; "
        "charset=utf-8\r\n\r\n BODY[HEADER.FIELDS (Subject from)] {46}\r\nFrom: Bob "
        "<bob@example.test>\r\nSubject: alt\r\n\r\n)\r\nf1 OK FETCH completed\r\n");
  CHECK(c.send("f2 FETCH 3 (BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[2.1] "
               "BODY.PEEK[]<0.10> BODY.PEEK[9] BODY.PEEK[1.1])\r\n") ==
        "* 3 FETCH (BODY[2.HEADER] {43}\r\nFrom: dave@example.test\r\nSubject: inner\r\n\r\n "
        "BODY[2.TEXT] {10}\r\ninner body BODY[2.1] {10}\r\ninner body BODY[]<0> {10}\r\nFrom: caro "
        "BODY[9] NIL BODY[1.1] NIL)\r\nf2 OK FETCH completed\r\n");
  CHECK(c.send("f3 FETCH 1 (FLAGS)\r\n") ==
        "* 1 FETCH (FLAGS (\\Recent))\r\nf3 OK FETCH completed\r\n");
  CHECK(c.send("f4 FETCH 1 BODY[TEXT]<6.5>\r\n") ==
        "* 1 FETCH (BODY[TEXT]<6> {5}\r\nAlice FLAGS (\\Seen \\Recent))\r\nf4 OK FETCH "
        "completed\r\n");
  CHECK(c.send("f5 UID FETCH 1 (FLAGS BODY[HEADER.FIELDS.NOT (From To Date Message-ID)])\r\n") ==
        "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent) BODY[HEADER.FIELDS.NOT (From To Date "
        "Message-ID)] {16}\r\nSubject: one\r\n\r\n)\r\nf5 OK UID FETCH completed\r\n");
  CHECK(c.send("f6 FETCH 1 (RFC822.HEADER RFC822.TEXT)\r\n") ==
        "* 1 FETCH (RFC822.HEADER {138}\r\n" + kPlain.substr(0, 138) + " RFC822.TEXT {28}\r\n" +
            kPlain.substr(138) + ")\r\nf6 OK FETCH completed\r\n");
  CHECK(c.send("f7 FETCH 1 RFC822\r\n") == "* 1 FETCH (RFC822 {" + std::to_string(kPlain.size()) +
                                               "}\r\n" + kPlain + ")\r\nf7 OK FETCH completed\r\n");
  CHECK(c.send("f8 FETCH 5 FLAGS\r\n") == "f8 BAD Message sequence number out of range\r\n");
  CHECK(c.send("f9 FETCH 1 (FLAGS ALL)\r\n") == "f9 BAD Invalid FETCH item\r\n");
  CHECK(c.send("g1 FETCH 1 BODY[HEADER.FIELDS ()]\r\n") == "g1 BAD Invalid FETCH item\r\n");
  CHECK(c.send("g2 UID FETCH 7:* UID\r\n") == "* 3 FETCH (UID 3)\r\ng2 OK UID FETCH completed\r\n");
}

TEST_CASE("imap fetch: the transcript is the same at every byte split", "[imap][fetch][split]") {
  check_every_split(setup, true,
                    {kLogin, "f1 FETCH 2:3 (BODY.PEEK[1] BODYSTRUCTURE)\r\n",
                     "f2 FETCH 1 BODY[]<2.3>\r\nf3 LOGOUT\r\n"});
}

TEST_CASE("imap fetch: ENVELOPE keeps encoded words raw and renders groups", "[imap][fetch]") {
  World world;
  world.deliver(
      "From: =?utf-8?q?J=C3=B6rg?= <j@x.test>, \"Doe, J\" <d@x.test>\r\n"
      "To: undisclosed-recipients:;\r\nCc: team: a@x.test, b@x.test;\r\n"
      "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n folded\r\nIn-Reply-To: <0@x.test>\r\n\r\nbody");
  Client c(world, world.port993, true);
  c.send("a1 LOGIN alice secret\r\na2 SELECT INBOX\r\n");
  const std::string from =
      "((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"x.test\")(\"Doe, J\" NIL \"d\" \"x.test\"))";
  CHECK(c.send("f1 FETCH 1 ENVELOPE\r\n") ==
        "* 1 FETCH (ENVELOPE (NIL \"=?utf-8?q?Gr=C3=BC=C3=9Fe?= folded\" " + from + " " + from +
            " " + from +
            " ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) ((NIL NIL \"team\" "
            "NIL)(NIL NIL \"a\" \"x.test\")(NIL NIL \"b\" \"x.test\")(NIL NIL NIL NIL)) NIL "
            "\"<0@x.test>\" NIL))\r\nf1 OK FETCH completed\r\n");
}
