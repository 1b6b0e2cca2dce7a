// What the fuzz targets share: how an input is read (four control bytes, then the client's byte
// stream), how that stream is cut into feed() calls, and the checks every engine's Output must
// pass whatever the client sent. A failed check prints what was wrong and aborts: libFuzzer and
// the standalone driver (standalone_main.cpp) both report that as a failure and keep the input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/engine.hpp"
#include "protocols/common/users.hpp"

namespace sevenport::fuzz {

// `bytes` with CR, LF and every byte outside printable ASCII escaped, cut at `max` bytes.
inline std::string escaped(std::string_view bytes, std::size_t max = 1500) {
  std::string shown;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r') {
      shown += "\\r";
    } else if (c == '\n') {
      shown += "\\n\n";
    } else if (c == '\\') {
      shown += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      shown += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      shown += "\\x";
      shown += kHex[c >> 4];
      shown += kHex[c & 15];
    }
  }
  if (bytes.size() > max) shown += "... (" + std::to_string(bytes.size()) + " bytes)";
  return shown;
}

// With FUZZ_TRACE set in the environment, the targets print what each side sent: a way to read
// what a saved input does (FUZZ_TRACE=1 build/fuzz/fuzz_smtp -runs=0 crash-...).
inline void trace(std::string_view who, std::string_view bytes) {
  static const bool on = std::getenv("FUZZ_TRACE") != nullptr;
  if (!on) return;
  const auto shown = escaped(bytes, 100000);
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(who.size()), who.data(), shown.c_str());
}

// Reports a broken invariant and aborts.
[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "\n=== fuzz invariant broken: %.*s\n", static_cast<int>(what.size()),
               what.data());
  if (!detail.empty()) {
    const auto shown = escaped(detail);
    std::fprintf(stderr, "--- detail:\n%s\n---\n", shown.c_str());
  }
  std::fflush(stderr);
  std::abort();
}

inline void check(bool ok, std::string_view what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

// splitmix64: small, fast, and the same sequence on every platform.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // A number in [0, n); n > 0.
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t state_;
};

// An input as the protocol targets read it: four control bytes (missing ones read as 0), then
// the bytes the client sends. The meaning of each control byte is the target's; byte 1 always
// says how the stream is cut (see cut()).
struct Input {
  static constexpr std::size_t kControlBytes = 4;
  std::array<std::uint8_t, kControlBytes> control{};
  std::string_view stream;

  Input(const std::uint8_t* data, std::size_t size) {
    const std::size_t n = size < kControlBytes ? size : kControlBytes;
    for (std::size_t i = 0; i < n; ++i) control[i] = data[i];
    stream = std::string_view(reinterpret_cast<const char*>(data) + n, size - n);
  }
  bool bit(std::size_t byte, unsigned b) const { return (control[byte] >> b) & 1U; }
};

// Cuts `stream` into the pieces of successive feed() calls, as reads from a socket would:
//   how & 3 == 0: one piece;
//              1: one byte per piece (the first 2048 bytes; then pieces of 1 to 16 bytes);
//              2: a piece per line (after every LF), lines of more than 64 bytes cut in two;
//              3: pseudo-random pieces of 1 to 2^k bytes, k and the seed from how >> 2.
inline std::vector<std::string_view> cut(std::string_view stream, std::uint8_t how) {
  std::vector<std::string_view> pieces;
  if (stream.empty()) return pieces;
  Random random(0x5eed0000ULL + how + (static_cast<std::uint64_t>(stream.size()) << 8));
  std::size_t at = 0;
  const auto take = [&](std::size_t n) {
    n = n == 0 ? 1 : n;
    n = n > stream.size() - at ? stream.size() - at : n;
    pieces.push_back(stream.substr(at, n));
    at += n;
  };
  switch (how & 3U) {
    case 0:
      take(stream.size());
      break;
    case 1:
      while (at < stream.size()) take(at < 2048 ? 1 : 1 + random.below(16));
      break;
    case 2:
      while (at < stream.size()) {
        const auto lf = stream.find('\n', at);
        const std::size_t line = lf == std::string_view::npos ? stream.size() - at : lf + 1 - at;
        if (line > 64) take(1 + random.below(line - 1));
        take(lf == std::string_view::npos ? stream.size() - at : lf + 1 - at);
      }
      break;
    default: {
      const unsigned k = 1 + ((how >> 2) % 12U);
      while (at < stream.size()) take(1 + random.below(std::size_t{1} << k));
      break;
    }
  }
  return pieces;
}

// Another way to cut the same stream, for a second run to compare with: whole if it was cut,
// in pseudo-random pieces if it was whole.
inline std::uint8_t other_cut(std::uint8_t how) {
  return static_cast<std::uint8_t>((how & 3U) == 0 ? how | 3U : how & ~3U);
}

// The same bytes from two runs that must agree; on a difference, shows both from a little before
// the first byte that differs.
inline void check_same(std::string_view a, std::string_view b, std::string_view what) {
  if (a == b) return;
  std::size_t at = 0;
  while (at < a.size() && at < b.size() && a[at] == b[at]) ++at;
  const std::size_t from = at > 200 ? at - 200 : 0;
  fail(what, "first run:\n" + escaped(a.substr(from), 600) + "\nsecond run:\n" +
                 escaped(b.substr(from), 600));
}

inline bool printable(std::string_view s) {
  for (const char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// Every string in an event is sanitised, printable ASCII (engine.hpp).
inline void check_events(const Output& out) {
  for (const auto& e : out.events) {
    check(printable(e.text), "event text is not printable ASCII", e.text);
    check(printable(e.mechanism), "event mechanism is not printable ASCII", e.mechanism);
    check(printable(e.user), "event user is not printable ASCII", e.user);
    for (const auto& r : e.recipients)
      check(printable(r), "event recipient is not printable ASCII", r);
  }
}

// Non-empty output ends with CRLF: a reply is never sent half-written.
inline void check_ends_with_crlf(const Output& out) {
  if (out.bytes.empty()) return;
  check(out.bytes.size() >= 2 && out.bytes.ends_with("\r\n"), "output does not end with CRLF",
        out.bytes);
}

// Every LF is preceded by a CR and every CR followed by an LF.
inline void check_crlf_only(std::string_view bytes, std::string_view what) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\n') check(i > 0 && bytes[i - 1] == '\r', what, bytes);
    if (bytes[i] == '\r') check(i + 1 < bytes.size() && bytes[i + 1] == '\n', what, bytes);
  }
}

// The client lines an engine reports for the session transcript.
class Transcript final : public TranscriptSink {
 public:
  void client_line(std::string_view text) override { lines.emplace_back(text); }
  std::vector<std::string> lines;
};

// A command that carries a credential, as the transcript must show it masked: its verb (upper
// case), whether a tag comes first (IMAP), and how many words, tag and verb included, come before
// the secret part (which the engine masks).
struct CredentialCommand {
  std::string_view verb;
  bool tagged;
  std::size_t public_words;
};

// What follows the first `n` words of `line`, words being separated by runs of spaces (as the
// engines split them); empty if the line has no more.
inline std::string_view after_words(std::string_view line, std::size_t n) {
  std::size_t at = 0;
  for (std::size_t w = 0; w < n; ++w) {
    while (at < line.size() && line[at] == ' ') ++at;
    while (at < line.size() && line[at] != ' ') ++at;
  }
  return line.substr(at);
}

// The command's verb: the first word, or the second when `tagged`, words being separated by
// single spaces as in a command the engines would run.
inline std::string_view verb_of(std::string_view line, bool tagged) {
  if (tagged) {
    const auto space = line.find(' ');
    if (space == std::string_view::npos) return {};
    line.remove_prefix(space + 1);
  }
  return line.substr(0, line.find(' '));
}

inline bool iequal_upper(std::string_view s, std::string_view upper) {
  if (s.size() != upper.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper[i]) return false;
  }
  return true;
}

// "Never log a password" (docs/STYLE.md). For each `authenticated` event in `out`, the transcript
// lines reported during the same call (from index `from` on) that are credential commands must not
// show the password the user logged in with after their public words.
inline void check_masked(const Transcript& transcript, std::size_t from, const Output& out,
                         const UserDirectory& users,
                         std::initializer_list<CredentialCommand> commands) {
  for (const auto& e : out.events) {
    if (e.kind != EventKind::authenticated) continue;
    const User* user = users.find_address(e.user);
    check(user != nullptr, "authenticated as an address that is not a user", e.user);
    for (std::size_t i = from; i < transcript.lines.size(); ++i) {
      const std::string_view line = transcript.lines[i];
      for (const auto& command : commands) {
        if (!iequal_upper(verb_of(line, command.tagged), command.verb)) continue;
        const auto secret_part = after_words(line, command.public_words);
        for (const auto& password : {user->password, user->app_password}) {
          if (password.empty()) continue;
          check(secret_part.find(password) == std::string_view::npos,
                "a password reached the transcript", line);
        }
      }
    }
  }
}

}  // namespace sevenport::fuzz
