// The built-in configuration. It doubles as the user's reference (sevenport
// --print-default-config prints it), so its comments document every key; tests load it, so it
// can never drift from what the loader accepts.
#include "config/config.hpp"

namespace sevenport::config {

namespace {

constexpr std::string_view default_toml = R"toml(# sevenport configuration
#
# This is the built-in default: sevenport runs with exactly this when started without
# --config. To change it, save it (sevenport --print-default-config > sevenport.toml), edit,
# and start with --config sevenport.toml. A key left out takes the default given in its
# comment; an unknown key is an error, so a typo cannot pass unnoticed.

# The name the server gives itself in greetings (SMTP 220 and EHLO, IMAP and POP3 banners) and
# puts in the certificate it generates.
hostname = "localhost"

# Domains this server receives mail for: on an "mx" listener anyone may send to addresses in
# these domains, without logging in. Compared without regard to case. Default: none.
local_domains = ["localhost", "example.test"]

# Most connections open at once over all listeners; further ones are turned away.
# 1 to 1000000.
max_connections = 1000

# Session log format on stderr: "text" to read, "json" (one object per line) for tools.
log_format = "text"

# Where the generated CA and server certificate are kept (the directory is created with mode
# 0700; the keys in it are 0600).
# Default: $XDG_STATE_HOME/sevenport, or ~/.local/state/sevenport.
# state_dir = "/var/lib/sevenport"

[tls]
# Your own certificate (PEM, may hold the whole chain) and its private key (PEM). Set both or
# neither. With neither, sevenport creates a local CA in state_dir on first run and issues a
# certificate for hostname, localhost, 127.0.0.1 and ::1: make your client trust
# <state_dir>/ca.pem and every listener verifies.
# cert_file = "/etc/ssl/certs/mail.example.test.pem"
# key_file = "/etc/ssl/private/mail.example.test.key"

# Oldest TLS version accepted: "1.2" or "1.3".
min_version = "1.2"

[http]
# The web UI and the JSON API (messages, sessions, users; see docs/API.md), served over plain
# HTTP: open http://127.0.0.1:8025/ in a browser. The port moves with --port-offset like the
# mail ports do.
#
# false: no web UI and no API.
enabled = true
# IP address to listen on. Default "127.0.0.1": this machine only. The API reads every message
# and manages users, so set a token before listening on an address others can reach.
address = "127.0.0.1"
# TCP port, 0 to 65535 (0: the system picks one). Default 8025.
port = 8025
# With a token, every /api/ request must carry "Authorization: Bearer TOKEN" (or
# ?access_token=TOKEN, for clients that cannot set headers); the web UI asks for it once.
# Visible ASCII without spaces. Default: none, no token needed.
# token = "change-me"
# Largest request body in octets (1024 to 268435456); larger requests are refused with 413.
# Default 1 MiB.
# max_request_size = 1048576

[limits]
# Global overrides of the per-protocol defaults. Each key can also be set in a listener's own
# table, which wins over this one.
#
# Seconds without a command before the connection is closed (1 to 86400).
# Defaults: SMTP 300 (RFC 5321), POP3 600 (RFC 1939), IMAP 1800 (RFC 3501).
# idle_timeout_seconds = 300
#
# Longest command line in octets, CRLF included (128 to 1048576). Longer lines are refused
# and the session goes on. Defaults: SMTP and POP3 1000, IMAP 65536.
# max_line_length = 1000
#
# Largest message in octets: SMTP SIZE, IMAP APPEND (1024 to 1073741824). Default 25 MiB.
# max_message_size = 26214400
#
# Recipients per SMTP message (1 to 100000). Default 100.
# max_recipients = 100
#
# Bad commands in a row before the server says goodbye and closes (1 to 10000). Default 20.
# max_bad_commands = 20

# Users: each can log in (SMTP AUTH, IMAP LOGIN, POP3 USER/PASS) with its address or, when no
# other user shares it, the part before the '@'; each has a mailbox that receives mail for its
# address. Passwords are plain text: this is a test server, use made-up ones. Addresses must be
# unique, ignoring case.
#
# Besides address and password (both required), a user can behave like an account at a real
# provider (docs/BEHAVIOURS.md). A login is refused for these reasons only when the password was
# right, so a guesser learns nothing. All are off by default.
#   app_password       Another password, which then is the only one that logs in: the main
#                      password gets "application-specific password required". Must differ
#                      from password.
#   imap_enabled       false: IMAP logins refused ("IMAP access is disabled"). Default true.
#   pop3_enabled       false: POP3 logins refused ("POP3 access is disabled"). Default true.
#   locked             true: every login refused, the account is locked. Default false.
#   password_expired   true: every login refused, the password must be changed. Default false.
#   mailbox_full       Mail for this user is refused at RCPT: "temporary" (452 4.2.2, the
#                      sender retries) or "permanent" (552 5.2.2, the sender bounces).

[[users]]
address = "alice@example.test"
password = "alice-password"

[[users]]
address = "bob@example.test"
password = "bob-password"

# Listeners: one table each, [listeners.NAME], NAME made of letters, digits, '-' and '_'.
# They start in the order written here.
#
#   protocol           "smtp", "imap" or "pop3". Required.
#   port               TCP port, 0 to 65535; 0 lets the system pick a free one. Required.
#                      Ports under 1024 need root (or CAP_NET_BIND_SERVICE); sevenport
#                      --port-offset N moves every port up by N instead.
#   security           Required. "none": plaintext only. "starttls": plaintext, then TLS
#                      after STARTTLS (SMTP, IMAP) or STLS (POP3). "implicit": TLS from the
#                      first byte.
#   address            IP address to listen on. Default "127.0.0.1" (this machine only);
#                      "::1" for IPv6, "0.0.0.0" or "::" for every interface.
#   enabled            false keeps the table but does not listen. Default true.
#   role               SMTP only. "mx": takes mail for local_domains from anyone.
#                      "submission": clients log in, then send mail to any address; it is
#                      kept here, never relayed. Default "mx".
#   auth               Whether login is offered: "off" or "optional", and for SMTP also
#                      "required" (no mail accepted before AUTH). Default "required" for SMTP
#                      submission, "optional" otherwise.
#   auth_requires_tls  Offer login only once TLS is up, so no password crosses the network in
#                      clear (IMAP then announces LOGINDISABLED). Default true.
#   tls_certificate    The generated certificate this listener serves: "valid" (default), or
#                      one deliberately broken so that a client can be seen refusing it:
#                      "self-signed", "expired", "not-yet-valid", "wrong-host",
#                      "untrusted-ca", "incomplete-chain", "weak-rsa1024", "weak-sha1".
#                      Not with [tls] cert_file. The CA to trust stays <state_dir>/ca.pem.
#   tls_key            The generated certificate's key: "ecdsa-p256" (default) or "rsa-2048".
#   tls_min_version    Oldest TLS version accepted: "1.0", "1.1", "1.2" or "1.3". Default:
#                      [tls] min_version. "1.0" and "1.1" lower OpenSSL's security level to 0
#                      for this listener; an OpenSSL built without them fails the handshake.
#   tls_max_version    Newest TLS version accepted, the same values. Default "1.3".
#   tls_ciphers        TLS 1.2 and older cipher list, OpenSSL syntax. Default: OpenSSL's.
#   tls_ciphersuites   TLS 1.3 cipher suites, OpenSSL syntax. Default: OpenSSL's.
#   and any key of [limits], for this listener alone.
#
# Deliberate behaviours, so that a client can be seen handling them (docs/BEHAVIOURS.md; the
# scenarios/ files switch them on for you). All off by default:
#   starttls_fault     security = "starttls" only. "none" (default); "not-advertised" (not
#                      offered, the command refused as unknown); "refused" (offered, then a
#                      temporary error); "abort-handshake" (the TLS handshake fails with an
#                      alert); "inject-response" (a forged plaintext reply follows the OK, which
#                      a correct client discards).
#   greeting           "normal" (default); "silent" (never greets: the client times out);
#                      "close" (closes at once); "unavailable" (a "service not available"
#                      greeting, then closes).
#   greeting_delay_ms  Wait before the greeting, 0 to 600000 ms. Default 0.
#   command_delay_ms   Wait before each reply, 0 to 600000 ms. Default 0.
#   drop_after_commands  Answer this many commands, then close without a word at the next
#                      one (0 to 1000000). Default 0: never.
#   hint               security = "implicit" only. true: a client that speaks plaintext (or
#                      waits for a plaintext greeting) gets one plaintext error saying the port
#                      expects TLS, instead of a bare close. Default false.
#   reject_unknown_users  SMTP only. true: mail for a local domain is refused (550 5.1.1) for
#                      addresses that are not users. Default false: taken for any address.
#   greylist_seconds   SMTP only. Refuse (451 4.7.1) each new client IP and recipient pair
#                      until this many seconds after its first try (0 to 86400). Default 0: off.
#   rate_limit_messages  SMTP only. More messages than this from one client IP within
#                      rate_limit_window_seconds are refused (421 4.7.0), 0 to 1000000.
#                      Default 0: off.
#   rate_limit_window_seconds  SMTP only. 1 to 86400. Default 60.

# SMTP, port 25: mail from other servers (and anyone) to local_domains.
[listeners.smtp]
protocol = "smtp"
port = 25
security = "starttls"
role = "mx"

# Message submission (RFC 6409): mail clients log in, then send.
[listeners.submission]
protocol = "smtp"
port = 587
security = "starttls"
role = "submission"

# Message submission over implicit TLS (RFC 8314).
[listeners.submissions]
protocol = "smtp"
port = 465
security = "implicit"
role = "submission"

[listeners.imap]
protocol = "imap"
port = 143
security = "starttls"

# IMAP over implicit TLS (RFC 8314).
[listeners.imaps]
protocol = "imap"
port = 993
security = "implicit"

[listeners.pop3]
protocol = "pop3"
port = 110
security = "starttls"

# POP3 over implicit TLS (RFC 8314).
[listeners.pop3s]
protocol = "pop3"
port = 995
security = "implicit"
)toml";

}  // namespace

std::string_view default_config_toml() { return default_toml; }

}  // namespace sevenport::config
