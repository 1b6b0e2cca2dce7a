// IMAP command syntax (RFC 3501 9, LITERAL+ RFC 7888), in two layers. CommandReader frames the
// byte stream into whole commands, literals included, deciding about each literal's size before
// the session sends "+" (so a refused literal's bytes are never read as commands).
// parse_command() then turns one whole command into tokens; parse_sequence_set() and
// parse_fetch_attribute() read the argument shapes that are atoms on the wire.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/line_framer.hpp"
#include "protocols/imap/imap_policy.hpp"

namespace sevenport::imap {

class CommandReader {
 public:
  explicit CommandReader(const ImapPolicy& policy);

  enum class Kind {
    need_more,        // nothing complete yet
    command,          // text: the whole command, literals inline as "{n}\r\n<bytes>"
    line,             // text: one raw line (only when next() was asked for raw lines)
    continuation,     // a synchronising literal was accepted: send "+ Ready for literal data"
    too_long,         // a line exceeded max_line_length and was discarded through its end
    literal_refused,  // tag: the command whose literal was over the limit; nothing of it is kept
  };
  struct Item {
    Kind kind = Kind::need_more;
    std::string_view text;  // valid until the next call
    std::string_view tag;   // literal_refused: the command's tag, "*" if it had none usable
    std::size_t size = 0;   // literal_refused: the size the client announced
  };

  // Makes `bytes` the current input; the caller keeps it alive while calling next().
  void feed(std::string_view bytes) { framer_.feed(bytes); }
  // The next item. With `raw_line`, a line that starts a command is returned as Kind::line
  // without literal handling (IDLE's DONE, SASL responses).
  Item next(bool raw_line = false);
  // Bytes of the current input not yet consumed.
  std::size_t unread() const { return framer_.window().size(); }
  // Drops all input and any command in progress (STARTTLS, close).
  void reset();
  // The command text handed out by the last Kind::command; parse_command() may rewrite it in
  // place (unescaping quoted strings).
  std::string& command_text() { return command_; }

 private:
  Item finish_literal_refusal();

  const ImapPolicy& policy_;
  LineFramer framer_;
  std::string command_;
  std::string refused_tag_;
  std::size_t literal_left_ = 0;
  std::size_t refused_size_ = 0;
  bool done_ = false;        // command_ was handed out: clear it on the next call
  bool discarding_ = false;  // a non-synchronising literal was over the limit: swallow the command
};

// One argument of a command.
struct Token {
  enum class Kind : std::uint8_t { atom, quoted, literal, list };
  Kind kind = Kind::atom;
  std::string_view text;     // atom, quoted (unescaped) or literal bytes
  std::vector<Token> items;  // list

  bool is_string() const { return kind == Kind::quoted || kind == Kind::literal; }
  // atom, quoted or literal (RFC 3501 "astring"); a list is not.
  bool is_astring() const { return kind != Kind::list; }
  bool is_nil() const;
  bool is_atom(std::string_view word) const;  // case-insensitive
};

struct Command {
  std::string_view tag;
  std::string_view name;
  std::vector<Token> args;
};

struct ParseResult {
  std::optional<Command> command;
  std::string_view tag;  // usable tag even on error, "*" if none
  std::string error;     // set when command is empty
};

// Parses a whole command. Rewrites `text` in place (quoted strings are unescaped where they
// stand); the tokens are views into it.
ParseResult parse_command(std::string& text);

// RFC 3501 sequence-set: "1:*,3,5:7". `*` is stored as 0 and stands for the largest number in
// use. nullopt on a syntax error (including 0 as a number).
struct SequenceSet {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;  // each as written, lo may be > hi
  bool contains(std::uint32_t n, std::uint32_t largest) const;
};
std::optional<SequenceSet> parse_sequence_set(std::string_view text);

// BODY[<section>]<<partial>> and friends (RFC 3501 6.4.5).
struct Section {
  enum class Text : std::uint8_t { none, header, header_fields, header_fields_not, text, mime };
  std::vector<std::uint32_t> path;  // part numbers, e.g. 1.2 -> {1, 2}
  Text text = Text::none;
  std::vector<std::string> fields;  // HEADER.FIELDS (...), as the client wrote them
  // The canonical spelling for the response, e.g. "1.2.HEADER.FIELDS (From To)".
  std::string spelling() const;
};

struct FetchAttribute {
  enum class Kind : std::uint8_t {
    flags,
    uid,
    internaldate,
    rfc822_size,
    envelope,
    body,
    bodystructure,
    body_section,
    rfc822,
    rfc822_header,
    rfc822_text
  };
  Kind kind = Kind::flags;
  bool peek = false;  // BODY.PEEK[...]
  Section section;
  std::optional<std::pair<std::uint32_t, std::uint32_t>> partial;  // <offset.length>
};
// One fetch attribute (atom). nullopt on anything unknown or malformed.
std::optional<FetchAttribute> parse_fetch_attribute(std::string_view atom);

}  // namespace sevenport::imap
