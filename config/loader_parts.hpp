// Parts of the config loader kept in files of their own, for config/ only: a listener's
// deliberate behaviours (behaviour.cpp) and scenario overlays (overlay.cpp). config.cpp reads
// everything else and ties the parts together.
#pragma once

#include <toml++/toml.h>

#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/toml_reader.hpp"

namespace sevenport::config::detail {

// The listener keys of docs/BEHAVIOURS.md that read_listener_behaviour reads.
const std::vector<std::string_view>& behaviour_keys();

// Reads a listener's behaviour keys. `protocol` and `security` are the listener's: a key that
// cannot apply to them (starttls_fault without STARTTLS, hint without implicit TLS, an SMTP key
// elsewhere) is an error rather than silently ignored. Throws ConfigError.
ListenerBehaviour read_listener_behaviour(const TableReader& reader, Protocol protocol,
                                          Security security);

// Applies `overlay` over `base`: where both have a table under a key, the tables merge key by key;
// otherwise the overlay's node (an array such as [[users]] included) replaces the base's. Nodes
// are moved out of `overlay`, so they keep their source region: an error names the file they
// came from.
void merge_overlay(toml::table& base, toml::table& overlay);

// Reads a scenario file's [scenario] table (docs/SCENARIOS.md). `source` names the file. Leaves
// info.name alone. Throws ConfigError.
void read_scenario(std::string_view source, const toml::table& table, ScenarioInfo& info);

}  // namespace sevenport::config::detail
