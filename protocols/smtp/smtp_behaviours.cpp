// The deliberate refusals of MAIL and RCPT (docs/BEHAVIOURS.md, "SMTP replies on demand"): the
// per-IP message rate limit, unknown users, greylisting and full mailboxes. Each one that takes
// effect is reported as a behaviour event naming its setting.
#include <string>

#include "protocols/common/text.hpp"
#include "protocols/smtp/smtp_session.hpp"
#include "protocols/smtp/smtp_throttle.hpp"

namespace sevenport::smtp {

bool SmtpSession::rate_limited(Output& out) {
  const auto limit = policy_.rate_limit_messages;
  if (!policy_.throttle || limit == 0) return false;
  const std::chrono::seconds window(policy_.rate_limit_window_seconds);
  const auto recent = policy_.throttle->recent_messages(context_.peer_ip, limit, window, now());
  if (recent < limit) return false;
  // Postfix's anvil answers a client over its message rate the same way: 421 at MAIL, and the
  // connection closes, so the client retries later rather than on this connection.
  close_with(out, Reply::rate_limited, {policy_.hostname});
  out.event(make_event(
      EventKind::behaviour,
      "rate limit reached for " + context_.peer_ip + ": " + std::to_string(recent) +
          " messages accepted from it in the last " + std::to_string(window.count()) +
          " s; MAIL refused with 421 4.7.0 and the connection closed (rate_limit_messages = " +
          std::to_string(limit) +
          ", rate_limit_window_seconds = " + std::to_string(window.count()) + ")"));
  return true;
}

void SmtpSession::count_message(std::chrono::system_clock::time_point when) {
  if (policy_.throttle && policy_.rate_limit_messages != 0)
    policy_.throttle->message_accepted(context_.peer_ip, policy_.rate_limit_messages, when);
}

bool SmtpSession::recipient_refused(const std::string& address, bool local, bool postmaster,
                                    Output& out) {
  const auto shown = sanitize(address, 300);
  const User* user = local ? users_.find_address(address) : nullptr;

  if (local && !user && !postmaster && policy_.reject_unknown_users) {
    behave(out, Reply::user_unknown, {shown},
           "refused <" + shown +
               "> with 550 5.1.1: no such user in a local domain (reject_unknown_users = true)");
    return true;
  }

  // Greylisting is for mail from other servers: an authenticated client is a user of this one.
  if (policy_.throttle && policy_.greylist_seconds != 0 && auth_user_.empty()) {
    const std::chrono::seconds delay(policy_.greylist_seconds);
    const auto result = policy_.throttle->greylist(context_.peer_ip, address, delay, now());
    const auto pair = "<" + shown + "> from " + context_.peer_ip;
    const auto setting = " (greylist_seconds = " + std::to_string(delay.count()) + ")";
    using Verdict = SmtpThrottle::Greylist::Verdict;
    switch (result.verdict) {
      case Verdict::first_attempt:
        behave(out, Reply::greylisted, {shown, std::to_string(result.left.count())},
               "greylisted " + pair + ": first attempt; accepted from " +
                   std::to_string(delay.count()) + " s after it" + setting);
        return true;
      case Verdict::too_early:
        behave(out, Reply::greylisted, {shown, std::to_string(result.left.count())},
               "greylisted " + pair + ": retried " + std::to_string(result.waited.count()) +
                   " s after the first attempt, " + std::to_string(result.left.count()) +
                   " s too early" + setting);
        return true;
      case Verdict::passed:
        out.event(make_event(EventKind::behaviour,
                             "greylisting passed for " + pair + ": retried " +
                                 std::to_string(result.waited.count()) +
                                 " s after the first attempt, accepted from now on" + setting));
        break;
      case Verdict::known:
        break;
    }
  }

  if (user && user->mailbox_full == MailboxFull::temporary) {
    // RFC 3463 4.2.2: mailbox full; the sender keeps the message and retries.
    behave(out, Reply::mailbox_full_temporary, {shown},
           "refused <" + shown + "> with 452 4.2.2: mailbox full (mailbox_full = \"temporary\")");
    return true;
  }
  if (user && user->mailbox_full == MailboxFull::permanent) {
    // 552 at RCPT, as large providers send it. RFC 5321 4.5.3.1.10 lets a client take a 552 to
    // RCPT as temporary (RFC 821 used it for "too many recipients"): the enhanced code 5.2.2 is
    // what says permanent here.
    behave(out, Reply::mailbox_full_permanent, {shown},
           "refused <" + shown + "> with 552 5.2.2: mailbox full (mailbox_full = \"permanent\")");
    return true;
  }
  return false;
}

}  // namespace sevenport::smtp
