// Hostile and random input: the session must neither crash nor stop answering. Commands built
// from real fragments are cut, mutated and fed in random pieces (a deterministic seed, so a
// failure reproduces).
#include <catch2/catch.hpp>

#include <random>

#include "tests/unit/imap/imap_harness.hpp"

using namespace imap_test;

TEST_CASE("imap: random mutations of real commands never break the session", "[imap][robust]") {
  static const char* const fragments[] = {
      "a LOGIN alice secret\r\n",
      "b SELECT INBOX\r\n",
      "c FETCH 1:* (FLAGS BODY.PEEK[1.2.MIME])\r\n",
      "d FETCH 2 BODY[HEADER.FIELDS (From)]<1.5>\r\n",
      "e STORE 1:* +FLAGS (\\Deleted)\r\n",
      "f EXPUNGE\r\n",
      "g APPEND INBOX {5+}\r\nhello\r\n",
      "h SEARCH OR (FROM a) NOT 1:*\r\n",
      "i UID MOVE 1:* Trash\r\n",
      "j IDLE\r\n",
      "DONE\r\n",
      "k LIST \"\" \"*\"\r\n",
      "l AUTHENTICATE PLAIN\r\n",
      "m APPEND INBOX {3}\r\n",
      "abc\r\n",
      "n COPY 1 Sent\r\n",
      "o FETCH 1 (BODYSTRUCTURE ENVELOPE BODY[])\r\n",
      "p UID FETCH 1:* FAST\r\n",
      "q LOGIN {5}\r\n",
      "(((\r\n",
      "\"\\\r\n",
      "{99999999999}\r\n",
      "r CLOSE\r\n",
  };
  std::mt19937 rng(20240305);
  for (int round = 0; round < 300; ++round) {
    World world;
    world.deliver(kPlain);
    world.deliver(kAlternative);
    world.deliver(kForward);
    ImapPolicy policy = world.port993;
    policy.max_bad_commands = 0;
    policy.max_line_length = 200;
    policy.max_literal_size = 1000;
    Client a(world, policy, true);
    Client b(world, policy, true);
    b.send("x LOGIN alice secret\r\ny SELECT INBOX\r\nz IDLE\r\n");
    std::string input;
    for (int i = 0; i < 12; ++i) {
      std::string piece = fragments[rng() % std::size(fragments)];
      if (rng() % 3 == 0) {
        piece[rng() % piece.size()] = static_cast<char>(rng() % 256);  // one byte mutated
      }
      if (rng() % 5 == 0) piece.resize(rng() % piece.size());  // cut short
      input += piece;
    }
    for (std::size_t at = 0; at < input.size();) {
      const auto n = std::min<std::size_t>(input.size() - at, 1 + rng() % 40);
      a.send(std::string_view(input).substr(at, n));
      b.updates();
      at += n;
    }
    // Whatever happened, a fresh command is still understood (unless a LOGOUT-like close
    // happened, which none of the fragments causes).
    INFO(input);
    const auto reply = a.send("\r\nzz NOOP\r\nDONE\r\n*\r\nzz NOOP\r\n");
    CHECK(reply.find("zz OK NOOP completed\r\n") != std::string::npos);
  }
}

TEST_CASE("imap: an idle session is small", "[imap][robust]") { CHECK(sizeof(ImapSession) < 1024); }
