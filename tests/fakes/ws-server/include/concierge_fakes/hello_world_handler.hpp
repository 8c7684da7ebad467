#pragma once
// The fake WebSocket server's smallest peer: answers "hello" with "world" and ignores anything else. For tests of a
// WebSocket client (the host's, through the C boundary or the SDK's C++ layer). Header-only.
#include <memory>
#include <string_view>
#include <utility>

#include "concierge_fakes/ws_server.hpp"

namespace concierge::fakes {

class HelloWorldHandler final : public WsHandler {
 public:
  explicit HelloWorldHandler(std::shared_ptr<WsConnection> connection) : connection_(std::move(connection)) {}
  void on_text(std::string_view text) override {
    if (text == "hello") connection_->send("world");
  }
  void on_closed() override {}

 private:
  std::shared_ptr<WsConnection> connection_;
};

}  // namespace concierge::fakes
