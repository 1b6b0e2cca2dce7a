// The MIME view FETCH needs: ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 7.4.2) and the raw bytes
// of any BODY[section]. GMime decides the structure (types, parameters, boundaries, addresses);
// the byte ranges of parts are cut from the stored raw message along the boundaries GMime found,
// so sizes, line counts and section contents are exactly the stored bytes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/imap/imap_parser.hpp"
#include "protocols/store/mail_store.hpp"

namespace sevenport::imap {

// One MIME entity: a message, or a part of one.
struct BodyPart {
  std::string_view header;  // header fields and the blank line that ends them
  std::string_view body;
  std::vector<BodyPart> parts;        // multipart/*: the children
  std::unique_ptr<BodyPart> message;  // message/rfc822: the encapsulated message
  bool multipart = false;
};

struct MessageStructure {
  store::MessagePtr message;  // keeps the bytes the views point into alive
  BodyPart root;
  std::string envelope;       // "(date subject from ...)"
  std::string body;           // BODY (non-extensible BODYSTRUCTURE)
  std::string bodystructure;  // BODYSTRUCTURE
};

// Parses a stored message (GMime initialised on first use). Never fails: a message GMime cannot
// make sense of is described as text/plain.
std::shared_ptr<const MessageStructure> analyse_message(const store::MessagePtr& message);

// The bytes of BODY[section] (before any <partial>); nullopt when the section does not exist in
// this message (the response is then an empty string, as other servers answer).
std::optional<std::string> section_bytes(const MessageStructure& structure, const Section& section);

// Unfolded value of the first header field `name` in a header block, or nullopt.
std::optional<std::string> header_value(std::string_view header, std::string_view name);

// Splits a raw entity into header (through the blank line) and body.
std::pair<std::string_view, std::string_view> split_entity(std::string_view raw);

}  // namespace sevenport::imap
