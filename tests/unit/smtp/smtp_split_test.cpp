// Every transcript gives the same replies, the same stored messages and the same events however
// its input is cut: split in two at every byte boundary, and fed one byte at a time.
#include <catch2/catch.hpp>

#include <functional>

#include "smtp_harness.hpp"

using namespace smtp_test;

namespace {

struct Result {
  std::string output;
  std::vector<std::string> stored;
  std::vector<EventKind> events;
  Action action = Action::none;

  bool operator==(const Result&) const = default;
};

struct Scenario {
  const char* name;
  Role role;
  std::function<void(SmtpPolicy&)> adjust;
  std::string input;
};

Result run(const Scenario& scenario, const std::vector<std::string>& pieces) {
  Harness h(scenario.role);
  if (scenario.adjust) scenario.adjust(h.policy);
  Result result;
  result.output = h.start();
  result.output += h.send_pieces(pieces);
  for (const auto& m : h.store.messages()) result.stored.push_back(m->raw);
  for (const auto& e : h.events) result.events.push_back(e.kind);
  result.action = h.action;
  return result;
}

void check_every_split(const Scenario& scenario, const std::string& expected_output,
                       std::size_t expected_messages) {
  INFO(scenario.name);
  const auto whole = run(scenario, {scenario.input});
  CHECK(whole.output == expected_output);
  CHECK(whole.stored.size() == expected_messages);
  for (std::size_t at = 0; at <= scenario.input.size(); ++at) {
    INFO("split at " << at);
    const auto split = run(scenario, {scenario.input.substr(0, at), scenario.input.substr(at)});
    CHECK(split.output == whole.output);
    CHECK(split.stored == whole.stored);
    CHECK(split.events == whole.events);
    CHECK(split.action == whole.action);
  }
  std::vector<std::string> bytes;
  for (const char c : scenario.input) bytes.emplace_back(1, c);
  CHECK(run(scenario, bytes) == whole);
}

void allow_plaintext_auth(SmtpPolicy& policy) { policy.auth_requires_tls = false; }

const std::string kEhloMx =
    "250-mx.example.test Hello client.example.test [192.0.2.10]\r\n"
    "250-PIPELINING\r\n250-SIZE 10000\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
    "250-SMTPUTF8\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250 HELP\r\n";

}  // namespace

TEST_CASE("split: the main happy path", "[smtp][split]") {
  const Scenario scenario{
      "happy path", Role::mx, allow_plaintext_auth,
      "EHLO client.example.test\r\nAUTH PLAIN " + std::string(kPlainAlice) +
          "\r\nMAIL FROM:<alice@example.test> SIZE=100 BODY=8BITMIME\r\n"
          "RCPT TO:<bob@example.org>\r\nRCPT TO:<carol@elsewhere.example>\r\nDATA\r\n"
          "Subject: t\r\n\r\n..dot\r\nline\r\n.\r\nNOOP\r\nQUIT\r\n"};
  check_every_split(scenario,
                    std::string(kGreeting) + kEhloMx +
                        "235 2.7.0 Authentication successful\r\n"
                        "250 2.1.0 Sender <alice@example.test> OK\r\n"
                        "250 2.1.5 Recipient <bob@example.org> OK\r\n"
                        "250 2.1.5 Recipient <carol@elsewhere.example> OK\r\n"
                        "354 End data with <CR><LF>.<CR><LF>\r\n"
                        "250 2.0.0 Ok: queued as 1\r\n"
                        "250 2.0.0 Ok\r\n"
                        "221 2.0.0 Bye\r\n",
                    1);
  const auto whole = run(scenario, {scenario.input});
  CHECK(whole.stored[0].ends_with("\r\nSubject: t\r\n\r\n.dot\r\nline\r\n"));
}

TEST_CASE("split: DATA transcripts", "[smtp][split][data]") {
  const std::string start = "HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n";
  const std::string accepted = std::string(kGreeting) +
                               "250 mx.example.test\r\n"
                               "250 2.1.0 Sender <> OK\r\n"
                               "250 2.1.5 Recipient <alice@example.test> OK\r\n"
                               "354 End data with <CR><LF>.<CR><LF>\r\n";
  const std::string bare = "554 5.6.0 Message contains bare CR or LF: lines must end with CRLF\r\n";

  check_every_split({"empty message", Role::mx, nullptr, start + ".\r\nNOOP\r\n"},
                    accepted + "250 2.0.0 Ok: queued as 1\r\n250 2.0.0 Ok\r\n", 1);
  check_every_split({"dot-stuffing", Role::mx, nullptr,
                     start + "..\r\n.x\r\n\r\n..\r\n.\r\n" + start + "a\r\n.\r\n"},
                    accepted + "250 2.0.0 Ok: queued as 1\r\n" + accepted.substr(kGreeting.size()) +
                        "250 2.0.0 Ok: queued as 2\r\n",
                    2);
  check_every_split({"smuggling with \\n.\\n", Role::mx, nullptr,
                     start + "a\n.\nMAIL FROM:<e@example.net>\r\nRCPT TO:<bob@example.org>\r\n"
                             "DATA\r\nevil\r\n.\r\nNOOP\r\n"},
                    accepted + bare + "250 2.0.0 Ok\r\n", 0);
  check_every_split(
      {"smuggling with \\r\\n.\\n", Role::mx, nullptr, start + "a\r\n.\nRSET\r\n.\r\nNOOP\r\n"},
      accepted + bare + "250 2.0.0 Ok\r\n", 0);
  check_every_split({"bare CR", Role::mx, nullptr, start + "a\rb\r\n.\r\n"}, accepted + bare, 0);
  check_every_split({"dot then bare CR", Role::mx, nullptr, start + ".\r.\r\n.\r\n"},
                    accepted + bare, 0);
  check_every_split(
      {"oversize", Role::mx, [](SmtpPolicy& p) { p.max_message_size = 20; },
       start + "0123456789\r\n0123456789\r\n.\r\n" + start + "0123456789\r\n012345\r\n.\r\n"},
      std::string(kGreeting) +
          "250 mx.example.test\r\n250 2.1.0 Sender <> OK\r\n"
          "250 2.1.5 Recipient <alice@example.test> OK\r\n"
          "354 End data with <CR><LF>.<CR><LF>\r\n"
          "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
          "250 mx.example.test\r\n250 2.1.0 Sender <> OK\r\n"
          "250 2.1.5 Recipient <alice@example.test> OK\r\n"
          "354 End data with <CR><LF>.<CR><LF>\r\n"
          "250 2.0.0 Ok: queued as 1\r\n",
      1);
}

TEST_CASE("split: AUTH exchanges and line limits", "[smtp][split][auth]") {
  check_every_split({"LOGIN, cancelled then good", Role::implicit, nullptr,
                     "EHLO c\r\nAUTH LOGIN\r\n*\r\nAUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\nNOOP\r\n"},
                    std::string(kGreeting) +
                        "250-mx.example.test Hello c [192.0.2.10]\r\n"
                        "250-PIPELINING\r\n250-SIZE 10000\r\n250-8BITMIME\r\n"
                        "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-AUTH PLAIN LOGIN\r\n"
                        "250 HELP\r\n"
                        "334 VXNlcm5hbWU6\r\n501 5.0.0 Authentication cancelled\r\n"
                        "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n"
                        "235 2.7.0 Authentication successful\r\n250 2.0.0 Ok\r\n",
                    0);
  check_every_split(
      {"over-long line", Role::mx, [](SmtpPolicy& p) { p.max_line_length = 20; },
       "NOOP " + std::string(40, 'z') + "\r\nNOOP\r\n" + std::string(13000, 'q') + "\r\nQUIT\r\n"},
      std::string(kGreeting) +
          "500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n500 5.5.2 Line too long\r\n"
          "221 2.0.0 Bye\r\n",
      0);
}

TEST_CASE("split: deliberate behaviours", "[smtp][split][behaviour]") {
  using sevenport::StartTlsFault;
  check_every_split(
      {"STARTTLS refused, unknown user", Role::mx,
       [](SmtpPolicy& p) {
         p.starttls_fault = StartTlsFault::refused;
         p.reject_unknown_users = true;
       },
       "EHLO client.example.test\r\nSTARTTLS\r\nMAIL FROM:<>\r\nRCPT TO:<nobody@example.test>\r\n"
       "RCPT TO:<Postmaster>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n"},
      std::string(kGreeting) + kEhloMx.substr(0, kEhloMx.find("250-AUTH")) + "250 HELP\r\n" +
          "454 4.7.0 TLS not available due to temporary reason\r\n"
          "250 2.1.0 Sender <> OK\r\n"
          "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown\r\n"
          "250 2.1.5 Recipient <postmaster@mx.example.test> OK\r\n"
          "250 2.1.5 Recipient <alice@example.test> OK\r\n"
          "354 End data with <CR><LF>.<CR><LF>\r\n"
          "250 2.0.0 Ok: queued as 1\r\n"
          "221 2.0.0 Bye\r\n",
      1);
  check_every_split(
      {"STARTTLS with an injected response", Role::mx,
       [](SmtpPolicy& p) { p.starttls_fault = StartTlsFault::inject_response; },
       "EHLO client.example.test\r\nSTARTTLS\r\nNOOP\r\n"},
      std::string(kGreeting) + kEhloMx.substr(0, kEhloMx.find("250-AUTH")) + "250 HELP\r\n" +
          "220 2.0.0 Ready to start TLS\r\n"
          "250 INJECTED: sent in plaintext after the STARTTLS reply; a client that reads this is "
          "vulnerable to response injection\r\n",
      0);
}
