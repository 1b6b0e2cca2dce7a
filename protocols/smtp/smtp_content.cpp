#include "protocols/smtp/smtp_content.hpp"

#include <cstring>

namespace sevenport::smtp {

namespace {
// Frees a string's buffer: clear() keeps the capacity, and a refused message must not keep
// megabytes alive for the rest of the session.
void release(std::string& s) { std::string().swap(s); }
}  // namespace

void ContentReader::begin(std::size_t max_size) {
  release(content_);
  size_ = 0;
  max_size_ = max_size;
  scan_ = Scan::line_start;
  bare_ = false;
  oversize_ = false;
}

void ContentReader::reset() {
  release(content_);
  size_ = 0;
  scan_ = Scan::done;
  bare_ = false;
  oversize_ = false;
}

std::string ContentReader::take() {
  std::string out;
  out.swap(content_);
  return out;
}

void ContentReader::refuse_bare() {
  bare_ = true;
  release(content_);
}

void ContentReader::keep(const char* begin, const char* end) {
  const auto n = static_cast<std::size_t>(end - begin);
  if (n == 0) return;
  size_ += n;
  if (bare_ || oversize_) return;
  if (size_ > max_size_) {
    // Keep reading to the terminator so the reply lands after the content, but buffer nothing:
    // a client cannot make the session hold more than max_size octets.
    oversize_ = true;
    release(content_);
    return;
  }
  content_.append(begin, n);
}

std::size_t ContentReader::consume(std::string_view bytes) {
  const char* const first = bytes.data();
  const char* const last = first + bytes.size();
  const char* p = first;
  const char* run =
      first;  // start of the bytes to keep unchanged; flushed only where one is dropped
  while (p < last && scan_ != Scan::done) {
    switch (scan_) {
      case Scan::line_start:
        if (*p == '.') {
          // RFC 5321 4.5.2: a leading dot is removed (or, alone on its line, ends the data).
          keep(run, p);
          run = ++p;
          scan_ = Scan::dot;
        } else {
          scan_ = Scan::text;
        }
        break;
      case Scan::dot:
        if (*p == '\r') {
          ++p;
          scan_ = Scan::dot_cr;
        } else {
          scan_ = Scan::text;  // run already starts after the dot
        }
        break;
      case Scan::dot_cr:
        if (*p == '\n') {
          // CRLF "." CRLF: the only end of data. The ".\r\n" is not content and run starts at
          // its CR, so nothing more is kept.
          scan_ = Scan::done;
          return static_cast<std::size_t>(p + 1 - first);
        }
        refuse_bare();
        scan_ = Scan::text;
        break;
      case Scan::cr:
        if (*p == '\n') {
          ++p;
          scan_ = Scan::line_start;
        } else {
          refuse_bare();
          scan_ = Scan::text;
        }
        break;
      case Scan::text: {
        const auto* lf =
            static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(last - p)));
        const char* stop = lf ? lf : last;
        // The one CR allowed is the one right before the LF (or the last byte of this piece,
        // whose LF may come in the next one).
        const char* cr_end = (stop > p && stop[-1] == '\r') ? stop - 1 : stop;
        if (!bare_ && std::memchr(p, '\r', static_cast<std::size_t>(cr_end - p))) refuse_bare();
        if (!lf) {
          if (cr_end != stop) scan_ = Scan::cr;
          p = last;
        } else if (cr_end == stop) {
          // An LF without CR does not end a line: the next "." is not at a line start, which is
          // what keeps "\n.\n" and "\r\n.\n" from ending the data.
          refuse_bare();
          p = lf + 1;
        } else {
          p = lf + 1;
          scan_ = Scan::line_start;
        }
        break;
      }
      case Scan::done:
        break;
    }
  }
  // A ".\r" at the end of this piece is either the terminator or a bare CR: not content either way.
  if (scan_ != Scan::dot_cr) keep(run, p);
  return static_cast<std::size_t>(p - first);
}

}  // namespace sevenport::smtp
