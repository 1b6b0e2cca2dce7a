// Fuzz target for the POP3 engine: a Pop3Session over alice's maildrop (plain, dot-leading, 8-bit,
// empty and unterminated messages), driven as server/Connection drives it, with another session
// holding the maildrop lock for a while on request. Besides the Engine contract it checks POP3
// framing: each command the transcript reports gets exactly one response, and multi-line
// responses are dot-stuffed and terminated; and the responses are the same when the stream is cut
// into other reads.
//
// Input: four control bytes, then what the client sends.
//   byte 0: bits 0-1 listener (0 STLS offered, logins after it; 1 implicit TLS; 2 plaintext only,
//           logins allowed; 3 STLS offered, logins allowed before it); bits 2-4 starttls_fault
//           (0-4, else none); bit 5 logins disabled; bit 6 small limits.
//   byte 1: how the stream is cut into feed() calls (fuzz_support.hpp, cut()).
//   byte 2: bits 0-1 the end (disconnect, timeout, shutdown, nothing); bit 2 feed the piece after
//           STLS before the handshake; bit 3 never finish the handshake; bit 4 a delivery to
//           alice between pieces; bit 5 another session holds alice's maildrop until the first
//           piece is fed; bit 7 a second session from the same client afterwards.
//   byte 3: bit 0 greeting "unavailable"; bit 1 refuse_plaintext() instead of start(); bit 2 no
//           bad-command limit.
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
#include "protocols/pop3/pop3_policy.hpp"
#include "protocols/pop3/pop3_session.hpp"
#include "protocols/store/mail_store.hpp"

namespace {

using namespace sevenport;
using fuzz::check;
using pop3::Pop3Session;

const std::string kMessages[] = {
    "From: bob@example.test\r\nTo: alice@example.test\r\nSubject: one\r\n\r\n"
    "Hello Alice.\r\nSecond line.\r\nThird line.\r\n",
    "From: bob@example.test\r\nSubject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nlast\r\n",
    "From: bob@example.test\r\nSubject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n\r\nGr\xC3\xBC\xC3\x9F"
    "e \xFF\x80\xFE\r\n",
    "Subject: tail\r\n\r\nbody line\r\n.",
    "",
    "Subject: no body\r\n",
    ".\r\n.\r\n..\r\n",
};

void deliver(store::MailStore& store, const std::string& raw, std::string_view to) {
  store::Message message;
  message.raw = raw;
  message.mail_from = "bob@example.test";
  store.deliver(std::move(message), {std::string(to)});
}

struct World {
  store::MailStore store;
  UserDirectory users;
  pop3::Pop3Policy policy;
  pop3::Pop3Policy rival_policy;  // implicit TLS, for the session that holds the lock
  SessionContext context;

  explicit World(const fuzz::Input& in) {
    users.add({"alice@example.test", "secret"});
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
    frank.pop3_enabled = false;
    users.add(frank);
    for (const auto& raw : kMessages) deliver(store, raw, "alice@example.test");
    deliver(store, kMessages[0], "bob@example.test");

    const unsigned listener = in.control[0] & 3U;
    policy.hostname = "pop.example.test";
    policy.stls_offered = listener == 0 || listener == 3;
    policy.auth_requires_tls = listener <= 1;
    const unsigned fault = (in.control[0] >> 2) & 7U;
    policy.starttls_fault = fault <= 4 ? static_cast<StartTlsFault>(fault) : StartTlsFault::none;
    policy.auth_enabled = !in.bit(0, 5);
    if (in.bit(0, 6)) {
      policy.max_line_length = 40;
      policy.max_bad_commands = 3;
    }
    if (in.bit(3, 2)) policy.max_bad_commands = 0;
    policy.unavailable = in.bit(3, 0);
    rival_policy.hostname = "pop.example.test";

    context.session_id = 1;
    context.listener = listener == 1 ? "pop3s" : "pop3";
    context.port = listener == 1 ? 995 : 110;
    context.security = listener == 1   ? Security::implicit
                       : listener == 2 ? Security::none
                                       : Security::starttls;
    context.peer_ip = "192.0.2.10";
    context.peer_port = 40000;
    context.tls_active = listener == 1;
  }
};

std::string_view next_line(std::string_view& bytes) {
  const auto end = bytes.find("\r\n");
  const auto line = bytes.substr(0, end);
  bytes.remove_prefix(end + 2);
  return line;
}

// Splits a transcript line into its verb (upper case) and the number of arguments, as
// Pop3Session::execute() does: the verb ends at the first space, arguments are separated by runs
// of spaces.
std::pair<std::string, std::size_t> command_shape(std::string_view line) {
  const auto space = line.find(' ');
  std::string verb(line.substr(0, space));
  for (auto& c : verb)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  std::size_t args = 0;
  // "AUTH" with only spaces after it is shown as "AUTH  ****" (an empty mechanism, masked): the
  // engine saw no argument.
  if (verb == "AUTH" && space != std::string_view::npos && line.substr(space + 1).starts_with(" "))
    return {verb, 0};
  if (space != std::string_view::npos) {
    bool in_word = false;
    for (const char c : line.substr(space + 1)) {
      if (c != ' ' && !in_word) ++args;
      in_word = c != ' ';
    }
  }
  return {verb, args};
}

// One response per command line in `commands`, each a status line ("+OK", "-ERR", or "+ " for a
// SASL continuation) and, for a successful CAPA, LIST, UIDL, RETR, TOP or bare AUTH, a
// dot-stuffed body ended by ".". `extra_lines` lines may follow (the injected STLS response).
void check_responses(std::string_view bytes, const std::vector<std::string>& commands,
                     std::size_t from, std::size_t extra_lines) {
  const std::string_view all = bytes;
  fuzz::check_crlf_only(bytes, "bare CR or LF in POP3 output");
  for (std::size_t i = from; i < commands.size(); ++i) {
    check(!bytes.empty(), "a POP3 command got no response", all);
    const auto status = next_line(bytes);
    const bool ok = status == "+OK" || status.starts_with("+OK ");
    check(ok || status == "-ERR" || status.starts_with("-ERR ") || status.starts_with("+ "),
          "POP3 response does not start with +OK, -ERR or +", all);
    check(fuzz::printable(status), "POP3 status line is not printable ASCII", status);
    const auto [verb, args] = command_shape(commands[i]);
    const bool multiline = ok && (verb == "CAPA" || verb == "RETR" || verb == "TOP" ||
                                  ((verb == "LIST" || verb == "UIDL" || verb == "AUTH") && !args));
    if (!multiline) continue;
    for (;;) {
      check(!bytes.empty(), "POP3 multi-line response without its terminating line", all);
      const auto line = next_line(bytes);
      if (line == ".") break;
      check(!line.starts_with(".") || line.starts_with(".."), "POP3 body line not dot-stuffed",
            all);
    }
  }
  for (; extra_lines > 0 && !bytes.empty(); --extra_lines) next_line(bytes);
  check(bytes.empty(), "POP3 output beyond the responses to the commands", all);
}

class Driver {
 public:
  Driver(World& world, const fuzz::Input& in)
      : world_(world), in_(in), session_(world.policy, world.store, world.users) {
    session_.set_transcript(&transcript_);
  }

  void run(const std::vector<std::string_view>& pieces) {
    // Another client logged in to alice's maildrop: this one gets [IN-USE] until it quits.
    std::unique_ptr<Pop3Session> rival;
    if (in_.bit(2, 5)) {
      rival = std::make_unique<Pop3Session>(world_.rival_policy, world_.store, world_.users);
      SessionContext context;
      context.tls_active = true;
      context.security = Security::implicit;
      Output out;
      rival->start(context, out);
      rival->feed("USER alice\r\nPASS secret\r\n", out);
      check(rival->state() == pop3::State::transaction, "the rival session did not log in");
    }
    Output out;
    if (in_.bit(3, 1)) {
      session_.refuse_plaintext("use port 995 with TLS", out);
      check(out.action == Action::close && out.bytes.starts_with("-ERR "),
            "refuse_plaintext did not answer -ERR and close", out.bytes);
    } else {
      session_.start(world_.context, out);
      check(out.bytes.starts_with("+OK ") || world_.policy.unavailable, "the greeting is not +OK",
            out.bytes);
    }
    after(out, {"greeting"});
    for (const auto piece : pieces) {
      if (in_.bit(2, 4)) deliver(world_.store, kMessages[1], "alice@example.test");
      if (awaiting_tls_) {
        if (in_.bit(2, 3)) break;
        if (in_.bit(2, 2)) {
          out.clear();
          session_.feed(piece, out);
          check(out.bytes.empty() && out.action == Action::none,
                "feed() answered while an STLS handshake was pending", out.bytes);
          continue;
        }
        out.clear();
        session_.tls_started({"TLSv1.3", "TLS_AES_128_GCM_SHA256", ""}, out);
        check(out.bytes.empty() && out.action == Action::none, "tls_started() produced output",
              out.bytes);
        check(session_.tls_active() && session_.state() == pop3::State::authorization,
              "tls_started() did not reset the session");
        awaiting_tls_ = false;
      }
      out.clear();
      fuzz::trace("client", piece);
      session_.feed(piece, out);
      after(out, {});
      if (rival) {
        Output bye;
        rival->feed("QUIT\r\n", bye);
        check(bye.action == Action::close, "the rival session did not quit");
        rival.reset();
      }
    }
    finish();
  }

  // Every byte the engine sent, in order, and whether it ever asked for STARTTLS.
  const std::string& sent() const { return sent_; }
  bool asked_for_tls() const { return asked_for_tls_; }

 private:
  // `greeting`: the output is a greeting (or refusal), not answers to transcript lines.
  void after(const Output& out, std::vector<std::string> greeting) {
    fuzz::trace("server", out.bytes);
    sent_ += out.bytes;
    if (out.action == Action::start_tls) asked_for_tls_ = true;
    const std::size_t from = transcript_seen_;
    transcript_seen_ = transcript_.lines.size();
    if (closed_) {
      check(out.bytes.empty() && out.action == Action::none && out.events.empty(),
            "output after close", out.bytes);
      return;
    }
    fuzz::check_ends_with_crlf(out);
    fuzz::check_events(out);
    fuzz::check_masked(transcript_, from, out, world_.users,
                       {{"PASS", false, 1}, {"AUTH", false, 2}});
    const bool injected = out.action == Action::start_tls &&
                          world_.policy.starttls_fault == StartTlsFault::inject_response;
    if (greeting.empty())
      check_responses(out.bytes, transcript_.lines, from, injected ? 1 : 0);
    else
      check_responses(out.bytes, greeting, 0, 0);
    for (const auto& e : out.events)
      if (e.kind == EventKind::authenticated)
        check(session_.state() != pop3::State::authorization || out.action == Action::close,
              "authenticated, yet still in AUTHORIZATION");
    if (out.action == Action::close) closed_ = true;
    if (out.action == Action::start_tls) awaiting_tls_ = true;
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
            check(out.bytes.starts_with("-ERR ") && out.bytes.ends_with("\r\n") &&
                      out.bytes.find("\r\n") + 2 == out.bytes.size(),
                  "the farewell is not one -ERR line", out.bytes);
          closed_ = true;
        }
        break;
      default:
        return;
    }
    sent_ += out.bytes;
    out.clear();
    session_.feed("QUIT\r\n", out);
    session_.on_shutdown(out);
    check(out.bytes.empty() && out.action == Action::none, "output after the end", out.bytes);
  }

  World& world_;
  const fuzz::Input& in_;
  Pop3Session session_;
  fuzz::Transcript transcript_;
  std::size_t transcript_seen_ = 0;
  bool closed_ = false;
  std::string sent_;
  bool asked_for_tls_ = false;
  bool awaiting_tls_ = false;
};

// No maildrop stays locked once its sessions are gone (RFC 1939 8).
void check_unlocked(store::MailStore& store, const UserDirectory& users) {
  for (const auto& user : users.all()) {
    check(store.try_lock(user.address), "a maildrop lock outlived its session", user.address);
    store.unlock(user.address);
  }
}

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
    check_unlocked(world.store, world.users);
    if (in.bit(2, 7)) {
      Driver(world, in).run(pieces);
      check_unlocked(world.store, world.users);
    } else if (!asked_for_tls && !in.bit(2, 4) && !in.bit(2, 5)) {
      // The responses do not depend on how the stream was cut into reads (docs/STYLE.md), unless
      // STLS dropped what followed it in the same read, or the maildrop changed between reads.
      World again(in);
      Driver second(again, in);
      second.run(fuzz::cut(in.stream, fuzz::other_cut(in.control[1])));
      // UIDL shows the UIDVALIDITY, which comes from the clock's seconds.
      if (std::time(nullptr) == started)
        fuzz::check_same(sent, second.sent(), "responses depend on how the input was cut");
    }
  } catch (const std::exception& e) {
    fuzz::fail("an exception crossed the engine boundary", e.what());
  }
  return 0;
}
