// Routing, the web UI's files, sessions, users, info, reset, and the event stream. Messages and
// the wait endpoint are in api_messages.cpp; formats in api_format.cpp and api_mime.cpp.
#include "server/api.hpp"

#include <algorithm>

#include "protocols/common/text.hpp"
#include "server/api_format.hpp"
#include "server/ui_assets.hpp"

namespace sevenport::server {

using nlohmann::json;

namespace {

constexpr std::string_view kApiPrefix = "/api/v1/";
constexpr std::uint64_t kMaxListLimit = 1000;

// Message HTML is shown by the UI in a sandboxed frame; this keeps any script in it (or injected
// into the UI some other way) from running with the UI's access to the API.
constexpr std::string_view kUiPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-src 'self' blob: data:";

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  if (!segments.empty() && segments.back().empty()) segments.pop_back();  // a trailing slash
  return segments;
}

// "name@domain", one '@', both parts non-empty, no spaces or control characters: the same rule
// as [[users]] in the config.
bool is_plain_address(std::string_view address) {
  const auto at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return false;
  if (address.find('@', at + 1) != std::string_view::npos) return false;
  return std::none_of(address.begin(), address.end(),
                      [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

// A browser sends Origin with every cross-site POST or DELETE; a page on another site must not
// be able to reset the store or add a user through a form or fetch() (CSRF). Requests without
// Origin (curl, test code) and the UI's own requests pass.
bool cross_origin(const http::Request& request) {
  if (request.method == "GET" || request.method == "HEAD") return false;
  const auto origin = request.header("origin");
  if (!origin) return false;
  const auto host = request.header("host");
  const auto scheme_end = origin->find("://");
  if (!host || scheme_end == std::string::npos) return true;
  return !iequals(std::string_view(*origin).substr(scheme_end + 3), *host);
}

}  // namespace

const std::vector<Api::RouteEntry>& Api::routes() {
  static const std::vector<RouteEntry> table = {
      {"GET", "messages", &Api::list_messages},
      {"DELETE", "messages", &Api::delete_messages},
      {"GET", "messages/wait", &Api::wait_message},
      {"GET", "messages/{id}", &Api::get_message},
      {"DELETE", "messages/{id}", &Api::delete_message},
      {"GET", "messages/{id}/raw", &Api::get_raw},
      {"GET", "messages/{id}/attachments/{index}", &Api::get_attachment},
      {"GET", "sessions", &Api::list_sessions},
      {"GET", "sessions/{id}", &Api::get_session},
      {"GET", "users", &Api::list_users},
      {"POST", "users", &Api::add_user},
      {"DELETE", "users/{address}", &Api::delete_user},
      {"GET", "info", &Api::get_info},
      {"POST", "reset", &Api::reset},
      {"GET", "events", &Api::subscribe},
  };
  return table;
}

Api::Api(uv_loop_t* loop, store::MailStore& store, UserDirectory& users, SessionRegistry& sessions,
         std::function<json()> info)
    : loop_(loop), store_(store), users_(users), sessions_(sessions), info_(std::move(info)) {
  store_token_ = store_.observe([this](const store::StoreEvent& e) { on_store_event(e); });
  sessions_token_ = sessions_.observe([this](const SessionChange& c) { on_session_change(c); });
  check_ = new uv_check_t{};
  uv_check_init(loop_, check_);
  check_->data = this;
}

void Api::release(uv_handle_t* handle, void (*free_it)(uv_handle_t*)) {
  // A server tearing its loop down closes every handle itself (uv_walk, no callback), then runs
  // the loop: such a handle is closed already and only its memory is left to free.
  if (uv_is_closing(handle))
    free_it(handle);
  else
    uv_close(handle, free_it);
}

Api::~Api() {
  if (closed_) return;
  closed_ = true;
  store_.unobserve(store_token_);
  sessions_.unobserve(sessions_token_);
  // No I/O here: the connections may be gone. Only make sure that nothing calls back into us.
  for (auto& [id, waiter] : waiters_) {
    waiter.exchange->on_close(nullptr);
    waiter.timer->api = nullptr;
    release(reinterpret_cast<uv_handle_t*>(&waiter.timer->handle),
            [](uv_handle_t* h) { delete static_cast<WaitTimer*>(h->data); });
  }
  for (auto& [id, exchange] : subscribers_) exchange->on_close(nullptr);
  release(reinterpret_cast<uv_handle_t*>(check_),
          [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
}

void Api::close() {
  if (closed_) return;
  closed_ = true;
  store_.unobserve(store_token_);
  sessions_.unobserve(sessions_token_);
  const auto shutting_down = http::error_response(503, "the server is shutting down");
  while (!waiters_.empty()) finish_wait(waiters_.begin()->first, &shutting_down);
  const auto streams = std::move(subscribers_);
  subscribers_.clear();
  for (const auto& [id, exchange] : streams) exchange->end();
  release(reinterpret_cast<uv_handle_t*>(check_),
          [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
  check_ = nullptr;
}

// ---- routing ----

void Api::handle(const http::Request& request, std::shared_ptr<http::Exchange> exchange) {
  if (closed_) {
    exchange->respond(http::error_response(503, "the server is shutting down"));
    return;
  }
  if (cross_origin(request)) {
    exchange->respond(http::error_response(403, "cross-origin request refused"));
    return;
  }
  if (!request.path.starts_with("/api/")) {
    if (request.method != "GET" && request.method != "HEAD") {
      auto response = http::error_response(405, "the web UI is read with GET");
      response.headers.emplace_back("Allow", "GET, HEAD");
      exchange->respond(std::move(response));
      return;
    }
    serve_ui(request, *exchange);
    return;
  }
  route(request, exchange);
}

void Api::route(const http::Request& request, const std::shared_ptr<http::Exchange>& exchange) {
  if (!request.path.starts_with(kApiPrefix)) {
    exchange->respond(http::error_response(404, "unknown API path; this server has /api/v1/"));
    return;
  }
  const auto segments = split_path(std::string_view(request.path).substr(kApiPrefix.size()));
  const std::string method = request.method == "HEAD" ? std::string("GET") : request.method;
  // Of the patterns that match the path, the most literal ones win ("messages/wait" over
  // "messages/{id}"); among those the method picks the handler, or the answer is 405.
  std::vector<const RouteEntry*> candidates;
  std::size_t best_literals = 0;
  std::vector<std::string> params;
  for (const auto& entry : routes()) {
    const auto pattern = split_path(entry.pattern);
    if (pattern.size() != segments.size()) continue;
    std::size_t literals = 0;
    bool match = true;
    for (std::size_t i = 0; i < pattern.size() && match; ++i) {
      if (pattern[i].front() == '{') continue;
      match = pattern[i] == segments[i];
      ++literals;
    }
    if (!match || literals < best_literals) continue;
    if (literals > best_literals) candidates.clear();
    best_literals = literals;
    candidates.push_back(&entry);
  }
  if (candidates.empty()) {
    exchange->respond(http::error_response(404, "unknown API path"));
    return;
  }
  for (const RouteEntry* entry : candidates) {
    if (entry->method != method) continue;
    const auto pattern = split_path(entry->pattern);
    for (std::size_t i = 0; i < pattern.size(); ++i)
      if (pattern[i].front() == '{') params.emplace_back(segments[i]);
    const Call call{request, exchange, std::move(params)};
    (this->*(entry->handler))(call);
    return;
  }
  std::string allow;
  for (const RouteEntry* entry : candidates) {
    allow += (allow.empty() ? "" : ", ") + std::string(entry->method);
    if (entry->method == "GET") allow += ", HEAD";
  }
  auto response = http::error_response(
      405, "method " + sanitize(request.method, 20) + " not allowed here; use " + allow);
  response.headers.emplace_back("Allow", allow);
  exchange->respond(std::move(response));
}

void Api::serve_ui(const http::Request& request, http::Exchange& exchange) {
  const UiAsset* asset = find_ui_asset(request.path);
  if (!asset) {
    exchange.respond(http::error_response(404, "not found"));
    return;
  }
  http::Response response{200, std::string(asset->content_type), std::string(asset->bytes), {}};
  // The UI changes with the binary: browsers revalidate rather than keep an old copy.
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (asset->content_type.starts_with("text/html")) {
    response.headers.emplace_back("Content-Security-Policy", std::string(kUiPolicy));
    response.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  exchange.respond(std::move(response));
}

// ---- sessions ----

void Api::list_sessions(const Call& call) {
  std::uint64_t limit = 100;
  if (const auto text = call.request.param("limit")) {
    const auto value = api::parse_uint(*text, kMaxListLimit);
    if (!value) {
      call.exchange->respond(http::error_response(
          400, "limit: expected an integer from 0 to " + std::to_string(kMaxListLimit)));
      return;
    }
    limit = *value;
  }
  json list = json::array();
  const auto& all = sessions_.sessions();
  for (auto it = all.rbegin(); it != all.rend() && list.size() < limit; ++it)
    list.push_back(api::session_json(**it, false));
  call.exchange->respond(api::json_response(200, {{"sessions", std::move(list)}}));
}

void Api::get_session(const Call& call) {
  const auto id = api::parse_uint(call.params[0], UINT64_MAX);
  if (!id || *id == 0) {
    call.exchange->respond(
        http::error_response(400, "bad session id \"" + sanitize(call.params[0], 40) + "\""));
    return;
  }
  const SessionRecord* session = sessions_.find(*id);
  if (!session) {
    call.exchange->respond(
        http::error_response(404, "no session " + std::to_string(*id) + " (it may be forgotten)"));
    return;
  }
  call.exchange->respond(api::json_response(200, api::session_json(*session, true)));
}

// ---- users ----

namespace {

std::string_view mailbox_full_name(MailboxFull full) {
  switch (full) {
    case MailboxFull::no:
      return "no";
    case MailboxFull::temporary:
      return "temporary";
    case MailboxFull::permanent:
      return "permanent";
  }
  return "no";
}

}  // namespace

void Api::list_users(const Call& call) {
  json list = json::array();
  for (const auto& user : users_.all()) {
    // The account's behaviours (docs/BEHAVIOURS.md), never a password.
    list.push_back({{"address", user.address},
                    {"app_password", !user.app_password.empty()},
                    {"imap_enabled", user.imap_enabled},
                    {"pop3_enabled", user.pop3_enabled},
                    {"locked", user.locked},
                    {"password_expired", user.password_expired},
                    {"mailbox_full", mailbox_full_name(user.mailbox_full)}});
  }
  call.exchange->respond(api::json_response(200, {{"users", std::move(list)}}));
}

void Api::add_user(const Call& call) {
  const json body = json::parse(call.request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    call.exchange->respond(http::error_response(
        400,
        "expected a JSON object: {\"address\": \"carol@example.test\", \"password\": \"...\"}"));
    return;
  }
  const auto address = body.find("address");
  const auto password = body.find("password");
  if (address == body.end() || !address->is_string() ||
      !is_plain_address(address->get<std::string>())) {
    call.exchange->respond(
        http::error_response(400, "address: expected an address like \"carol@example.test\""));
    return;
  }
  if (password == body.end() || !password->is_string() || password->get<std::string>().empty()) {
    call.exchange->respond(http::error_response(400, "password: expected a non-empty string"));
    return;
  }
  User user{address->get<std::string>(), password->get<std::string>()};
  // The optional behaviours, with the names and values of [[users]] in the config.
  std::string bad;
  const auto flag = [&](const char* key, bool& field) {
    const auto it = body.find(key);
    if (it == body.end()) return;
    if (!it->is_boolean())
      bad = std::string(key) + ": expected true or false";
    else
      field = it->get<bool>();
  };
  flag("imap_enabled", user.imap_enabled);
  flag("pop3_enabled", user.pop3_enabled);
  flag("locked", user.locked);
  flag("password_expired", user.password_expired);
  if (const auto it = body.find("app_password"); it != body.end()) {
    if (!it->is_string() || it->get<std::string>().empty() ||
        it->get<std::string>() == user.password)
      bad = "app_password: expected a non-empty string different from password";
    else
      user.app_password = it->get<std::string>();
  }
  if (const auto it = body.find("mailbox_full"); it != body.end()) {
    const std::string value = it->is_string() ? it->get<std::string>() : "";
    if (value == "temporary")
      user.mailbox_full = MailboxFull::temporary;
    else if (value == "permanent")
      user.mailbox_full = MailboxFull::permanent;
    else if (value != "no")
      bad = "mailbox_full: expected \"no\", \"temporary\" or \"permanent\"";
  }
  if (!bad.empty()) {
    call.exchange->respond(http::error_response(400, bad));
    return;
  }
  users_.add(std::move(user));
  call.exchange->respond(api::json_response(201, {{"address", address->get<std::string>()}}));
}

void Api::delete_user(const Call& call) {
  const auto& address = call.params[0];
  if (!users_.remove(address)) {
    call.exchange->respond(http::error_response(404, "no user \"" + sanitize(address, 100) + "\""));
    return;
  }
  call.exchange->respond(api::json_response(200, {{"deleted", 1}}));
}

// ---- server ----

void Api::get_info(const Call& call) {
  call.exchange->respond(api::json_response(200, info_ ? info_() : json::object()));
}

void Api::reset(const Call& call) {
  store_.clear_messages();
  sessions_.clear_closed();
  facts_.clear();
  call.exchange->respond(api::json_response(200, {{"reset", true}}));
}

// ---- events ----

void Api::subscribe(const Call& call) {
  if (!call.exchange->start_events()) return;
  const auto id = next_subscriber_++;
  subscribers_.emplace(id, call.exchange);
  call.exchange->on_close([this, id] { subscribers_.erase(id); });
}

void Api::broadcast(std::string_view event, const json& data) {
  if (subscribers_.empty()) return;
  const std::string text = api::dump(data);
  // A subscriber that fails is closed and unsubscribes itself while we go through the list.
  std::vector<std::shared_ptr<http::Exchange>> streams;
  streams.reserve(subscribers_.size());
  for (const auto& [id, exchange] : subscribers_) streams.push_back(exchange);
  for (const auto& exchange : streams) exchange->send_event(event, text);
}

void Api::on_session_change(const SessionChange& change) {
  if (subscribers_.empty() || !change.session) return;
  const SessionRecord& s = *change.session;
  switch (change.kind) {
    case SessionChange::Kind::opened:
      broadcast("session_opened", api::session_json(s, false));
      break;
    case SessionChange::Kind::closed:
      broadcast("session_closed", api::session_json(s, false));
      break;
    case SessionChange::Kind::tls:
      broadcast("tls", {{"session", s.id},
                        {"tls_mode", s.tls_mode},
                        {"version", s.tls.version},
                        {"cipher", s.tls.cipher}});
      break;
    case SessionChange::Kind::auth:
      if (change.auth) {
        broadcast("auth", {{"session", s.id},
                           {"mechanism", change.auth->mechanism},
                           {"user", change.auth->user},
                           {"success", change.auth->success},
                           {"over_tls", change.auth->over_tls}});
      }
      break;
  }
}

}  // namespace sevenport::server
