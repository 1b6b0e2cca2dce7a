// Bugs fuzzing found (fuzz/fuzz_imap.cpp; the inputs are fuzz/corpus/imap/regression-*), each
// pinned here as a transcript.
#include <catch2/catch.hpp>

#include "tests/unit/imap/imap_harness.hpp"

using namespace imap_test;

namespace {

// A logged-in session on the implicit-TLS listener with one message in INBOX.
struct Selected {
  World world;
  Client client{world, world.port993, true};
  Selected() {
    world.deliver(kPlain);
    client.send("a LOGIN alice secret\r\nb SELECT INBOX\r\n");
  }
};

}  // namespace

TEST_CASE("imap: 8-bit bytes and NUL are not atom characters", "[imap][fuzz]") {
  Selected s;
  // RFC 3501 9: ATOM-CHAR is 7-bit; a keyword with 0x80 was kept and echoed in every FLAGS list.
  CHECK(s.client.send(std::string("c STORE 1 +FLAGS (x\x80y)\r\n")) ==
        "c BAD Invalid character in an atom\r\n");
  CHECK(s.client.send(std::string("d FETCH 1 BODY[HEADER.FIELDS (X\0Y)]\r\n", 37)) ==
        "d BAD Invalid character in an atom\r\n");
  CHECK(s.client.send(std::string("e FETCH 1 BODY[HEADER.FIELDS (\xc3\xa9)]\r\n")) ==
        "e BAD Invalid character in an atom\r\n");
  // Still fine: plain keywords and 7-bit field names.
  CHECK(s.client.send("f STORE 1 FLAGS (Work)\r\n") ==
        "* 1 FETCH (FLAGS (Work \\Recent))\r\nf OK STORE completed\r\n");
}

TEST_CASE("imap: a keyword is an atom without \"]\"", "[imap][fuzz]") {
  Selected s;
  CHECK(s.client.send("c STORE 1 +FLAGS (x[a])\r\n") == "c BAD Invalid flag\r\n");
  CHECK(s.client.send("d APPEND INBOX (x]) {2+}\r\nhi\r\n") == "d BAD Invalid flag\r\n");
  CHECK(s.client.send("e STORE 1 +FLAGS ($Label1)\r\n") ==
        "* 1 FETCH (FLAGS ($Label1 \\Recent))\r\ne OK STORE completed\r\n");
}

TEST_CASE("imap: APPEND dates outside what a time point holds are refused", "[imap][fuzz]") {
  Selected s;
  // 1500 and 2300 overflowed system_clock's nanoseconds (undefined behaviour).
  for (const char* date : {"01-Jan-1500 00:00:00 +0000", "01-Jan-2300 00:00:00 +0000"}) {
    const auto reply = s.client.send(std::string("c APPEND INBOX \"") + date + "\" {2+}\r\nhi\r\n");
    CHECK(reply.rfind("c BAD ", 0) == 0);
  }
  const auto ok = s.client.send("d APPEND INBOX \"01-Jan-2001 00:00:00 +0000\" {2+}\r\nhi\r\n");
  CHECK(ok.find("d OK [APPENDUID ") != std::string::npos);
}
