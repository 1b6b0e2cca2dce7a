// Reads the message content that follows DATA (RFC 5321 4.1.1.4): finds the end of data, removes
// dot-stuffing (4.5.2), and rejects bare CR and bare LF (2.3.8) so that no "\n.\n" or
// "\r\n.\n" can end the data early (SMTP smuggling). Incremental: the content may arrive in any
// pieces. Owned by one SmtpSession; holds the content only while it is within the size limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sevenport::smtp {

class ContentReader {
 public:
  // Begins a message. The CRLF that ended the DATA line counts as the CRLF before the first line,
  // so ".\r\n" at once is an empty message. Content over `max_size` octets is counted, not kept.
  void begin(std::size_t max_size);

  // Scans `bytes` and returns how many it used: all of them, or up to and including the LF of the
  // terminating CRLF "." CRLF, after which complete() is true and the rest belongs to the commands.
  std::size_t consume(std::string_view bytes);

  bool complete() const { return scan_ == Scan::done; }
  // A CR not followed by LF, or an LF not preceded by CR, was seen: the message must be refused.
  bool bare_line_ending() const { return bare_; }
  // The content grew past max_size: the message must be refused.
  bool oversize() const { return oversize_; }
  // Octets of content seen so far (after dot-unstuffing), kept or not.
  std::size_t size() const { return size_; }

  // The content, CRLF line ends, without the terminating ".\r\n". Only meaningful when complete()
  // and neither bare_line_ending() nor oversize(); leaves the reader empty.
  std::string take();

  // Forgets any message in progress and frees its memory.
  void reset();

 private:
  enum class Scan : std::uint8_t {
    line_start,  // just after CRLF
    text,        // inside a line
    cr,          // a CR ended the last piece; an LF must follow
    dot,         // a "." began the line
    dot_cr,      // ".\r" began the line: an LF now ends the data
    done,
  };

  void keep(const char* begin, const char* end);
  void refuse_bare();

  std::string content_;
  std::size_t size_ = 0;
  std::size_t max_size_ = 0;
  Scan scan_ = Scan::done;
  bool bare_ = false;
  bool oversize_ = false;
};

}  // namespace sevenport::smtp
