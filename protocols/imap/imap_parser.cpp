#include "protocols/imap/imap_parser.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "protocols/common/text.hpp"

namespace sevenport::imap {

namespace {

// A command line's trailing "{n}" or "{n+}" (RFC 3501 4.3, RFC 7888).
struct LiteralSpec {
  std::size_t size = 0;
  bool synchronising = true;
};

std::optional<LiteralSpec> trailing_literal(std::string_view line) {
  if (line.size() < 3 || line.back() != '}') return std::nullopt;
  const auto open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view digits = line.substr(open + 1, line.size() - open - 2);
  LiteralSpec spec;
  if (!digits.empty() && digits.back() == '+') {
    spec.synchronising = false;
    digits.remove_suffix(1);
  }
  if (digits.empty() || digits.size() > 10) return std::nullopt;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), spec.size);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return spec;
}

bool tag_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && c != '(' && c != ')' && c != '{' && c != '"' && c != '\\' &&
         c != '%' && c != '*' && c != '+' && c != ']';
}

std::string_view leading_tag(std::string_view text) {
  const auto space = text.find(' ');
  const auto tag = text.substr(0, space);
  if (tag.empty() || tag.size() > 64) return "*";
  for (const char c : tag)
    if (!tag_char(c)) return "*";
  return tag;
}

bool is_append(std::string_view command) {
  const auto space = command.find(' ');
  if (space == std::string_view::npos) return false;
  return istarts_with(command.substr(space + 1), "APPEND ");
}

}  // namespace

CommandReader::CommandReader(const ImapPolicy& policy)
    : policy_(policy), framer_(policy.max_line_length) {}

void CommandReader::reset() {
  framer_.reset();
  command_.clear();
  refused_tag_.clear();
  literal_left_ = 0;
  done_ = false;
  discarding_ = false;
}

CommandReader::Item CommandReader::finish_literal_refusal() {
  discarding_ = false;
  literal_left_ = 0;
  command_ = refused_tag_;  // keeps the tag alive for the Item
  done_ = true;
  Item item;
  item.kind = Kind::literal_refused;
  item.tag = command_;
  item.size = refused_size_;
  return item;
}

CommandReader::Item CommandReader::next(bool raw_line) {
  if (done_) {
    done_ = false;
    command_.clear();
    // A big APPEND must not keep its buffer for the rest of an idle session.
    if (command_.capacity() > 4096) command_.shrink_to_fit();
  }
  for (;;) {
    if (literal_left_ > 0) {
      const auto window = framer_.window();
      const auto take = std::min(literal_left_, window.size());
      if (!discarding_) command_.append(window.substr(0, take));
      framer_.consume(take);
      literal_left_ -= take;
      if (literal_left_ > 0) return {};
    }
    const auto item = framer_.next();
    if (item.kind == LineFramer::Kind::need_more) return {};
    if (item.kind == LineFramer::Kind::too_long) {
      // The command the line belonged to is abandoned whole; the client learns it from the
      // untagged BAD and its missing tagged reply.
      command_.clear();
      discarding_ = false;
      return {Kind::too_long, {}, {}, 0};
    }
    const std::string_view line = item.text;
    if (raw_line && command_.empty() && !discarding_) return {Kind::line, line, {}, 0};

    const auto literal = trailing_literal(line);
    if (!literal) {
      if (discarding_) return finish_literal_refusal();
      command_.append(line);
      done_ = true;
      return {Kind::command, command_, {}, 0};
    }
    if (!discarding_) {
      command_.append(line);
      command_.append("\r\n");
    }
    // Only APPEND carries message-sized literals; anything else (a LOGIN password, a SEARCH
    // string) is held to the line limit so that no command can make the session buffer much.
    const auto limit = is_append(command_) ? policy_.max_literal_size : policy_.max_line_length;
    if (!discarding_ && (literal->size > limit ||
                         command_.size() + literal->size > limit + policy_.max_line_length)) {
      refused_tag_ = leading_tag(command_);
      refused_size_ = literal->size;
      command_.clear();
      if (literal->synchronising) return finish_literal_refusal();
      // RFC 7888 4: a non-synchronising literal's bytes are on their way; read and drop them.
      discarding_ = true;
    }
    if (discarding_ && literal->synchronising) return finish_literal_refusal();
    literal_left_ = literal->size;
    if (literal->synchronising) return {Kind::continuation, {}, {}, 0};
  }
}

bool Token::is_nil() const { return kind == Kind::atom && iequals(text, "NIL"); }

bool Token::is_atom(std::string_view word) const {
  return kind == Kind::atom && iequals(text, word);
}

namespace {

constexpr int kMaxDepth = 16;

class Tokenizer {
 public:
  explicit Tokenizer(std::string& text) : text_(text) {}

  std::size_t pos = 0;
  std::string error;

  bool at_end() const { return pos >= text_.size(); }
  char peek() const { return text_[pos]; }

  std::string_view bare_word() {
    const auto start = pos;
    while (!at_end() && peek() != ' ') ++pos;
    return std::string_view(text_).substr(start, pos - start);
  }

  bool value(Token& token, int depth) {
    if (at_end()) return fail("Missing argument");
    const char c = peek();
    if (c == '(') return list(token, depth);
    if (c == '"') return quoted(token);
    if (c == '{') return literal(token);
    if (c == ')') return fail("Unexpected \")\"");
    return atom(token);
  }

  // Space-separated values up to `close` (or the end when close is 0).
  bool values(std::vector<Token>& out, char close, int depth) {
    for (;;) {
      if (at_end()) return close == 0 ? true : fail("Missing \")\"");
      if (close != 0 && peek() == close) {
        ++pos;
        return true;
      }
      if (!out.empty()) {
        if (peek() != ' ') return fail("Expected a space between arguments");
        ++pos;
        if (at_end() && close == 0) return true;  // a trailing space, which some clients send
      }
      Token token;
      if (!value(token, depth)) return false;
      out.push_back(std::move(token));
    }
  }

 private:
  bool fail(std::string why) {
    error = std::move(why);
    return false;
  }

  bool list(Token& token, int depth) {
    if (depth >= kMaxDepth) return fail("Lists nested too deeply");
    ++pos;
    token.kind = Token::Kind::list;
    return values(token.items, ')', depth + 1);
  }

  bool quoted(Token& token) {
    ++pos;
    const auto start = pos;
    auto write = pos;  // unescaping only ever shortens the text, so it is done in place
    for (;;) {
      if (at_end()) return fail("Unterminated quoted string");
      char c = text_[pos++];
      if (c == '"') break;
      if (c == '\r' || c == '\n') return fail("Line break in a quoted string");
      if (c == '\\') {
        if (at_end()) return fail("Unterminated quoted string");
        c = text_[pos++];
        if (c != '\\' && c != '"') return fail("Invalid escape in a quoted string");
      }
      text_[write++] = c;
    }
    token.kind = Token::Kind::quoted;
    token.text = std::string_view(text_).substr(start, write - start);
    return true;
  }

  bool literal(Token& token) {
    const auto close = text_.find('}', pos);
    if (close == std::string::npos) return fail("Malformed literal");
    std::string_view digits = std::string_view(text_).substr(pos + 1, close - pos - 1);
    if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
    std::size_t size = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
      return fail("Malformed literal");
    // The reader put "\r\n" and exactly `size` bytes behind every literal it accepted.
    if (text_.compare(close + 1, 2, "\r\n") != 0 || text_.size() - (close + 3) < size)
      return fail("Literal must end its line");
    token.kind = Token::Kind::literal;
    token.text = std::string_view(text_).substr(close + 3, size);
    pos = close + 3 + size;
    return true;
  }

  bool atom(Token& token) {
    const auto start = pos;
    while (!at_end()) {
      const char c = peek();
      if (c == ' ' || c == '(' || c == ')' || c == '"') break;
      // RFC 3501 9: ATOM-CHAR is 7-bit and no CTL; 8-bit text travels quoted or as a literal.
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
        return fail("Invalid character in an atom");
      if (c == '[') {
        // A fetch section may hold spaces and a list: BODY[HEADER.FIELDS (From To)].
        const auto close = text_.find(']', pos);
        if (close == std::string::npos) return fail("Missing \"]\"");
        const auto inner = std::string_view(text_).substr(pos, close - pos);
        if (std::any_of(inner.begin(), inner.end(), [](char b) {
              return static_cast<unsigned char>(b) < 0x20 || static_cast<unsigned char>(b) >= 0x7f;
            }))
          return fail("Invalid character in an atom");
        pos = close + 1;
        continue;
      }
      ++pos;
    }
    if (pos == start) return fail("Missing argument");
    token.kind = Token::Kind::atom;
    token.text = std::string_view(text_).substr(start, pos - start);
    return true;
  }

  std::string& text_;
};

}  // namespace

ParseResult parse_command(std::string& text) {
  ParseResult result;
  result.tag = leading_tag(text);
  Tokenizer tokens(text);
  const auto tag = tokens.bare_word();
  if (tag.empty() || result.tag == "*") {
    result.tag = "*";
    result.error = tag.empty() ? "Empty command" : "Invalid tag";
    return result;
  }
  if (tokens.at_end()) {
    result.error = "Missing command";
    return result;
  }
  ++tokens.pos;
  Command command;
  command.tag = tag;
  const auto name_start = tokens.pos;
  while (!tokens.at_end() && tokens.peek() != ' ') {
    const char c = tokens.peek();
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
      result.error = "Invalid command name";
      return result;
    }
    ++tokens.pos;
  }
  command.name = std::string_view(text).substr(name_start, tokens.pos - name_start);
  if (command.name.empty()) {
    result.error = "Missing command";
    return result;
  }
  if (!tokens.at_end()) {
    ++tokens.pos;
    if (!tokens.values(command.args, 0, 0)) {
      result.error = tokens.error;
      return result;
    }
  }
  result.command = std::move(command);
  return result;
}

}  // namespace sevenport::imap
