// sevenport inside another program: a whole server (every configured listener, the store, TLS
// with a local CA) on its own thread and its own loop, on ephemeral ports, for a C++ test suite.
// Link the `sevenport::sevenport` CMake target; see tests/embedding/ for an example.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace sevenport {

namespace store {
class MailStore;
}
namespace server {
class Server;
}

struct EmbeddedOptions {
  std::string config_toml{};          // empty: the built-in default config (seven listeners)
  std::filesystem::path state_dir{};  // empty: a fresh temporary directory, removed by stop()
  std::vector<std::pair<std::string, std::string>> users{};  // {address, password}, added
  bool session_log = false;                                  // print the session log on stderr
};

class EmbeddedServer {
 public:
  // Starts the server on ephemeral ports and returns once every listener is bound. Throws
  // std::runtime_error (a bad config, certificates that cannot be made) with the reason.
  explicit EmbeddedServer(EmbeddedOptions options = {});
  // Stops the server if it still runs.
  ~EmbeddedServer();
  EmbeddedServer(const EmbeddedServer&) = delete;
  EmbeddedServer& operator=(const EmbeddedServer&) = delete;

  // The port of a listener ("smtp", "submission", "imaps", …). Throws std::out_of_range.
  std::uint16_t port(std::string_view listener) const;
  const std::map<std::string, std::uint16_t, std::less<>>& ports() const { return ports_; }
  // The CA certificate clients must trust.
  const std::filesystem::path& ca_file() const { return ca_file_; }

  // Runs `fn` with the mail store in the server's thread and returns its result: the safe way to
  // look at what arrived (the store is not thread-safe).
  template <class Fn>
  auto with_store(Fn fn) -> decltype(fn(std::declval<store::MailStore&>())) {
    using Result = decltype(fn(std::declval<store::MailStore&>()));
    auto task = std::make_shared<std::packaged_task<Result(store::MailStore&)>>(std::move(fn));
    auto result = task->get_future();
    post([task](store::MailStore& store) { (*task)(store); });
    return result.get();
  }

  // Says goodbye to every session and joins the server's thread. Idempotent.
  void stop();

 private:
  void post(std::function<void(store::MailStore&)> task);

  std::unique_ptr<server::Server> server_;
  std::thread thread_;
  std::map<std::string, std::uint16_t, std::less<>> ports_;
  std::filesystem::path ca_file_;
  std::filesystem::path temporary_state_dir_;
  bool running_ = false;
};

}  // namespace sevenport
