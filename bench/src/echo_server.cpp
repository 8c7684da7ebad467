// concierge-bench-echo-server: the smallest thing that answers like the daemon with echo-voice in mulaw/8000: every
// media message's payload goes straight back in a media message, followed by a mark. It is the benchmark's
// baseline (what the generator and the loopback network cost without the daemon) and its target in its own tests.
// With --resample it does what the daemon's media path does for a 24 kHz voice model: mu-law -> PCM -> 24 kHz ->
// 8 kHz -> mu-law with the SDK's streaming resamplers (so the bench's match-by-position mode is exercised too).
//   concierge-bench-echo-server [--port N] [--host A] [--resample]   (port 0: pick one; the port is printed)
#include <iostream>
#include <memory>
#include <string>

#include <vector>

#include "concierge/base64.hpp"
#include "concierge/mulaw.hpp"
#include "concierge/net/asio.hpp"
#include "concierge/resampler.hpp"
#include "twilio_wire.hpp"

namespace {
using namespace concierge::net;
using asio::awaitable;
using asio::use_awaitable;

bool resample = false;

// The daemon's media path for one call, both directions, with buffers made once.
struct MediaPath {
  concierge::Resampler up{8000, 24000}, down{24000, 8000};
  std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(4096);
  std::vector<std::int16_t> pcm8 = std::vector<std::int16_t>(4096);
  std::vector<std::int16_t> pcm24 = std::vector<std::int16_t>(up.max_output(4096));
  std::vector<std::int16_t> back = std::vector<std::int16_t>(down.max_output(up.max_output(4096)));
  std::vector<char> text = std::vector<char>(concierge::base64::encoded_size(down.max_output(up.max_output(4096))));

  // Returns the base64 of the round trip, empty while the filters fill.
  std::string_view run(std::string_view payload) {
    const auto n = concierge::base64::decode(payload, bytes);
    if (!n || *n > pcm8.size()) return {};
    concierge::mulaw::decode(std::span<const std::uint8_t>(bytes.data(), *n), pcm8);
    const std::size_t up_n = up.process(std::span<const std::int16_t>(pcm8.data(), *n), pcm24);
    const std::size_t down_n = down.process(std::span<const std::int16_t>(pcm24.data(), up_n), back);
    concierge::mulaw::encode(std::span<const std::int16_t>(back.data(), down_n), bytes);
    const std::size_t chars = concierge::base64::encode(std::span<const std::uint8_t>(bytes.data(), down_n), text);
    return std::string_view(text.data(), chars);
  }
};

awaitable<void> serve(tcp::socket socket) {
  websocket::stream<beast::tcp_stream> ws(std::move(socket));
  try {
    beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true));
    co_await ws.async_accept(use_awaitable);
    ws.text(true);
    beast::flat_buffer buffer;
    std::string stream_sid, out;
    std::uint64_t mark = 0;
    std::unique_ptr<MediaPath> path = resample ? std::make_unique<MediaPath>() : nullptr;
    for (;;) {
      co_await ws.async_read(buffer, use_awaitable);
      const auto data = buffer.cdata();
      const std::string_view text(static_cast<const char*>(data.data()), data.size());
      if (stream_sid.empty()) {
        if (auto at = text.find("\"streamSid\":\""); at != std::string_view::npos) {
          const auto end = text.find('"', at + 13);
          stream_sid = std::string(text.substr(at + 13, end - at - 13));
        }
      }
      const auto message = concierge::bench::scan_server_message(text);
      if (message.kind == concierge::bench::ServerMessage::Kind::media) {
        const std::string_view payload = path ? path->run(message.payload) : message.payload;
        if (payload.empty()) {
          buffer.consume(buffer.size());
          continue;
        }
        out = R"({"event":"media","streamSid":")" + stream_sid + R"(","media":{"payload":")";
        out.append(payload);
        out += R"("}})";
        co_await ws.async_write(asio::buffer(out), use_awaitable);
        out = R"({"event":"mark","streamSid":")" + stream_sid + R"(","mark":{"name":")" + std::to_string(++mark) +
              R"("}})";
        co_await ws.async_write(asio::buffer(out), use_awaitable);
      } else if (text.find("\"event\":\"stop\"") != std::string_view::npos) {
        co_await ws.async_close(websocket::close_code::normal, use_awaitable);
        co_return;
      }
      buffer.consume(buffer.size());
    }
  } catch (const boost::system::system_error&) {
    // The peer went away: nothing to report for an echo server.
  }
}

awaitable<void> listen(tcp::acceptor acceptor) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
  }
}
}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--port" && i + 1 < argc) port = static_cast<unsigned short>(std::stoi(argv[++i]));
    else if (a == "--host" && i + 1 < argc) host = argv[++i];
    else if (a == "--resample") resample = true;
    else {
      std::cerr << "usage: concierge-bench-echo-server [--port N] [--host ADDRESS] [--resample]\n";
      return 2;
    }
  }
  asio::io_context io(1);
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address(host), port));
  std::cout << "listening on " << host << ":" << acceptor.local_endpoint().port() << std::endl;
  asio::co_spawn(io, listen(std::move(acceptor)), asio::detached);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, auto) { io.stop(); });
  io.run();
  return 0;
}
