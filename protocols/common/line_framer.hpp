// Splits a client's byte stream into command lines with a length limit, without copying complete
// lines: a line that arrived whole is handed out as a view into the caller's buffer; only a line
// split across reads is assembled in an internal buffer (bounded by the limit).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sevenport {

class LineFramer {
 public:
  // `max_line` counts the octets of a line including its CRLF.
  explicit LineFramer(std::size_t max_line) : max_line_(max_line) {}

  enum class Kind { line, need_more, too_long };
  struct Item {
    Kind kind = Kind::need_more;
    std::string_view text;  // kind == line: the line without CR LF; valid until the next call
  };

  // Makes `bytes` the current input window. The caller keeps `bytes` alive while it calls next().
  // Any unconsumed rest of the previous window must have been taken (take_rest) or is dropped.
  void feed(std::string_view bytes) { window_ = bytes; }

  // The next complete line. A line ends at LF; a CR before it is removed (commands from clients
  // that end lines with a bare LF are still understood). A line longer than max_line is discarded
  // through its LF and reported once, as too_long, when that LF arrives.
  Item next();

  // The unconsumed bytes of the current window (e.g. message content after SMTP DATA, an IMAP
  // literal); they count as consumed afterwards. Only meaningful when no partial line is pending.
  std::string_view take_rest() {
    auto rest = window_;
    window_ = {};
    return rest;
  }
  // Consumes the first n bytes of the current window (n <= window().size()).
  void consume(std::size_t n) { window_.remove_prefix(n); }
  std::string_view window() const { return window_; }

  // True while part of a line is buffered or being discarded.
  bool partial() const { return !partial_.empty() || discarding_; }

  // Drops everything: the window, a partial line, a discard in progress (STARTTLS).
  void reset() {
    window_ = {};
    partial_.clear();
    discarding_ = false;
  }

  void set_max_line(std::size_t max_line) { max_line_ = max_line; }
  std::size_t max_line() const { return max_line_; }

 private:
  std::size_t max_line_;
  std::string_view window_;
  std::string partial_;
  std::string assembled_;  // the last line that was assembled from pieces
  bool discarding_ = false;
};

}  // namespace sevenport
