#include "protocols/imap/imap_mime.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <tuple>

#include "protocols/common/text.hpp"
#include "protocols/imap/gmime_support.hpp"
#include "protocols/imap/imap_format.hpp"

namespace sevenport::imap {

namespace {

using mime::GRef;

std::string upper(std::string_view s) {
  std::string u(s);
  for (auto& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

std::size_t line_count(std::string_view body) {
  std::size_t lines = 0;
  for (const char c : body) lines += c == '\n';
  if (!body.empty() && body.back() != '\n') ++lines;
  return lines;
}

// RFC 2046 5.1.1: a delimiter line is "--boundary" (closing: "--boundary--"), optionally followed
// by whitespace; the CRLF before it belongs to the delimiter, not to the part.
std::vector<std::string_view> split_multipart(std::string_view body, std::string_view boundary) {
  std::vector<std::string_view> parts;
  const std::string delimiter = "--" + std::string(boundary);
  std::size_t pos = 0;
  std::size_t part_start = std::string_view::npos;
  while (pos < body.size()) {
    const auto lf = body.find('\n', pos);
    const auto line_end = lf == std::string_view::npos ? body.size() : lf + 1;
    auto line = body.substr(pos, line_end - pos);
    if (line.starts_with(delimiter)) {
      auto rest = line.substr(delimiter.size());
      const bool closing = rest.starts_with("--");
      if (closing) rest.remove_prefix(2);
      if (rest.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        if (part_start != std::string_view::npos) {
          auto end = pos;
          if (end > part_start && body[end - 1] == '\n') --end;
          if (end > part_start && body[end - 1] == '\r') --end;
          parts.push_back(body.substr(part_start, end - part_start));
        }
        part_start = std::string_view::npos;
        if (closing) return parts;
        part_start = line_end;
      }
    }
    pos = line_end;
  }
  if (part_start != std::string_view::npos) parts.push_back(body.substr(part_start));
  return parts;
}

void append_params(std::string& out, GMimeParamList* params, bool default_charset) {
  const int n = params ? g_mime_param_list_length(params) : 0;
  if (n == 0) {
    out += default_charset ? "(\"CHARSET\" \"US-ASCII\")" : "NIL";
    return;
  }
  out += '(';
  for (int i = 0; i < n; ++i) {
    GMimeParam* param = g_mime_param_list_get_parameter_at(params, i);
    if (i) out += ' ';
    append_string(out, upper(g_mime_param_get_name(param)));
    out += ' ';
    const char* value = g_mime_param_get_value(param);
    append_string(out, value ? value : "");
  }
  out += ')';
}

std::optional<std::string_view> view(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return std::string_view(*s);
}

// body-fld-dsp SP body-fld-lang SP body-fld-loc (RFC 3501 9).
void append_disposition_language_location(std::string& out, GMimeObject* object,
                                          std::string_view header) {
  GMimeContentDisposition* disposition =
      object ? g_mime_object_get_content_disposition(object) : nullptr;
  if (disposition && g_mime_content_disposition_get_disposition(disposition)) {
    out += '(';
    append_string(out, upper(g_mime_content_disposition_get_disposition(disposition)));
    out += ' ';
    append_params(out, g_mime_content_disposition_get_parameters(disposition), false);
    out += ')';
  } else {
    out += "NIL";
  }
  out += ' ';
  append_nstring(out, view(header_value(header, "Content-Language")));
  out += ' ';
  append_nstring(out, view(header_value(header, "Content-Location")));
}

// RFC 3501 7.4.2 wants the header's own text in ENVELOPE, encoded words and all, but GMime
// decodes RFC 2047 words in display names. Hiding "=?" behind a marker GMime does not know keeps
// them as plain atoms through its address parser.
constexpr std::string_view kEncodedWordMarker = "=_sevenport-ew_?";

std::string hide_encoded_words(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '=' && i + 1 < value.size() && value[i + 1] == '?') {
      out += kEncodedWordMarker;
      ++i;
    } else {
      out += value[i];
    }
  }
  return out;
}

std::string restore_encoded_words(std::string_view value) {
  std::string out;
  for (std::size_t at; (at = value.find(kEncodedWordMarker)) != std::string_view::npos;) {
    out.append(value.substr(0, at));
    out += "=?";
    value.remove_prefix(at + kEncodedWordMarker.size());
  }
  out.append(value);
  return out;
}

void append_address_list(std::string& out, InternetAddressList* list) {
  const int n = list ? internet_address_list_length(list) : 0;
  if (n == 0) {
    out += "NIL";
    return;
  }
  out += '(';
  for (int i = 0; i < n; ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(address)) {
      // RFC 3501 7.4.2: a group is a start marker with the group name as mailbox, its members,
      // then an end marker of four NILs.
      out += "(NIL NIL ";
      const char* group = internet_address_get_name(address);
      append_string(out, restore_encoded_words(group ? group : ""));
      out += " NIL)";
      InternetAddressList* members =
          internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address));
      const int m = members ? internet_address_list_length(members) : 0;
      for (int j = 0; j < m; ++j) {
        InternetAddressList* one = internet_address_list_new();
        internet_address_list_add(one, internet_address_list_get_address(members, j));
        std::string member;
        append_address_list(member, one);
        g_object_unref(one);
        out += member.substr(1, member.size() - 2);  // without the list's own parentheses
      }
      out += "(NIL NIL NIL NIL)";
      continue;
    }
    out += '(';
    const char* name = internet_address_get_name(address);
    if (name && *name) {
      append_string(out, restore_encoded_words(name));
    } else {
      out += "NIL";
    }
    out += " NIL ";
    const char* addr = INTERNET_ADDRESS_IS_MAILBOX(address)
                           ? internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address))
                           : nullptr;
    std::string_view a = addr ? addr : "";
    const auto at = a.rfind('@');
    if (at == std::string_view::npos) {
      append_string(out, a);
      out += " NIL";
    } else {
      append_string(out, a.substr(0, at));
      out += ' ';
      append_string(out, a.substr(at + 1));
    }
    out += ')';
  }
  out += ')';
}

std::string envelope(std::string_view header) {
  std::string out = "(";
  append_nstring(out, view(header_value(header, "Date")));
  out += ' ';
  append_nstring(out, view(header_value(header, "Subject")));
  // Each list parsed from the raw header value, so that names keep their encoded words.
  std::vector<InternetAddressList*> lists;
  for (const auto* field : {"From", "Sender", "Reply-To", "To", "Cc", "Bcc"}) {
    const auto value = header_value(header, field);
    lists.push_back(value ? internet_address_list_parse(nullptr, hide_encoded_words(*value).c_str())
                          : nullptr);
  }
  // RFC 3501 7.4.2: sender and reply-to default to from.
  auto empty = [](InternetAddressList* l) { return !l || internet_address_list_length(l) == 0; };
  for (std::size_t i = 0; i < lists.size(); ++i) {
    out += ' ';
    append_address_list(out, (i == 1 || i == 2) && empty(lists[i]) ? lists[0] : lists[i]);
  }
  for (auto* list : lists)
    if (list) g_object_unref(list);
  out += ' ';
  append_nstring(out, view(header_value(header, "In-Reply-To")));
  out += ' ';
  append_nstring(out, view(header_value(header, "Message-ID")));
  out += ')';
  return out;
}

// Fills part.parts / part.message and appends BODY (`basic`) and BODYSTRUCTURE (`full`).
void describe(GMimeObject* object, BodyPart& part, std::string& basic, std::string& full,
              int depth) {
  GMimeContentType* type = object ? g_mime_object_get_content_type(object) : nullptr;
  const std::string media = upper(type && g_mime_content_type_get_media_type(type)
                                      ? g_mime_content_type_get_media_type(type)
                                      : "text");
  const std::string subtype = upper(type && g_mime_content_type_get_media_subtype(type)
                                        ? g_mime_content_type_get_media_subtype(type)
                                        : "plain");
  GMimeParamList* params = type ? g_mime_content_type_get_parameters(type) : nullptr;

  if (object && GMIME_IS_MULTIPART(object) && depth < 32) {
    part.multipart = true;
    auto* multipart = GMIME_MULTIPART(object);
    const char* boundary = g_mime_multipart_get_boundary(multipart);
    const auto slices = split_multipart(part.body, boundary ? boundary : "");
    const int count = g_mime_multipart_get_count(multipart);
    basic += '(';
    full += '(';
    for (int i = 0; i < count; ++i) {
      BodyPart child;
      if (static_cast<std::size_t>(i) < slices.size()) {
        std::tie(child.header, child.body) = split_entity(slices[static_cast<std::size_t>(i)]);
      }
      describe(g_mime_multipart_get_part(multipart, i), child, basic, full, depth + 1);
      part.parts.push_back(std::move(child));
    }
    if (count == 0) {
      // RFC 3501 requires at least one body; an empty multipart shows as an empty text part.
      basic += "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0)";
      full += "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL)";
    }
    basic += " ";
    append_string(basic, subtype);
    basic += ')';
    full += " ";
    append_string(full, subtype);
    full += ' ';
    append_params(full, params, false);
    full += ' ';
    append_disposition_language_location(full, object, part.header);
    full += ')';
    return;
  }

  // Fields common to every non-multipart body: type subtype params id description encoding size.
  std::string fields;
  append_string(fields, media);
  fields += ' ';
  append_string(fields, subtype);
  fields += ' ';
  append_params(fields, params, media == "TEXT");
  fields += ' ';
  append_nstring(fields, view(header_value(part.header, "Content-ID")));
  fields += ' ';
  append_nstring(fields, view(header_value(part.header, "Content-Description")));
  fields += ' ';
  const auto encoding = header_value(part.header, "Content-Transfer-Encoding");
  append_string(fields, encoding ? upper(trim(*encoding)) : "7BIT");
  fields += ' ';
  fields += std::to_string(part.body.size());

  std::string inner_basic;
  std::string inner_full;
  if (object && GMIME_IS_MESSAGE_PART(object) && depth < 32) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    part.message = std::make_unique<BodyPart>();
    std::tie(part.message->header, part.message->body) = split_entity(part.body);
    GMimeObject* inner_body = inner ? g_mime_message_get_mime_part(inner) : nullptr;
    describe(inner_body, *part.message, inner_basic, inner_full, depth + 1);
    const auto env = envelope(part.message->header);
    const auto lines = std::to_string(line_count(part.body));
    inner_basic = " " + env + " " + inner_basic + " " + lines;
    inner_full = " " + env + " " + inner_full + " " + lines;
  } else if (media == "TEXT") {
    inner_basic = inner_full = " " + std::to_string(line_count(part.body));
  }
  basic += '(' + fields + inner_basic + ')';
  full += '(' + fields + inner_full + ' ';
  append_nstring(full, view(header_value(part.header, "Content-MD5")));
  full += ' ';
  append_disposition_language_location(full, object, part.header);
  full += ')';
}

// Header fields of a block, each with its continuation lines and CRLF.
template <typename F>
void for_each_field(std::string_view header, F&& f) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t end = pos;
    do {
      const auto lf = header.find('\n', end);
      end = lf == std::string_view::npos ? header.size() : lf + 1;
    } while (end < header.size() && (header[end] == ' ' || header[end] == '\t'));
    const auto field = header.substr(pos, end - pos);
    const auto colon = field.find(':');
    if (colon != std::string_view::npos) f(trim(field.substr(0, colon)), field);
    pos = end;
  }
}

}  // namespace

std::pair<std::string_view, std::string_view> split_entity(std::string_view raw) {
  std::size_t pos = 0;
  while (pos < raw.size()) {
    const auto lf = raw.find('\n', pos);
    if (lf == std::string_view::npos) break;
    const auto line = raw.substr(pos, lf - pos);
    if (line.empty() || line == "\r") return {raw.substr(0, lf + 1), raw.substr(lf + 1)};
    pos = lf + 1;
  }
  return {raw, {}};
}

std::optional<std::string> header_value(std::string_view header, std::string_view name) {
  std::optional<std::string> value;
  for_each_field(header, [&](std::string_view field_name, std::string_view field) {
    if (value || !iequals(field_name, name)) return;
    std::string unfolded;
    for (const char c : field.substr(field.find(':') + 1))
      if (c != '\r' && c != '\n') unfolded += c;
    value = std::string(trim(unfolded));
  });
  return value;
}

std::shared_ptr<const MessageStructure> analyse_message(const store::MessagePtr& message) {
  mime::ensure_gmime();
  auto structure = std::make_shared<MessageStructure>();
  structure->message = message;
  const std::string_view raw = message->raw;
  std::tie(structure->root.header, structure->root.body) = split_entity(raw);

  GRef<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GRef<GMimeParser> parser(g_mime_parser_new_with_stream(stream.p));
  GRef<GMimeMessage> parsed(g_mime_parser_construct_message(parser.p, nullptr));
  GMimeObject* body = parsed.p ? g_mime_message_get_mime_part(parsed.p) : nullptr;
  structure->envelope = envelope(structure->root.header);
  describe(body, structure->root, structure->body, structure->bodystructure, 0);
  return structure;
}

std::optional<std::string> section_bytes(const MessageStructure& structure,
                                         const Section& section) {
  const BodyPart* current = &structure.root;
  bool is_message = true;  // current is a whole message (the root or an encapsulated one)
  for (const auto n : section.path) {
    const BodyPart* container = current;
    if (current->message) {
      container = current->message.get();
    } else if (!is_message && !current->multipart) {
      return std::nullopt;  // a leaf part has no sub-parts
    }
    if (container->multipart) {
      if (n > container->parts.size()) return std::nullopt;
      current = &container->parts[n - 1];
      is_message = false;
    } else {
      // RFC 3501 6.4.5: a message that is not multipart has one part, its body, numbered 1.
      if (n != 1) return std::nullopt;
      current = container;
      is_message = true;
    }
  }
  using Text = Section::Text;
  if (section.text == Text::none)
    return std::string(section.path.empty() ? std::string_view(structure.message->raw)
                                            : current->body);
  if (section.text == Text::mime) return std::string(current->header);
  const BodyPart* message = section.path.empty() ? &structure.root : current->message.get();
  if (!message) return std::nullopt;
  if (section.text == Text::text) return std::string(message->body);
  if (section.text == Text::header) return std::string(message->header);
  std::string out;
  const bool wanted = section.text == Text::header_fields;
  for_each_field(message->header, [&](std::string_view name, std::string_view field) {
    bool listed = false;
    for (const auto& f : section.fields) listed = listed || iequals(f, name);
    if (listed == wanted) out.append(field);
  });
  out += "\r\n";
  return out;
}

}  // namespace sevenport::imap
