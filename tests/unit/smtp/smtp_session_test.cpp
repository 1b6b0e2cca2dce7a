// Session-level commands: greeting, EHLO/HELO per role, RSET, NOOP, VRFY, HELP, QUIT, unknown and
// unimplemented verbs, line limits, the bad-command limit, timeout and shutdown.
#include <catch2/catch.hpp>

#include "smtp_harness.hpp"

using namespace smtp_test;
using namespace std::string_view_literals;

TEST_CASE("greeting names the host", "[smtp]") {
  Harness h;
  CHECK(h.start() == kGreeting);
  CHECK(h.session->state() == SmtpSession::State::initial);
}

TEST_CASE("input before start is ignored", "[smtp]") {
  Harness h;
  h.session = std::make_unique<SmtpSession>(h.policy, h.store, h.users);
  CHECK(h.send("EHLO x\r\n").empty());
}

TEST_CASE("EHLO advertises the extensions of each role", "[smtp][ehlo]") {
  SECTION("MX before TLS: STARTTLS, no AUTH (it would travel in plaintext)") {
    Harness h(Role::mx);
    h.start();
    CHECK(h.send("EHLO client.example.test\r\n") == ehlo_reply(true, false));
  }
  SECTION("MX after STARTTLS: AUTH, no STARTTLS") {
    Harness h(Role::mx);
    h.start();
    h.send("STARTTLS\r\n");
    h.tls_started();
    CHECK(h.send("EHLO client.example.test\r\n") == ehlo_reply(false, true));
  }
  SECTION("MX that allows AUTH without TLS") {
    Harness h(Role::mx);
    h.policy.auth_requires_tls = false;
    h.start();
    CHECK(h.send("EHLO client.example.test\r\n") == ehlo_reply(true, true));
  }
  SECTION("MX without AUTH") {
    Harness h(Role::mx);
    h.policy.auth = sevenport::smtp::AuthMode::off;
    h.policy.auth_requires_tls = false;
    h.start();
    CHECK(h.send("EHLO client.example.test\r\n") == ehlo_reply(true, false));
  }
  SECTION("submission before TLS") {
    Harness h(Role::submission);
    h.start();
    CHECK(h.send("EHLO client.example.test\r\n") == ehlo_reply(true, false));
  }
  SECTION("implicit TLS: AUTH at once, never STARTTLS") {
    Harness h(Role::implicit);
    CHECK(h.start() == kGreeting);
    CHECK(h.session->tls_active());
    CHECK(h.send("EHLO client.example.test\r\n") == ehlo_reply(false, true));
  }
  SECTION("a listener without STARTTLS") {
    Harness h(Role::mx);
    h.policy.starttls_offered = false;
    h.start();
    CHECK(h.send("ehlo client.example.test\r\n") == ehlo_reply(false, false));
  }
}

TEST_CASE("EHLO and HELO need an argument", "[smtp][ehlo]") {
  Harness h;
  h.start();
  CHECK(h.send("EHLO\r\n") == "501 5.5.4 Syntax: EHLO hostname\r\n");
  CHECK(h.send("EHLO   \r\n") == "501 5.5.4 Syntax: EHLO hostname\r\n");
  CHECK(h.send("HELO\r\n") == "501 5.5.4 Syntax: HELO hostname\r\n");
  CHECK(h.session->state() == SmtpSession::State::initial);
  CHECK(h.send("HELO client.example.test\r\n") == "250 mx.example.test\r\n");
  CHECK(h.session->state() == SmtpSession::State::greeted);
}

TEST_CASE("the EHLO argument is sanitised before it is echoed", "[smtp][ehlo]") {
  Harness h;
  h.start();
  const auto reply =
      h.send(std::string("EHLO a\x01\x7f"
                         "b\r\n"));
  CHECK(reply.rfind("250-mx.example.test Hello a\\x01\\x7fb [192.0.2.10]\r\n", 0) == 0);
}

TEST_CASE("RSET, NOOP, VRFY, HELP", "[smtp]") {
  Harness h;
  h.start();
  CHECK(h.send("RSET\r\n") == kOk);
  CHECK(h.session->state() == SmtpSession::State::initial);
  CHECK(h.send("RSET now\r\n") == "501 5.5.4 Syntax: RSET\r\n");
  CHECK(h.send("NOOP\r\n") == kOk);
  CHECK(h.send("noop with a string\r\n") == kOk);
  CHECK(h.send("VRFY alice\r\n") ==
        "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n");
  CHECK(h.send("VRFY\r\n") == "501 5.5.4 Syntax: VRFY address\r\n");
  CHECK(h.send("HELP\r\n") ==
        "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH "
        "(RFC 5321)\r\n");
  CHECK(h.send("HELP MAIL\r\n").rfind("214 2.0.0 ", 0) == 0);
}

TEST_CASE("QUIT says goodbye, closes, and nothing after it runs", "[smtp]") {
  Harness h;
  h.start();
  CHECK(h.send("QUIT\r\nNOOP\r\n") == "221 2.0.0 Bye\r\n");
  CHECK(h.action == Action::close);
  CHECK(h.session->state() == SmtpSession::State::closed);
  CHECK(h.send("NOOP\r\n").empty());
  CHECK(h.timeout().empty());
  CHECK(h.send("QUIT\r\n").empty());
}

TEST_CASE("QUIT takes no argument", "[smtp]") {
  Harness h;
  h.start();
  CHECK(h.send("QUIT now\r\n") == "501 5.5.4 Syntax: QUIT\r\n");
  CHECK(h.action == Action::none);
}

TEST_CASE("unknown and unimplemented verbs", "[smtp]") {
  Harness h;
  h.policy.max_bad_commands = 100;
  h.start();
  CHECK(h.send("FOO bar\r\n") == "500 5.5.1 Command unrecognized\r\n");
  CHECK(h.send("\r\n") == "500 5.5.1 Command unrecognized\r\n");
  for (const char* verb : {"EXPN staff", "TURN", "ETRN example.test", "ATRN", "BDAT 10", "SEND",
                           "SOML", "SAML", "expn x"}) {
    INFO(verb);
    CHECK(h.send(std::string(verb) + "\r\n") == "502 5.5.1 Command not implemented\r\n");
  }
}

TEST_CASE("errors are logged with the sanitised command", "[smtp][events]") {
  Harness h;
  h.start();
  h.send("FOO \x01\r\n");
  const auto e = h.last(EventKind::protocol_error);
  REQUIRE(e);
  CHECK(e->text == "FOO \\x01: 500 5.5.1 Command unrecognized");
}

TEST_CASE("a TLS ClientHello on a plaintext connection is diagnosed", "[smtp][events]") {
  Harness h;
  h.start();
  CHECK(h.send("\x16\x03\x01\x02\x00\x01\r\n"sv) == "500 5.5.1 Command unrecognized\r\n");
  REQUIRE(h.last(EventKind::diagnosis));
  CHECK(h.last(EventKind::diagnosis)->text.find("STARTTLS") != std::string::npos);
}

TEST_CASE("an over-long command line is refused and the session goes on", "[smtp][limits]") {
  Harness h;
  h.start();
  SECTION("over max_line_length, under the framer's limit") {
    CHECK(h.send("NOOP " + std::string(996, 'x') + "\r\n") == "500 5.5.2 Line too long\r\n");
    CHECK(h.send("NOOP\r\n") == kOk);
  }
  SECTION("exactly max_line_length, CRLF included, is fine") {
    CHECK(h.send("NOOP " + std::string(993, 'x') + "\r\n") == kOk);
  }
  SECTION("far over every limit, in pieces") {
    std::string reply;
    for (int i = 0; i < 20; ++i) reply += h.send(std::string(1000, 'y'));
    reply += h.send("\r\nNOOP\r\n");
    CHECK(reply == "500 5.5.2 Line too long\r\n" + std::string(kOk));
  }
}

TEST_CASE("too many bad commands close the session", "[smtp][limits]") {
  Harness h;
  h.policy.max_bad_commands = 3;
  h.start();
  CHECK(h.send("FOO\r\nNOOP\r\nBAR\r\nMAIL FROM:<a@example.test>\r\nNOOP\r\n") ==
        "500 5.5.1 Command unrecognized\r\n"
        "250 2.0.0 Ok\r\n"
        "500 5.5.1 Command unrecognized\r\n"
        "503 5.5.1 Error: send HELO/EHLO first\r\n"
        "421 4.7.0 mx.example.test Too many errors, closing connection\r\n");
  CHECK(h.action == Action::close);
  CHECK(h.count(EventKind::protocol_error) == 3);
  CHECK(h.send("NOOP\r\n").empty());
}

TEST_CASE("a successful delivery does not reset the bad-command count", "[smtp][limits]") {
  Harness h;
  h.policy.max_bad_commands = 2;
  h.start();
  CHECK(h.send("FOO\r\n") == "500 5.5.1 Command unrecognized\r\n");
  CHECK(h.send("EHLO client.example.test\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\n"
               "DATA\r\nx\r\n.\r\n")
            .ends_with("250 2.0.0 Ok: queued as 1\r\n"));
  CHECK(h.send("FOO\r\n") ==
        "500 5.5.1 Command unrecognized\r\n"
        "421 4.7.0 mx.example.test Too many errors, closing connection\r\n");
}

TEST_CASE("timeout and shutdown say 421 and close", "[smtp]") {
  SECTION("timeout") {
    Harness h;
    h.start();
    CHECK(h.timeout() == "421 4.4.2 mx.example.test Error: timeout exceeded\r\n");
    CHECK(h.action == Action::close);
    CHECK(h.send("NOOP\r\n").empty());
  }
  SECTION("shutdown") {
    Harness h;
    h.start();
    CHECK(h.shutdown() == "421 4.3.2 mx.example.test Service shutting down\r\n");
    CHECK(h.action == Action::close);
  }
  SECTION("timeout during DATA stores nothing") {
    Harness h;
    h.start();
    h.send("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\npartial\r\n");
    CHECK(h.timeout() == "421 4.4.2 mx.example.test Error: timeout exceeded\r\n");
    CHECK(h.store.messages().empty());
  }
  SECTION("no 421 after close") {
    Harness h;
    h.start();
    h.send("QUIT\r\n");
    CHECK(h.shutdown().empty());
  }
}

TEST_CASE("an idle session is small", "[smtp][limits]") { CHECK(sizeof(SmtpSession) < 1024); }
