// Scenario overlays: a scenario file (scenarios/NAME.toml) is a few keys applied over the base
// config, plus a [scenario] table that says what it shows.
#include <string>
#include <utility>

#include "config/loader_parts.hpp"

namespace sevenport::config::detail {

void merge_overlay(toml::table& base, toml::table& overlay) {
  for (auto&& [key, value] : overlay) {
    toml::node* existing = base.get(key.str());
    if (existing != nullptr && existing->is_table() && value.is_table()) {
      merge_overlay(*existing->as_table(), *value.as_table());
      continue;
    }
    // Erase first, so that the key (and its position, for "unknown key") is the overlay's too.
    if (existing != nullptr) base.erase(key.str());
    // Moving keeps the node's source region; a copy would lose it.
    base.insert(key, std::move(value));
  }
}

void read_scenario(std::string_view source, const toml::table& table, ScenarioInfo& info) {
  const TableReader reader(source, table, "scenario",
                           {"summary", "explanation", "try", "curl_error", "python_error"});
  info.summary = reader.required(reader.string("summary"), "summary");
  // It is shown as one line in listings and in the banner.
  if (info.summary.find_first_of("\r\n") != std::string::npos)
    reader.fail_at("summary", "must be one line");
  info.explanation = reader.string("explanation").value_or("");
  info.try_commands.clear();
  if (const toml::array* commands = reader.array("try")) {
    for (std::size_t i = 0; i < commands->size(); ++i) {
      const toml::node& node = *commands->get(i);
      const auto* text = node.as_string();
      if (text == nullptr || text->get().empty()) {
        throw ConfigError(format_error(
            source, node.source(), reader.key_path("try") + "[" + std::to_string(i) + "]",
            "expected a command (a non-empty string), got " + describe(node)));
      }
      info.try_commands.push_back(text->get());
    }
  }
  info.curl_error = reader.string("curl_error").value_or("");
  info.python_error = reader.string("python_error").value_or("");
}

}  // namespace sevenport::config::detail
