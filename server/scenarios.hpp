// The ready-made scenarios (scenarios/*.toml), built into the binary by
// cmake/embed_scenarios.cmake: each is a TOML overlay that `sevenport --scenario NAME` applies over
// the base config (config::load_with_overlay) to reproduce one symptom users meet. Nothing is read
// from disk at run time.
#pragma once

#include <span>
#include <string_view>

namespace sevenport::server {

struct ScenarioFile {
  std::string_view name;  // the file's stem: "greylisting", "cert-expired", ...
  std::string_view toml;  // the file's text: the overlay and its [scenario] table
};

// Every scenario, sorted by name.
std::span<const ScenarioFile> scenario_files();

// The scenario called `name`, or nullptr.
inline const ScenarioFile* find_scenario(std::string_view name) {
  for (const auto& file : scenario_files())
    if (file.name == name) return &file;
  return nullptr;
}

}  // namespace sevenport::server
