// Greylisting and per-client message rate limits (docs/BEHAVIOURS.md), remembered across the
// sessions of one SMTP listener: server/ owns one SmtpThrottle per listener and hands it to every
// session through SmtpPolicy::throttle. Lives in the loop thread. Holds no clock: every call is
// given the time, so tests drive it. Memory is bounded: at most `max_entries` greylist pairs and
// as many client IPs, the least recently used forgotten first.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace sevenport::smtp {

class SmtpThrottle {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  static constexpr std::size_t kDefaultMaxEntries = 100000;

  explicit SmtpThrottle(std::size_t max_entries = kDefaultMaxEntries);

  // What greylisting decided about one RCPT.
  struct Greylist {
    enum class Verdict : std::uint8_t {
      first_attempt,  // the pair was not known: recorded now, deferred
      too_early,      // known, but `delay` has not yet passed since the first attempt: deferred
      passed,         // `delay` has passed: accepted, and from now on always (reported once)
      known,          // passed before: accepted
    };
    Verdict verdict = Verdict::first_attempt;
    std::chrono::seconds waited{0};  // since the first attempt, rounded down
    std::chrono::seconds left{0};    // until accepted, rounded up and at least 1 when deferred
    bool deferred() const {
      return verdict == Verdict::first_attempt || verdict == Verdict::too_early;
    }
  };

  // Greylisting keyed on (client IP, recipient compared case-insensitively): the first attempt is
  // recorded at `now`; the pair is accepted from `delay` after it, and stays accepted. A clock
  // that went backwards counts as no time having passed.
  Greylist greylist(std::string_view client_ip, std::string_view recipient,
                    std::chrono::seconds delay, TimePoint now);

  // How many messages were accepted from `client_ip` in the `window` before `now`, counted up to
  // `limit` (the rate limit is reached when this equals `limit`). Forgets older ones.
  std::uint32_t recent_messages(std::string_view client_ip, std::uint32_t limit,
                                std::chrono::seconds window, TimePoint now);

  // Records a message accepted from `client_ip` at `now`; keeps at most the `limit` latest.
  void message_accepted(std::string_view client_ip, std::uint32_t limit, TimePoint now);

  std::size_t greylist_entries() const { return greylist_.size(); }
  std::size_t rate_entries() const { return rates_.size(); }

 private:
  // A map that forgets its least recently used entry beyond `capacity`.
  template <typename Value>
  class Recent {
   public:
    explicit Recent(std::size_t capacity) : capacity_(capacity) {}
    // The value for `key`, now the most recent; nullptr if absent.
    Value* find(std::string_view key);
    // Adds `key` (absent) as the most recent, forgetting the least recent beyond capacity.
    Value& add(std::string key);
    std::size_t size() const { return order_.size(); }

   private:
    using Entries = std::list<std::pair<std::string, Value>>;
    std::size_t capacity_;
    Entries order_;  // most recent first
    // Keys view the strings in order_: list nodes never move.
    std::unordered_map<std::string_view, typename Entries::iterator> index_;
  };

  struct Pair {
    TimePoint first_attempt;
    bool passed = false;
  };

  Recent<Pair> greylist_;
  Recent<std::deque<TimePoint>> rates_;  // accepted messages per client IP, oldest first
};

}  // namespace sevenport::smtp
