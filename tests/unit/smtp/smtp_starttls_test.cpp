// STARTTLS (RFC 3207): the reply and action, the injection defence (nothing pipelined behind
// STARTTLS is executed or answered), the reset after the handshake, and the refusals.
#include <catch2/catch.hpp>

#include "smtp_harness.hpp"

using namespace smtp_test;

namespace {
constexpr std::string_view kEhlo = "EHLO client.example.test\r\n";
constexpr std::string_view kReady = "220 2.0.0 Ready to start TLS\r\n";
}  // namespace

TEST_CASE("STARTTLS asks the transport for TLS", "[smtp][starttls]") {
  Harness h(Role::mx);
  h.start();
  h.send(kEhlo);
  CHECK(h.send("STARTTLS\r\n") == kReady);
  CHECK(h.action == Action::start_tls);
  CHECK(h.count(EventKind::starttls) == 1);
  CHECK(h.session->state() == SmtpSession::State::starttls);
  CHECK(h.tls_started().empty());
  CHECK(h.session->tls_active());
  CHECK(h.session->state() == SmtpSession::State::initial);
}

TEST_CASE("STARTTLS before EHLO is allowed", "[smtp][starttls]") {
  Harness h(Role::mx);
  h.start();
  CHECK(h.send("starttls\r\n") == kReady);
}

TEST_CASE("STARTTLS injection: pipelined plaintext is neither executed nor answered",
          "[smtp][starttls][security]") {
  Harness h(Role::submission);
  h.start();
  h.send(kEhlo);
  // An attacker in the middle appends commands to the client's STARTTLS packet.
  CHECK(h.send("STARTTLS\r\nAUTH PLAIN " + std::string(kPlainAlice) +
               "\r\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n"
               "injected\r\n.\r\nQUIT\r\nMAIL FR") == kReady);
  CHECK(h.action == Action::start_tls);
  // More plaintext before the handshake completes is dropped too.
  CHECK(h.send("OM:<x@example.net>\r\nNOOP\r\n").empty());
  h.tls_started();
  // The half line "MAIL FR" was forgotten: what follows it now is a line of its own.
  CHECK(h.send("OM:<y@example.net>\r\n") == "500 5.5.1 Command unrecognized\r\n");
  // The session was reset: the client must greet again, and nothing was authenticated or stored.
  CHECK(h.session->auth_user().empty());
  CHECK(h.send("MAIL FROM:<alice@example.test>\r\n") ==
        "503 5.5.1 Error: send HELO/EHLO first\r\n");
  CHECK(h.store.messages().empty());
  CHECK(h.count(EventKind::authenticated) == 0);
  CHECK(h.action == Action::start_tls);
  CHECK(h.send(kEhlo) == ehlo_reply(false, true));
}

TEST_CASE("submission through STARTTLS: the whole session", "[smtp][starttls][roles]") {
  Harness h(Role::submission);
  CHECK(h.start() == kGreeting);
  CHECK(h.send(kEhlo) == ehlo_reply(true, false));
  CHECK(h.send("STARTTLS\r\n") == kReady);
  h.tls_started();
  CHECK(h.send(kEhlo) == ehlo_reply(false, true));
  CHECK(h.send("STARTTLS\r\n") == "554 5.5.1 TLS already active\r\n");
  CHECK(h.send("AUTH PLAIN " + std::string(kPlainAlice) + "\r\n") ==
        "235 2.7.0 Authentication successful\r\n");
  CHECK(h.last(EventKind::authenticated)->over_tls);
  CHECK(
      h.send(
           "MAIL FROM:<alice@example.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nhi\r\n.\r\n")
          .ends_with("250 2.0.0 Ok: queued as 1\r\n"));
  REQUIRE(h.store.messages().size() == 1);
  const auto& m = *h.store.messages()[0];
  CHECK(m.raw.rfind("Received: from client.example.test ([192.0.2.10])\r\n"
                    "\tby mx.example.test (sevenport) with ESMTPSA id 7.1\r\n"
                    "\tfor <alice@example.test>; ",
                    0) == 0);
  CHECK(m.arrival.tls);
  CHECK(m.arrival.tls_version == "TLSv1.3");
  CHECK(m.arrival.tls_cipher == "TLS_AES_128_GCM_SHA256");
  CHECK(m.arrival.security == sevenport::Security::starttls);
}

TEST_CASE("MX through STARTTLS without AUTH is ESMTPS", "[smtp][starttls]") {
  Harness h(Role::mx);
  h.start();
  h.send("EHLO client.example.test\r\nSTARTTLS\r\n");
  h.tls_started();
  h.send(
      "EHLO client.example.test\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n.\r\n");
  REQUIRE(h.store.messages().size() == 1);
  CHECK(h.store.messages()[0]->raw.find(" with ESMTPS id 7.1\r\n") != std::string::npos);
}

TEST_CASE("STARTTLS forgets an authentication made before it", "[smtp][starttls]") {
  Harness h(Role::mx);
  h.policy.auth_requires_tls = false;
  h.start();
  h.send(kEhlo);
  h.send("AUTH PLAIN " + std::string(kPlainAlice) + "\r\n");
  CHECK(h.session->auth_user() == "alice@example.test");
  h.send("STARTTLS\r\n");
  h.tls_started();
  CHECK(h.session->auth_user().empty());
}

TEST_CASE("STARTTLS refusals", "[smtp][starttls]") {
  SECTION("with an argument") {
    Harness h(Role::mx);
    h.start();
    CHECK(h.send("STARTTLS now\r\n") == "501 5.5.4 Syntax: STARTTLS\r\n");
    CHECK(h.action == Action::none);
  }
  SECTION("not offered on this listener") {
    Harness h(Role::mx);
    h.policy.starttls_offered = false;
    h.start();
    h.send(kEhlo);
    CHECK(h.send("STARTTLS\r\n") == "502 5.5.1 Command not implemented\r\n");
  }
  SECTION("during a mail transaction") {
    Harness h(Role::mx);
    h.start();
    h.send(kEhlo);
    h.send("MAIL FROM:<>\r\n");
    CHECK(h.send("STARTTLS\r\n") == "503 5.5.1 Error: MAIL transaction in progress\r\n");
  }
}

TEST_CASE("a timeout during the handshake closes without plaintext", "[smtp][starttls]") {
  Harness h(Role::mx);
  h.start();
  h.send("STARTTLS\r\n");
  CHECK(h.timeout().empty());
  CHECK(h.action == Action::close);
  CHECK(h.session->state() == SmtpSession::State::closed);
}
