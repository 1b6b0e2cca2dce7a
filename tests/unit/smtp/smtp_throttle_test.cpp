// Greylisting and the per-IP message rate limit (docs/BEHAVIOURS.md), through sessions that share
// one SmtpThrottle as the sessions of one listener do, with a clock the tests move; and the
// throttle's own bounds.
#include <catch2/catch.hpp>

#include <memory>

#include "protocols/smtp/smtp_throttle.hpp"
#include "smtp_harness.hpp"

using namespace smtp_test;
using sevenport::smtp::SmtpThrottle;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kEhlo = "EHLO client.example.test\r\n";

std::string greylisted(std::string_view address, int seconds) {
  return "451 4.7.1 <" + std::string(address) +
         ">: Recipient address rejected: Greylisted, try again in " + std::to_string(seconds) +
         " seconds\r\n";
}

std::string accepted(std::string_view address) {
  return "250 2.1.5 Recipient <" + std::string(address) + "> OK\r\n";
}

constexpr std::string_view kRateLimited =
    "421 4.7.0 mx.example.test Error: too many messages, try again later\r\n";
const std::string kSenderOk = "250 2.1.0 Sender <sender@example.net> OK\r\n";

// One listener: its throttle, its settings, and a clock that only the test moves.
struct Listener {
  SmtpThrottle throttle;
  std::chrono::system_clock::time_point now = fixed_time();
  std::uint32_t greylist_seconds = 0;
  std::uint32_t rate_limit_messages = 0;
  std::uint32_t rate_limit_window_seconds = 60;

  // A new connection from `ip`, greeted with EHLO.
  std::unique_ptr<Harness> connect(std::string ip = "192.0.2.10", Role role = Role::mx) {
    auto h = std::make_unique<Harness>(role);
    h->policy.throttle = &throttle;
    h->policy.greylist_seconds = greylist_seconds;
    h->policy.rate_limit_messages = rate_limit_messages;
    h->policy.rate_limit_window_seconds = rate_limit_window_seconds;
    h->policy.clock = [this] { return now; };
    h->context.peer_ip = std::move(ip);
    h->start();
    h->send(kEhlo);
    return h;
  }
};

// One whole message from the connection; returns every reply.
std::string send_message(Harness& h, std::string_view rcpt = "alice@example.test") {
  return h.send("MAIL FROM:<sender@example.net>\r\nRCPT TO:<" + std::string(rcpt) +
                ">\r\nDATA\r\nSubject: t\r\n\r\nhi\r\n.\r\n");
}

}  // namespace

TEST_CASE("greylisting: deferred until greylist_seconds after the first attempt",
          "[smtp][greylist][behaviour]") {
  Listener mx;
  mx.greylist_seconds = 60;
  auto first = mx.connect();
  first->send("MAIL FROM:<sender@example.net>\r\n");
  CHECK(first->send("RCPT TO:<alice@example.test>\r\n") == greylisted("alice@example.test", 60));
  CHECK(first->behaviours() ==
        std::vector<std::string>{"greylisted <alice@example.test> from 192.0.2.10: first attempt; "
                                 "accepted from 60 s after it (greylist_seconds = 60)"});
  CHECK(first->count(EventKind::protocol_error) == 0);
  // Nothing was accepted, so there is nothing to send.
  CHECK(first->send("DATA\r\n") == "554 5.5.1 No valid recipients\r\n");
  CHECK(first->send("QUIT\r\n") == "221 2.0.0 Bye\r\n");

  // Too early: the time left is counted from the first attempt, not from the retry.
  mx.now += 20s;
  auto second = mx.connect();
  second->send("MAIL FROM:<sender@example.net>\r\n");
  CHECK(second->send("RCPT TO:<alice@example.test>\r\n") == greylisted("alice@example.test", 40));
  CHECK(
      second->behaviours() ==
      std::vector<std::string>{"greylisted <alice@example.test> from 192.0.2.10: retried 20 s "
                               "after the first attempt, 40 s too early (greylist_seconds = 60)"});
  // Half a second before: rounded up, never "0 seconds".
  mx.now += 39s + 500ms;
  CHECK(second->send("RCPT TO:<alice@example.test>\r\n") == greylisted("alice@example.test", 1));

  // Exactly greylist_seconds after the first attempt: accepted, and reported once.
  mx.now += 500ms;
  auto third = mx.connect();
  CHECK(send_message(*third) == kSenderOk + accepted("alice@example.test") +
                                    "354 End data with <CR><LF>.<CR><LF>\r\n"
                                    "250 2.0.0 Ok: queued as 1\r\n");
  CHECK(third->behaviours() ==
        std::vector<std::string>{"greylisting passed for <alice@example.test> from 192.0.2.10: "
                                 "retried 60 s after the first attempt, accepted from now on "
                                 "(greylist_seconds = 60)"});
  REQUIRE(mx.throttle.greylist_entries() == 1);

  // And stays accepted, whatever the case of the address, long after.
  mx.now += 24h * 30;
  auto later = mx.connect();
  later->send("MAIL FROM:<sender@example.net>\r\n");
  CHECK(later->send("RCPT TO:<ALICE@example.TEST>\r\n") == accepted("ALICE@example.TEST"));
  CHECK(later->behaviours().empty());
}

TEST_CASE("greylisting is per client IP and per recipient", "[smtp][greylist][behaviour]") {
  Listener mx;
  mx.greylist_seconds = 300;
  auto a = mx.connect("192.0.2.10");
  a->send("MAIL FROM:<sender@example.net>\r\n");
  CHECK(a->send("RCPT TO:<alice@example.test>\r\n") == greylisted("alice@example.test", 300));
  mx.now += 300s;
  CHECK(a->send("RCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.org>\r\n") ==
        accepted("alice@example.test") + greylisted("bob@example.org", 300));
  // Another client IP starts from the beginning for the same recipient.
  auto b = mx.connect("2001:db8::25");
  b->send("MAIL FROM:<sender@example.net>\r\n");
  CHECK(b->send("RCPT TO:<alice@example.test>\r\n") == greylisted("alice@example.test", 300));
  CHECK(b->behaviours()[0] ==
        "greylisted <alice@example.test> from 2001:db8::25: first attempt; accepted from 300 s "
        "after it (greylist_seconds = 300)");
  CHECK(mx.throttle.greylist_entries() == 3);
}

TEST_CASE("greylisting spares authenticated clients and what is refused anyway",
          "[smtp][greylist][behaviour]") {
  Listener mx;
  mx.greylist_seconds = 60;
  SECTION("authenticated") {
    auto h = mx.connect("192.0.2.10", Role::implicit);
    h->send("AUTH PLAIN " + std::string(kPlainAlice) + "\r\n");
    REQUIRE(h->session->auth_user() == "alice@example.test");
    CHECK(send_message(*h, "bob@example.org").ends_with("250 2.0.0 Ok: queued as 1\r\n"));
    CHECK(h->behaviours().empty());
  }
  SECTION("relay refused before greylisting") {
    auto h = mx.connect();
    h->send("MAIL FROM:<sender@example.net>\r\n");
    CHECK(h->send("RCPT TO:<x@elsewhere.example>\r\n") ==
          "554 5.7.1 <x@elsewhere.example>: Relay access denied\r\n");
  }
  SECTION("unknown users refused before greylisting") {
    auto h = mx.connect();
    h->policy.reject_unknown_users = true;
    h->send("MAIL FROM:<sender@example.net>\r\n");
    CHECK(h->send("RCPT TO:<nobody@example.test>\r\n") ==
          "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown\r\n");
  }
  CHECK(mx.throttle.greylist_entries() == 0);
}

TEST_CASE("greylisting and rate limits are off without a throttle", "[smtp][greylist][rate]") {
  Harness h(Role::mx);
  h.policy.greylist_seconds = 60;
  h.policy.rate_limit_messages = 1;
  h.start();
  h.send(kEhlo);
  CHECK(send_message(h).ends_with("250 2.0.0 Ok: queued as 1\r\n"));
  CHECK(send_message(h).ends_with("250 2.0.0 Ok: queued as 2\r\n"));
  CHECK(h.behaviours().empty());
}

TEST_CASE("rate limit: 421 at MAIL once the limit is reached, then close",
          "[smtp][rate][behaviour]") {
  Listener mx;
  mx.rate_limit_messages = 2;
  mx.rate_limit_window_seconds = 60;
  auto h = mx.connect();
  CHECK(send_message(*h).ends_with("250 2.0.0 Ok: queued as 1\r\n"));
  mx.now += 10s;
  CHECK(send_message(*h).ends_with("250 2.0.0 Ok: queued as 2\r\n"));
  // The rest of the pipelined input is not executed.
  CHECK(h->send("MAIL FROM:<sender@example.net>\r\nRCPT TO:<alice@example.test>\r\n") ==
        kRateLimited);
  CHECK(h->action == Action::close);
  CHECK(h->session->state() == SmtpSession::State::closed);
  CHECK(h->behaviours() ==
        std::vector<std::string>{
            "rate limit reached for 192.0.2.10: 2 messages accepted from it in the last 60 s; "
            "MAIL refused with 421 4.7.0 and the connection closed (rate_limit_messages = 2, "
            "rate_limit_window_seconds = 60)"});
  CHECK(h->count(EventKind::protocol_error) == 0);
  CHECK(h->store.messages().size() == 2);

  // A new connection from the same IP is refused as well, until the window moves on.
  mx.now += 49s;  // 59 s after the first message
  auto again = mx.connect();
  CHECK(again->send("MAIL FROM:<sender@example.net>\r\n") == kRateLimited);
  mx.now += 1s;  // 60 s after the first: it no longer counts
  auto later = mx.connect();
  CHECK(send_message(*later).ends_with("250 2.0.0 Ok: queued as 1\r\n"));
  // Now the second and third are within the window.
  CHECK(later->send("MAIL FROM:<sender@example.net>\r\n") == kRateLimited);

  // Other client IPs have their own count.
  auto other = mx.connect("198.51.100.7");
  CHECK(other->send("MAIL FROM:<sender@example.net>\r\n") == kSenderOk);
}

TEST_CASE("rate limit counts accepted messages only", "[smtp][rate][behaviour]") {
  Listener mx;
  mx.rate_limit_messages = 1;
  auto h = mx.connect();
  // Refused at DATA (bare LF), abandoned with RSET, no recipient: none of them counts.
  CHECK(h->send("MAIL FROM:<sender@example.net>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n"
                "bare\nline\r\n.\r\n")
            .ends_with("554 5.6.0 Message contains bare CR or LF: lines must end with CRLF\r\n"));
  CHECK(h->send("MAIL FROM:<sender@example.net>\r\nRSET\r\n") == kSenderOk + std::string(kOk));
  CHECK(send_message(*h).ends_with("250 2.0.0 Ok: queued as 1\r\n"));
  CHECK(h->send("MAIL FROM:<sender@example.net>\r\n") == kRateLimited);
}

TEST_CASE("rate limit applies after the AUTH requirement", "[smtp][rate][behaviour]") {
  Listener mx;
  mx.rate_limit_messages = 1;
  auto h = mx.connect("192.0.2.10", Role::implicit);
  CHECK(h->send("MAIL FROM:<sender@example.net>\r\n") == "530 5.7.0 Authentication required\r\n");
  h->send("AUTH PLAIN " + std::string(kPlainAlice) + "\r\n");
  CHECK(send_message(*h, "bob@example.org").ends_with("250 2.0.0 Ok: queued as 1\r\n"));
  CHECK(h->send("MAIL FROM:<alice@example.test>\r\n") == kRateLimited);
}

TEST_CASE("throttle: greylist memory is bounded, the least recently used forgotten",
          "[smtp][greylist][throttle]") {
  SmtpThrottle throttle(3);
  const auto t = fixed_time();
  using Verdict = SmtpThrottle::Greylist::Verdict;
  for (const char* rcpt : {"a@x.test", "b@x.test", "c@x.test"})
    CHECK(throttle.greylist("192.0.2.1", rcpt, 10s, t).verdict == Verdict::first_attempt);
  // Using "a" makes "b" the least recently used.
  CHECK(throttle.greylist("192.0.2.1", "A@X.TEST", 10s, t + 1s).verdict == Verdict::too_early);
  CHECK(throttle.greylist("192.0.2.1", "d@x.test", 10s, t).verdict == Verdict::first_attempt);
  CHECK(throttle.greylist_entries() == 3);
  CHECK(throttle.greylist("192.0.2.1", "a@x.test", 10s, t + 10s).verdict == Verdict::passed);
  CHECK(throttle.greylist("192.0.2.1", "b@x.test", 10s, t + 10s).verdict == Verdict::first_attempt);
  CHECK(throttle.greylist_entries() == 3);
}

TEST_CASE("throttle: greylist times", "[smtp][greylist][throttle]") {
  SmtpThrottle throttle;
  const auto t = fixed_time();
  const auto first = throttle.greylist("192.0.2.1", "a@x.test", 60s, t);
  CHECK(first.deferred());
  CHECK(first.left == 60s);
  CHECK(first.waited == 0s);
  // A clock that went backwards counts as no time passed.
  const auto back = throttle.greylist("192.0.2.1", "a@x.test", 60s, t - 1h);
  CHECK(back.verdict == SmtpThrottle::Greylist::Verdict::too_early);
  CHECK(back.left == 60s);
  const auto mid = throttle.greylist("192.0.2.1", "a@x.test", 60s, t + 59s + 1ms);
  CHECK(mid.left == 1s);
  CHECK(mid.waited == 59s);
  const auto pass = throttle.greylist("192.0.2.1", "a@x.test", 60s, t + 61s);
  CHECK(pass.verdict == SmtpThrottle::Greylist::Verdict::passed);
  CHECK(!pass.deferred());
  CHECK(pass.waited == 61s);
  CHECK(throttle.greylist("192.0.2.1", "a@x.test", 60s, t + 62s).verdict ==
        SmtpThrottle::Greylist::Verdict::known);
  // Even a delay of 0 defers the very first attempt for a second.
  CHECK(throttle.greylist("192.0.2.1", "z@x.test", 0s, t).left == 1s);
}

TEST_CASE("throttle: rate memory keeps only what can decide", "[smtp][rate][throttle]") {
  SmtpThrottle throttle(2);
  const auto t = fixed_time();
  for (int i = 0; i < 10; ++i) throttle.message_accepted("192.0.2.1", 3, t + i * 1s);
  CHECK(throttle.recent_messages("192.0.2.1", 3, 60s, t + 10s) == 3);
  // The latest three were at 7, 8 and 9 s: at 68 s only the one from 9 s is in the window.
  CHECK(throttle.recent_messages("192.0.2.1", 3, 60s, t + 68s) == 1);
  CHECK(throttle.recent_messages("192.0.2.1", 3, 60s, t + 69s) == 0);
  CHECK(throttle.recent_messages("192.0.2.9", 3, 60s, t) == 0);
  // At most two client IPs are remembered.
  throttle.message_accepted("192.0.2.2", 3, t);
  throttle.message_accepted("192.0.2.3", 3, t);
  CHECK(throttle.rate_entries() == 2);
  CHECK(throttle.recent_messages("192.0.2.1", 3, 60s, t) == 0);
  CHECK(throttle.recent_messages("192.0.2.3", 3, 60s, t) == 1);
}
