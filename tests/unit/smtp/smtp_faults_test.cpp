// Deliberate faults at the session level (docs/BEHAVIOURS.md): the plaintext refusal on an
// implicit-TLS listener, greeting = "unavailable", and each starttls_fault, with the behaviour
// events they report.
#include <catch2/catch.hpp>

#include "smtp_harness.hpp"

using namespace smtp_test;
using sevenport::StartTlsFault;

namespace {

constexpr std::string_view kEhlo = "EHLO client.example.test\r\n";
constexpr std::string_view kReady = "220 2.0.0 Ready to start TLS\r\n";
constexpr std::string_view kInjected =
    "250 INJECTED: sent in plaintext after the STARTTLS reply; a client that reads this is "
    "vulnerable to response injection\r\n";
constexpr std::string_view kAdvice =
    "This port expects TLS from the first byte: choose SSL/TLS, or use port 587 with STARTTLS";

}  // namespace

TEST_CASE("refuse_plaintext: 554 5.7.0 with the advice, then close", "[smtp][behaviour]") {
  Harness h(Role::implicit);
  CHECK(h.refuse_plaintext(kAdvice) == "554 5.7.0 " + std::string(kAdvice) + "\r\n");
  CHECK(h.action == Action::close);
  CHECK(h.session->state() == SmtpSession::State::closed);
  // The server logs its own diagnosis: the engine adds no protocol_error.
  CHECK(h.count(EventKind::protocol_error) == 0);
  // Whatever else the client sent is ignored.
  CHECK(h.send("EHLO client.example.test\r\nQUIT\r\n").empty());
}

TEST_CASE("refuse_plaintext sanitises the advice", "[smtp][behaviour]") {
  Harness h(Role::implicit);
  CHECK(h.refuse_plaintext("use TLS\r\n250 forged") == "554 5.7.0 use TLS\\x0d\\x0a250 forged\r\n");
}

TEST_CASE("greeting unavailable: 421 4.3.2 and close", "[smtp][behaviour]") {
  Harness h(Role::mx);
  h.policy.unavailable = true;
  CHECK(h.start() ==
        "421 4.3.2 mx.example.test Service not available, closing transmission channel\r\n");
  CHECK(h.action == Action::close);
  CHECK(h.session->state() == SmtpSession::State::closed);
  REQUIRE(h.behaviours().size() == 1);
  CHECK(h.behaviours()[0] ==
        "greeting replaced by 421 4.3.2 Service not available, connection closed "
        "(greeting = \"unavailable\")");
  CHECK(h.count(EventKind::protocol_error) == 0);
  CHECK(h.send(kEhlo).empty());
  CHECK(h.timeout().empty());
}

TEST_CASE("starttls_fault not-advertised: stripped from EHLO, 502 like a server without it",
          "[smtp][behaviour][starttls]") {
  Harness h(Role::submission);
  h.policy.starttls_fault = StartTlsFault::not_advertised;
  CHECK(h.start() == kGreeting);
  // No STARTTLS, and so (auth_requires_tls) no AUTH either: a downgrade a client must refuse.
  CHECK(h.send(kEhlo) == ehlo_reply(false, false));
  REQUIRE(h.behaviours().size() == 1);
  CHECK(h.behaviours()[0] ==
        "STARTTLS left out of the EHLO reply, as a man in the middle would strip it "
        "(starttls_fault = \"not-advertised\")");
  // Reported for the first EHLO only.
  CHECK(h.send(kEhlo) == ehlo_reply(false, false));
  CHECK(h.behaviours().size() == 1);
  CHECK(h.send("STARTTLS\r\n") == "502 5.5.1 Command not implemented\r\n");
  CHECK(h.action == Action::none);
  CHECK(h.count(EventKind::starttls) == 0);
  REQUIRE(h.behaviours().size() == 2);
  CHECK(h.behaviours()[1] ==
        "STARTTLS answered with 502 5.5.1 as if the server had no STARTTLS "
        "(starttls_fault = \"not-advertised\")");
  CHECK(h.send("AUTH PLAIN " + std::string(kPlainAlice) + "\r\n") ==
        "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
  CHECK(h.send("NOOP\r\n") == kOk);
}

TEST_CASE("starttls_fault not-advertised answers as a listener without STARTTLS does",
          "[smtp][behaviour][starttls]") {
  const std::string input =
      "STARTTLS\r\nEHLO client.example.test\r\nSTARTTLS\r\nMAIL FROM:<>\r\nSTARTTLS\r\n"
      "RSET\r\nSTARTTLS x\r\nQUIT\r\n";
  Harness faulty(Role::mx);
  faulty.policy.starttls_fault = StartTlsFault::not_advertised;
  Harness plain(Role::mx);
  plain.policy.starttls_offered = false;
  auto expected = plain.start();
  expected += plain.send(input);
  auto got = faulty.start();
  got += faulty.send(input);
  CHECK(got == expected);
  CHECK(faulty.action == plain.action);
  CHECK(faulty.behaviours().size() == 5);  // EHLO once, each STARTTLS
}

TEST_CASE("starttls_fault refused: advertised, 454 4.7.0", "[smtp][behaviour][starttls]") {
  Harness h(Role::mx);
  h.policy.starttls_fault = StartTlsFault::refused;
  h.start();
  CHECK(h.send(kEhlo) == ehlo_reply(true, false));
  CHECK(h.behaviours().empty());
  CHECK(h.send("STARTTLS\r\nNOOP\r\n") ==
        "454 4.7.0 TLS not available due to temporary reason\r\n" + std::string(kOk));
  CHECK(h.action == Action::none);
  CHECK(h.count(EventKind::starttls) == 0);
  CHECK(h.count(EventKind::protocol_error) == 0);
  CHECK(h.behaviours() ==
        std::vector<std::string>{"STARTTLS refused with 454 4.7.0 (starttls_fault = \"refused\")"});
  CHECK(h.session->state() == SmtpSession::State::greeted);
  CHECK(!h.session->tls_active());
  // The session goes on in plaintext: mail for a local domain is still taken.
  CHECK(h.send("MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\n") ==
        "250 2.1.0 Sender <> OK\r\n250 2.1.5 Recipient <alice@example.test> OK\r\n");
}

TEST_CASE("starttls_fault inject-response: a forged line in the same write",
          "[smtp][behaviour][starttls][security]") {
  Harness h(Role::submission);
  h.policy.starttls_fault = StartTlsFault::inject_response;
  h.start();
  CHECK(h.send(kEhlo) == ehlo_reply(true, false));
  // The client's own pipelined plaintext is still dropped (the injection defence stays on).
  CHECK(h.send("STARTTLS\r\nNOOP\r\n") == std::string(kReady) + std::string(kInjected));
  CHECK(h.action == Action::start_tls);
  CHECK(h.count(EventKind::starttls) == 1);
  CHECK(h.session->state() == SmtpSession::State::starttls);
  REQUIRE(h.behaviours().size() == 1);
  CHECK(h.behaviours()[0] ==
        "STARTTLS accepted, and a forged \"250 INJECTED: ...\" line sent in plaintext right "
        "behind the 220 (starttls_fault = \"inject-response\")");
  CHECK(h.send("EHLO x\r\n").empty());
  CHECK(h.tls_started().empty());
  // Inside TLS the session is normal: no STARTTLS, no second injection.
  CHECK(h.send(kEhlo) == ehlo_reply(false, true));
  CHECK(h.send("STARTTLS\r\n") == "554 5.5.1 TLS already active\r\n");
  CHECK(h.behaviours().size() == 1);
}

TEST_CASE("starttls_fault abort-handshake: the engine behaves as without a fault",
          "[smtp][behaviour][starttls]") {
  Harness h(Role::mx);
  h.policy.starttls_fault = StartTlsFault::abort_handshake;
  h.start();
  CHECK(h.send(kEhlo) == ehlo_reply(true, false));
  CHECK(h.send("STARTTLS\r\n") == kReady);
  CHECK(h.action == Action::start_tls);
  CHECK(h.behaviours().empty());
}

TEST_CASE("starttls_fault has no effect without STARTTLS to fault", "[smtp][behaviour][starttls]") {
  for (const auto fault :
       {StartTlsFault::not_advertised, StartTlsFault::refused, StartTlsFault::inject_response}) {
    INFO("fault " << static_cast<int>(fault));
    {  // implicit TLS
      Harness h(Role::implicit);
      h.policy.starttls_fault = fault;
      h.start();
      CHECK(h.send(kEhlo) == ehlo_reply(false, true));
      CHECK(h.send("STARTTLS\r\n") == "554 5.5.1 TLS already active\r\n");
      CHECK(h.behaviours().empty());
    }
    {  // no STARTTLS offered
      Harness h(Role::mx);
      h.policy.starttls_offered = false;
      h.policy.starttls_fault = fault;
      h.start();
      CHECK(h.send(kEhlo) == ehlo_reply(false, false));
      CHECK(h.send("STARTTLS\r\n") == "502 5.5.1 Command not implemented\r\n");
      CHECK(h.behaviours().empty());
    }
  }
}
