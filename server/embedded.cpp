#include "server/embedded.hpp"

#include <random>
#include <stdexcept>

#include "config/config.hpp"
#include "server/server.hpp"

namespace sevenport {

EmbeddedServer::EmbeddedServer(EmbeddedOptions options) {
  config::Config cfg;
  try {
    cfg = options.config_toml.empty() ? config::load_default()
                                      : config::load_string(options.config_toml, "<embedded>");
  } catch (const config::ConfigError& e) {
    throw std::runtime_error(e.what());
  }
  for (auto& [address, password] : options.users) cfg.users.push_back({address, password});
  for (auto& listener : cfg.listeners) listener.port = 0;
  cfg.http.port = 0;

  server::ServerOptions server_options;
  server_options.handle_signals = false;
  server_options.session_log = options.session_log;
  if (options.state_dir.empty()) {
    temporary_state_dir_ = std::filesystem::temp_directory_path() /
                           ("sevenport-embedded-" + std::to_string(std::random_device{}()));
    server_options.state_dir = temporary_state_dir_;
  } else {
    server_options.state_dir = std::filesystem::absolute(options.state_dir);
  }

  // Everything that touches the loop happens in the server's thread; the constructor waits for
  // the listeners (or the reason they could not be bound).
  std::promise<void> started;
  auto ready = started.get_future();
  server_ = std::make_unique<server::Server>(std::move(cfg), std::move(server_options));
  thread_ = std::thread([this, &started] {
    try {
      server_->start();
      for (const auto& l : server_->listeners()) ports_[l->config().name] = l->bound_port();
      ca_file_ = server_->ca_file();
    } catch (...) {
      started.set_exception(std::current_exception());
      return;
    }
    started.set_value();
    server_->run();
  });
  try {
    ready.get();
  } catch (...) {
    thread_.join();
    server_.reset();
    if (!temporary_state_dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(temporary_state_dir_, ec);
    }
    throw;
  }
  running_ = true;
}

EmbeddedServer::~EmbeddedServer() { stop(); }

std::uint16_t EmbeddedServer::port(std::string_view listener) const {
  const auto it = ports_.find(listener);
  if (it == ports_.end()) throw std::out_of_range("no listener named " + std::string(listener));
  return it->second;
}

void EmbeddedServer::post(std::function<void(store::MailStore&)> task) {
  if (!running_) throw std::logic_error("the embedded server is stopped");
  server_->post([this, task = std::move(task)] { task(server_->store()); });
}

void EmbeddedServer::stop() {
  if (!running_) return;
  running_ = false;
  server_->post([this] { server_->shutdown("embedded server stopped"); });
  thread_.join();
  server_.reset();
  if (!temporary_state_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temporary_state_dir_, ec);
  }
}

}  // namespace sevenport
