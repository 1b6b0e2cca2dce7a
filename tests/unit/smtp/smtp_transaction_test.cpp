// The mail transaction: MAIL, RCPT and DATA replies, relay refusal, what is stored, and the DATA
// content rules (dot-stuffing, bare CR/LF, size).
#include <catch2/catch.hpp>

#include "smtp_harness.hpp"

using namespace smtp_test;

namespace {

constexpr std::string_view kEhlo = "EHLO client.example.test\r\n";

std::string received(std::string_view protocol, std::string_view for_clause = "alice@example.test",
                     std::string_view id = "7.1") {
  std::string r =
      "Received: from client.example.test ([192.0.2.10])\r\n"
      "\tby mx.example.test (sevenport) with ";
  r += protocol;
  r += " id ";
  r += id;
  if (!for_clause.empty()) {
    r += "\r\n\tfor <";
    r += for_clause;
    r += ">";
  }
  r += "; ";
  r += kDate;
  r += "\r\n";
  return r;
}

// Starts the session and says EHLO.
void greet(Harness& h) {
  h.start();
  h.send(kEhlo);
}

}  // namespace

TEST_CASE("MAIL FROM", "[smtp][mail]") {
  SECTION("before EHLO") {
    Harness h;
    h.start();
    CHECK(h.send("MAIL FROM:<a@example.test>\r\n") == "503 5.5.1 Error: send HELO/EHLO first\r\n");
    REQUIRE(h.last(EventKind::diagnosis));
  }
  Harness h;
  greet(h);
  SECTION("accepted, and nested MAIL refused") {
    CHECK(h.send("MAIL FROM:<a@example.net>\r\n") == "250 2.1.0 Sender <a@example.net> OK\r\n");
    CHECK(h.session->state() == SmtpSession::State::mail);
    CHECK(h.send("MAIL FROM:<b@example.net>\r\n") == "503 5.5.1 Error: nested MAIL command\r\n");
  }
  SECTION("nested MAIL after a recipient") {
    h.send("MAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.test>\r\n");
    CHECK(h.send("MAIL FROM:<b@example.net>\r\n") == "503 5.5.1 Error: nested MAIL command\r\n");
  }
  SECTION("the null reverse-path") {
    CHECK(h.send("MAIL FROM:<>\r\n") == "250 2.1.0 Sender <> OK\r\n");
  }
  SECTION("a space after the colon is tolerated, the verb is case-insensitive") {
    CHECK(h.send("mail from: <a@example.net>\r\n") == "250 2.1.0 Sender <a@example.net> OK\r\n");
  }
  SECTION("source routes are dropped") {
    CHECK(h.send("MAIL FROM:<@relay.example,@b.example:a@example.net>\r\n") ==
          "250 2.1.0 Sender <a@example.net> OK\r\n");
  }
  SECTION("syntax") {
    CHECK(h.send("MAIL\r\n") == "501 5.5.4 Syntax: MAIL FROM:<address> [parameters]\r\n");
    CHECK(h.send("MAIL TO:<a@example.net>\r\n") ==
          "501 5.5.4 Syntax: MAIL FROM:<address> [parameters]\r\n");
    CHECK(h.send("MAIL FROM:a@example.net\r\n") == "501 5.1.7 Bad sender address syntax\r\n");
    CHECK(h.send("MAIL FROM:<a@@example.net>\r\n") == "501 5.1.7 Bad sender address syntax\r\n");
    CHECK(h.send("MAIL FROM:<postmaster>\r\n") == "501 5.1.7 Bad sender address syntax\r\n");
    CHECK(h.send("MAIL FROM:<a@example.net>x\r\n") == "501 5.1.7 Bad sender address syntax\r\n");
    CHECK(h.session->state() == SmtpSession::State::greeted);
  }
  SECTION("SIZE") {
    CHECK(h.send("MAIL FROM:<a@example.net> SIZE=10001\r\n") ==
          "552 5.3.4 Message size exceeds fixed maximum message size\r\n");
    CHECK(h.send("MAIL FROM:<a@example.net> SIZE=99999999999999999999999\r\n") ==
          "552 5.3.4 Message size exceeds fixed maximum message size\r\n");
    CHECK(h.send("MAIL FROM:<a@example.net> SIZE=ten\r\n") ==
          "501 5.5.4 Syntax error in parameter SIZE\r\n");
    CHECK(h.send("MAIL FROM:<a@example.net> SIZE\r\n") ==
          "501 5.5.4 Syntax error in parameter SIZE\r\n");
    CHECK(h.send("MAIL FROM:<a@example.net> SIZE=10000\r\n") ==
          "250 2.1.0 Sender <a@example.net> OK\r\n");
  }
  SECTION("BODY, SMTPUTF8 and AUTH") {
    CHECK(h.send("MAIL FROM:<a@example.net> BODY=8BITMIME SMTPUTF8  AUTH=<>\r\n") ==
          "250 2.1.0 Sender <a@example.net> OK\r\n");
    h.send("RSET\r\n");
    CHECK(h.send("MAIL FROM:<a@example.net> body=7bit\r\n") ==
          "250 2.1.0 Sender <a@example.net> OK\r\n");
    h.send("RSET\r\n");
    CHECK(h.send("MAIL FROM:<a@example.net> BODY=BINARYMIME\r\n") ==
          "501 5.5.4 Syntax error in parameter BODY\r\n");
    CHECK(h.send("MAIL FROM:<a@example.net> SMTPUTF8=yes\r\n") ==
          "501 5.5.4 Syntax error in parameter SMTPUTF8\r\n");
    CHECK(h.send("MAIL FROM:<a@example.net> AUTH\r\n") ==
          "501 5.5.4 Syntax error in parameter AUTH\r\n");
  }
  SECTION("unknown parameters") {
    CHECK(h.send("MAIL FROM:<a@example.net> RET=HDRS\r\n") ==
          "555 5.5.4 Unsupported parameter RET\r\n");
  }
  SECTION("non-ASCII addresses need SMTPUTF8") {
    CHECK(h.send("MAIL FROM:<j\xc3\xb6rg@example.net>\r\n") ==
          "553 5.6.7 Non-ASCII address requires SMTPUTF8\r\n");
    CHECK(h.send("MAIL FROM:<j\xc3\xb6rg@example.net> SMTPUTF8\r\n") ==
          "250 2.1.0 Sender <j\\xc3\\xb6rg@example.net> OK\r\n");
    CHECK(h.send("RCPT TO:<b\xc3\xa9@example.test>\r\n") ==
          "250 2.1.5 Recipient <b\\xc3\\xa9@example.test> OK\r\n");
  }
  SECTION("non-ASCII recipient without SMTPUTF8") {
    h.send("MAIL FROM:<a@example.net>\r\n");
    CHECK(h.send("RCPT TO:<b\xc3\xa9@example.test>\r\n") ==
          "553 5.6.7 Non-ASCII address requires SMTPUTF8\r\n");
  }
}

TEST_CASE("submission wants AUTH before MAIL", "[smtp][mail]") {
  Harness h(Role::submission);
  h.start();
  h.send(kEhlo);
  CHECK(h.send("MAIL FROM:<alice@example.test>\r\n") == "530 5.7.0 Authentication required\r\n");
  REQUIRE(h.last(EventKind::diagnosis));
}

TEST_CASE("RCPT TO", "[smtp][rcpt]") {
  Harness h;
  greet(h);
  SECTION("before MAIL") {
    CHECK(h.send("RCPT TO:<alice@example.test>\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
  }
  h.send("MAIL FROM:<a@example.net>\r\n");
  SECTION("local recipients, any case, duplicates once") {
    CHECK(h.send("RCPT TO:<alice@example.test>\r\n") ==
          "250 2.1.5 Recipient <alice@example.test> OK\r\n");
    CHECK(h.send("RCPT TO: <Bob@Example.ORG>\r\n") ==
          "250 2.1.5 Recipient <Bob@Example.ORG> OK\r\n");
    CHECK(h.send("RCPT TO:<ALICE@example.test>\r\n") ==
          "250 2.1.5 Recipient <ALICE@example.test> OK\r\n");
    CHECK(h.send("DATA\r\nhi\r\n.\r\n") ==
          "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 1\r\n");
    REQUIRE(h.store.messages().size() == 1);
    CHECK(h.store.messages()[0]->recipients ==
          std::vector<std::string>{"alice@example.test", "Bob@Example.ORG"});
    CHECK(h.store.account("alice@example.test").inbox().entries().size() == 1);
    CHECK(h.store.account("bob@example.org").inbox().entries().size() == 1);
  }
  SECTION("postmaster without a domain") {
    CHECK(h.send("RCPT TO:<Postmaster>\r\n") ==
          "250 2.1.5 Recipient <postmaster@mx.example.test> OK\r\n");
    h.send("DATA\r\nx\r\n.\r\n");
    CHECK(h.store.account("postmaster@mx.example.test").inbox().entries().size() == 1);
  }
  SECTION("source route") {
    CHECK(h.send("RCPT TO:<@hop.example:alice@example.test>\r\n") ==
          "250 2.1.5 Recipient <alice@example.test> OK\r\n");
  }
  SECTION("syntax") {
    CHECK(h.send("RCPT\r\n") == "501 5.5.4 Syntax: RCPT TO:<address>\r\n");
    CHECK(h.send("RCPT FROM:<alice@example.test>\r\n") ==
          "501 5.5.4 Syntax: RCPT TO:<address>\r\n");
    CHECK(h.send("RCPT TO:alice@example.test\r\n") == "501 5.1.3 Bad recipient address syntax\r\n");
    CHECK(h.send("RCPT TO:<>\r\n") == "501 5.1.3 Bad recipient address syntax\r\n");
    CHECK(h.send("RCPT TO:<alice>\r\n") == "501 5.1.3 Bad recipient address syntax\r\n");
    CHECK(h.send("RCPT TO:<alice@example.test\r\n") ==
          "501 5.1.3 Bad recipient address syntax\r\n");
    CHECK(h.send("RCPT TO:<alice@example.test> NOTIFY=NEVER\r\n") ==
          "555 5.5.4 Unsupported parameter NOTIFY\r\n");
  }
  SECTION("relay refused without AUTH") {
    CHECK(h.send("RCPT TO:<carol@elsewhere.example>\r\n") ==
          "554 5.7.1 <carol@elsewhere.example>: Relay access denied\r\n");
    REQUIRE(h.last(EventKind::diagnosis));
    CHECK(h.send("DATA\r\n") == "554 5.5.1 No valid recipients\r\n");
  }
  SECTION("too many recipients") {
    h.send("RCPT TO:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<c@example.test>\r\n");
    CHECK(h.send("RCPT TO:<d@example.test>\r\n") == "452 4.5.3 Too many recipients\r\n");
    CHECK(h.send("RCPT TO:<b@example.test>\r\n") == "250 2.1.5 Recipient <b@example.test> OK\r\n");
  }
}

TEST_CASE("DATA refusals", "[smtp][data]") {
  SECTION("before EHLO") {
    Harness h;
    h.start();
    CHECK(h.send("DATA\r\n") == "503 5.5.1 Error: send HELO/EHLO first\r\n");
  }
  Harness h;
  greet(h);
  SECTION("without MAIL") { CHECK(h.send("DATA\r\n") == "503 5.5.1 Error: need MAIL command\r\n"); }
  SECTION("without an accepted recipient") {
    h.send("MAIL FROM:<>\r\n");
    CHECK(h.send("DATA\r\n") == "554 5.5.1 No valid recipients\r\n");
  }
  SECTION("with an argument") {
    h.send("MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\n");
    CHECK(h.send("DATA now\r\n") == "501 5.5.4 Syntax: DATA\r\n");
    CHECK(h.session->state() == SmtpSession::State::rcpt);
  }
}

TEST_CASE("RSET and EHLO end the transaction", "[smtp][mail]") {
  Harness h;
  greet(h);
  h.send("MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\n");
  CHECK(h.send("RSET\r\n") == kOk);
  CHECK(h.send("RCPT TO:<alice@example.test>\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
  h.send("MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\n");
  CHECK(h.send(kEhlo) == ehlo_reply(true, false));
  CHECK(h.send("DATA\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
}

TEST_CASE("a message is stored byte-exact with a Received header, before the 250", "[smtp][data]") {
  Harness h;
  greet(h);
  std::vector<sevenport::store::StoreEvent> seen;
  h.store.observe([&](const sevenport::store::StoreEvent& e) { seen.push_back(e); });
  const std::string content =
      "From: a@example.net\r\nTo: alice@example.test\r\nSubject: hi\r\n\r\nbody \xff\r\n\r\n";
  CHECK(
      h.send(
          "MAIL FROM:<a@example.net> BODY=8BITMIME\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n") ==
      "250 2.1.0 Sender <a@example.net> OK\r\n"
      "250 2.1.5 Recipient <alice@example.test> OK\r\n"
      "354 End data with <CR><LF>.<CR><LF>\r\n");
  CHECK(h.session->state() == SmtpSession::State::data);
  CHECK(h.send(content + ".\r\n") == "250 2.0.0 Ok: queued as 1\r\n");
  CHECK(h.session->state() == SmtpSession::State::greeted);
  REQUIRE(h.store.messages().size() == 1);
  const auto& m = *h.store.messages()[0];
  CHECK(m.raw == received("ESMTP") + content);
  CHECK(m.mail_from == "a@example.net");
  CHECK(m.recipients == std::vector<std::string>{"alice@example.test"});
  CHECK(m.received_at == fixed_time());
  CHECK(m.arrival.listener == "mx");
  CHECK(m.arrival.port == 2525);
  CHECK(m.arrival.security == sevenport::Security::starttls);
  CHECK(!m.arrival.tls);
  CHECK(m.arrival.tls_version.empty());
  CHECK(m.arrival.auth_user.empty());
  CHECK(m.arrival.peer == "192.0.2.10:40000");
  CHECK(m.arrival.helo == "client.example.test");
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].owner == "alice@example.test");

  const auto e = h.last(EventKind::delivered);
  REQUIRE(e);
  CHECK(e->message_id == 1);
  CHECK(e->size == m.raw.size());
  CHECK(e->recipients == std::vector<std::string>{"alice@example.test"});

  // The transaction is over: a new one is needed, and gets the next id.
  CHECK(h.send("RCPT TO:<alice@example.test>\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
  CHECK(h.send("MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.org>\r\n"
               "DATA\r\nsecond\r\n.\r\n")
            .ends_with("250 2.0.0 Ok: queued as 2\r\n"));
  // Two recipients: no "for" clause, which would disclose Bcc recipients.
  CHECK(h.store.messages()[1]->raw == received("ESMTP", "", "7.2") + "second\r\n");
}

TEST_CASE("HELO sessions are SMTP in the Received header; IPv6 peers are literals",
          "[smtp][data]") {
  Harness h;
  h.context.peer_ip = "2001:db8::1";
  h.start();
  h.send(
      "HELO client.example.test\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n.\r\n");
  REQUIRE(h.store.messages().size() == 1);
  const auto& m = *h.store.messages()[0];
  CHECK(m.raw == std::string("Received: from client.example.test ([IPv6:2001:db8::1])\r\n"
                             "\tby mx.example.test (sevenport) with SMTP id 7.1\r\n"
                             "\tfor <alice@example.test>; ") +
                     std::string(kDate) + "\r\n");
  CHECK(m.arrival.peer == "[2001:db8::1]:40000");
}

TEST_CASE("DATA content rules", "[smtp][data]") {
  Harness h;
  greet(h);
  h.send("MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n");
  const auto stored = [&] {
    REQUIRE(h.store.messages().size() == 1);
    return h.store.messages()[0]->raw.substr(received("ESMTP").size());
  };
  SECTION("empty message") {
    CHECK(h.send(".\r\n") == "250 2.0.0 Ok: queued as 1\r\n");
    CHECK(stored().empty());
  }
  SECTION("an empty line, then the end") {
    CHECK(h.send("\r\n.\r\n") == "250 2.0.0 Ok: queued as 1\r\n");
    CHECK(stored() == "\r\n");
  }
  SECTION("dot-unstuffing") {
    CHECK(h.send("..\r\n...x\r\n.y\r\na.b\r\n..\r\n.\r\n") == "250 2.0.0 Ok: queued as 1\r\n");
    CHECK(stored() == ".\r\n..x\r\ny\r\na.b\r\n.\r\n");
  }
  SECTION("a dot line inside a line is content") {
    CHECK(h.send("a\r\nb.\r\n.\r\n") == "250 2.0.0 Ok: queued as 1\r\n");
    CHECK(stored() == "a\r\nb.\r\n");
  }
  SECTION("commands after the end are executed") {
    CHECK(h.send("x\r\n.\r\nNOOP\r\nQUIT\r\n") ==
          "250 2.0.0 Ok: queued as 1\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
  }
}

TEST_CASE("bare LF and bare CR: the message is refused at the real end, never earlier",
          "[smtp][data][smuggling]") {
  Harness h;
  greet(h);
  h.send("MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n");
  const std::string refusal =
      "554 5.6.0 Message contains bare CR or LF: lines must end with CRLF\r\n";
  SECTION("\\n.\\n does not end the data, and what follows is not executed") {
    CHECK(h.send("Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@example.net>\r\n"
                 "RCPT TO:<bob@example.org>\r\nDATA\r\nsmuggled\r\n") == "");
    CHECK(h.send(".\r\n") == refusal);
  }
  SECTION("\\r\\n.\\n does not end the data") {
    CHECK(h.send("body\r\n.\nRSET\r\n.\r\n") == refusal);
  }
  SECTION("\\n.\\r\\n does not end the data") {
    CHECK(h.send("body\n.\r\nNOOP\r\n") == "");
    CHECK(h.send(".\r\n") == refusal);
  }
  SECTION("bare CR") { CHECK(h.send("a\rb\r\n.\r\n") == refusal); }
  SECTION("\\r.\\r does not end the data") { CHECK(h.send("a\r.\r\r\n.\r\n") == refusal); }
  SECTION("bare CR in a dot line") { CHECK(h.send(".\rx\r\n.\r\n") == refusal); }
  SECTION("bare LF at the very start") {
    CHECK(h.send("\n.\r\n") == "");
    CHECK(h.send(".\r\n") == refusal);
  }
  CHECK(h.store.messages().empty());
  CHECK(h.session->state() == SmtpSession::State::greeted);
  REQUIRE(h.last(EventKind::diagnosis));
  CHECK(h.send("NOOP\r\n") == kOk);
}

TEST_CASE("oversize content is consumed, not stored", "[smtp][data][limits]") {
  Harness h;
  greet(h);
  h.send("MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n");
  std::string reply;
  for (int i = 0; i < 300; ++i) reply += h.send(std::string(78, 'x') + "\r\n");
  CHECK(reply.empty());
  CHECK(h.send(".\r\nNOOP\r\n") ==
        "552 5.3.4 Message size exceeds fixed maximum message size\r\n250 2.0.0 Ok\r\n");
  CHECK(h.store.messages().empty());
  // Exactly at the limit is fine.
  h.send("MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n");
  const std::string line = std::string(98, 'y') + "\r\n";
  std::string content;
  for (int i = 0; i < 100; ++i) content += line;
  REQUIRE(content.size() == 10000);
  CHECK(h.send(content + ".\r\n") == "250 2.0.0 Ok: queued as 1\r\n");
}

TEST_CASE("a disconnect during DATA stores nothing", "[smtp][data]") {
  Harness h;
  greet(h);
  h.send("MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: half\r\n\r\nbody\r\n");
  h.session->on_disconnect();
  CHECK(h.store.messages().empty());
  CHECK(h.send(".\r\n").empty());
  CHECK(h.store.messages().empty());
}

TEST_CASE("a pipelined transaction is answered in one output", "[smtp][pipelining]") {
  Harness h;
  h.start();
  CHECK(h.send("EHLO client.example.test\r\nMAIL FROM:<a@example.net>\r\n"
               "RCPT TO:<alice@example.test>\r\nRCPT TO:<x@elsewhere.example>\r\n"
               "DATA\r\nhello\r\n.\r\nQUIT\r\n") ==
        ehlo_reply(true, false) +
            "250 2.1.0 Sender <a@example.net> OK\r\n"
            "250 2.1.5 Recipient <alice@example.test> OK\r\n"
            "554 5.7.1 <x@elsewhere.example>: Relay access denied\r\n"
            "354 End data with <CR><LF>.<CR><LF>\r\n"
            "250 2.0.0 Ok: queued as 1\r\n"
            "221 2.0.0 Bye\r\n");
  CHECK(h.action == Action::close);
  REQUIRE(h.store.messages().size() == 1);
  CHECK(h.store.messages()[0]->raw == received("ESMTP") + "hello\r\n");
}
