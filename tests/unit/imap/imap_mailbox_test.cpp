// Authenticated-state mailbox commands: CREATE, DELETE, RENAME, SUBSCRIBE, LIST (with the
// RFC 5258 / RFC 6154 forms), LSUB, STATUS, and UID MOVE between them.
#include <catch2/catch.hpp>

#include "tests/unit/imap/imap_harness.hpp"

using namespace imap_test;

namespace {
const std::string kStandardList =
    "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"
    "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Drafts\"\r\n"
    "* LIST (\\HasNoChildren \\Junk) \"/\" \"Junk\"\r\n"
    "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"\r\n"
    "* LIST (\\HasNoChildren \\Trash) \"/\" \"Trash\"\r\n";
}  // namespace

TEST_CASE("imap: LIST forms", "[imap][mailbox]") {
  World world;
  Client c(world, world.port993, true);
  c.send("a1 LOGIN alice secret\r\n");
  CHECK(c.send("l1 LIST \"\" \"*\"\r\n") == kStandardList + "l1 OK LIST completed\r\n");
  CHECK(c.send("l2 LIST \"\" \"\"\r\n") ==
        "* LIST (\\Noselect) \"/\" \"\"\r\nl2 OK LIST completed\r\n");
  CHECK(c.send("l3 LIST (SPECIAL-USE) \"\" \"*\"\r\n") ==
        kStandardList.substr(kStandardList.find("* LIST (\\HasNoChildren \\Drafts")) +
            "l3 OK LIST completed\r\n");
  CHECK(c.send("l4 LIST \"\" \"inbox\" RETURN (SUBSCRIBED CHILDREN)\r\n") ==
        "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"INBOX\"\r\nl4 OK LIST completed\r\n");
  CHECK(c.send("l5 LIST \"\" (\"Sent\" \"Junk\")\r\n") ==
        "* LIST (\\HasNoChildren \\Junk) \"/\" \"Junk\"\r\n"
        "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"\r\nl5 OK LIST completed\r\n");
  std::string hostile = "l7 LIST \"\" \"";
  for (int i = 0; i < 200; ++i) hostile += "*%";
  CHECK(c.send(hostile + "x\"\r\n") == "l7 OK LIST completed\r\n");
  CHECK(c.send("l8 LIST \"\" \"%r%\"\r\n") ==
        "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Drafts\"\r\n"
        "* LIST (\\HasNoChildren \\Trash) \"/\" \"Trash\"\r\nl8 OK LIST completed\r\n");
  CHECK(c.send("l6 LIST \"\"\r\n") ==
        "l6 BAD Syntax: LIST [(options)] reference pattern [RETURN (options)]\r\n");
}

TEST_CASE("imap: CREATE, RENAME, DELETE, SUBSCRIBE, LSUB, STATUS", "[imap][mailbox]") {
  World world;
  world.deliver(kPlain);
  Client c(world, world.port993, true);
  c.send("a1 LOGIN alice secret\r\n");
  CHECK(c.send("m1 CREATE Projects/2024/\r\n") == "m1 OK CREATE completed\r\n");
  CHECK(c.send("m2 CREATE Projects\r\n") == "m2 NO [ALREADYEXISTS] Mailbox already exists\r\n");
  CHECK(c.send("m3 CREATE \"bad*name\"\r\n") == "m3 NO [CANNOT] Invalid mailbox name\r\n");
  CHECK(c.send("m4 LIST \"\" \"Projects%\"\r\nm5 LIST \"Projects/\" \"%\"\r\n") ==
        "* LIST (\\HasChildren) \"/\" \"Projects\"\r\nm4 OK LIST completed\r\n"
        "* LIST (\\HasNoChildren) \"/\" \"Projects/2024\"\r\nm5 OK LIST completed\r\n");
  CHECK(c.send("m6 RENAME Projects Work\r\nm7 LIST \"\" \"Work*\"\r\n") ==
        "m6 OK RENAME completed\r\n* LIST (\\HasChildren) \"/\" \"Work\"\r\n"
        "* LIST (\\HasNoChildren) \"/\" \"Work/2024\"\r\nm7 OK LIST completed\r\n");
  CHECK(c.send("m8 RENAME Nope Other\r\n") == "m8 NO [NONEXISTENT] Mailbox does not exist\r\n");
  CHECK(c.send("m9 RENAME Work Sent\r\n") == "m9 NO [ALREADYEXISTS] Target mailbox exists\r\n");
  CHECK(c.send("n1 UNSUBSCRIBE Work\r\nn2 LSUB \"\" \"W*\"\r\n") ==
        "n1 OK UNSUBSCRIBE completed\r\n* LSUB () \"/\" \"Work/2024\"\r\nn2 OK LSUB completed\r\n");
  CHECK(c.send("n3 SUBSCRIBE Work\r\nn4 SUBSCRIBE Nope\r\n") ==
        "n3 OK SUBSCRIBE completed\r\nn4 NO [NONEXISTENT] Mailbox does not exist\r\n");
  CHECK(c.send("n5 DELETE Work/2024\r\nn6 DELETE INBOX\r\nn7 DELETE Work/2024\r\n") ==
        "n5 OK DELETE completed\r\nn6 NO [CANNOT] INBOX cannot be deleted\r\n"
        "n7 NO [NONEXISTENT] Mailbox does not exist\r\n");
  CHECK(c.send("s1 STATUS inbox (UIDNEXT MESSAGES unseen)\r\n") ==
        "* STATUS \"INBOX\" (UIDNEXT 2 MESSAGES 1 UNSEEN 1)\r\ns1 OK STATUS completed\r\n");
  CHECK(c.send("s2 STATUS INBOX (SIZE)\r\ns3 STATUS INBOX MESSAGES\r\n") ==
        "s2 BAD Unknown STATUS item\r\ns3 BAD Syntax: STATUS mailbox (items)\r\n");
  // RFC 3501 6.3.5: renaming INBOX moves its messages and leaves it empty.
  CHECK(
      c.send("r1 RENAME INBOX Old\r\nr2 STATUS Old (MESSAGES)\r\nr3 STATUS INBOX (MESSAGES)\r\n") ==
      "r1 OK RENAME completed\r\n* STATUS \"Old\" (MESSAGES 1)\r\nr2 OK STATUS completed\r\n"
      "* STATUS \"INBOX\" (MESSAGES 0)\r\nr3 OK STATUS completed\r\n");
}

TEST_CASE("imap: UID MOVE and DELETE of the selected mailbox", "[imap][mailbox]") {
  World world;
  world.deliver(kPlain);
  world.deliver(kForward);
  Client c(world, world.port993, true);
  c.send("a1 LOGIN alice secret\r\na2 CREATE Archive\r\na3 SELECT INBOX\r\n");
  const auto archive = std::to_string(world.store.account(kAlice).find("Archive")->uid_validity());
  CHECK(c.send("v1 UID MOVE 2 Archive\r\n") ==
        "* OK [COPYUID " + archive + " 2 1] Moved\r\n* 2 EXPUNGE\r\nv1 OK UID MOVE completed\r\n");
  CHECK(c.send("v2 UID MOVE 9 Archive\r\n") == "v2 OK UID MOVE completed\r\n");
  CHECK(c.send("v3 SELECT Archive\r\n").find("* 1 EXISTS\r\n") != std::string::npos);
  CHECK(c.send("v4 DELETE Archive\r\nv5 NOOP\r\nv6 FETCH 1 UID\r\n") ==
        "v4 OK DELETE completed\r\nv5 OK NOOP completed\r\nv6 BAD Select a mailbox first\r\n");
}
