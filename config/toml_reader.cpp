#include "config/toml_reader.hpp"

#include <algorithm>
#include <sstream>

namespace sevenport::config::detail {

namespace {

bool is_bare_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

// A TOML-like quoted string, safe for a terminal or a log: control and non-ASCII bytes become
// \xNN, and anything past 80 characters is cut.
std::string quote_value(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 80) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out + "\"";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The allowed key a typo most likely meant: a prefix ("prot") or a near miss ("protcol").
std::string_view suggestion(std::string_view key, const std::vector<std::string_view>& allowed) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (const auto candidate : allowed) {
    if (key.size() >= 3 && candidate.substr(0, key.size()) == key) return candidate;
    const std::size_t distance = edit_distance(key, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace

std::string_view origin(std::string_view fallback, const toml::source_region& where) {
  return where.path && !where.path->empty() ? std::string_view(*where.path) : fallback;
}

std::string format_error(std::string_view fallback, const toml::source_region& where,
                         std::string_view key, std::string_view what) {
  std::string message(origin(fallback, where));
  message +=
      ':' + std::to_string(where.begin.line) + ':' + std::to_string(where.begin.column) + ": ";
  if (!key.empty()) message.append(key).append(": ");
  return message.append(what);
}

bool comes_before(std::string_view first, const toml::source_region& a,
                  const toml::source_region& b) {
  const bool a_later = origin(first, a) != first;
  const bool b_later = origin(first, b) != first;
  if (a_later != b_later) return b_later;
  if (a.begin.line != b.begin.line) return a.begin.line < b.begin.line;
  return a.begin.column < b.begin.column;
}

std::string join_key(std::string_view parent, std::string_view key) {
  std::string joined(parent);
  if (!joined.empty()) joined += '.';
  return joined + (is_bare_key(key) ? std::string(key) : quote_value(key));
}

std::string describe(const toml::node& node) {
  if (const auto* text = node.as_string()) return quote_value(text->get());
  if (node.is_table()) return "a table";
  if (node.is_array()) return "an array";
  std::ostringstream out;
  node.visit([&out](const auto& value) {
    if constexpr (toml::is_value<decltype(value)>) out << value;
  });
  return out.str();
}

std::vector<Entry> in_file_order(std::string_view first, const toml::table& table) {
  std::vector<Entry> entries;
  for (const auto& [key, value] : table) entries.push_back({&key, &value});
  // By the value's position: for [a.b] headers that is the header line, which is the order a
  // reader of the file sees. Column breaks ties within one inline table.
  std::stable_sort(entries.begin(), entries.end(), [first](const Entry& a, const Entry& b) {
    return comes_before(first, a.value->source(), b.value->source());
  });
  return entries;
}

TableReader::TableReader(std::string_view source, const toml::table& table, std::string path,
                         const std::vector<std::string_view>& allowed)
    : source_(source), table_(table), path_(std::move(path)) {
  const toml::key* unknown = nullptr;
  for (const auto& [key, value] : table_) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
    if (unknown == nullptr || comes_before(source_, key.source(), unknown->source()))
      unknown = &key;
  }
  if (unknown == nullptr) return;
  std::string what = "unknown key";
  if (const auto hint = suggestion(unknown->str(), allowed); !hint.empty())
    what += " (did you mean " + std::string(hint) + "?)";
  throw ConfigError(format_error(source_, unknown->source(), key_path(unknown->str()), what));
}

void TableReader::fail_at(std::string_view key, std::string_view what) const {
  const toml::node* node = find(key);
  const auto& where = node != nullptr ? node->source() : table_.source();
  throw ConfigError(format_error(source_, where, key_path(key), what));
}

void TableReader::fail_table(std::string_view key, std::string_view what) const {
  throw ConfigError(format_error(source_, table_.source(), key_path(key), what));
}

std::optional<std::string> TableReader::string(std::string_view key) const {
  const toml::node* node = find(key);
  if (node == nullptr) return std::nullopt;
  const auto* text = node->as_string();
  if (text == nullptr) fail_at(key, "expected a string, got " + describe(*node));
  if (text->get().empty()) fail_at(key, "must not be empty");
  return text->get();
}

std::optional<bool> TableReader::boolean(std::string_view key) const {
  const toml::node* node = find(key);
  if (node == nullptr) return std::nullopt;
  const auto* flag = node->as_boolean();
  if (flag == nullptr) fail_at(key, "expected true or false, got " + describe(*node));
  return flag->get();
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t min,
                                                 std::int64_t max) const {
  const toml::node* node = find(key);
  if (node == nullptr) return std::nullopt;
  const auto* number = node->as_integer();
  if (number == nullptr || number->get() < min || number->get() > max) {
    fail_at(key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                     ", got " + describe(*node));
  }
  return number->get();
}

const toml::table* TableReader::subtable(std::string_view key) const {
  const toml::node* node = find(key);
  if (node == nullptr) return nullptr;
  const auto* table = node->as_table();
  if (table == nullptr) fail_at(key, "expected a table, got " + describe(*node));
  return table;
}

const toml::array* TableReader::array(std::string_view key) const {
  const toml::node* node = find(key);
  if (node == nullptr) return nullptr;
  const auto* list = node->as_array();
  if (list == nullptr) fail_at(key, "expected an array, got " + describe(*node));
  return list;
}

}  // namespace sevenport::config::detail
