// Fuzz target for the IMAP engine: an ImapSession over alice's folders (plain, multipart, nested,
// malformed and 8-bit messages, flags and keywords), driven as server/Connection drives it,
// optionally with deliveries between reads and a second session of alice's idling in INBOX.
// Besides the Engine contract it checks the shape of IMAP output (responses, literals, 7-bit text
// outside literals, balanced parentheses), the store's UID order, that the idling session's view
// of INBOX, after its updates, has as many messages as the store, and that the responses are the
// same when the stream is cut into other reads.
//
// Input: four control bytes, then what the client sends.
//   byte 0: bits 0-1 listener (0 STARTTLS offered, logins after it; 1 implicit TLS; 2 plaintext
//           only, logins allowed; 3 STARTTLS offered, logins allowed before it); bits 2-4
//           starttls_fault (0-4, else none); bit 5 logins disabled; bit 6 small limits.
//   byte 1: how the stream is cut into feed() calls (fuzz_support.hpp, cut()).
//   byte 2: bits 0-1 the end (disconnect, timeout, shutdown, nothing); bit 2 feed the piece after
//           STARTTLS before the handshake; bit 3 never finish the handshake; bit 4 a delivery to
//           alice between pieces; bit 5 another session of alice's idles in INBOX; bit 7 a second
//           session from the same client afterwards.
//   byte 3: bit 0 greeting "unavailable"; bit 1 refuse_plaintext() instead of start(); bit 2 no
//           bad-command limit.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.hpp"
#include "protocols/common/engine.hpp"
#include "protocols/common/users.hpp"
#include "protocols/imap/imap_policy.hpp"
#include "protocols/imap/imap_session.hpp"
#include "protocols/store/mail_store.hpp"

namespace {

using namespace sevenport;
using fuzz::check;
using imap::ImapSession;

constexpr std::string_view kAlice = "alice@example.test";

std::string nested(int depth) {
  std::string raw = "Subject: nested\r\nMIME-Version: 1.0\r\n";
  for (int i = 0; i < depth; ++i)
    raw += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" +
           std::to_string(i) + "\r\n";
  raw += "Content-Type: text/plain\r\n\r\ndeep\r\n";
  for (int i = depth - 1; i >= 0; --i) raw += "--b" + std::to_string(i) + "--\r\n";
  return raw;
}

const std::string kMessages[] = {
    "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: one\r\n"
    "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <1@example.test>\r\n\r\n"
    "Hello Alice.\r\nSecond line.\r\n",
    "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: alt\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
    "preamble\r\n--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
    "--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain text\r\n"
    "--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html</p>\r\n--inner--\r\n"
    "--outer\r\nContent-Type: application/pdf; name=a.pdf\r\n"
    "Content-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n"
    "\r\nJVBERi0=\r\n--outer--\r\n",
    "From: carol@example.test\r\nTo: alice@example.test\r\nSubject: fwd\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n"
    "--b1\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
    "--b1\r\nContent-Type: message/rfc822\r\n\r\n"
    "From: dave@example.test\r\nSubject: inner\r\n\r\ninner body\r\n--b1--\r\n",
    "From: =?utf-8?q?J=C3=BCrgen?= <j@example.test>\r\nSubject: Gr\xC3\xBC\xC3\x9F"
    "e \"quoted\" \\ back\r\nCc: undisclosed-recipients:;\r\nIn-Reply-To: <x@y>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "8-bit body \xFF\xFE\r\n",
    "Content-Type: multipart/mixed; boundary=never-closed\r\n\r\n--never-closed\r\n"
    "Content-Type: text/plain\r\n\r\nno end\r\n",
    "",
    "no header separator at all",
    "Subject: bare LF\nFrom: a@b\n\nbody\n",
    nested(12),
};

void deliver(store::MailStore& store, const std::string& raw, std::string_view to) {
  store::Message message;
  message.raw = raw;
  message.mail_from = "bob@example.test";
  message.received_at = std::chrono::sys_days(std::chrono::year(2024) / 3 / 5);
  store.deliver(std::move(message), {std::string(to)});
}

struct World {
  store::MailStore store;
  UserDirectory users;
  imap::ImapPolicy policy;
  imap::ImapPolicy observer_policy;  // implicit TLS, for the idling session
  SessionContext context;

  explicit World(const fuzz::Input& in) {
    users.add({std::string(kAlice), "secret"});
    users.add({"bob@example.test", "hunter2"});
    User carol("carol@example.test", "carol-main");
    carol.app_password = "carol-app-pw";
    users.add(carol);
    User dave("dave@example.test", "dave-pw");
    dave.locked = true;
    users.add(dave);
    User erin("erin@example.test", "erin-pw");
    erin.password_expired = true;
    users.add(erin);
    User frank("frank@example.test", "frank-pw");
    frank.imap_enabled = false;
    users.add(frank);
    for (const auto& raw : kMessages) deliver(store, raw, kAlice);
    auto& account = store.account(kAlice);
    auto& entries = account.inbox().entries();
    entries[0].flags = store::flag_seen;
    entries[1].flags = store::flag_seen | store::flag_flagged | store::flag_answered;
    entries[1].keywords = {"$Forwarded", "work"};
    entries[2].flags = store::flag_deleted;
    entries[2].recent = false;
    auto* archive = account.create("Archive");
    archive->append(store.messages().front(), store::flag_seen, {});
    account.create("Work");
    account.create("Work/Projects");
    deliver(store, kMessages[0], "bob@example.test");

    const unsigned listener = in.control[0] & 3U;
    policy.hostname = "imap.example.test";
    policy.starttls_offered = listener == 0 || listener == 3;
    policy.auth_requires_tls = listener <= 1;
    const unsigned fault = (in.control[0] >> 2) & 7U;
    policy.starttls_fault = fault <= 4 ? static_cast<StartTlsFault>(fault) : StartTlsFault::none;
    policy.auth_enabled = !in.bit(0, 5);
    if (in.bit(0, 6)) {
      policy.max_line_length = 100;
      policy.max_literal_size = 200;
      policy.max_bad_commands = 3;
    }
    if (in.bit(3, 2)) policy.max_bad_commands = 0;
    policy.unavailable = in.bit(3, 0);
    observer_policy.hostname = "imap.example.test";

    context.session_id = 1;
    context.listener = listener == 1 ? "imaps" : "imap";
    context.port = listener == 1 ? 993 : 143;
    context.security = listener == 1   ? Security::implicit
                       : listener == 2 ? Security::none
                                       : Security::starttls;
    context.peer_ip = "192.0.2.10";
    context.peer_port = 40000;
    context.tls_active = listener == 1;
  }
};

// Splits IMAP output into responses (RFC 3501 7: untagged "*", continuation "+", tagged), each
// a line that may continue after literals "{n}\r\n<n octets>". Outside literals the text is
// 7-bit, without NUL, CR or LF (RFC 3501 9, TEXT-CHAR). Returns the first line of each response.
// Untagged data (FETCH, LIST, STATUS, ...): parentheses balance outside quoted strings and
// literals, never closing more than they opened. `text` is the response without its literals.
void check_balanced(std::string_view text) {
  if (!text.starts_with("* ") || text.starts_with("* OK") || text.starts_with("* NO") ||
      text.starts_with("* BAD") || text.starts_with("* BYE") || text.starts_with("* PREAUTH"))
    return;
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\') ++i;
      check(i < text.size(), "unterminated quoted string in IMAP output", text);
    } else if (text[i] == '(') {
      ++depth;
    } else if (text[i] == ')') {
      check(--depth >= 0, "unbalanced parentheses in IMAP output", text);
    }
  }
  check(depth == 0, "unbalanced parentheses in IMAP output", text);
}

std::vector<std::string_view> responses(std::string_view bytes) {
  const std::string_view all = bytes;
  std::vector<std::string_view> firsts;
  std::string text;  // the response being read, without its literals
  while (!bytes.empty()) {
    bool first = true;
    text.clear();
    for (;;) {
      const auto end = bytes.find("\r\n");
      check(end != std::string_view::npos, "IMAP response without CRLF", all);
      const auto line = bytes.substr(0, end);
      bytes.remove_prefix(end + 2);
      for (std::size_t i = 0; i < line.size(); ++i) {
        const auto c = static_cast<unsigned char>(line[i]);
        if (c != '\n' && c != 0 && c < 0x80) continue;
        const auto around = line.substr(i > 300 ? i - 300 : 0, 600);
        check(c != '\n', "LF outside a literal in IMAP output", around);
        check(false, "NUL or 8-bit byte outside a literal in IMAP output", around);
      }
      if (first) firsts.push_back(line);
      first = false;
      text += line;
      // A literal: "{digits}" at the end of the line.
      if (line.empty() || line.back() != '}') break;
      const auto open = line.rfind('{');
      if (open == std::string_view::npos) break;
      const auto digits = line.substr(open + 1, line.size() - open - 2);
      if (digits.empty() || digits.size() > 10 ||
          digits.find_first_not_of("0123456789") != std::string_view::npos)
        break;
      const auto n = std::stoull(std::string(digits));
      check(n <= bytes.size(), "IMAP literal longer than the output", all);
      bytes.remove_prefix(n);
    }
    check_balanced(text);
  }
  for (const auto line : firsts) {
    if (line.starts_with("* ") || line.starts_with("+ ") || line == "+") continue;
    const auto space = line.find(' ');
    check(space != std::string_view::npos && space > 0, "IMAP response without a tag", line);
    const auto tag = line.substr(0, space);
    check(fuzz::printable(tag) && tag != "*" && tag != "+", "bad tag in a tagged response", line);
    const auto status = line.substr(space + 1);
    check(status.starts_with("OK ") || status.starts_with("NO ") || status.starts_with("BAD "),
          "tagged response is not OK, NO or BAD", line);
  }
  return firsts;
}

// The store's promises: UIDs strictly ascending and below UIDNEXT, every entry with a message.
void check_store(store::MailStore& store) {
  for (const auto& [name, box] : store.account(kAlice).mailboxes()) {
    std::uint32_t last = 0;
    for (const auto& entry : box->entries()) {
      check(entry.uid > last && entry.uid < box->uid_next(), "UIDs out of order", name);
      check(entry.message != nullptr, "an entry without its message", name);
      last = entry.uid;
    }
  }
}

// Another session of alice's, idling in INBOX: counts the messages its view holds from the
// EXISTS and EXPUNGE responses it is given.
class Observer {
 public:
  explicit Observer(World& world)
      : world_(world), session_(world.observer_policy, world.store, world.users) {
    SessionContext context;
    context.tls_active = true;
    context.security = Security::implicit;
    Output out;
    session_.start(context, out);
    session_.feed("o1 LOGIN alice secret\r\no2 SELECT INBOX\r\no3 IDLE\r\n", out);
    apply(out);
    check(session_.wants_async_updates(), "the observer is not idling", out.bytes);
  }

  // What the server does after the store changed: ask an idling engine for its updates.
  void poll() {
    if (!session_.wants_async_updates()) return;
    Output out;
    session_.take_pending_updates(out);
    apply(out);
  }

  // Ends IDLE and checks the view against the store.
  void finish() {
    Output out;
    session_.feed("DONE\r\no4 NOOP\r\n", out);
    apply(out);
    check(out.bytes.find("o4 OK ") != std::string::npos, "the observer's NOOP failed", out.bytes);
    check(count_ == world_.store.account(kAlice).inbox().entries().size(),
          "an idling session's view of INBOX lost count of its messages", out.bytes);
  }

 private:
  void apply(const Output& out) {
    fuzz::check_ends_with_crlf(out);
    fuzz::check_events(out);
    for (const auto line : responses(out.bytes)) {
      if (!line.starts_with("* ")) continue;
      const auto rest = line.substr(2);
      const auto space = rest.find(' ');
      if (space == std::string_view::npos ||
          rest.substr(0, space).find_first_not_of("0123456789") != std::string_view::npos)
        continue;
      const auto n = std::stoull(std::string(rest.substr(0, space)));
      const auto what = rest.substr(space + 1);
      if (what == "EXISTS") {
        check(n >= count_, "EXISTS announced fewer messages than the view held", line);
        count_ = n;
      } else if (what == "EXPUNGE") {
        check(n >= 1 && n <= count_, "EXPUNGE of a message number not in the view", line);
        --count_;
      } else if (what.starts_with("FETCH")) {
        check(n >= 1 && n <= count_, "FETCH of a message number not in the view", line);
      }
    }
  }

  World& world_;
  ImapSession session_;
  std::size_t count_ = 0;
};

class Driver {
 public:
  Driver(World& world, const fuzz::Input& in)
      : world_(world), in_(in), session_(world.policy, world.store, world.users) {
    session_.set_transcript(&transcript_);
  }

  void run(const std::vector<std::string_view>& pieces) {
    std::unique_ptr<Observer> observer;
    if (in_.bit(2, 5)) observer = std::make_unique<Observer>(world_);
    Output out;
    if (in_.bit(3, 1)) {
      session_.refuse_plaintext("use port 993\r\nwith TLS", out);
      check(out.action == Action::close && out.bytes.starts_with("* BYE ") &&
                out.bytes.find("\r\n") + 2 == out.bytes.size(),
            "refuse_plaintext did not answer one BYE line and close", out.bytes);
    } else {
      session_.start(world_.context, out);
      check(out.bytes.starts_with("* OK ") || out.bytes.starts_with("* BYE "),
            "the greeting is not OK or BYE", out.bytes);
    }
    after(out);
    for (const auto piece : pieces) {
      if (in_.bit(2, 4)) {
        deliver(world_.store, kMessages[0], kAlice);
        if (observer) observer->poll();
        if (!closed_ && session_.wants_async_updates()) {
          out.clear();
          session_.take_pending_updates(out);
          after(out);
        }
      }
      if (awaiting_tls_) {
        if (in_.bit(2, 3)) break;
        if (in_.bit(2, 2)) {
          out.clear();
          session_.feed(piece, out);
          check(out.bytes.empty() && out.action == Action::none,
                "feed() answered while a STARTTLS handshake was pending", out.bytes);
          continue;
        }
        out.clear();
        session_.tls_started({"TLSv1.3", "TLS_AES_128_GCM_SHA256", ""}, out);
        check(out.bytes.empty() && out.action == Action::none, "tls_started() produced output",
              out.bytes);
        check(session_.tls_active() && session_.state() == imap::State::not_authenticated,
              "tls_started() in the wrong state");
        awaiting_tls_ = false;
      }
      out.clear();
      fuzz::trace("client", piece);
      session_.feed(piece, out);
      after(out);
      if (observer) observer->poll();
    }
    finish();
    if (observer) observer->finish();
  }

  // Every byte the engine sent, in order, and whether it ever asked for STARTTLS.
  const std::string& sent() const { return sent_; }
  bool asked_for_tls() const { return asked_for_tls_; }

 private:
  void after(const Output& out) {
    fuzz::trace("server", out.bytes);
    sent_ += out.bytes;
    if (out.action == Action::start_tls) asked_for_tls_ = true;
    const std::size_t from = transcript_seen_;
    transcript_seen_ = transcript_.lines.size();
    check_store(world_.store);
    if (closed_) {
      check(out.bytes.empty() && out.action == Action::none && out.events.empty(),
            "output after close", out.bytes);
      return;
    }
    fuzz::check_ends_with_crlf(out);
    fuzz::check_events(out);
    fuzz::check_masked(transcript_, from, out, world_.users,
                       {{"LOGIN", true, 3}, {"AUTHENTICATE", true, 3}});
    responses(out.bytes);
    check(!session_.wants_async_updates() || session_.state() == imap::State::selected ||
              session_.state() == imap::State::authenticated,
          "idling outside an authenticated state");
    switch (out.action) {
      case Action::close:
        closed_ = true;
        check(session_.state() == imap::State::logout, "close without the logout state");
        check(out.bytes.empty() || out.bytes.find("* BYE ") != std::string::npos,
              "closed without a BYE", out.bytes);
        check(!session_.wants_async_updates(), "closed but idling");
        break;
      case Action::start_tls:
        awaiting_tls_ = true;
        check(session_.state() == imap::State::not_authenticated, "STARTTLS after login");
        break;
      case Action::none:
        check(session_.state() != imap::State::logout, "logout state without close");
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
          if (awaiting_tls_)
            check(out.bytes.empty(), "farewell bytes while a handshake is pending", out.bytes);
          else
            check(out.bytes.starts_with("* BYE ") && out.bytes.find("\r\n") + 2 == out.bytes.size(),
                  "the farewell is not one BYE line", out.bytes);
          closed_ = true;
        }
        break;
      default:
        return;
    }
    sent_ += out.bytes;
    out.clear();
    session_.feed("a LOGOUT\r\n", out);
    session_.on_timeout(out);
    check(out.bytes.empty() && out.action == Action::none, "output after the end", out.bytes);
    // (wants_async_updates() may stay true after on_disconnect() in IDLE: the server asks it no
    // more.)
    check(!session_.take_pending_updates(out) && out.bytes.empty(), "updates after the end");
  }

  World& world_;
  const fuzz::Input& in_;
  ImapSession session_;
  fuzz::Transcript transcript_;
  std::size_t transcript_seen_ = 0;
  bool closed_ = false;
  std::string sent_;
  bool asked_for_tls_ = false;
  bool awaiting_tls_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Input in(data, size);
  try {
    const auto started = std::time(nullptr);
    World world(in);
    const auto pieces = fuzz::cut(in.stream, in.control[1]);
    std::string sent;
    bool asked_for_tls = false;
    {
      Driver first(world, in);
      first.run(pieces);
      sent = first.sent();
      asked_for_tls = first.asked_for_tls();
    }
    if (in.bit(2, 7)) {
      Driver(world, in).run(pieces);
    } else if (!asked_for_tls && !in.bit(2, 4) && !in.bit(2, 5)) {
      // The responses do not depend on how the stream was cut into reads (docs/STYLE.md), unless
      // STARTTLS dropped what followed it in the same read, or the store changed between reads.
      World again(in);
      Driver second(again, in);
      second.run(fuzz::cut(in.stream, fuzz::other_cut(in.control[1])));
      // UIDVALIDITY and APPEND's internal date come from the clock's seconds.
      if (std::time(nullptr) == started)
        fuzz::check_same(sent, second.sent(), "responses depend on how the input was cut");
    }
    // Sessions are gone: a change to the store must reach no observer they left behind.
    deliver(world.store, kMessages[0], kAlice);
    world.store.expunge(kAlice, "INBOX", {1, 2});
    check_store(world.store);
  } catch (const std::exception& e) {
    fuzz::fail("an exception crossed the engine boundary", e.what());
  }
  return 0;
}
