// AUTH PLAIN and LOGIN (RFC 4954, 4616): with and without initial response, cancel, bad base64,
// refusals by state and policy, events, and that no password ever shows up.
#include <catch2/catch.hpp>

#include "smtp_harness.hpp"

using namespace smtp_test;

namespace {

constexpr std::string_view kEhlo = "EHLO client.example.test\r\n";
constexpr std::string_view kOkAuth = "235 2.7.0 Authentication successful\r\n";
constexpr std::string_view kBadAuth = "535 5.7.8 Authentication credentials invalid\r\n";

// Implicit TLS: AUTH is allowed at once.
void greet(Harness& h) {
  h.start();
  h.send(kEhlo);
}

// Nothing the client sent as a secret may appear in any event.
void check_no_secret(const Harness& h) {
  for (const auto& e : h.events) {
    for (const auto* field : {&e.text, &e.user, &e.mechanism}) {
      CHECK(field->find("secret") == std::string::npos);
      CHECK(field->find("n0tit") == std::string::npos);
      CHECK(field->find("c2VjcmV0") == std::string::npos);
      CHECK(field->find("bjB0aXQ") == std::string::npos);
      CHECK(field->find(kPlainAlice) == std::string::npos);
    }
  }
}

}  // namespace

TEST_CASE("AUTH PLAIN with an initial response", "[smtp][auth]") {
  Harness h(Role::implicit);
  greet(h);
  CHECK(h.send("AUTH PLAIN " + std::string(kPlainAlice) + "\r\n") == kOkAuth);
  CHECK(h.session->auth_user() == "alice@example.test");
  const auto e = h.last(EventKind::authenticated);
  REQUIRE(e);
  CHECK(e->mechanism == "PLAIN");
  CHECK(e->user == "alice@example.test");
  CHECK(e->over_tls);
  CHECK(h.send("AUTH PLAIN " + std::string(kPlainAlice) + "\r\n") ==
        "503 5.5.1 Error: already authenticated\r\n");
  check_no_secret(h);
}

TEST_CASE("AUTH PLAIN with the local part as login name", "[smtp][auth]") {
  Harness h(Role::implicit);
  greet(h);
  CHECK(h.send("auth plain AGFsaWNlAHNlY3JldA==\r\n") == kOkAuth);
  CHECK(h.session->auth_user() == "alice@example.test");
}

TEST_CASE("AUTH PLAIN without an initial response", "[smtp][auth]") {
  Harness h(Role::implicit);
  greet(h);
  CHECK(h.send("AUTH PLAIN\r\n") == "334 \r\n");
  CHECK(h.session->state() == SmtpSession::State::auth);
  CHECK(h.send(std::string(kPlainAlice) + "\r\n") == kOkAuth);
  CHECK(h.session->state() == SmtpSession::State::greeted);
  check_no_secret(h);
}

TEST_CASE("AUTH LOGIN without an initial response", "[smtp][auth]") {
  Harness h(Role::implicit);
  greet(h);
  CHECK(h.send("AUTH LOGIN\r\n") == "334 VXNlcm5hbWU6\r\n");
  CHECK(h.send("YWxpY2VAZXhhbXBsZS50ZXN0\r\n") == "334 UGFzc3dvcmQ6\r\n");
  CHECK(h.send("c2VjcmV0\r\n") == kOkAuth);
  const auto e = h.last(EventKind::authenticated);
  REQUIRE(e);
  CHECK(e->mechanism == "LOGIN");
  CHECK(h.session->auth_user() == "alice@example.test");
  check_no_secret(h);
}

TEST_CASE("AUTH LOGIN with an initial response, pipelined", "[smtp][auth]") {
  Harness h(Role::implicit);
  greet(h);
  CHECK(h.send("AUTH LOGIN YWxpY2VAZXhhbXBsZS50ZXN0\r\nc2VjcmV0\r\nNOOP\r\n") ==
        "334 UGFzc3dvcmQ6\r\n" + std::string(kOkAuth) + std::string(kOk));
}

TEST_CASE("wrong credentials", "[smtp][auth]") {
  Harness h(Role::implicit);
  greet(h);
  SECTION("PLAIN") {
    CHECK(h.send("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABuMHRpdA==\r\n") == kBadAuth);
  }
  SECTION("LOGIN") {
    CHECK(h.send("AUTH LOGIN\r\nYWxpY2VAZXhhbXBsZS50ZXN0\r\nbjB0aXQ=\r\n") ==
          "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n" + std::string(kBadAuth));
  }
  SECTION("unknown user") {
    CHECK(h.send("AUTH LOGIN\r\nbm9ib2R5\r\nc2VjcmV0\r\n") ==
          "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n" + std::string(kBadAuth));
  }
  CHECK(h.session->auth_user().empty());
  CHECK(h.session->state() == SmtpSession::State::greeted);
  const auto e = h.last(EventKind::auth_failed);
  REQUIRE(e);
  CHECK(!e->text.empty());
  CHECK(e->over_tls);
  const auto error = h.last(EventKind::protocol_error);
  REQUIRE(error);
  CHECK(error->text.rfind("AUTH ", 0) == 0);
  check_no_secret(h);
  // A later attempt may succeed.
  CHECK(h.send("AUTH PLAIN " + std::string(kPlainAlice) + "\r\n") == kOkAuth);
}

TEST_CASE("PLAIN authorization identity", "[smtp][auth]") {
  Harness h(Role::implicit);
  greet(h);
  SECTION("the same as the login name") {
    CHECK(h.send("AUTH PLAIN YWxpY2VAZXhhbXBsZS50ZXN0AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=\r\n") ==
          kOkAuth);
  }
  SECTION("somebody else") {
    CHECK(h.send("AUTH PLAIN Ym9iQGV4YW1wbGUub3JnAGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=\r\n") ==
          kBadAuth);
    CHECK(h.session->auth_user().empty());
  }
  SECTION("a message that is not authzid NUL authcid NUL password") {
    CHECK(h.send("AUTH PLAIN bm8gbnVsIGhlcmU=\r\n") == kBadAuth);
  }
  SECTION("an empty initial response") { CHECK(h.send("AUTH PLAIN =\r\n") == kBadAuth); }
}

TEST_CASE("AUTH cancelled with *", "[smtp][auth]") {
  Harness h(Role::implicit);
  greet(h);
  SECTION("PLAIN") {
    CHECK(h.send("AUTH PLAIN\r\n*\r\n") == "334 \r\n501 5.0.0 Authentication cancelled\r\n");
  }
  SECTION("LOGIN, at the password") {
    CHECK(h.send("AUTH LOGIN YWxpY2VAZXhhbXBsZS50ZXN0\r\n*\r\n") ==
          "334 UGFzc3dvcmQ6\r\n501 5.0.0 Authentication cancelled\r\n");
  }
  CHECK(h.session->state() == SmtpSession::State::greeted);
  CHECK(h.send("NOOP\r\n") == kOk);
}

TEST_CASE("undecodable responses", "[smtp][auth]") {
  Harness h(Role::implicit);
  greet(h);
  CHECK(h.send("AUTH PLAIN !!!!\r\n") == "501 5.5.2 Cannot decode response\r\n");
  CHECK(h.send("AUTH PLAIN *\r\n") == "501 5.5.2 Cannot decode response\r\n");
  CHECK(h.send("AUTH LOGIN\r\nabc\r\n") ==
        "334 VXNlcm5hbWU6\r\n501 5.5.2 Cannot decode response\r\n");
  CHECK(h.send("NOOP\r\n") == kOk);
}

TEST_CASE("AUTH refusals", "[smtp][auth]") {
  SECTION("unknown mechanism") {
    Harness h(Role::implicit);
    greet(h);
    CHECK(h.send("AUTH CRAM-MD5\r\n") == "504 5.5.4 Unrecognized authentication type\r\n");
  }
  SECTION("no mechanism") {
    Harness h(Role::implicit);
    greet(h);
    CHECK(h.send("AUTH\r\n") == "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n");
  }
  SECTION("before EHLO") {
    Harness h(Role::implicit);
    h.start();
    CHECK(h.send("AUTH PLAIN " + std::string(kPlainAlice) + "\r\n") ==
          "503 5.5.1 Error: send HELO/EHLO first\r\n");
  }
  SECTION("during a mail transaction") {
    Harness h(Role::mx);
    h.policy.auth_requires_tls = false;
    h.start();
    h.send(kEhlo);
    h.send("MAIL FROM:<>\r\n");
    CHECK(h.send("AUTH PLAIN " + std::string(kPlainAlice) + "\r\n") ==
          "503 5.5.1 Error: MAIL transaction in progress\r\n");
  }
  SECTION("AUTH turned off") {
    Harness h(Role::mx);
    h.policy.auth = sevenport::smtp::AuthMode::off;
    h.start();
    h.send(kEhlo);
    CHECK(h.send("AUTH PLAIN " + std::string(kPlainAlice) + "\r\n") ==
          "502 5.5.1 Command not implemented\r\n");
  }
  SECTION("before TLS where TLS is required") {
    Harness h(Role::submission);
    h.start();
    h.send(kEhlo);
    CHECK(h.send("AUTH PLAIN " + std::string(kPlainAlice) + "\r\n") ==
          "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
    const auto d = h.last(EventKind::diagnosis);
    REQUIRE(d);
    CHECK(d->text.find("STARTTLS") != std::string::npos);
    CHECK(h.session->auth_user().empty());
    check_no_secret(h);
  }
}

TEST_CASE("AUTH lines may be longer than command lines, up to 12288 octets",
          "[smtp][auth][limits]") {
  Harness h(Role::implicit);
  h.policy.max_line_length = 100;
  greet(h);
  CHECK(h.send("NOOP " + std::string(100, 'x') + "\r\n") == "500 5.5.2 Line too long\r\n");
  // A long (wrong) initial response is read whole and judged on its merits.
  CHECK(h.send("AUTH PLAIN " + std::string(4000, 'A') + "\r\n") == kBadAuth);
  CHECK(h.send("AUTH PLAIN\r\n" + std::string(12000, 'A') + "\r\n") ==
        "334 \r\n" + std::string(kBadAuth));
  CHECK(h.send("AUTH PLAIN\r\n" + std::string(13000, 'A') + "\r\n") ==
        "334 \r\n500 5.5.6 Authentication Exchange line is too long\r\n");
  CHECK(h.session->state() == SmtpSession::State::greeted);
  CHECK(h.send("AUTH PLAIN " + std::string(13000, 'A') + "\r\n") == "500 5.5.2 Line too long\r\n");
  CHECK(h.send("NOOP\r\n") == kOk);
}

TEST_CASE("MX: AUTH without TLS where allowed, then relaying", "[smtp][auth][relay]") {
  Harness h(Role::mx);
  h.policy.auth_requires_tls = false;
  h.start();
  h.send(kEhlo);
  CHECK(h.send("AUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n") ==
        "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n" + std::string(kOkAuth));
  const auto e = h.last(EventKind::authenticated);
  REQUIRE(e);
  CHECK(!e->over_tls);
  CHECK(h.send("MAIL FROM:<alice@example.test>\r\nRCPT TO:<carol@elsewhere.example>\r\nDATA\r\n"
               "Subject: out\r\n\r\nx\r\n.\r\n") ==
        "250 2.1.0 Sender <alice@example.test> OK\r\n"
        "250 2.1.5 Recipient <carol@elsewhere.example> OK\r\n"
        "354 End data with <CR><LF>.<CR><LF>\r\n"
        "250 2.0.0 Ok: queued as 1\r\n");
  REQUIRE(h.store.messages().size() == 1);
  const auto& m = *h.store.messages()[0];
  CHECK(m.raw.rfind("Received: from client.example.test ([192.0.2.10])\r\n"
                    "\tby mx.example.test (sevenport) with ESMTPA id 7.1\r\n"
                    "\tfor <carol@elsewhere.example>; ",
                    0) == 0);
  CHECK(m.arrival.auth_user == "alice@example.test");
  // Relayed mail is kept for inspection only: no mailbox got it.
  CHECK(h.store.find_account("carol@elsewhere.example") == nullptr);
  check_no_secret(h);
}

TEST_CASE("implicit TLS submission: the whole session", "[smtp][auth][roles]") {
  Harness h(Role::implicit);
  CHECK(h.start() == kGreeting);
  CHECK(h.send(kEhlo) == ehlo_reply(false, true));
  CHECK(h.send("STARTTLS\r\n") == "554 5.5.1 TLS already active\r\n");
  CHECK(h.send("MAIL FROM:<alice@example.test>\r\n") == "530 5.7.0 Authentication required\r\n");
  CHECK(h.send("AUTH PLAIN " + std::string(kPlainAlice) + "\r\n") == kOkAuth);
  CHECK(h.send("MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.org>\r\n"
               "RCPT TO:<dave@elsewhere.example>\r\nDATA\r\nSubject: s\r\n\r\nhi\r\n.\r\n") ==
        "250 2.1.0 Sender <alice@example.test> OK\r\n"
        "250 2.1.5 Recipient <bob@example.org> OK\r\n"
        "250 2.1.5 Recipient <dave@elsewhere.example> OK\r\n"
        "354 End data with <CR><LF>.<CR><LF>\r\n"
        "250 2.0.0 Ok: queued as 1\r\n");
  REQUIRE(h.store.messages().size() == 1);
  const auto& m = *h.store.messages()[0];
  CHECK(m.raw == std::string("Received: from client.example.test ([192.0.2.10])\r\n"
                             "\tby mx.example.test (sevenport) with ESMTPSA id 7.1; ") +
                     std::string(kDate) + "\r\nSubject: s\r\n\r\nhi\r\n");
  CHECK(m.arrival.listener == "submissions");
  CHECK(m.arrival.security == sevenport::Security::implicit);
  CHECK(m.arrival.tls);
  CHECK(m.arrival.tls_version == "TLSv1.3");
  CHECK(m.arrival.tls_cipher == "TLS_AES_256_GCM_SHA384");
  CHECK(m.arrival.auth_user == "alice@example.test");
  CHECK(h.store.account("bob@example.org").inbox().entries().size() == 1);
  CHECK(h.store.find_account("dave@elsewhere.example") == nullptr);
  const auto e = h.last(EventKind::delivered);
  REQUIRE(e);
  CHECK(e->recipients == std::vector<std::string>{"bob@example.org", "dave@elsewhere.example"});
}
