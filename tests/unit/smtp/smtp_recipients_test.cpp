// Recipient behaviours at RCPT (docs/BEHAVIOURS.md): full mailboxes (per user) and
// reject_unknown_users (per listener), with the postmaster exception of RFC 5321 4.5.1.
#include <catch2/catch.hpp>

#include "smtp_harness.hpp"

using namespace smtp_test;
using sevenport::MailboxFull;
using sevenport::User;

namespace {

constexpr std::string_view kEhlo = "EHLO client.example.test\r\n";

std::string accepted(std::string_view address) {
  return "250 2.1.5 Recipient <" + std::string(address) + "> OK\r\n";
}

User full_mailbox(MailboxFull how) {
  User user("full@example.test", "x");
  user.mailbox_full = how;
  return user;
}

// Starts the session, greets and opens a transaction.
void open(Harness& h) {
  h.start();
  h.send(kEhlo);
  h.send("MAIL FROM:<sender@example.net>\r\n");
}

}  // namespace

TEST_CASE("mailbox_full temporary: 452 4.2.2 at RCPT", "[smtp][rcpt][behaviour]") {
  Harness h(Role::mx);
  h.users.add(full_mailbox(MailboxFull::temporary));
  open(h);
  CHECK(h.send("RCPT TO:<Full@Example.Test>\r\n") ==
        "452 4.2.2 <Full@Example.Test>: Mailbox full, try again later\r\n");
  CHECK(h.behaviours() ==
        std::vector<std::string>{"refused <Full@Example.Test> with 452 4.2.2: mailbox full "
                                 "(mailbox_full = \"temporary\")"});
  CHECK(h.count(EventKind::protocol_error) == 0);
  // The other recipients of the transaction are not affected, and only they get the message.
  CHECK(h.send("RCPT TO:<alice@example.test>\r\nDATA\r\nhi\r\n.\r\n") ==
        accepted("alice@example.test") +
            "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 1\r\n");
  REQUIRE(h.store.messages().size() == 1);
  CHECK(h.store.messages()[0]->recipients == std::vector<std::string>{"alice@example.test"});
  CHECK(h.store.find_account("full@example.test") == nullptr);
}

TEST_CASE("mailbox_full permanent: 552 5.2.2 at RCPT", "[smtp][rcpt][behaviour]") {
  Harness h(Role::submission);
  h.users.add(full_mailbox(MailboxFull::permanent));
  h.start();
  h.send("EHLO c\r\nSTARTTLS\r\n");
  h.tls_started();
  // Authenticated senders are refused too: the mailbox is full whoever writes.
  h.send("EHLO c\r\nAUTH PLAIN " + std::string(kPlainAlice) +
         "\r\nMAIL FROM:<alice@example.test>\r\n");
  REQUIRE(h.session->auth_user() == "alice@example.test");
  CHECK(h.send("RCPT TO:<full@example.test>\r\n") ==
        "552 5.2.2 <full@example.test>: Mailbox full\r\n");
  CHECK(h.behaviours() ==
        std::vector<std::string>{"refused <full@example.test> with 552 5.2.2: mailbox full "
                                 "(mailbox_full = \"permanent\")"});
  // No recipient was accepted: DATA is refused.
  CHECK(h.send("DATA\r\n") == "554 5.5.1 No valid recipients\r\n");
}

TEST_CASE("mailbox_full applies only to the user's own address", "[smtp][rcpt][behaviour]") {
  Harness h(Role::mx);
  h.users.add(full_mailbox(MailboxFull::permanent));
  open(h);
  CHECK(h.send("RCPT TO:<full@example.org>\r\n") == accepted("full@example.org"));
  CHECK(h.behaviours().empty());
}

TEST_CASE("reject_unknown_users: 550 5.1.1 for a local address without a user",
          "[smtp][rcpt][behaviour]") {
  Harness h(Role::mx);
  h.policy.reject_unknown_users = true;
  open(h);
  CHECK(h.send("RCPT TO:<nobody@example.test>\r\n") ==
        "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown\r\n");
  CHECK(h.behaviours() ==
        std::vector<std::string>{"refused <nobody@example.test> with 550 5.1.1: no such user in a "
                                 "local domain (reject_unknown_users = true)"});
  CHECK(h.count(EventKind::protocol_error) == 0);
  CHECK(h.session->state() == SmtpSession::State::mail);
  SECTION("known users, any case") {
    CHECK(h.send("RCPT TO:<alice@example.test>\r\nRCPT TO:<BOB@example.ORG>\r\n") ==
          accepted("alice@example.test") + accepted("BOB@example.ORG"));
  }
  SECTION("postmaster is always accepted (RFC 5321 4.5.1)") {
    CHECK(h.send("RCPT TO:<Postmaster>\r\n") == accepted("postmaster@mx.example.test"));
    CHECK(h.send("RCPT TO:<postmaster@example.test>\r\nRCPT TO:<POSTMASTER@example.org>\r\n") ==
          accepted("postmaster@example.test") + accepted("POSTMASTER@example.org"));
  }
  SECTION("a foreign domain is still a relay refusal, not an unknown user") {
    CHECK(h.send("RCPT TO:<nobody@elsewhere.example>\r\n") ==
          "554 5.7.1 <nobody@elsewhere.example>: Relay access denied\r\n");
  }
  SECTION("the bad-command limit still counts the refusals") {
    h.policy.max_bad_commands = 2;  // the first refusal above was one
    CHECK(h.send("RCPT TO:<x@example.test>\r\nRCPT TO:<y@example.test>\r\n") ==
          "550 5.1.1 <x@example.test>: Recipient address rejected: User unknown\r\n"
          "421 4.7.0 mx.example.test Too many errors, closing connection\r\n");
  }
  CHECK(h.behaviours().size() >= 1);
}

TEST_CASE("reject_unknown_users: an authenticated client may still send elsewhere",
          "[smtp][rcpt][behaviour]") {
  Harness h(Role::implicit);
  h.policy.reject_unknown_users = true;
  h.start();
  h.send("EHLO c\r\nAUTH PLAIN " + std::string(kPlainAlice) +
         "\r\nMAIL FROM:<alice@example.test>\r\n");
  CHECK(h.send("RCPT TO:<carol@elsewhere.example>\r\nRCPT TO:<carol@example.test>\r\n") ==
        accepted("carol@elsewhere.example") +
            "550 5.1.1 <carol@example.test>: Recipient address rejected: User unknown\r\n");
}

TEST_CASE("without reject_unknown_users a local domain takes any address",
          "[smtp][rcpt][behaviour]") {
  Harness h(Role::mx);
  open(h);
  CHECK(h.send("RCPT TO:<nobody@example.test>\r\n") == accepted("nobody@example.test"));
  CHECK(h.behaviours().empty());
}
