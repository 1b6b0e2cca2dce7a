// Every reply the SMTP engine can send, in one table: basic code, enhanced status code (RFC 3463,
// advertised as ENHANCEDSTATUSCODES, RFC 2034), text, and an optional plain-words hint that becomes
// a diagnosis event for the session log. SmtpSession::reply() is the only user of this table.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace sevenport::smtp {

enum class Reply : std::uint8_t {
  greeting,
  ehlo,
  helo,
  ok,
  sender_ok,
  recipient_ok,
  queued,
  help,
  cannot_vrfy,
  start_mail_input,
  bye,
  ready_to_start_tls,
  injected_response,
  sasl_empty_challenge,
  login_username_challenge,
  login_password_challenge,
  auth_succeeded,
  too_many_errors,
  service_unavailable,
  rate_limited,
  timeout,
  shutting_down,
  greylisted,
  too_many_recipients,
  mailbox_full_temporary,
  tls_temporarily_unavailable,
  unrecognized,
  line_too_long,
  sasl_line_too_long,
  syntax,
  bad_parameter,
  bad_sender,
  bad_recipient,
  auth_cancelled,
  cannot_decode,
  not_implemented,
  need_ehlo,
  need_mail,
  nested_mail,
  transaction_in_progress,
  already_authenticated,
  unknown_mechanism,
  auth_required,
  app_password_required,
  auth_failed,
  account_locked,
  password_expired,
  encryption_required,
  user_unknown,
  message_too_big,
  mailbox_full_permanent,
  non_ascii_address,
  relay_denied,
  no_valid_recipients,
  tls_already_active,
  plaintext_refused,
  bare_line_ending,
  unsupported_parameter,
};

struct ReplySpec {
  std::uint16_t code;
  std::string_view enhanced;  // empty: none (greeting, EHLO/HELO, SASL challenges, 354)
  std::string_view text;      // each "{}" is replaced by the next argument; each "\n" begins
                              // another line of a multi-line reply
  std::string_view hint;      // empty: no diagnosis
};

const ReplySpec& reply_spec(Reply reply);

// Appends the reply to `out`: "code SP [enhanced SP] text CRLF", the "{}" in the text replaced in
// order by `args` (the caller sanitises client text). A text of several lines, or `more_lines`
// after it, make the reply multi-line (RFC 5321 4.2.1): "code-" on every line but the last, and
// the enhanced code, if any, on every line (RFC 2034 4).
void append_reply(std::string& out, Reply reply, std::initializer_list<std::string_view> args,
                  std::span<const std::string> more_lines = {});

// Diagnosis for a line that looks like a TLS ClientHello on a plaintext connection.
inline constexpr std::string_view tls_on_plaintext_hint =
    "the client began a TLS handshake on a plaintext SMTP connection: use STARTTLS here, or "
    "connect to the implicit-TLS port (RFC 8314)";

}  // namespace sevenport::smtp
