#include "protocols/smtp/smtp_replies.hpp"

#include <array>

namespace sevenport::smtp {

namespace {

struct Row {
  Reply id;
  ReplySpec spec;
};

// Codes follow RFC 5321 4.2.2/4.2.3 and the RFCs of each extension; enhanced codes RFC 3463 and
// the IANA registry (5.7.0, 5.7.8, 5.7.9 and 5.7.11 from RFC 4954; 5.6.7 from RFC 6531).
constexpr Row kRows[] = {
    {Reply::greeting, {220, "", "{} ESMTP sevenport", ""}},
    {Reply::ehlo, {250, "", "{} Hello {} [{}]", ""}},
    {Reply::helo, {250, "", "{}", ""}},
    {Reply::ok, {250, "2.0.0", "Ok", ""}},
    {Reply::sender_ok, {250, "2.1.0", "Sender <{}> OK", ""}},
    {Reply::recipient_ok, {250, "2.1.5", "Recipient <{}> OK", ""}},
    {Reply::queued, {250, "2.0.0", "Ok: queued as {}", ""}},
    {Reply::help,
     {214, "2.0.0",
      "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH (RFC 5321)", ""}},
    {Reply::cannot_vrfy,
     {252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery", ""}},
    {Reply::start_mail_input, {354, "", "End data with <CR><LF>.<CR><LF>", ""}},
    {Reply::bye, {221, "2.0.0", "Bye", ""}},
    {Reply::ready_to_start_tls, {220, "2.0.0", "Ready to start TLS", ""}},
    // starttls_fault = "inject-response": sent in plaintext right behind the 220 above, where a
    // client that is vulnerable (RFC 3207 4.2) reads it as the answer to its EHLO inside TLS.
    {Reply::injected_response,
     {250, "",
      "INJECTED: sent in plaintext after the STARTTLS reply; a client that reads this is "
      "vulnerable to response injection",
      ""}},
    // RFC 4954 4: "334" SP [base64]; LOGIN's challenges are "Username:" and "Password:".
    {Reply::sasl_empty_challenge, {334, "", "", ""}},
    {Reply::login_username_challenge, {334, "", "VXNlcm5hbWU6", ""}},
    {Reply::login_password_challenge, {334, "", "UGFzc3dvcmQ6", ""}},
    {Reply::auth_succeeded, {235, "2.7.0", "Authentication successful", ""}},
    {Reply::too_many_errors, {421, "4.7.0", "{} Too many errors, closing connection", ""}},
    // greeting = "unavailable": RFC 5321 3.1 and 4.2.3 allow a 421 in place of the greeting.
    {Reply::service_unavailable,
     {421, "4.3.2", "{} Service not available, closing transmission channel", ""}},
    {Reply::rate_limited, {421, "4.7.0", "{} Error: too many messages, try again later", ""}},
    {Reply::timeout, {421, "4.4.2", "{} Error: timeout exceeded", ""}},
    {Reply::shutting_down, {421, "4.3.2", "{} Service shutting down", ""}},
    {Reply::greylisted,
     {451, "4.7.1", "<{}>: Recipient address rejected: Greylisted, try again in {} seconds", ""}},
    {Reply::too_many_recipients, {452, "4.5.3", "Too many recipients", ""}},
    {Reply::mailbox_full_temporary, {452, "4.2.2", "<{}>: Mailbox full, try again later", ""}},
    // RFC 3207 4: the reply when TLS cannot be started now.
    {Reply::tls_temporarily_unavailable,
     {454, "4.7.0", "TLS not available due to temporary reason", ""}},
    {Reply::unrecognized, {500, "5.5.1", "Command unrecognized", ""}},
    {Reply::line_too_long, {500, "5.5.2", "Line too long", ""}},
    {Reply::sasl_line_too_long, {500, "5.5.6", "Authentication Exchange line is too long", ""}},
    {Reply::syntax, {501, "5.5.4", "Syntax: {}", ""}},
    {Reply::bad_parameter, {501, "5.5.4", "Syntax error in parameter {}", ""}},
    {Reply::bad_sender, {501, "5.1.7", "Bad sender address syntax", ""}},
    {Reply::bad_recipient, {501, "5.1.3", "Bad recipient address syntax", ""}},
    {Reply::auth_cancelled, {501, "5.0.0", "Authentication cancelled", ""}},
    {Reply::cannot_decode, {501, "5.5.2", "Cannot decode response", ""}},
    {Reply::not_implemented, {502, "5.5.1", "Command not implemented", ""}},
    {Reply::need_ehlo,
     {503, "5.5.1", "Error: send HELO/EHLO first",
      "the client must greet with EHLO (or HELO) before this command (RFC 5321 4.1.4); after "
      "STARTTLS it must greet again (RFC 3207 4.2)"}},
    {Reply::need_mail, {503, "5.5.1", "Error: need MAIL command", ""}},
    {Reply::nested_mail, {503, "5.5.1", "Error: nested MAIL command", ""}},
    {Reply::transaction_in_progress, {503, "5.5.1", "Error: MAIL transaction in progress", ""}},
    {Reply::already_authenticated, {503, "5.5.1", "Error: already authenticated", ""}},
    {Reply::unknown_mechanism, {504, "5.5.4", "Unrecognized authentication type", ""}},
    {Reply::auth_required,
     {530, "5.7.0", "Authentication required",
      "this listener accepts mail only from authenticated clients (submission, RFC 6409 4.3): "
      "configure the client to log in with AUTH before MAIL"}},
    // Given only when the password was right (docs/BEHAVIOURS.md, Accounts); 5.7.9 is RFC 4954's
    // "mechanism too weak", the code large providers answer with here.
    {Reply::app_password_required,
     {534, "5.7.9",
      "Application-specific password required.\nLog in with an app password for this account, "
      "not the account password",
      ""}},
    {Reply::auth_failed, {535, "5.7.8", "Authentication credentials invalid", ""}},
    {Reply::account_locked, {535, "5.7.8", "Authentication failed: account locked", ""}},
    {Reply::password_expired,
     {535, "5.7.8", "Authentication failed: password expired, change it and log in again", ""}},
    {Reply::encryption_required,
     {538, "5.7.11", "Encryption required for requested authentication mechanism",
      "AUTH is accepted only inside TLS here: issue STARTTLS first, or connect to the "
      "implicit-TLS port (RFC 8314)"}},
    {Reply::user_unknown, {550, "5.1.1", "<{}>: Recipient address rejected: User unknown", ""}},
    {Reply::message_too_big, {552, "5.3.4", "Message size exceeds fixed maximum message size", ""}},
    {Reply::mailbox_full_permanent, {552, "5.2.2", "<{}>: Mailbox full", ""}},
    {Reply::non_ascii_address,
     {553, "5.6.7", "Non-ASCII address requires SMTPUTF8",
      "an address with non-ASCII characters needs the SMTPUTF8 parameter on MAIL (RFC 6531 3.4)"}},
    {Reply::relay_denied,
     {554, "5.7.1", "<{}>: Relay access denied",
      "mail for a domain that is not local is accepted only from an authenticated client: "
      "log in with AUTH first, or send to a local domain"}},
    {Reply::no_valid_recipients, {554, "5.5.1", "No valid recipients", ""}},
    {Reply::tls_already_active, {554, "5.5.1", "TLS already active", ""}},
    // hint = true on an implicit-TLS listener: the text is the server's advice.
    {Reply::plaintext_refused, {554, "5.7.0", "{}", ""}},
    {Reply::bare_line_ending,
     {554, "5.6.0", "Message contains bare CR or LF: lines must end with CRLF",
      "the message content had a CR or LF that was not part of a CRLF pair; SMTP requires CRLF "
      "line ends (RFC 5321 2.3.8), and accepting others would allow SMTP smuggling"}},
    {Reply::unsupported_parameter, {555, "5.5.4", "Unsupported parameter {}", ""}},
};

constexpr bool rows_in_order() {
  for (std::size_t i = 0; i < std::size(kRows); ++i)
    if (static_cast<std::size_t>(kRows[i].id) != i) return false;
  return static_cast<std::size_t>(Reply::unsupported_parameter) + 1 == std::size(kRows);
}
static_assert(rows_in_order(), "kRows must list every Reply once, in declaration order");

// Appends `text` with each "{}" replaced by the next of `args` (missing ones become empty).
void substitute(std::string& out, std::string_view text,
                std::initializer_list<std::string_view>::iterator& arg,
                std::initializer_list<std::string_view>::iterator args_end) {
  for (;;) {
    const auto mark = text.find("{}");
    if (mark == std::string_view::npos) break;
    out.append(text.substr(0, mark));
    if (arg != args_end) out.append(*arg++);
    text.remove_prefix(mark + 2);
  }
  out.append(text);
}

void append_code(std::string& out, std::uint16_t code, char separator) {
  out += static_cast<char>('0' + code / 100);
  out += static_cast<char>('0' + code / 10 % 10);
  out += static_cast<char>('0' + code % 10);
  out += separator;
}

}  // namespace

const ReplySpec& reply_spec(Reply reply) { return kRows[static_cast<std::size_t>(reply)].spec; }

void append_reply(std::string& out, Reply reply, std::initializer_list<std::string_view> args,
                  std::span<const std::string> more_lines) {
  const auto& spec = reply_spec(reply);
  const auto begin_line = [&](bool last) {
    append_code(out, spec.code, last ? ' ' : '-');
    if (!spec.enhanced.empty()) {
      out.append(spec.enhanced);
      out += ' ';
    }
  };
  auto arg = args.begin();
  std::string_view text = spec.text;
  for (;;) {
    const auto end = text.find('\n');
    const bool last_of_text = end == std::string_view::npos;
    begin_line(last_of_text && more_lines.empty());
    substitute(out, text.substr(0, end), arg, args.end());
    out.append("\r\n");
    if (last_of_text) break;
    text.remove_prefix(end + 1);
  }
  for (std::size_t i = 0; i < more_lines.size(); ++i) {
    begin_line(i + 1 == more_lines.size());
    out.append(more_lines[i]);
    out.append("\r\n");
  }
}

}  // namespace sevenport::smtp
