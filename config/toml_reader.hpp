// Typed, position-aware reading of one toml++ table, for config/ only: each accessor checks the
// value's type and range and throws ConfigError "source:line:column: dotted.key: problem"
// pointing at the offending value, so that the schema code reads as a list of keys. A table may
// hold nodes from two documents (a base config and a scenario overlaid on it): each message names
// the document its node came from.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace sevenport::config::detail {

// The name of the document a node came from: the path toml++ recorded when parsing it, or
// `fallback` for a node without one.
std::string_view origin(std::string_view fallback, const toml::source_region& where);

// "source:line:column: key: what" (or "source:line:column: what" when key is empty), where
// source is origin(fallback, where).
std::string format_error(std::string_view fallback, const toml::source_region& where,
                         std::string_view key, std::string_view what);

// Document order across two documents: nodes of `first` (the base config) before nodes of any
// other (the overlay), then by line and column.
bool comes_before(std::string_view first, const toml::source_region& a,
                  const toml::source_region& b);

// `parent.key`, with the key quoted as TOML would if it is not a bare key.
std::string join_key(std::string_view parent, std::string_view key);

// A value for messages: strings quoted and sanitised, numbers and booleans as written in TOML,
// tables and arrays by kind.
std::string describe(const toml::node& node);

struct Entry {
  const toml::key* key;
  const toml::node* value;
};
// A table's entries in the order the file lists them (toml++ keeps them sorted by key); with an
// overlay, the base document's entries first (see comes_before).
std::vector<Entry> in_file_order(std::string_view first, const toml::table& table);

template <typename E>
struct Choice {
  std::string_view name;
  E value;
};

class TableReader {
 public:
  // Throws at the first key, in file order, that is not in `allowed`: a typo must not pass as
  // "key absent, default used". `source` names the base document: it orders nodes (see
  // comes_before) and names those toml++ recorded no path for.
  TableReader(std::string_view source, const toml::table& table, std::string path,
              const std::vector<std::string_view>& allowed);

  const std::string& path() const { return path_; }
  const toml::table& table() const { return table_; }
  std::string key_path(std::string_view key) const { return join_key(path_, key); }
  const toml::node* find(std::string_view key) const { return table_.get(key); }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  std::string_view source() const { return source_; }

  // Throws at the value of `key` (which must exist) / at the table itself, naming `key`.
  [[noreturn]] void fail_at(std::string_view key, std::string_view what) const;
  [[noreturn]] void fail_table(std::string_view key, std::string_view what) const;

  // Each returns nullopt when the key is absent and throws when it has the wrong type or value.
  std::optional<std::string> string(std::string_view key) const;  // also rejects ""
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min,
                                      std::int64_t max) const;
  const toml::table* subtable(std::string_view key) const;
  const toml::array* array(std::string_view key) const;

  template <typename E>
  std::optional<E> one_of(std::string_view key, std::initializer_list<Choice<E>> choices) const {
    const toml::node* node = find(key);
    if (node == nullptr) return std::nullopt;
    if (const auto* text = node->as_string()) {
      for (const auto& choice : choices) {
        if (text->get() == choice.name) return choice.value;
      }
    }
    std::string names;
    for (const auto& choice : choices)
      names += (names.empty() ? "" : ", ") + std::string(choice.name);
    fail_at(key, "expected one of " + names + ", got " + describe(*node));
  }

  // The key's value, which must be present.
  template <typename T>
  T required(std::optional<T> value, std::string_view key) const {
    if (!value) fail_table(key, "missing required key");
    return *std::move(value);
  }

 private:
  std::string_view source_;
  const toml::table& table_;
  std::string path_;
};

}  // namespace sevenport::config::detail
