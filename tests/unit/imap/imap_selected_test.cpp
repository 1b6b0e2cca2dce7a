// Selected state: SELECT/EXAMINE, STORE, COPY, MOVE, EXPUNGE, CLOSE, the sequence-number
// bookkeeping across sessions, IDLE with take_pending_updates(), APPEND and SEARCH.
#include <catch2/catch.hpp>

#include "tests/unit/imap/imap_harness.hpp"

using namespace imap_test;

namespace {
std::string select_reply(World& world, std::string_view tag, int exists, int recent, int unseen) {
  std::string s =
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
      "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags "
      "permitted\r\n* " +
      std::to_string(exists) + " EXISTS\r\n* " + std::to_string(recent) + " RECENT\r\n";
  if (unseen) s += "* OK [UNSEEN " + std::to_string(unseen) + "] First unseen message\r\n";
  return s + "* OK [UIDVALIDITY " + world.uidvalidity() + "] UIDs valid\r\n* OK [UIDNEXT " +
         std::to_string(world.inbox().uid_next()) + "] Predicted next UID\r\n" + std::string(tag) +
         " OK [READ-WRITE] SELECT completed\r\n";
}

void four_messages(World& world) {
  for (const auto* raw : {&kPlain, &kAlternative, &kForward, &kPlain}) world.deliver(*raw);
}

const std::string kLoggedIn = " OK [CAPABILITY " + std::string(kCaps) + "] Logged in\r\n";
}  // namespace

TEST_CASE("imap: a second session sees another's expunge and a new delivery", "[imap][view]") {
  World world;
  four_messages(world);
  Client a(world, world.port993, true);
  Client b(world, world.port993, true);
  CHECK(a.send("a1 LOGIN alice secret\r\na2 SELECT INBOX\r\n") ==
        "a1" + kLoggedIn + select_reply(world, "a2", 4, 4, 1));
  // \Recent went to the first session: the second sees none.
  CHECK(b.send("b1 LOGIN alice secret\r\nb2 SELECT INBOX\r\n") ==
        "b1" + kLoggedIn + select_reply(world, "b2", 4, 0, 1));
  CHECK(a.send("a3 STORE 2:3 +FLAGS (\\Deleted)\r\na4 EXPUNGE\r\n") ==
        "* 2 FETCH (FLAGS (\\Deleted \\Recent))\r\n* 3 FETCH (FLAGS (\\Deleted \\Recent))\r\n"
        "a3 OK STORE completed\r\n* 3 EXPUNGE\r\n* 2 EXPUNGE\r\na4 OK EXPUNGE completed\r\n");
  world.deliver(kPlain);
  // No EXPUNGE during FETCH (RFC 3501 7.4.1): the expunged messages keep their numbers, show
  // nothing, and the new one counts on top of them.
  CHECK(b.send("b3 FETCH 1:* FLAGS\r\n") ==
        "* 1 FETCH (FLAGS ())\r\n* 4 FETCH (FLAGS ())\r\n* 5 EXISTS\r\n* 1 RECENT\r\n"
        "b3 OK FETCH completed\r\n");
  CHECK(b.send("b4 NOOP\r\n") == "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\nb4 OK NOOP completed\r\n");
  CHECK(b.send("b5 UID SEARCH ALL\r\nb6 SEARCH ALL\r\n") ==
        "* SEARCH 1 4 5\r\nb5 OK UID SEARCH completed\r\n* SEARCH 1 2 3\r\nb6 OK SEARCH "
        "completed\r\n");
  CHECK(a.send("a5 NOOP\r\n") == "* 3 EXISTS\r\n* 2 RECENT\r\na5 OK NOOP completed\r\n");
  // A flag change by one session reaches the other at its next command.
  CHECK(a.send("a6 STORE 1 +FLAGS.SILENT (\\Answered $Label1)\r\n") == "a6 OK STORE completed\r\n");
  CHECK(b.send("b7 CHECK\r\n") ==
        "* 1 FETCH (FLAGS (\\Answered $Label1))\r\nb7 OK CHECK completed\r\n");
}

TEST_CASE("imap: IDLE reports deliveries and expunges through take_pending_updates",
          "[imap][view][idle]") {
  World world;
  four_messages(world);
  Client a(world, world.port993, true);
  Client b(world, world.port993, true);
  a.send("a1 LOGIN alice secret\r\na2 SELECT INBOX\r\n");
  b.send("b1 LOGIN alice secret\r\nb2 SELECT INBOX\r\n");
  CHECK_FALSE(b.session.wants_async_updates());
  CHECK(b.send("b3 IDLE\r\n") == "+ idling\r\n");
  CHECK(b.session.wants_async_updates());
  CHECK(b.updates().empty());
  world.deliver(kForward);
  CHECK(b.updates() == "* 5 EXISTS\r\n* 1 RECENT\r\n");
  CHECK(a.send("a3 MOVE 2 Trash\r\n") ==
        "* OK [COPYUID " +
            std::to_string(world.store.account(kAlice).find("Trash")->uid_validity()) +
            " 2 1] Moved\r\n* 2 EXPUNGE\r\n* 4 EXISTS\r\n* 3 RECENT\r\na3 OK MOVE completed\r\n");
  CHECK(b.updates() == "* 2 EXPUNGE\r\n");
  CHECK(a.send("a4 STORE 1 +FLAGS (\\Flagged)\r\n") ==
        "* 1 FETCH (FLAGS (\\Flagged \\Recent))\r\na4 OK STORE completed\r\n");
  CHECK(b.updates() == "* 1 FETCH (FLAGS (\\Flagged))\r\n");
  CHECK(b.send("DONE\r\n") == "b3 OK IDLE terminated\r\n");
  CHECK_FALSE(b.session.wants_async_updates());
  CHECK(b.send("b4 IDLE\r\nNOPE\r\n") == "+ idling\r\nb4 BAD Expected DONE to end IDLE\r\n");
  // Not idling: nothing is taken, updates wait for the next command.
  world.deliver(kPlain);
  CHECK(b.updates().empty());
  CHECK(b.send("b5 NOOP\r\n") == "* 5 EXISTS\r\n* 2 RECENT\r\nb5 OK NOOP completed\r\n");
}

TEST_CASE("imap: STORE, COPY, UID EXPUNGE, CLOSE, EXAMINE", "[imap][view]") {
  World world;
  four_messages(world);
  Client c(world, world.port993, true);
  c.send("a1 LOGIN alice secret\r\na2 SELECT INBOX\r\n");
  const auto sent = std::to_string(world.store.account(kAlice).find("Sent")->uid_validity());
  CHECK(c.send("s1 UID STORE 1:2 FLAGS (\\Seen \\Deleted)\r\n") ==
        "* 1 FETCH (UID 1 FLAGS (\\Seen \\Deleted \\Recent))\r\n"
        "* 2 FETCH (UID 2 FLAGS (\\Seen \\Deleted \\Recent))\r\ns1 OK UID STORE completed\r\n");
  CHECK(c.send("s2 STORE 2 -FLAGS \\Seen\r\n") ==
        "* 2 FETCH (FLAGS (\\Deleted \\Recent))\r\ns2 OK STORE completed\r\n");
  CHECK(c.send("s3 STORE 1 FLAGS (\\Recent)\r\n") ==
        "* 1 FETCH (FLAGS (\\Recent))\r\ns3 OK STORE completed\r\n");
  CHECK(c.send("s4 STORE 1 +FLAGS (\\Bogus)\r\n") == "s4 BAD Unknown system flag\r\n");
  CHECK(c.send("s5 STORE 1 XFLAGS (\\Seen)\r\n") ==
        "s5 BAD Syntax: STORE set [+|-]FLAGS[.SILENT] (flags)\r\n");
  CHECK(c.send("c1 COPY 1:3 Sent\r\n") ==
        "c1 OK [COPYUID " + sent + " 1:3 1:3] COPY completed\r\n");
  CHECK(c.send("c2 UID COPY 4 Nowhere\r\n") == "c2 NO [TRYCREATE] Mailbox does not exist\r\n");
  CHECK(c.send("c3 COPY 4 INBOX\r\n") == "* 5 EXISTS\r\n* 5 RECENT\r\nc3 OK [COPYUID " +
                                             world.uidvalidity() + " 4 5] COPY completed\r\n");
  CHECK(c.send("e1 UID EXPUNGE 1\r\n") == "e1 OK UID EXPUNGE completed\r\n");
  CHECK(c.send("e2 UID EXPUNGE 1:3\r\n") == "* 2 EXPUNGE\r\ne2 OK UID EXPUNGE completed\r\n");
  CHECK(c.send("e3 STORE 1 +FLAGS.SILENT (\\Deleted)\r\ne4 CLOSE\r\ne5 FETCH 1 FLAGS\r\n") ==
        "e3 OK STORE completed\r\ne4 OK CLOSE completed\r\ne5 BAD Select a mailbox first\r\n");
  CHECK(world.inbox().entries().size() == 3);
  CHECK(c.send("x1 EXAMINE Sent\r\n") ==
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
        "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n* 3 EXISTS\r\n* 3 RECENT\r\n"
        "* OK [UNSEEN 1] First unseen message\r\n* OK [UIDVALIDITY " +
            sent +
            "] UIDs valid\r\n* OK [UIDNEXT 4] Predicted next UID\r\n"
            "x1 OK [READ-ONLY] EXAMINE completed\r\n");
  CHECK(c.send("x2 STORE 1 +FLAGS (\\Seen)\r\nx3 EXPUNGE\r\nx4 FETCH 2 BODY[TEXT]<0.5>\r\n"
               "x5 UNSELECT\r\n") ==
        "x2 NO [READ-ONLY] Mailbox is read-only\r\nx3 NO [READ-ONLY] Mailbox is read-only\r\n"
        "* 2 FETCH (BODY[TEXT]<0> {5}\r\npream)\r\nx4 OK FETCH completed\r\n"
        "x5 OK UNSELECT completed\r\n");
  CHECK(c.send("x6 SELECT Nope\r\n") == "x6 NO [NONEXISTENT] Mailbox does not exist\r\n");
}

TEST_CASE("imap: APPEND with synchronising and non-synchronising literals", "[imap][append]") {
  World world;
  Client c(world, world.port993, true);
  c.send("a1 LOGIN alice secret\r\n");
  const auto drafts = std::to_string(world.store.account(kAlice).find("Drafts")->uid_validity());
  CHECK(c.send("p1 APPEND Drafts (\\Draft $Work) \"05-Mar-2024 10:00:00 +0100\" {5}\r\n") ==
        "+ Ready for literal data\r\n");
  CHECK(c.send("hello\r\n") == "p1 OK [APPENDUID " + drafts + " 1] APPEND completed\r\n");
  CHECK(c.send("p2 APPEND Drafts {7+}\r\nsecond!\r\n") ==
        "p2 OK [APPENDUID " + drafts + " 2] APPEND completed\r\n");
  CHECK(c.send("p3 APPEND Nope {1+}\r\nx\r\n") == "p3 NO [TRYCREATE] Mailbox does not exist\r\n");
  CHECK(c.send("p4 APPEND Drafts \"bad date\" {1+}\r\nx\r\n") == "p4 BAD Invalid date-time\r\n");
  CHECK(
      c.send("p5 STATUS Drafts (MESSAGES RECENT UIDNEXT UNSEEN)\r\n") ==
      "* STATUS \"Drafts\" (MESSAGES 2 RECENT 2 UIDNEXT 3 UNSEEN 2)\r\np5 OK STATUS completed\r\n");
  CHECK(c.send("p6 SELECT Drafts\r\np7 FETCH 1 (FLAGS INTERNALDATE BODY[])\r\n")
            .ends_with("* 1 FETCH (FLAGS (\\Seen \\Draft $Work \\Recent) INTERNALDATE "
                       "\"05-Mar-2024 09:00:00 +0000\" "
                       "BODY[] {5}\r\nhello)\r\np7 OK FETCH completed\r\n"));
  // APPEND into the selected mailbox is reported with EXISTS before the tagged reply.
  CHECK(c.send("p8 APPEND Drafts {2+}\r\nhi\r\n") ==
        "* 3 EXISTS\r\n* 3 RECENT\r\np8 OK [APPENDUID " + drafts + " 3] APPEND completed\r\n");
  CHECK(world.store.messages().size() == 3);
}

TEST_CASE("imap: an oversized literal is refused before its bytes are read", "[imap][append]") {
  World world;
  ImapPolicy policy = world.port993;
  policy.max_literal_size = 10;
  Client c(world, policy, true);
  c.send("a1 LOGIN alice secret\r\n");
  CHECK(c.send("p1 APPEND INBOX {11}\r\n") ==
        "p1 NO [TOOBIG] Literal of 11 octets is over the limit\r\n");
  // The bytes of a refused {n+} literal are swallowed, never run, however command-like.
  CHECK(c.send("p2 APPEND INBOX {12+}\r\np3 LOGOUT\r\n\r\np4 NOOP\r\n") ==
        "p2 NO [TOOBIG] Literal of 12 octets is over the limit\r\np4 OK NOOP completed\r\n");
  CHECK(c.action == Action::none);
  CHECK(world.inbox().entries().empty());
}

TEST_CASE("imap: SEARCH keys", "[imap][search]") {
  World world;
  four_messages(world);
  Client c(world, world.port993, true);
  c.send("a1 LOGIN alice secret\r\na2 SELECT INBOX\r\na3 STORE 2 +FLAGS.SILENT (\\Seen $X)\r\n");
  const std::pair<std::string, std::string> cases[] = {
      {"ALL", "1 2 3 4"},
      {"FROM bob", "1 2 4"},
      {"from CAROL", "3"},
      {"SUBJECT \"ALT\"", "2"},
      {"OR SUBJECT alt SUBJECT fwd", "2 3"},
      {"NOT SEEN", "1 3 4"},
      {"UNSEEN KEYWORD $x", ""},
      {"SEEN KEYWORD $X", "2"},
      {"UNKEYWORD $X", "1 3 4"},
      {"(SEEN) (FROM bob)", "2"},
      {"BODY \"inner body\"", "3"},
      {"TEXT boundary=b1", "3"},
      {"HEADER Message-ID <1@example", "1 4"},
      {"HEADER Content-Type \"\"", "2 3"},
      {"LARGER 300", "2"},
      {"SMALLER 200", "1 4"},
      {"2:3", "2 3"},
      {"UID 3:*", "3 4"},
      {"SINCE 5-Mar-2024", "1 2 3 4"},
      {"BEFORE 5-Mar-2024", ""},
      {"ON 5-Mar-2024", "1 2 3 4"},
      {"SENTON 7-Feb-1994", "1 4"},
      {"SENTBEFORE 1-Jan-2000", "1 4"},
      {"RECENT", "1 2 3 4"},
      {"NEW", "1 3 4"},
      {"OLD", ""},
      {"CHARSET UTF-8 DELETED", ""},
  };
  for (const auto& [criteria, result] : cases) {
    INFO(criteria);
    CHECK(c.send("s1 SEARCH " + criteria + "\r\n") ==
          "* SEARCH" + (result.empty() ? "" : " " + result) + "\r\ns1 OK SEARCH completed\r\n");
  }
  CHECK(c.send("s2 SEARCH CHARSET ISO-2022-JP ALL\r\n") ==
        "s2 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset\r\n");
  CHECK(c.send("s3 SEARCH FOO\r\n") == "s3 BAD Unknown search key\r\n");
  CHECK(c.send("s4 SEARCH SINCE yesterday\r\n") == "s4 BAD Invalid date\r\n");
  CHECK(c.send("s5 SEARCH OR SEEN\r\n") == "s5 BAD Missing search key\r\n");
}

TEST_CASE("imap: selected-state transcript is the same at every byte split",
          "[imap][view][split]") {
  check_every_split(four_messages, true,
                    {"a1 LOGIN alice secret\r\na2 SELECT INBOX\r\n",
                     "a3 STORE 1:2 +FLAGS (\\Deleted)\r\na4 EXPUNGE\r\n",
                     "a5 APPEND INBOX (\\Seen) {5}\r\n", "hello\r\na6 APPEND INBOX {3+}\r\nabc\r\n",
                     "a7 UID SEARCH NOT DELETED\r\na8 IDLE\r\nDONE\r\na9 LOGOUT\r\n"});
}
