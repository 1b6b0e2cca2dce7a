#include "protocols/common/line_framer.hpp"

namespace sevenport {

namespace {
std::string_view strip_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}
}  // namespace

LineFramer::Item LineFramer::next() {
  while (!window_.empty()) {
    const auto lf = window_.find('\n');
    if (discarding_) {
      if (lf == std::string_view::npos) {
        window_ = {};
        return {Kind::need_more, {}};
      }
      window_.remove_prefix(lf + 1);
      discarding_ = false;
      return {Kind::too_long, {}};
    }
    if (lf == std::string_view::npos) {
      if (partial_.size() + window_.size() > max_line_) {
        // Over the limit before the end of the line: forget it, keep discarding to the LF.
        partial_.clear();
        discarding_ = true;
        window_ = {};
        return {Kind::need_more, {}};
      }
      partial_.append(window_);
      window_ = {};
      return {Kind::need_more, {}};
    }
    const std::size_t length = partial_.size() + lf + 1;
    if (length > max_line_) {
      partial_.clear();
      window_.remove_prefix(lf + 1);
      return {Kind::too_long, {}};
    }
    if (partial_.empty()) {
      auto line = window_.substr(0, lf);
      window_.remove_prefix(lf + 1);
      return {Kind::line, strip_cr(line)};
    }
    partial_.append(window_.substr(0, lf));
    window_.remove_prefix(lf + 1);
    // Hand out a view of the assembled line; partial_ is cleared lazily on the next call.
    assembled_.swap(partial_);
    partial_.clear();
    return {Kind::line, strip_cr(assembled_)};
  }
  return {Kind::need_more, {}};
}

}  // namespace sevenport
