// The message detail view: header fields decoded (RFC 2047), the first text/plain and text/html
// body parts as UTF-8, and the attachments, decoded. GMime decides the MIME structure; the
// header list is read from the raw bytes so that it keeps the message's own order and spelling.
#include <gmime/gmime.h>

#include "protocols/common/text.hpp"
#include "protocols/imap/gmime_support.hpp"
#include "protocols/imap/imap_mime.hpp"
#include "server/api_format.hpp"

namespace sevenport::server::api {

namespace {

using mime::GRef;

// Deeper nesting than this is an attack, not a message.
constexpr int kMaxDepth = 32;

// Calls f(name, raw value) for each field of a header block, folding lines joined.
template <typename F>
void for_each_field(std::string_view header, F f) {
  std::string name;
  std::string value;
  bool open = false;
  const auto flush = [&] {
    if (open) f(name, value);
    open = false;
  };
  while (!header.empty()) {
    const auto lf = header.find('\n');
    auto line = header.substr(0, lf);
    header = lf == std::string_view::npos ? std::string_view() : header.substr(lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    if ((line.front() == ' ' || line.front() == '\t') && open) {
      value += line;
      continue;
    }
    flush();
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // not a field: skipped, as MUAs do
    name = std::string(trim(line.substr(0, colon)));
    value = std::string(line.substr(colon + 1));
    open = true;
  }
  flush();
}

std::string lower_type(GMimeObject* object) {
  GMimeContentType* type = g_mime_object_get_content_type(object);
  const char* media = type ? g_mime_content_type_get_media_type(type) : nullptr;
  const char* subtype = type ? g_mime_content_type_get_media_subtype(type) : nullptr;
  return ascii_lower(std::string(media ? media : "application") + "/" +
                     (subtype ? subtype : "octet-stream"));
}

std::string decoded_content(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (!content) return {};
  GRef<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, out.p);
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.p));
  return bytes ? std::string(reinterpret_cast<const char*>(bytes->data), bytes->len)
               : std::string();
}

void walk(GMimeObject* object, MessageView& view, int depth) {
  if (!object || depth > kMaxDepth) return;
  if (GMIME_IS_MULTIPART(object)) {
    auto* multipart = GMIME_MULTIPART(object);
    const int count = g_mime_multipart_get_count(multipart);
    for (int i = 0; i < count; ++i) walk(g_mime_multipart_get_part(multipart, i), view, depth + 1);
    return;
  }
  if (GMIME_IS_MESSAGE_PART(object)) {
    // A forwarded message is offered whole, as the attachment it is.
    Attachment attachment;
    attachment.content_type = "message/rfc822";
    if (GMimeContentDisposition* d = g_mime_object_get_content_disposition(object)) {
      if (const char* name = g_mime_content_disposition_get_parameter(d, "filename"))
        attachment.filename = name;
    }
    if (GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object))) {
      GRef<GMimeStream> out(g_mime_stream_mem_new());
      g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, out.p);
      GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.p));
      if (bytes) attachment.data.assign(reinterpret_cast<const char*>(bytes->data), bytes->len);
    }
    view.attachments.push_back(std::move(attachment));
    return;
  }
  if (!GMIME_IS_PART(object)) return;
  auto* part = GMIME_PART(object);
  const std::string type = lower_type(object);
  const char* filename = g_mime_part_get_filename(part);
  // A body part is an inline text/plain or text/html part without a file name; every other leaf
  // is an attachment. Further body parts of a type already seen (a footer a list appended) are
  // not shown.
  const bool body_type = type == "text/plain" || type == "text/html";
  if (body_type && !filename && !g_mime_part_is_attachment(part)) {
    auto& slot = type == "text/plain" ? view.text : view.html;
    if (!slot) {
      if (GMIME_IS_TEXT_PART(object)) {
        char* text = g_mime_text_part_get_text(GMIME_TEXT_PART(object));
        slot = text ? std::string(text) : std::string();
        g_free(text);
      } else {
        slot = decoded_content(part);
      }
    }
    return;
  }
  view.attachments.push_back({filename ? filename : "", type, decoded_content(part)});
}

}  // namespace

std::string decode_header_text(std::string_view raw_value) {
  mime::ensure_gmime();
  std::string unfolded;
  unfolded.reserve(raw_value.size());
  // Unfolding (RFC 5322 2.2.3) drops the line breaks; a folding tab reads as a space.
  for (const char c : raw_value) {
    if (c == '\t')
      unfolded += ' ';
    else if (c != '\r' && c != '\n' && c != '\0')
      unfolded += c;
  }
  char* decoded = g_mime_utils_header_decode_text(nullptr, unfolded.c_str());
  std::string out(trim(decoded ? std::string_view(decoded) : std::string_view(unfolded)));
  g_free(decoded);
  return out;
}

HeaderFacts header_facts(std::string_view raw_message) {
  HeaderFacts facts;
  const auto header = imap::split_entity(raw_message).first;
  bool subject = false, date = false, from = false;
  for_each_field(header, [&](const std::string& name, const std::string& value) {
    if (!subject && iequals(name, "Subject")) {
      facts.subject = decode_header_text(value);
      subject = true;
    } else if (!date && iequals(name, "Date")) {
      facts.date = std::string(trim(value));
      date = true;
    } else if (!from && iequals(name, "From")) {
      facts.from_header = decode_header_text(value);
      from = true;
    }
  });
  return facts;
}

MessageView view_message(std::string_view raw) {
  mime::ensure_gmime();
  MessageView view;
  const auto [header, body] = imap::split_entity(raw);
  for_each_field(header, [&](const std::string& name, const std::string& value) {
    view.headers.emplace_back(name, decode_header_text(value));
  });
  GRef<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GRef<GMimeParser> parser(g_mime_parser_new_with_stream(stream.p));
  GRef<GMimeMessage> message(g_mime_parser_construct_message(parser.p, nullptr));
  if (message.p) walk(g_mime_message_get_mime_part(message.p), view, 0);
  if (!message.p) view.text = std::string(body);
  return view;
}

}  // namespace sevenport::server::api
