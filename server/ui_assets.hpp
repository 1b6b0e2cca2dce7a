// The web UI's files (ui/), built into the binary by cmake/embed_assets.cmake.
#pragma once

#include <span>
#include <string_view>

namespace sevenport::server {

struct UiAsset {
  std::string_view path;          // "/index.html", "/app.js", ...
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view bytes;
};

std::span<const UiAsset> ui_assets();

// The asset at `path` ("/" means "/index.html"), or nullptr.
inline const UiAsset* find_ui_asset(std::string_view path) {
  if (path == "/" || path.empty()) path = "/index.html";
  for (const auto& asset : ui_assets())
    if (asset.path == path) return &asset;
  return nullptr;
}

}  // namespace sevenport::server
