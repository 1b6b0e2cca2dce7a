#include "protocols/smtp/smtp_throttle.hpp"

#include <algorithm>

#include "protocols/common/text.hpp"

namespace sevenport::smtp {

template <typename Value>
Value* SmtpThrottle::Recent<Value>::find(std::string_view key) {
  const auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second);
  return &it->second->second;
}

template <typename Value>
Value& SmtpThrottle::Recent<Value>::add(std::string key) {
  // A client that cycles through addresses (or IPv6 addresses) must not grow the memory without
  // bound: the entry unused the longest goes.
  while (order_.size() >= capacity_) {
    index_.erase(order_.back().first);
    order_.pop_back();
  }
  order_.emplace_front(std::move(key), Value{});
  index_.emplace(order_.front().first, order_.begin());
  return order_.front().second;
}

SmtpThrottle::SmtpThrottle(std::size_t max_entries)
    : greylist_(std::max<std::size_t>(max_entries, 1)),
      rates_(std::max<std::size_t>(max_entries, 1)) {}

SmtpThrottle::Greylist SmtpThrottle::greylist(std::string_view client_ip,
                                              std::string_view recipient,
                                              std::chrono::seconds delay, TimePoint now) {
  // NUL cannot occur in a printable IP address, so the key is unambiguous.
  std::string key(client_ip);
  key += '\0';
  key += ascii_lower(recipient);
  Greylist result;
  Pair* pair = greylist_.find(key);
  if (!pair) {
    pair = &greylist_.add(std::move(key));
    pair->first_attempt = now;
    result.verdict = Greylist::Verdict::first_attempt;
    result.left = std::max(delay, std::chrono::seconds(1));
    return result;
  }
  const auto passed =
      now <= pair->first_attempt ? TimePoint::duration::zero() : now - pair->first_attempt;
  result.waited = std::chrono::floor<std::chrono::seconds>(passed);
  if (pair->passed) {
    result.verdict = Greylist::Verdict::known;
  } else if (passed >= delay) {
    pair->passed = true;
    result.verdict = Greylist::Verdict::passed;
  } else {
    result.verdict = Greylist::Verdict::too_early;
    result.left =
        std::max(std::chrono::ceil<std::chrono::seconds>(delay - passed), std::chrono::seconds(1));
  }
  return result;
}

std::uint32_t SmtpThrottle::recent_messages(std::string_view client_ip, std::uint32_t limit,
                                            std::chrono::seconds window, TimePoint now) {
  auto* stamps = rates_.find(client_ip);
  if (!stamps) return 0;
  // A message counts while less than `window` has passed since it was accepted.
  while (!stamps->empty() && now - stamps->front() >= window) stamps->pop_front();
  while (stamps->size() > limit) stamps->pop_front();
  return static_cast<std::uint32_t>(stamps->size());
}

void SmtpThrottle::message_accepted(std::string_view client_ip, std::uint32_t limit,
                                    TimePoint now) {
  if (limit == 0) return;
  auto* stamps = rates_.find(client_ip);
  if (!stamps) stamps = &rates_.add(std::string(client_ip));
  stamps->push_back(now);
  // Only the `limit` latest can decide whether the limit is reached.
  while (stamps->size() > limit) stamps->pop_front();
}

}  // namespace sevenport::smtp
