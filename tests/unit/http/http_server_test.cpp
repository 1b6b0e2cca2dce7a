// The HTTP server over real sockets: keep-alive and pipelining, limits, the token, answers given
// later, event streams, clients that leave, and a close() that leaves the loop empty.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <vector>

#include "tests/unit/http/http_harness.hpp"

using namespace sevenport::http;
using namespace sevenport::http::test;
using nlohmann::json;

namespace {

// Answers every request with what it received.
void echo(const Request& r, std::shared_ptr<Exchange> ex) {
  json j = {{"method", r.method},
            {"path", r.path},
            {"query", r.query},
            {"body", r.body},
            {"peer", r.peer},
            {"x", r.param("x").value_or("<none>")},
            {"host", r.header("host").value_or("")},
            {"te", r.header("x-test").value_or("")}};
  Response response;
  response.body = j.dump();
  response.headers.emplace_back("X-Echo", "1");
  ex->respond(std::move(response));
}

std::string error_of(const Reply& r) { return json::parse(r.body).at("error").get<std::string>(); }

}  // namespace

TEST_CASE("keep-alive and pipelined requests are answered in order", "[http]") {
  Fixture f(echo);
  std::vector<Reply> replies;
  bool closed_after_close = false;
  f.run([&] {
    Client c(f.port());
    // Three requests in one write, the second with a body, the third chunked.
    c.send(get("/a%20b?x=1+2%2B3&y") +
           "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX-Test: one\r\nx-test: two\r\n"
           "\r\nhello" +
           "POST /chunked HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n"
           "0\r\n\r\n");
    for (int i = 0; i < 3; ++i) replies.push_back(c.response());
    // The connection is still usable, then closes after "Connection: close".
    c.send(get("/last", "Connection: close\r\n"));
    replies.push_back(c.response());
    closed_after_close = c.closed_by_server();
  });
  REQUIRE(replies.size() == 4);
  const auto first = json::parse(replies[0].body);
  CHECK(replies[0].status == 200);
  CHECK(replies[0].header("content-type") == "application/json");
  CHECK(replies[0].header("connection") == "keep-alive");
  CHECK(replies[0].header("x-echo") == "1");
  CHECK(first["method"] == "GET");
  CHECK(first["path"] == "/a b");
  CHECK(first["query"] == "x=1+2%2B3&y");
  CHECK(first["x"] == "1 2+3");
  CHECK(first["host"] == "localhost");
  CHECK(first["peer"].get<std::string>().rfind("127.0.0.1:", 0) == 0);
  const auto second = json::parse(replies[1].body);
  CHECK(second["method"] == "POST");
  CHECK(second["body"] == "hello");
  CHECK(second["te"] == "one, two");
  CHECK(json::parse(replies[2].body)["body"] == "abcde");
  CHECK(json::parse(replies[3].body)["path"] == "/last");
  CHECK(replies[3].header("connection") == "close");
  CHECK(closed_after_close);
}

TEST_CASE("a request sent one byte at a time is parsed like one sent at once", "[http]") {
  Fixture f(echo);
  Reply reply;
  f.run([&] {
    Client c(f.port());
    const std::string request =
        "POST /split?x=%41 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz" + get("/two");
    for (const char ch : request) c.send(std::string(1, ch));
    reply = c.response();
    c.response();
  });
  const auto j = json::parse(reply.body);
  CHECK(j["path"] == "/split");
  CHECK(j["x"] == "A");
  CHECK(j["body"] == "xyz");
}

TEST_CASE("HTTP/1.0 closes after the answer; HEAD gets no body", "[http]") {
  Fixture f(echo);
  Reply head;
  Reply old;
  bool closed = false;
  f.run([&] {
    Client c(f.port());
    c.send("HEAD /h HTTP/1.1\r\n\r\n");
    head = c.response(true);
    c.send("GET /old HTTP/1.0\r\n\r\n");
    old = c.response();
    closed = c.closed_by_server();
  });
  CHECK(head.status == 200);
  CHECK(std::stoul(head.header("content-length")) > 0);
  CHECK(old.status == 200);
  CHECK(old.header("connection") == "close");
  CHECK(closed);
}

TEST_CASE("an Upgrade request is answered as a plain request, then the connection closes",
          "[http]") {
  Fixture f(echo);
  Reply reply;
  bool closed = false;
  f.run([&] {
    Client c(f.port());
    c.send(get("/ws", "Connection: Upgrade\r\nUpgrade: websocket\r\n") + get("/ignored"));
    reply = c.response();
    closed = c.closed_by_server();
  });
  CHECK(reply.status == 200);
  CHECK(json::parse(reply.body)["path"] == "/ws");
  CHECK(reply.header("connection") == "close");
  CHECK(closed);
}

TEST_CASE("malformed requests get 400 JSON and the connection closes", "[http]") {
  const std::vector<std::string> garbage = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET /%zz HTTP/1.1\r\n\r\n",
      "GET /%00 HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
      std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26),
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  // a TLS ClientHello
  };
  for (const auto& request : garbage) {
    INFO(request);
    Fixture f(echo);
    Reply reply;
    bool closed = false;
    f.run([&] {
      Client c(f.port());
      c.send(request);
      reply = c.response();
      closed = c.closed_by_server();
    });
    CHECK(reply.status == 400);
    CHECK(reply.header("connection") == "close");
    CHECK(!error_of(reply).empty());
    CHECK(closed);
  }
}

TEST_CASE("a body over max_request_size gets 413, even while the client still sends it", "[http]") {
  Options options;
  options.max_request_size = 1024;
  Fixture f(echo, options);
  Reply declared;
  Reply chunked;
  Reply fits;
  f.run([&] {
    {
      // Refused on the Content-Length alone; the client, still sending, gets the answer.
      Client c(f.port());
      c.send("POST /big HTTP/1.1\r\nContent-Length: 200000\r\n\r\n");
      c.try_send(std::string(200000, 'x'));
      declared = c.response();
    }
    {
      Client c(f.port());
      c.send("POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (int i = 0; i < 3; ++i) c.try_send("200\r\n" + std::string(512, 'y') + "\r\n");
      chunked = c.response();
    }
    Client c(f.port());
    c.send("POST /ok HTTP/1.1\r\nContent-Length: 1024\r\n\r\n" + std::string(1024, 'z'));
    fits = c.response();
  });
  CHECK(declared.status == 413);
  CHECK(error_of(declared).find("max_request_size") != std::string::npos);
  CHECK(chunked.status == 413);
  CHECK(fits.status == 200);
}

TEST_CASE("100-continue is sent for an acceptable body, 413 instead for a large one", "[http]") {
  Options options;
  options.max_request_size = 100;
  Fixture f(echo, options);
  Reply cont;
  Reply ok;
  Reply refused;
  f.run([&] {
    Client c(f.port());
    c.send("POST /e HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    cont = c.response();
    c.send("hi");
    ok = c.response();
    c.send("POST /e HTTP/1.1\r\nContent-Length: 101\r\nExpect: 100-continue\r\n\r\n");
    refused = c.response();
  });
  CHECK(cont.status == 100);
  CHECK(ok.status == 200);
  CHECK(json::parse(ok.body)["body"] == "hi");
  CHECK(refused.status == 413);
}

TEST_CASE("headers over max_header_size get 431", "[http]") {
  Options options;
  options.max_header_size = 1024;
  Fixture f(echo, options);
  Reply big_field;
  Reply many;
  Reply long_url;
  Reply fits;
  f.run([&] {
    {
      Client c(f.port());
      c.send("GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
      big_field = c.response();
    }
    {
      Client c(f.port());
      std::string request = "GET / HTTP/1.1\r\n";
      for (int i = 0; i < 101; ++i) request += "A:b\r\n";
      c.send(request + "\r\n");
      many = c.response();
    }
    {
      Client c(f.port());
      c.send(get("/" + std::string(2000, 'u')));
      long_url = c.response();
    }
    Client c(f.port());
    c.send("GET / HTTP/1.1\r\nX-Fits: " + std::string(900, 'a') + "\r\n\r\n");
    fits = c.response();
  });
  CHECK(big_field.status == 431);
  CHECK(many.status == 431);
  CHECK(long_url.status == 431);
  CHECK(fits.status == 200);
}

TEST_CASE("with a token, /api/ needs it as a Bearer header or access_token", "[http]") {
  Options options;
  options.token = "s3cret";
  Fixture f(echo, options);
  std::vector<Reply> r;
  f.run([&] {
    Client c(f.port());
    for (const auto& request :
         {get("/api/v1/info"), get("/api/v1/info", "Authorization: Bearer wrong\r\n"),
          get("/api/v1/info", "Authorization: Bearer s3cret\r\n"),
          get("/api/v1/info", "Authorization: bearer  s3cret\r\n"),
          get("/api/v1/info?access_token=s3cret"), get("/api/v1/info?access_token=s3cre"),
          get("/index.html"), get("/api/v1/info", "Authorization: Basic czNjcmV0\r\n")}) {
      c.send(request);
      r.push_back(c.response());
    }
  });
  REQUIRE(r.size() == 8);
  CHECK(r[0].status == 401);
  CHECK(r[0].header("www-authenticate").rfind("Bearer", 0) == 0);
  CHECK(error_of(r[0]).find("token") != std::string::npos);
  CHECK(r[1].status == 401);
  CHECK(r[2].status == 200);
  CHECK(r[3].status == 200);
  CHECK(r[4].status == 200);
  CHECK(r[5].status == 401);
  CHECK(r[6].status == 200);  // the web UI is served without a token
  CHECK(r[7].status == 401);
}

TEST_CASE("a handler may answer later; the next pipelined request waits for it", "[http]") {
  uv_loop_t* loop = nullptr;
  Fixture f([&](const Request& r, std::shared_ptr<Exchange> ex) {
    if (r.path == "/slow") {
      after(loop, 100, [ex] { ex->respond({200, "text/plain", "slow", {}}); });
    } else {
      ex->respond({200, "text/plain", "fast", {}});
    }
  });
  loop = f.loop();
  std::vector<std::string> bodies;
  f.run([&] {
    Client c(f.port());
    c.send(get("/slow") + get("/fast"));
    bodies.push_back(c.response().body);
    bodies.push_back(c.response().body);
  });
  CHECK(bodies == std::vector<std::string>{"slow", "fast"});
}

TEST_CASE("a client that leaves while its request waits fires on_close once", "[http]") {
  std::shared_ptr<Exchange> pending;
  int closes = 0;
  std::atomic<bool> handled = false;
  Fixture f([&](const Request&, std::shared_ptr<Exchange> ex) {
    ex->on_close([&closes] { ++closes; });
    pending = ex;
    handled = true;
  });
  f.run([&] {
    Client c(f.port());
    c.send(get("/wait"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!handled && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  });
  // The client thread is done; the loop must see the disconnect.
  for (int i = 0; i < 100 && closes == 0; ++i) uv_run(f.loop(), UV_RUN_ONCE);
  REQUIRE(pending);
  CHECK(closes == 1);
  CHECK(pending->closed());
  CHECK_FALSE(pending->respond({}));
  CHECK(f.server().connection_count() == 0);
}

TEST_CASE("event streams deliver events and comments, and end when the client leaves", "[http]") {
  std::shared_ptr<Exchange> stream;
  bool stream_closed = false;
  uv_loop_t* loop = nullptr;
  Fixture f([&](const Request& r, std::shared_ptr<Exchange> ex) {
    if (r.path != "/events") return (void)ex->respond({404, "text/plain", "no", {}});
    REQUIRE(ex->start_events());
    CHECK_FALSE(ex->respond({}));  // a stream is not answered twice
    ex->on_close([&] { stream_closed = true; });
    stream = ex;
    after(loop, 20, [ex] {
      ex->send_event("message", R"({"id": 1})");
      ex->comment("keep-alive");
      // LF, bare CR and CRLF all end an event-stream line: each is its own data field, so a CR
      // in the data cannot start a field of its own (found by fuzz/fuzz_http.cpp).
      ex->send_event("multi", "line one\nline two\revent: forged\r\nline four");
    });
  });
  loop = f.loop();
  Reply head;
  std::vector<std::string> lines;
  f.run([&] {
    Client c(f.port());
    c.send(get("/events"));
    head = c.response(true);
    for (int i = 0; i < 11; ++i) lines.push_back(c.line());
  });
  for (int i = 0; i < 100 && !stream_closed; ++i) uv_run(f.loop(), UV_RUN_ONCE);
  CHECK(head.status == 200);
  CHECK(head.header("content-type") == "text/event-stream");
  CHECK(head.header("cache-control") == "no-cache");
  CHECK(lines == std::vector<std::string>{"event: message", "data: {\"id\": 1}", "", ": keep-alive",
                                          "", "event: multi", "data: line one", "data: line two",
                                          "data: event: forged", "data: line four", ""});
  CHECK(stream_closed);
  CHECK(stream->closed());
}

TEST_CASE("event streams get a keep-alive comment when idle", "[http]") {
  Options options;
  options.event_keepalive_seconds = 1;
  Fixture f([](const Request&, std::shared_ptr<Exchange> ex) { ex->start_events(); }, options);
  std::string comment;
  f.run([&] {
    Client c(f.port());
    c.send(get("/events"));
    c.response(true);
    comment = c.line();
  });
  CHECK(comment == ": keep-alive");
}

TEST_CASE("close() ends connections, waits and streams, and leaves the loop empty", "[http]") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  int closes = 0;
  std::vector<std::shared_ptr<Exchange>> held;
  Options options;
  options.address = "127.0.0.1";
  options.port = 0;
  auto server = std::make_unique<HttpServer>(&loop, options,
                                             [&](const Request& r, std::shared_ptr<Exchange> ex) {
                                               if (r.path == "/events") ex->start_events();
                                               if (r.path == "/now") return (void)ex->respond({});
                                               ex->on_close([&] { ++closes; });
                                               held.push_back(ex);
                                             });
  server->bind();
  const auto port = server->port();
  std::atomic<int> eofs = 0;
  std::thread client([&] {
    Client idle(port);
    idle.send(get("/now"));
    idle.response();
    Client waiting(port);
    waiting.send(get("/wait"));
    Client streaming(port);
    streaming.send(get("/events"));
    streaming.response(true);
    for (Client* c : {&idle, &waiting, &streaming}) eofs += c->closed_by_server() ? 1 : 0;
  });
  while (held.size() < 2) uv_run(&loop, UV_RUN_ONCE);
  server->close();
  server->close();  // idempotent
  CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
  client.join();
  CHECK(eofs == 3);
  CHECK(closes == 2);
  CHECK(uv_loop_alive(&loop) == 0);
  server.reset();
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("bind() explains a port in use", "[http]") {
  Fixture f(echo);
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    Options options;
    options.address = "127.0.0.1";
    options.port = f.port();
    HttpServer second(&loop, options, echo);
    try {
      second.bind();
      FAIL("bind succeeded on a port in use");
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(),
                 Catch::StartsWith("cannot listen on 127.0.0.1:" + std::to_string(f.port()) +
                                   " for http: the port is already in use"));
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("idle connections and unfinished requests time out", "[http]") {
  Options options;
  options.idle_timeout_seconds = 1;
  Fixture f(echo, options);
  bool idle_closed = false;
  Reply unfinished;
  f.run([&] {
    Client idle(f.port());
    Client slow(f.port());
    slow.send("GET / HTTP/1.1\r\nHost: x\r\n");
    idle_closed = idle.closed_by_server();
    unfinished = slow.response();
  });
  CHECK(idle_closed);
  CHECK(unfinished.status == 408);
}

TEST_CASE("connections over max_connections get 503", "[http]") {
  Options options;
  options.max_connections = 2;
  Fixture f(echo, options);
  Reply third;
  Reply first;
  f.run([&] {
    Client a(f.port());
    Client b(f.port());
    a.send(get("/"));
    a.response();
    b.send(get("/"));
    b.response();
    Client c(f.port());
    third = c.response();
    a.send(get("/"));
    first = a.response();
  });
  CHECK(third.status == 503);
  CHECK(first.status == 200);
}

TEST_CASE("a client that does not read is not read either, and gets everything later", "[http]") {
  const std::string big(256 * 1024, 'b');
  std::atomic<int> handled = 0;
  Fixture f([&](const Request&, std::shared_ptr<Exchange> ex) {
    ++handled;
    ex->respond({200, "text/plain", big, {}});
  });
  int complete = 0;
  int handled_before_reading = 0;
  f.run([&] {
    Client c(f.port());
    c.set_receive_buffer(65536);
    std::string requests;
    for (int i = 0; i < 40; ++i) requests += get("/big");
    c.send(requests);  // 40 x 256 KiB = 10 MiB of answers, none read yet
    // Not synchronisation: time for a server without backpressure to answer all 40.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    handled_before_reading = handled;
    for (int i = 0; i < 40; ++i)
      if (c.response().body == big) ++complete;
  });
  CHECK(handled_before_reading < 40);
  CHECK(complete == 40);
}
