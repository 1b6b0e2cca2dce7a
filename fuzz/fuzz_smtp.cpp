// Fuzz target for the SMTP engine: one or two SmtpSessions over a store with local users, driven
// as server/Connection drives them (greeting, feed() per read, the STARTTLS handshake when asked,
// a timeout, shutdown or disconnect at the end), checking the Engine contract and the shape of
// every reply, and that the replies are the same when the stream is cut into other reads.
//
// Input: four control bytes, then what the client sends.
//   byte 0: bits 0-1 listener (0 MX with STARTTLS, 1 submission with STARTTLS, 2 submissions with
//           implicit TLS, 3 plaintext only); bits 2-4 starttls_fault (0-4, else none); bit 5
//           greylisting; bit 6 rate limit and reject_unknown_users; bit 7 small limits.
//   byte 1: how the stream is cut into feed() calls (fuzz_support.hpp, cut()).
//   byte 2: bits 0-1 the end (disconnect, timeout, shutdown, nothing); bit 2 feed the piece after
//           a STARTTLS before the handshake; bit 3 never finish the handshake; bits 4-6 seconds
//           the clock moves per piece; bit 7 a second session from the same client afterwards.
//   byte 3: bit 0 AUTH allowed before TLS; bit 1 AUTH off; bit 2 no bad-command limit; bit 3
//           greeting "unavailable"; bit 4 refuse_plaintext() instead of start().
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.hpp"
#include "protocols/common/engine.hpp"
#include "protocols/common/users.hpp"
#include "protocols/smtp/smtp_policy.hpp"
#include "protocols/smtp/smtp_session.hpp"
#include "protocols/smtp/smtp_throttle.hpp"
#include "protocols/store/mail_store.hpp"

namespace {

using namespace sevenport;
using fuzz::check;
using smtp::SmtpSession;
using State = SmtpSession::State;

constexpr std::uint32_t kClockSteps[] = {0, 1, 2, 3, 5, 10, 60, 3600};

// The shape of SMTP replies (RFC 5321 4.2): lines of a three-digit code, then "-" (more lines
// follow, same code) or " " (last line) and printable text. `out` must hold whole replies only.
void check_replies(std::string_view bytes) {
  fuzz::check_crlf_only(bytes, "bare CR or LF in an SMTP reply");
  std::string_view open_code;  // the code of a multi-line reply whose last line is still to come
  while (!bytes.empty()) {
    const auto end = bytes.find("\r\n");
    const auto line = bytes.substr(0, end);
    bytes.remove_prefix(end + 2);
    check(line.size() >= 3 && line[0] >= '2' && line[0] <= '5' && line[1] >= '0' &&
              line[1] <= '9' && line[2] >= '0' && line[2] <= '9',
          "SMTP reply line without a reply code", line);
    check(line.size() == 3 || line[3] == ' ' || line[3] == '-',
          "SMTP reply code not followed by space or hyphen", line);
    check(fuzz::printable(line), "SMTP reply line is not printable ASCII", line);
    const auto code = line.substr(0, 3);
    check(open_code.empty() || open_code == code, "multi-line SMTP reply changes its code", line);
    open_code = line.size() > 3 && line[3] == '-' ? code : std::string_view{};
  }
  check(open_code.empty(), "multi-line SMTP reply without its last line");
}

// The code of the last reply line in `bytes` ("" if none).
std::string_view last_code(std::string_view bytes) {
  if (bytes.size() < 5) return {};
  const auto start = bytes.rfind("\r\n", bytes.size() - 3);
  return bytes.substr(start == std::string_view::npos ? 0 : start + 2, 3);
}

struct World {
  store::MailStore store;
  UserDirectory users;
  smtp::SmtpThrottle throttle{8};  // small: the least-recently-used eviction runs too
  smtp::SmtpPolicy policy;
  SessionContext context;
  std::chrono::system_clock::time_point now;

  explicit World(const fuzz::Input& in) {
    using namespace std::chrono;
    now = sys_days{year{2026} / 11 / 22} + hours{1};
    users.add({"alice@example.test", "secret"});
    users.add({"bob@example.org", "hunter2"});
    User carol("carol@example.test", "carol-main");
    carol.app_password = "carol-app-pw";
    users.add(carol);
    User dave("dave@example.test", "dave-pw");
    dave.locked = true;
    users.add(dave);
    User erin("erin@example.test", "erin-pw");
    erin.password_expired = true;
    users.add(erin);
    User gina("gina@example.test", "gina-pw");
    gina.mailbox_full = MailboxFull::temporary;
    users.add(gina);
    User hank("hank@example.test", "hank-pw");
    hank.mailbox_full = MailboxFull::permanent;
    users.add(hank);

    const unsigned listener = in.control[0] & 3U;
    policy.hostname = "mx.example.test";
    policy.local_domains = {"example.test", "example.org"};
    policy.starttls_offered = listener <= 1;
    policy.auth =
        listener == 0 || listener == 3 ? smtp::AuthMode::optional : smtp::AuthMode::required;
    policy.auth_requires_tls = listener != 3 && !in.bit(3, 0);
    if (in.bit(3, 1)) policy.auth = smtp::AuthMode::off;
    const unsigned fault = (in.control[0] >> 2) & 7U;
    policy.starttls_fault = fault <= 4 ? static_cast<StartTlsFault>(fault) : StartTlsFault::none;
    policy.throttle = &throttle;
    if (in.bit(0, 5)) policy.greylist_seconds = 4;
    if (in.bit(0, 6)) {
      policy.rate_limit_messages = 2;
      policy.rate_limit_window_seconds = 30;
      policy.reject_unknown_users = true;
    }
    if (in.bit(0, 7)) {
      policy.max_line_length = 80;
      policy.max_message_size = 400;
      policy.max_recipients = 2;
      policy.max_bad_commands = 4;
    }
    if (in.bit(3, 2)) policy.max_bad_commands = 0;
    policy.unavailable = in.bit(3, 3);
    policy.clock = [this] { return now; };

    context.session_id = 1;
    context.listener = listener == 2 ? "submissions" : "smtp";
    context.port = listener == 2 ? 465 : listener == 1 ? 587 : 25;
    context.security = listener == 2   ? Security::implicit
                       : listener == 3 ? Security::none
                                       : Security::starttls;
    context.peer_ip = "192.0.2.10";
    context.peer_port = 40000;
    context.tls_active = listener == 2;
    if (context.tls_active) context.tls = {"TLSv1.3", "TLS_AES_256_GCM_SHA384", "mx.example.test"};
  }
};

// One connection: every call into the engine goes through here and is checked.
class Driver {
 public:
  Driver(World& world, const fuzz::Input& in)
      : world_(world),
        in_(in),
        session_(world.policy, world.store, world.users),
        messages_(world.store.messages().size()) {
    session_.set_transcript(&transcript_);
  }

  void run(const std::vector<std::string_view>& pieces) {
    Output out;
    if (in_.bit(3, 4)) {
      session_.refuse_plaintext("use port 465 with TLS\r\nor else", out);
      check(out.action == Action::close, "refuse_plaintext did not close");
      check(last_code(out.bytes) == "554", "refuse_plaintext did not answer 554", out.bytes);
    } else {
      session_.start(world_.context, out);
      check(!out.bytes.empty(), "no greeting");
    }
    after("start", out);
    const auto step = std::chrono::seconds(kClockSteps[(in_.control[2] >> 4) & 7U]);
    for (const auto piece : pieces) {
      world_.now += step;
      if (awaiting_tls_) {
        if (in_.bit(2, 3)) break;  // the client never starts the handshake
        if (in_.bit(2, 2)) {
          // Plaintext that arrives before the handshake is never executed.
          out.clear();
          session_.feed(piece, out);
          check(out.bytes.empty() && out.action == Action::none,
                "feed() answered while a STARTTLS handshake was pending", out.bytes);
          check(session_.state() == State::starttls, "state changed before the handshake");
          continue;
        }
        out.clear();
        session_.tls_started({"TLSv1.3", "TLS_AES_128_GCM_SHA256", "mx.example.test"}, out);
        check(out.bytes.empty() && out.action == Action::none, "tls_started() produced output",
              out.bytes);
        check(session_.state() == State::initial && session_.tls_active() &&
                  session_.auth_user().empty(),
              "tls_started() did not reset the session");
        awaiting_tls_ = false;
      }
      out.clear();
      fuzz::trace("client", piece);
      session_.feed(piece, out);
      after("feed", out);
    }
    finish();
  }

  // Every byte the engine sent, in order, and whether it ever asked for STARTTLS.
  const std::string& sent() const { return sent_; }
  bool asked_for_tls() const { return asked_for_tls_; }

 private:
  void after(std::string_view call, const Output& out) {
    fuzz::trace("server", out.bytes);
    sent_ += out.bytes;
    if (out.action == Action::start_tls) asked_for_tls_ = true;
    const auto messages = world_.store.messages().size();
    if (closed_) {
      check(out.bytes.empty() && out.action == Action::none && out.events.empty(),
            "output after close", out.bytes);
      return;
    }
    fuzz::check_ends_with_crlf(out);
    check_replies(out.bytes);
    fuzz::check_events(out);
    fuzz::check_masked(transcript_, transcript_seen_, out, world_.users, {{"AUTH", false, 2}});
    transcript_seen_ = transcript_.lines.size();
    std::size_t delivered = 0;
    for (const auto& e : out.events) {
      if (e.kind == EventKind::delivered) {
        ++delivered;
        check(world_.store.find_message(e.message_id) != nullptr, "delivered message not stored");
        check(!e.recipients.empty(), "delivered without recipients");
      }
      if (e.kind == EventKind::authenticated)
        check(session_.auth_user() == e.user, "authenticated event names another user", e.user);
    }
    check(messages == messages_ + delivered, "store and delivered events disagree");
    messages_ = messages;
    switch (out.action) {
      case Action::close: {
        closed_ = true;
        check(session_.state() == State::closed, "close without the closed state");
        const auto code = last_code(out.bytes);
        check(code == "221" || code == "421" || code == "554", "closing reply is not 221/421/554",
              out.bytes);
        break;
      }
      case Action::start_tls:
        check(call == "feed", "start_tls outside feed()");
        check(session_.state() == State::starttls, "start_tls without the starttls state");
        check(out.bytes.starts_with("220 ") || out.bytes.find("\r\n220 ") != std::string::npos,
              "start_tls without a 220 reply", out.bytes);
        awaiting_tls_ = true;
        break;
      case Action::none:
        check(session_.state() != State::closed && session_.state() != State::starttls,
              "closed or starttls state without the action");
        break;
    }
  }

  void finish() {
    Output out;
    switch (in_.control[2] & 3U) {
      case 0:
        session_.on_disconnect();
        closed_ = true;
        break;
      case 1:
      case 2:
        if (in_.control[2] & 1U)
          session_.on_timeout(out);
        else
          session_.on_shutdown(out);
        if (closed_) {
          check(out.bytes.empty() && out.action == Action::none, "farewell after close");
        } else {
          check(out.action == Action::close, "timeout/shutdown did not close");
          // RFC 3207: plaintext in the middle of a TLS handshake would corrupt it.
          if (awaiting_tls_)
            check(out.bytes.empty(), "farewell bytes while a handshake is pending", out.bytes);
          else
            check(last_code(out.bytes) == "421", "farewell is not 421", out.bytes);
          check_replies(out.bytes);
          closed_ = true;
        }
        break;
      default:
        return;
    }
    sent_ += out.bytes;
    // Nothing comes after the end.
    out.clear();
    session_.feed("QUIT\r\n", out);
    session_.on_timeout(out);
    check(out.bytes.empty() && out.action == Action::none, "output after the end", out.bytes);
  }

  World& world_;
  const fuzz::Input& in_;
  SmtpSession session_;
  fuzz::Transcript transcript_;
  std::size_t transcript_seen_ = 0;
  std::size_t messages_ = 0;
  bool closed_ = false;
  std::string sent_;
  bool asked_for_tls_ = false;
  bool awaiting_tls_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Input in(data, size);
  try {
    World world(in);
    const auto pieces = fuzz::cut(in.stream, in.control[1]);
    Driver first(world, in);
    first.run(pieces);
    if (in.bit(2, 7)) {
      // The same client again (a greylisted sender retrying, a rate limit across connections).
      Driver(world, in).run(pieces);
    } else if (!first.asked_for_tls() && ((in.control[2] >> 4) & 7U) == 0) {
      // The replies do not depend on how the stream was cut into reads (docs/STYLE.md), unless
      // STARTTLS dropped what followed it in the same read, or the clock moved between reads.
      World again(in);
      Driver second(again, in);
      second.run(fuzz::cut(in.stream, fuzz::other_cut(in.control[1])));
      fuzz::check_same(first.sent(), second.sent(), "replies depend on how the input was cut");
    }
  } catch (const std::exception& e) {
    fuzz::fail("an exception crossed the engine boundary", e.what());
  }
  return 0;
}
