// A listener's deliberate behaviours (docs/BEHAVIOURS.md): STARTTLS faults, greeting and reply
// timing, dropped connections, the implicit-TLS hint, and the SMTP provider-style answers.
#include <string>

#include "config/loader_parts.hpp"

namespace sevenport::config::detail {

namespace {

const std::vector<std::string_view> smtp_only_keys = {
    "reject_unknown_users", "greylist_seconds", "rate_limit_messages", "rate_limit_window_seconds"};

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::uint32_t to_u32(std::int64_t value) { return static_cast<std::uint32_t>(value); }

}  // namespace

const std::vector<std::string_view>& behaviour_keys() {
  static const std::vector<std::string_view> keys = [] {
    std::vector<std::string_view> all = {"starttls_fault",      "greeting",
                                         "greeting_delay_ms",   "command_delay_ms",
                                         "drop_after_commands", "hint"};
    all.insert(all.end(), smtp_only_keys.begin(), smtp_only_keys.end());
    return all;
  }();
  return keys;
}

ListenerBehaviour read_listener_behaviour(const TableReader& reader, Protocol protocol,
                                          Security security) {
  // A fault that can never happen would make a test pass for the wrong reason: keys that cannot
  // apply to this listener are errors, as tls_* keys are on a plaintext one.
  if (reader.has("starttls_fault") && security != Security::starttls) {
    reader.fail_at("starttls_fault",
                   "only listeners with security = \"starttls\" offer STARTTLS; this one's "
                   "security is " +
                       quoted(to_string(security)));
  }
  if (reader.has("hint") && security != Security::implicit) {
    reader.fail_at("hint",
                   "only listeners with security = \"implicit\" give the hint (to a client that "
                   "speaks plaintext to them); this one's security is " +
                       quoted(to_string(security)));
  }
  if (protocol != Protocol::smtp) {
    for (const auto key : smtp_only_keys) {
      if (reader.has(key)) {
        reader.fail_at(key, "only smtp listeners take this key; this one is " +
                                std::string(to_string(protocol)));
      }
    }
  }

  ListenerBehaviour behaviour;
  behaviour.starttls_fault =
      reader
          .one_of<StartTlsFault>("starttls_fault",
                                 {{"none", StartTlsFault::none},
                                  {"not-advertised", StartTlsFault::not_advertised},
                                  {"refused", StartTlsFault::refused},
                                  {"abort-handshake", StartTlsFault::abort_handshake},
                                  {"inject-response", StartTlsFault::inject_response}})
          .value_or(StartTlsFault::none);
  behaviour.greeting = reader
                           .one_of<Greeting>("greeting", {{"normal", Greeting::normal},
                                                          {"silent", Greeting::silent},
                                                          {"close", Greeting::close},
                                                          {"unavailable", Greeting::unavailable}})
                           .value_or(Greeting::normal);
  // Ten minutes outlasts every client's timeout; longer would only pin connections.
  if (auto ms = reader.integer("greeting_delay_ms", 0, 600000))
    behaviour.greeting_delay_ms = to_u32(*ms);
  if (auto ms = reader.integer("command_delay_ms", 0, 600000))
    behaviour.command_delay_ms = to_u32(*ms);
  if (auto count = reader.integer("drop_after_commands", 0, 1000000))
    behaviour.drop_after_commands = to_u32(*count);
  behaviour.hint = reader.boolean("hint").value_or(false);

  behaviour.reject_unknown_users = reader.boolean("reject_unknown_users").value_or(false);
  if (auto seconds = reader.integer("greylist_seconds", 0, 86400))
    behaviour.greylist_seconds = to_u32(*seconds);
  if (auto count = reader.integer("rate_limit_messages", 0, 1000000))
    behaviour.rate_limit_messages = to_u32(*count);
  if (auto seconds = reader.integer("rate_limit_window_seconds", 1, 86400))
    behaviour.rate_limit_window_seconds = to_u32(*seconds);
  return behaviour;
}

}  // namespace sevenport::config::detail
