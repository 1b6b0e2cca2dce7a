// The llhttp side of a connection: its callbacks gather one request (method, target, header
// fields, body) and enforce the size limits as the bytes arrive; a refusal is recorded for
// Connection::process() to answer once llhttp returns.

#include "protocols/common/text.hpp"
#include "server/http/http_connection.hpp"
#include "server/http/http_util.hpp"

namespace sevenport::http {

namespace {

// Header fields per request: a flood of tiny fields costs more than their bytes suggest.
constexpr std::size_t kMaxHeaderFields = 100;

}  // namespace

const llhttp_settings_t& Connection::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t init;
    llhttp_settings_init(&init);
    init.on_message_begin = on_message_begin;
    init.on_url = on_url;
    init.on_header_field = on_header_field;
    init.on_header_value = on_header_value;
    init.on_header_value_complete = on_header_value_complete;
    init.on_headers_complete = on_headers_complete;
    init.on_body = on_body;
    init.on_message_complete = on_message_complete;
    return init;
  }();
  return s;
}

int Connection::refuse_later(int status, std::string why) {
  refuse_status_ = status;
  refuse_why_ = std::move(why);
  return HPE_USER;
}

bool Connection::count_header_bytes(std::size_t length) {
  header_bytes_ += length;
  return header_bytes_ <= options_.max_header_size;
}

int Connection::on_message_begin(llhttp_t* parser) {
  auto* c = static_cast<Connection*>(parser->data);
  c->request_ = Request{};
  c->url_.clear();
  c->field_.clear();
  c->value_.clear();
  c->header_bytes_ = c->header_count_ = 0;
  c->request_started_ = uv_now(c->loop_);
  return 0;
}

int Connection::on_url(llhttp_t* parser, const char* at, std::size_t length) {
  auto* c = static_cast<Connection*>(parser->data);
  if (!c->count_header_bytes(length)) return c->refuse_later(431, "request line too long");
  c->url_.append(at, length);
  return 0;
}

int Connection::on_header_field(llhttp_t* parser, const char* at, std::size_t length) {
  auto* c = static_cast<Connection*>(parser->data);
  if (!c->count_header_bytes(length)) return c->refuse_later(431, "request header too large");
  c->field_.append(at, length);
  return 0;
}

int Connection::on_header_value(llhttp_t* parser, const char* at, std::size_t length) {
  auto* c = static_cast<Connection*>(parser->data);
  if (!c->count_header_bytes(length)) return c->refuse_later(431, "request header too large");
  c->value_.append(at, length);
  return 0;
}

int Connection::on_header_value_complete(llhttp_t* parser) {
  auto* c = static_cast<Connection*>(parser->data);
  if (++c->header_count_ > kMaxHeaderFields)
    return c->refuse_later(431, "more than " + std::to_string(kMaxHeaderFields) + " header fields");
  auto name = ascii_lower(c->field_);
  auto value = std::string(trim(c->value_));
  const auto [it, added] = c->request_.headers.try_emplace(std::move(name), value);
  if (!added) it->second += ", " + value;
  c->field_.clear();
  c->value_.clear();
  return 0;
}

int Connection::on_headers_complete(llhttp_t* parser) {
  auto* c = static_cast<Connection*>(parser->data);
  auto& r = c->request_;
  r.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(parser)));
  r.peer = c->peer_;
  if (!split_target(c->url_, r.path, r.query))
    return c->refuse_later(400, "malformed request target");
  if ((parser->flags & F_CONTENT_LENGTH) && parser->content_length > c->options_.max_request_size) {
    return c->refuse_later(413, "request body of " + std::to_string(parser->content_length) +
                                    " octets is larger than max_request_size (" +
                                    std::to_string(c->options_.max_request_size) + ")");
  }
  // RFC 9110 10.1.1: a client that waits for "100 Continue" before sending its body.
  if (const auto expect = r.header("expect"); expect && iequals(*expect, "100-continue"))
    c->send("HTTP/1.1 100 Continue\r\n\r\n");
  return 0;
}

int Connection::on_body(llhttp_t* parser, const char* at, std::size_t length) {
  auto* c = static_cast<Connection*>(parser->data);
  // Chunked bodies announce no length: the limit is checked as they arrive.
  if (c->request_.body.size() + length > c->options_.max_request_size) {
    return c->refuse_later(413, "request body larger than max_request_size (" +
                                    std::to_string(c->options_.max_request_size) + ")");
  }
  c->request_.body.append(at, length);
  return 0;
}

int Connection::on_message_complete(llhttp_t* parser) {
  auto* c = static_cast<Connection*>(parser->data);
  c->keep_alive_ = llhttp_should_keep_alive(parser) && !llhttp_get_upgrade(parser);
  c->parsed_ = std::make_shared<Exchange>(std::move(c->request_));
  c->request_started_ = 0;
  // Pause: the next pipelined request waits until this one is answered.
  return HPE_PAUSED;
}

}  // namespace sevenport::http
