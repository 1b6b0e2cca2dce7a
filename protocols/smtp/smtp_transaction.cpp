// The mail transaction: MAIL, RCPT, DATA, and delivery into the store with a Received header.
#include <algorithm>
#include <charconv>
#include <cstdio>

#include "protocols/common/text.hpp"
#include "protocols/smtp/smtp_address.hpp"
#include "protocols/smtp/smtp_session.hpp"

namespace sevenport::smtp {

namespace {

// RFC 5322 3.3 date-time in UTC, e.g. "Sun, 22 Nov 2026 01:20:01 +0000".
std::string rfc5322_date(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto seconds = floor<std::chrono::seconds>(when);
  const auto day = floor<days>(seconds);
  const year_month_day date{day};
  const hh_mm_ss time{seconds - day};
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%s, %02u %s %04d %02d:%02d:%02d +0000",
                kDays[weekday{day}.c_encoding()], static_cast<unsigned>(date.day()),
                kMonths[static_cast<unsigned>(date.month()) - 1], static_cast<int>(date.year()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buffer;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool SmtpSession::is_local_domain(std::string_view domain) const {
  return std::any_of(policy_.local_domains.begin(), policy_.local_domains.end(),
                     [&](const std::string& local) { return iequals(local, domain); });
}

std::chrono::system_clock::time_point SmtpSession::now() const {
  return policy_.clock ? policy_.clock() : std::chrono::system_clock::now();
}

std::string SmtpSession::peer() const {
  const bool v6 = context_.peer_ip.find(':') != std::string::npos;
  std::string text = v6 ? "[" + context_.peer_ip + "]" : context_.peer_ip;
  return text + ":" + std::to_string(context_.peer_port);
}

void SmtpSession::cmd_mail(std::string_view args, Output& out) {
  // RFC 6409 4.3: a submission server may insist on AUTH before accepting mail.
  if (policy_.auth == AuthMode::required && auth_user_.empty())
    return reply(out, Reply::auth_required);
  if (rate_limited(out)) return;
  const auto path = parse_path(args);
  if (!path || path->kind == Path::Kind::postmaster) return reply(out, Reply::bad_sender);
  bool smtputf8 = false;
  auto parameters = path->parameters;
  while (const auto parameter = next_parameter(parameters)) {
    const auto& [keyword, value] = *parameter;
    if (iequals(keyword, "SIZE")) {
      // RFC 1870 6: refuse at once what would be refused after the whole transfer.
      if (!value || !all_digits(*value)) return reply(out, Reply::bad_parameter, {"SIZE"});
      std::uint64_t size = 0;
      const auto result = std::from_chars(value->data(), value->data() + value->size(), size);
      if (result.ec != std::errc() || size > policy_.max_message_size)
        return reply(out, Reply::message_too_big);
    } else if (iequals(keyword, "BODY")) {
      // RFC 6152: sevenport stores 8-bit content as received; BINARYMIME is not offered.
      if (!value || !(iequals(*value, "7BIT") || iequals(*value, "8BITMIME")))
        return reply(out, Reply::bad_parameter, {"BODY"});
    } else if (iequals(keyword, "SMTPUTF8")) {
      if (value) return reply(out, Reply::bad_parameter, {"SMTPUTF8"});
      smtputf8 = true;
    } else if (iequals(keyword, "AUTH")) {
      // RFC 4954 5: the original submitter; a server may ignore it, and sevenport relays nothing.
      if (!value || value->empty()) return reply(out, Reply::bad_parameter, {"AUTH"});
    } else {
      return reply(out, Reply::unsupported_parameter, {sanitize(keyword, 40)});
    }
  }
  if (!path->ascii && !smtputf8) return reply(out, Reply::non_ascii_address);
  transaction_.reset();
  transaction_.mail_from = path->mailbox;
  transaction_.smtputf8 = smtputf8;
  state_ = State::mail;
  reply(out, Reply::sender_ok, {sanitize(path->mailbox, 300)});
}

void SmtpSession::cmd_rcpt(std::string_view args, Output& out) {
  const auto path = parse_path(args);
  if (!path || path->kind == Path::Kind::null) return reply(out, Reply::bad_recipient);
  // No RCPT parameters are offered (DSN's NOTIFY and ORCPT are not advertised).
  auto parameters = path->parameters;
  if (const auto parameter = next_parameter(parameters))
    return reply(out, Reply::unsupported_parameter, {sanitize(parameter->keyword, 40)});
  if (!path->ascii && !transaction_.smtputf8) return reply(out, Reply::non_ascii_address);

  std::string address;
  bool local = false;
  bool postmaster = false;
  if (path->kind == Path::Kind::postmaster) {
    // RFC 5321 4.5.1: "Postmaster" without a domain must always be accepted.
    address = "postmaster@" + ascii_lower(policy_.hostname);
    local = true;
    postmaster = true;
  } else {
    address = path->mailbox;
    local = is_local_domain(path->domain);
    // 4.5.1 again: so must postmaster at every domain the server takes mail for.
    postmaster = local && iequals(address.substr(0, address.rfind('@')), "postmaster");
  }
  auto& recipients = transaction_.recipients;
  const bool duplicate = std::any_of(recipients.begin(), recipients.end(),
                                     [&](const std::string& r) { return iequals(r, address); });
  if (!duplicate) {
    // RFC 5321 4.5.3.1.10: 452, so the client sends the rest in another transaction.
    if (recipients.size() >= policy_.max_recipients) return reply(out, Reply::too_many_recipients);
    // Not an open relay: mail for other domains only from an authenticated client. It is kept in
    // the store for inspection, never sent on.
    if (!local && auth_user_.empty())
      return reply(out, Reply::relay_denied, {sanitize(address, 300)});
    if (recipient_refused(address, local, postmaster, out)) return;
    recipients.push_back(address);
    if (local) transaction_.owners.push_back(ascii_lower(address));
  }
  state_ = State::rcpt;
  reply(out, Reply::recipient_ok, {sanitize(address, 300)});
}

void SmtpSession::cmd_data(std::string_view, Output& out) {
  content_.begin(policy_.max_message_size);
  state_ = State::data;
  reply(out, Reply::start_mail_input);
}

bool SmtpSession::receive_content(Output& out) {
  const auto used = content_.consume(framer_.window());
  framer_.consume(used);
  if (!content_.complete()) return false;
  command_ = "DATA";
  note_client("[message content: " + std::to_string(content_.size()) + " octets]");
  finish_message(out);
  return true;
}

void SmtpSession::finish_message(Output& out) {
  if (content_.bare_line_ending() || content_.oversize()) {
    const auto refusal =
        content_.bare_line_ending() ? Reply::bare_line_ending : Reply::message_too_big;
    end_transaction();
    return reply(out, refusal);
  }
  const auto arrived = now();
  ++messages_;
  store::Message message;
  // One exact allocation for the stored bytes: the message lives as long as the store keeps it.
  const auto content = content_.take();
  message.raw = received_header(arrived);
  message.raw.reserve(message.raw.size() + content.size());
  message.raw.append(content);
  message.mail_from = transaction_.mail_from;
  message.recipients = transaction_.recipients;
  message.received_at = arrived;
  auto& arrival = message.arrival;
  arrival.session_id = context_.session_id;
  arrival.listener = context_.listener;
  arrival.port = context_.port;
  arrival.security = context_.security;
  arrival.tls = context_.tls_active;
  if (context_.tls_active) {
    arrival.tls_version = context_.tls.version;
    arrival.tls_cipher = context_.tls.cipher;
  }
  arrival.auth_user = auth_user_;
  arrival.peer = peer();
  arrival.helo = helo_;
  const auto size = message.raw.size();
  // ARCHITECTURE: a message is stored whole before the 250.
  const auto id = store_.deliver(std::move(message), transaction_.owners);
  count_message(arrived);

  Event event;
  event.kind = EventKind::delivered;
  event.message_id = id;
  event.size = size;
  event.over_tls = context_.tls_active;
  event.user = auth_user_;
  for (const auto& recipient : transaction_.recipients)
    event.recipients.push_back(sanitize(recipient, 300));
  end_transaction();
  reply(out, Reply::queued, {std::to_string(id)});
  out.event(std::move(event));
}

// RFC 5321 4.4 trace header; the "with" keyword is RFC 3848's. The id names this session and the
// message's place in it, so a message leads back to its session in the log.
std::string SmtpSession::received_header(std::chrono::system_clock::time_point now) const {
  std::string protocol = esmtp_ ? "ESMTP" : "SMTP";
  if (esmtp_ && context_.tls_active) protocol += 'S';
  if (esmtp_ && !auth_user_.empty()) protocol += 'A';
  const bool v6 = context_.peer_ip.find(':') != std::string::npos;
  std::string header;
  header.reserve(200 + helo_.size() + policy_.hostname.size());
  header = "Received: from ";
  header += helo_;
  header += v6 ? " ([IPv6:" : " ([";
  header += context_.peer_ip;
  header += "])\r\n\tby ";
  header += policy_.hostname;
  header += " (sevenport) with ";
  header += protocol;
  header += " id ";
  header += std::to_string(context_.session_id);
  header += '.';
  header += std::to_string(messages_);
  if (transaction_.recipients.size() == 1) {
    // Only for a single recipient: listing several would disclose Bcc recipients (4.4).
    header += "\r\n\tfor <";
    header += transaction_.recipients.front();
    header += '>';
  }
  header += "; ";
  header += rfc5322_date(now);
  header += "\r\n";
  return header;
}

}  // namespace sevenport::smtp
