// Messages: list with filters, detail, raw bytes, attachments, deletion, and the wait endpoint,
// which is answered from the store's delivery events (no polling).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "protocols/common/text.hpp"
#include "server/api.hpp"
#include "server/api_format.hpp"

namespace sevenport::server {

using nlohmann::json;

namespace {

constexpr std::uint64_t kDefaultLimit = 50;
constexpr std::uint64_t kMaxLimit = 1000;
constexpr double kDefaultWaitSeconds = 10;
constexpr double kMaxWaitSeconds = 300;

bool icontains(std::string_view haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [](char a, char b) { return ascii_lower(a) == ascii_lower(b); }) !=
         haystack.end();
}

// Reads to/from/subject/since; false (with `error` set) if a value is malformed.
bool read_filter(const http::Request& request, MessageFilter& filter, std::string& error) {
  filter.to = request.param("to").value_or("");
  filter.from = request.param("from").value_or("");
  filter.subject = request.param("subject").value_or("");
  if (const auto since = request.param("since"); since && !since->empty()) {
    const auto ms = api::parse_time(*since);
    if (!ms) {
      error = "since: expected an ISO 8601 time (2026-11-22T10:00:00Z) or Unix seconds, got \"" +
              sanitize(*since, 60) + "\"";
      return false;
    }
    filter.since_ms = std::max<std::int64_t>(*ms, 1);
  }
  return true;
}

// Reads a count parameter; false (with `error` set) if malformed or out of range.
bool read_count(const http::Request& request, std::string_view name, std::uint64_t max,
                std::uint64_t& value, std::string& error) {
  const auto text = request.param(name);
  if (!text) return true;
  const auto parsed = api::parse_uint(*text, max);
  if (!parsed) {
    error = std::string(name) + ": expected an integer from 0 to " + std::to_string(max) +
            ", got \"" + sanitize(*text, 30) + "\"";
    return false;
  }
  value = *parsed;
  return true;
}

// A file name safe inside a quoted Content-Disposition parameter, and its RFC 8187 form.
std::string content_disposition(std::string_view filename) {
  std::string plain;
  std::string encoded;
  for (const unsigned char c : filename) {
    plain += c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? static_cast<char>(c) : '_';
    if (std::isalnum(c) ||
        std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      encoded += static_cast<char>(c);
    } else {
      static constexpr char hex[] = "0123456789ABCDEF";
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 15];
    }
  }
  if (plain.empty()) return "attachment";
  return "attachment; filename=\"" + plain + "\"; filename*=UTF-8''" + encoded;
}

// Downloads are served from the UI's origin: a sandbox keeps an HTML attachment opened in the
// browser from running scripts with the UI's access to the API.
void add_download_headers(http::Response& response, std::string_view filename) {
  response.headers.emplace_back("Content-Disposition", content_disposition(filename));
  response.headers.emplace_back("Content-Security-Policy", "sandbox");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Cache-Control", "no-store");
}

}  // namespace

// ---- facts and summaries ----

Api::Facts& Api::facts(const store::Message& message) {
  Facts& f = facts_[message.id];
  if (!f.parsed) {
    auto header = api::header_facts(message.raw);
    f.subject = std::move(header.subject);
    f.date = std::move(header.date);
    f.from_header = std::move(header.from_header);
    f.parsed = true;
  }
  return f;
}

bool Api::matches(const store::Message& message, const MessageFilter& filter) {
  if (filter.since_ms && api::unix_ms(message.received_at) < filter.since_ms) return false;
  if (!filter.to.empty() &&
      std::none_of(message.recipients.begin(), message.recipients.end(),
                   [&](const std::string& r) { return icontains(r, filter.to); }))
    return false;
  if (filter.from.empty() && filter.subject.empty()) return true;
  const Facts& f = facts(message);
  if (!filter.from.empty() && !icontains(message.mail_from, filter.from) &&
      !icontains(f.from_header, filter.from))
    return false;
  return filter.subject.empty() || icontains(f.subject, filter.subject);
}

json Api::summary(const store::Message& m) {
  const Facts& f = facts(m);
  return {{"id", m.id},
          {"from", m.mail_from},
          {"to", m.recipients},
          {"subject", f.subject},
          {"date", f.date},
          {"received_at", api::iso_time(api::unix_ms(m.received_at))},
          {"size", m.raw.size()},
          {"mailboxes", f.mailboxes},
          {"arrival", api::arrival_json(m.arrival)}};
}

store::MessagePtr Api::message_for(const Call& call) {
  const auto id = api::parse_uint(call.params[0], UINT64_MAX);
  if (!id || *id == 0) {
    call.exchange->respond(
        http::error_response(400, "bad message id \"" + sanitize(call.params[0], 40) + "\""));
    return nullptr;
  }
  auto message = store_.find_message(*id);
  if (!message)
    call.exchange->respond(http::error_response(404, "no message " + std::to_string(*id)));
  return message;
}

// ---- routes ----

void Api::list_messages(const Call& call) {
  MessageFilter filter;
  std::uint64_t limit = kDefaultLimit;
  std::uint64_t offset = 0;
  std::string error;
  if (!read_filter(call.request, filter, error) ||
      !read_count(call.request, "limit", kMaxLimit, limit, error) ||
      !read_count(call.request, "offset", UINT32_MAX, offset, error)) {
    call.exchange->respond(http::error_response(400, error));
    return;
  }
  json list = json::array();
  std::uint64_t total = 0;
  const auto& all = store_.messages();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (!matches(**it, filter)) continue;
    if (total >= offset && list.size() < limit) list.push_back(summary(**it));
    ++total;
  }
  call.exchange->respond(
      api::json_response(200, {{"total", total}, {"messages", std::move(list)}}));
}

void Api::get_message(const Call& call) {
  const auto message = message_for(call);
  if (!message) return;
  json detail = summary(*message);
  auto view = api::view_message(message->raw);
  json headers = json::array();
  for (auto& [name, value] : view.headers) headers.push_back({std::move(name), std::move(value)});
  detail["headers"] = std::move(headers);
  detail["text"] = view.text ? json(*view.text) : json(nullptr);
  detail["html"] = view.html ? json(*view.html) : json(nullptr);
  json attachments = json::array();
  for (std::size_t i = 0; i < view.attachments.size(); ++i) {
    const auto& a = view.attachments[i];
    attachments.push_back({{"index", i},
                           {"filename", a.filename},
                           {"content_type", a.content_type},
                           {"size", a.data.size()}});
  }
  detail["attachments"] = std::move(attachments);
  call.exchange->respond(api::json_response(200, detail));
}

void Api::get_raw(const Call& call) {
  const auto message = message_for(call);
  if (!message) return;
  http::Response response{200, "message/rfc822", message->raw, {}};
  add_download_headers(response, "message-" + std::to_string(message->id) + ".eml");
  call.exchange->respond(std::move(response));
}

void Api::get_attachment(const Call& call) {
  const auto message = message_for(call);
  if (!message) return;
  const auto index = api::parse_uint(call.params[1], UINT32_MAX);
  if (!index) {
    call.exchange->respond(
        http::error_response(400, "bad attachment index \"" + sanitize(call.params[1], 40) + "\""));
    return;
  }
  auto view = api::view_message(message->raw);
  if (*index >= view.attachments.size()) {
    call.exchange->respond(
        http::error_response(404, "message " + std::to_string(message->id) + " has " +
                                      std::to_string(view.attachments.size()) +
                                      " attachment(s); no index " + std::to_string(*index)));
    return;
  }
  auto& attachment = view.attachments[*index];
  http::Response response{200, attachment.content_type, std::move(attachment.data), {}};
  add_download_headers(response, attachment.filename);
  call.exchange->respond(std::move(response));
}

void Api::delete_message(const Call& call) {
  const auto message = message_for(call);
  if (!message) return;
  store_.remove_message(message->id);
  facts_.erase(message->id);
  call.exchange->respond(api::json_response(200, {{"deleted", 1}}));
}

void Api::delete_messages(const Call& call) {
  const auto count = store_.messages().size();
  store_.clear_messages();
  facts_.clear();
  call.exchange->respond(api::json_response(200, {{"deleted", count}}));
}

// ---- the wait endpoint ----

void Api::wait_message(const Call& call) {
  MessageFilter filter;
  std::string error;
  if (!read_filter(call.request, filter, error)) {
    call.exchange->respond(http::error_response(400, error));
    return;
  }
  double timeout = kDefaultWaitSeconds;
  if (const auto text = call.request.param("timeout")) {
    const auto seconds = api::parse_seconds(*text, kMaxWaitSeconds);
    if (!seconds) {
      call.exchange->respond(http::error_response(
          400, "timeout: expected seconds from 0 to 300, got \"" + sanitize(*text, 30) + "\""));
      return;
    }
    timeout = *seconds;
  }
  // Already here? The newest match answers at once.
  const auto& all = store_.messages();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (matches(**it, filter)) {
      call.exchange->respond(api::json_response(200, summary(**it)));
      return;
    }
  }
  const auto id = next_waiter_++;
  auto* timer = new WaitTimer;
  timer->api = this;
  timer->waiter = id;
  timer->handle.data = timer;
  uv_timer_init(loop_, &timer->handle);
  uv_timer_start(&timer->handle, on_wait_timeout,
                 static_cast<std::uint64_t>(std::llround(timeout * 1000)), 0);
  waiters_.emplace(id, Waiter{std::move(filter), timeout, call.exchange, timer});
  call.exchange->on_close([this, id] { finish_wait(id, nullptr); });
}

void Api::on_wait_timeout(uv_timer_t* handle) {
  auto* timer = static_cast<WaitTimer*>(handle->data);
  if (!timer->api) return;
  Api& api = *timer->api;
  const auto it = api.waiters_.find(timer->waiter);
  if (it == api.waiters_.end()) return;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", it->second.timeout_seconds);
  const auto response =
      http::error_response(408, std::string("no matching message within ") + seconds + " s");
  api.finish_wait(timer->waiter, &response);
}

void Api::finish_wait(std::uint64_t id, const http::Response* response) {
  const auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  Waiter waiter = std::move(it->second);
  waiters_.erase(it);
  waiter.timer->api = nullptr;
  uv_timer_stop(&waiter.timer->handle);
  release(reinterpret_cast<uv_handle_t*>(&waiter.timer->handle),
          [](uv_handle_t* h) { delete static_cast<WaitTimer*>(h->data); });
  if (response) waiter.exchange->respond(*response);
}

// ---- store events ----

void Api::on_store_event(const store::StoreEvent& event) {
  switch (event.kind) {
    case store::StoreEvent::Kind::delivered: {
      auto& mailboxes = facts_[event.message_id].mailboxes;
      if (!event.owner.empty() &&
          std::find(mailboxes.begin(), mailboxes.end(), event.owner) == mailboxes.end())
        mailboxes.push_back(event.owner);
      // The store tells each owner in turn: the message is announced once, after the last.
      if (arrived_.empty() || arrived_.back() != event.message_id) {
        arrived_.push_back(event.message_id);
        if (check_ && !uv_is_active(reinterpret_cast<uv_handle_t*>(check_)))
          uv_check_start(check_, on_check);
      }
      break;
    }
    case store::StoreEvent::Kind::cleared:
      facts_.clear();
      break;
    default:
      break;
  }
}

void Api::on_check(uv_check_t* handle) { static_cast<Api*>(handle->data)->announce_arrivals(); }

void Api::announce_arrivals() {
  uv_check_stop(check_);
  const auto ids = std::move(arrived_);
  arrived_.clear();
  for (const auto id : ids) {
    const auto message = store_.find_message(id);
    if (!message) continue;  // deleted in the same loop iteration
    const json s = summary(*message);
    broadcast("message", s);
    std::vector<std::uint64_t> done;
    for (const auto& [waiter_id, waiter] : waiters_)
      if (matches(*message, waiter.filter)) done.push_back(waiter_id);
    if (done.empty()) continue;
    const auto response = api::json_response(200, s);
    for (const auto waiter_id : done) finish_wait(waiter_id, &response);
  }
}

}  // namespace sevenport::server
