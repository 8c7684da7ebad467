// Steady-state per-frame work allocates nothing. This binary replaces the global operator new/delete AND malloc,
// calloc, realloc (the executable's definitions interpose on glibc's for every library, so libsoxr's C allocations
// are counted too) and counts calls made while counting is switched on, on the thread that switched it on: a
// loopback server on its own thread (the WebSocket client's peer below) may allocate as it likes. It also defines
// SSL_write, forwarding to OpenSSL's, to tell the mallocs OpenSSL makes inside it from everyone else's.
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/base64.hpp"
#include "concierge/dtmf.hpp"
#include "concierge/mulaw.hpp"
#include "concierge/net/websocket_client.hpp"
#include "concierge/resampler.hpp"
#include "concierge_fakes/test_pki.hpp"
#include "concierge_fakes/ws_server.hpp"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);
}

namespace {
thread_local bool counting = false;  // per thread: only the counting thread's allocations are counted
thread_local bool in_ssl_write = false;
std::atomic<long> malloc_calls{0};
std::atomic<long> new_calls{0};
std::atomic<long> ssl_write_mallocs{0};  // counted apart from malloc_calls: made by OpenSSL inside SSL_write
}  // namespace

extern "C" void* malloc(std::size_t size) {
  if (counting) (in_ssl_write ? ssl_write_mallocs : malloc_calls).fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}

// The executable's definition interposes on libssl's for every library (libconcierge_net's TLS stream included).
extern "C" int SSL_write(SSL* ssl, const void* data, int size) {
  using Write = int (*)(SSL*, const void*, int);
  static const auto real = reinterpret_cast<Write>(dlsym(RTLD_NEXT, "SSL_write"));
  in_ssl_write = true;
  const int written = real(ssl, data, size);
  in_ssl_write = false;
  return written;
}
extern "C" void* calloc(std::size_t count, std::size_t size) {
  if (counting) malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(count, size);
}
extern "C" void* realloc(void* pointer, std::size_t size) {
  if (counting) malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(pointer, size);
}
extern "C" void free(void* pointer) { __libc_free(pointer); }

void* operator new(std::size_t size) {
  if (counting) new_calls.fetch_add(1, std::memory_order_relaxed);
  if (void* p = __libc_malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* pointer) noexcept { __libc_free(pointer); }
void operator delete[](void* pointer) noexcept { __libc_free(pointer); }
void operator delete(void* pointer, std::size_t) noexcept { __libc_free(pointer); }
void operator delete[](void* pointer, std::size_t) noexcept { __libc_free(pointer); }

namespace {

struct Counted {
  long mallocs = 0;
  long news = 0;
};

template <class Work>
Counted count_allocations(Work&& work) {
  malloc_calls = 0;
  new_calls = 0;
  counting = true;
  work();
  counting = false;
  return {malloc_calls.load(), new_calls.load()};
}

TEST(Allocation, CounterWorks) {
  // The counter must see an allocation where there is one, or the zeros below would prove nothing.
  const auto counted = count_allocations([] {
    auto* p = new std::vector<int>(100);
    delete p;
    void* raw = std::malloc(10);
    std::free(raw);
  });
  EXPECT_EQ(counted.news, 2);     // the vector object and its storage
  EXPECT_EQ(counted.mallocs, 1);  // std::malloc (operator new goes to glibc directly and is counted once, above)
}

TEST(Allocation, SteadyStateMediaPathAllocatesNothing) {
  // One call's full duplex, as the host's media path runs it: Twilio base64 mu-law in -> PCM -> 24 kHz to the voice
  // model; 24 kHz from the voice model -> 8 kHz -> mu-law -> base64 out. Buffers are made once, at call set-up.
  concierge::Resampler up(8000, 24000), down(24000, 8000), up16(8000, 16000), down16(16000, 8000);
  std::vector<std::uint8_t> mulaw_in(160), mulaw_out(160), decoded(160);
  std::vector<std::int16_t> pcm8(160), pcm8_back(down.max_output(480));
  std::vector<std::int16_t> pcm24(up.max_output(160)), model_out(480);
  std::vector<std::int16_t> pcm16(up16.max_output(160)), pcm8_from16(down16.max_output(up16.max_output(160)));
  std::vector<char> text(concierge::base64::encoded_size(160));
  for (std::size_t i = 0; i < mulaw_in.size(); ++i) mulaw_in[i] = static_cast<std::uint8_t>(i * 7);
  const std::string wire = concierge::base64::encode(mulaw_in);

  std::size_t sink = 0;
  auto frame = [&](int k) {
    const auto n = concierge::base64::decode(wire, decoded);
    sink += n.value_or(0);
    concierge::mulaw::decode(decoded, pcm8);
    const std::size_t got = up.process(pcm8, pcm24);
    for (std::size_t i = 0; i < model_out.size(); ++i)
      model_out[i] = static_cast<std::int16_t>((i < got ? pcm24[i] : 0) + k);
    const std::size_t back = down.process(model_out, pcm8_back);
    const std::size_t got16 = up16.process(pcm8, pcm16);
    sink += down16.process(std::span<const std::int16_t>(pcm16.data(), got16), pcm8_from16);
    concierge::mulaw::encode(std::span<const std::int16_t>(pcm8_back.data(), std::min<std::size_t>(back, 160)),
                             mulaw_out);
    sink += concierge::base64::encode(mulaw_out, text);
  };
  for (int k = 0; k < 100; ++k) frame(k);  // warm-up: the filters' FIFOs reach their working size
  const auto counted = count_allocations([&] {
    for (int k = 0; k < 1000; ++k) frame(k);  // 20 s of audio
  });
  EXPECT_EQ(counted.mallocs, 0);
  EXPECT_EQ(counted.news, 0);
  EXPECT_GT(sink, 0u);
}

TEST(Allocation, KeypadTonesAllocateNothingPerFrame) {
  // Pressing keys, playing them and hearing them: per 20 ms frame, as a call's media path runs them.
  concierge::dtmf::Generator generator(8000);
  concierge::dtmf::Detector detector(8000);
  std::vector<std::int16_t> frame(160);
  std::size_t heard = 0;
  const auto counted = count_allocations([&] {
    for (int k = 0; k < 1000; ++k) {
      if (!generator.busy()) generator.press("0123456789*#ABCD");
      generator.generate(frame);
      heard += detector.process(frame).size();
    }
  });
  EXPECT_EQ(counted.mallocs, 0);
  EXPECT_EQ(counted.news, 0);
  EXPECT_GT(heard, 50u);  // the work was real: 20 s of presses were heard
}

// The SDK's WebSocket client (what openai-realtime and openai-live send every 20 ms audio frame through), over a
// real loopback socket to the fakes' WebSocket server: once its write queue's slots have grown to the frame size,
// sending a frame and writing it to the socket allocate nothing, plain or TLS. The client's operations take their
// memory from the client (Asio's per-thread cache of one block thrashed between a write and the loop's other posts:
// one `new` a frame and one a burst), and OpenSSL keeps its record buffers (Asio sets SSL_MODE_RELEASE_BUFFERS: one
// malloc a frame). What remains is OpenSSL 3.0's own: its record writer (do_ssl3_write) mallocs the bookkeeping of
// the packet it builds (WPACKET, 40 bytes each) three times per record written, inside SSL_write, whatever the
// caller does. Those are counted apart and bounded, so the released buffers coming back (4 a frame) still fails.
class OpenedListener final : public concierge::net::WebSocketListener {
 public:
  void on_websocket_open() override { open = true; }
  void on_websocket_message(std::string_view) override {}
  void on_websocket_failed(std::string_view message) override { failure = std::string(message); }
  bool open = false;
  std::string failure;
};

class CountingHandler final : public concierge::fakes::WsHandler {
 public:
  explicit CountingHandler(std::atomic<long>& received) : received_(received) {}
  void on_text(std::string_view) override { received_.fetch_add(1); }
  void on_closed() override {}

 private:
  std::atomic<long>& received_;
};

void expect_client_sends_without_allocating(bool tls) {
  namespace fakes = concierge::fakes;
  namespace net = concierge::net;
  std::atomic<long> received{0};
  std::optional<fakes::TestPki> pki;
  if (tls) pki = fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  fakes::WsServerOptions server_options;
  server_options.tls = pki;
  server_options.judge_upgrade = [](const fakes::UpgradeRequest&) { return fakes::UpgradeVerdict::accept(); };
  server_options.accept = [&received](std::shared_ptr<fakes::WsConnection>) -> std::shared_ptr<fakes::WsHandler> {
    return std::make_shared<CountingHandler>(received);
  };
  fakes::WsServer server(std::move(server_options));

  boost::asio::io_context io;
  net::WebSocketClientOptions options;
  options.tls = tls;
  options.host = tls ? "localhost" : "127.0.0.1";  // TLS: the name the test certificate carries
  options.port = std::to_string(server.port());
  options.headers = {{"Authorization", "Bearer sk-test"}};
  options.peer_name = "the loopback server";
  const auto tls_context = tls ? net::make_tls_client_context(fakes::write_temp_file("alloc-ca.pem", pki->ca_pem))
                               : nullptr;
  const auto client = net::WebSocketClient::create(io, tls_context, options);
  OpenedListener listener;
  client->start(&listener);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!listener.open && listener.failure.empty() && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(listener.open) << listener.failure;

  // One 20 ms mu-law frame as the plugins send it (160 bytes, base64, in OpenAI's append event).
  const std::string frame = R"({"type":"input_audio_buffer.append","audio":")" + std::string(216, 'A') + R"("})";
  // The plugins send from handlers on the host's loop (a Twilio media message arrives, a frame goes out), never from
  // outside it; so does this pump: each step, when the last burst is on the socket, sends the next one to four
  // frames back to back (the queue holds them), then posts itself again. 100 bursts warm up (the queue's slots reach
  // the frame size), then 1,000 bursts (2,500 frames) are counted.
  constexpr int kWarmUp = 100, kCounted = 1000;
  long sent = 0, sent_before_counting = 0, frames_counted = 0, openssl_mallocs = 0;
  int bursts = 0;
  bool all_queued = true, done = false;
  Counted counted;
  std::function<void()> step = [&] {
    if (!listener.failure.empty()) {
      counting = false;
      io.stop();
      return;
    }
    if (client->queued_messages() == 0) {
      if (bursts == kWarmUp) {
        malloc_calls = 0;
        new_calls = 0;
        ssl_write_mallocs = 0;
        sent_before_counting = sent;
        counting = true;
      }
      if (bursts == kWarmUp + kCounted) {
        counting = false;
        counted = {malloc_calls.load(), new_calls.load()};
        openssl_mallocs = ssl_write_mallocs.load();
        frames_counted = sent - sent_before_counting;
        done = true;
        io.stop();
        return;
      }
      for (int i = 0; i <= bursts % 4; ++i) {
        all_queued = client->send(frame) && all_queued;
        ++sent;
      }
      ++bursts;
    }
    boost::asio::post(io, [&step] { step(); });
  };
  // One run(), as the host runs its loop: Asio recycles operation memory per run() on its thread (separate
  // run_one() calls would each start with an empty cache and allocate anew).
  boost::asio::steady_timer too_late(io, deadline);
  too_late.async_wait([&io](boost::system::error_code ec) {
    if (!ec) io.stop();
  });
  boost::asio::post(io, [&step] { step(); });
  io.run();
  io.restart();
  too_late.cancel();
  counting = false;
  ASSERT_TRUE(done) << "the pump did not finish in time";
  EXPECT_TRUE(all_queued);
  EXPECT_EQ(listener.failure, "");
  EXPECT_EQ(client->queued_messages(), 0u);
  EXPECT_EQ(counted.mallocs, 0);
  EXPECT_EQ(counted.news, 0);
  EXPECT_EQ(frames_counted, 2500);
  if (tls) {
    EXPECT_LE(openssl_mallocs, 3 * frames_counted) << "OpenSSL's mallocs inside SSL_write, per frame";
    std::printf("OpenSSL mallocs inside SSL_write: %.2f per frame\n",
                static_cast<double>(openssl_mallocs) / static_cast<double>(frames_counted));
  } else {
    EXPECT_EQ(openssl_mallocs, 0);
  }
  // The frames really crossed the socket: the server heard every one (it counts on its own thread).
  while (received.load() < sent && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(std::chrono::milliseconds(10));
  EXPECT_EQ(received.load(), sent);
  client->close();
  io.run_for(std::chrono::milliseconds(100));
}

TEST(Allocation, WebSocketClientSendsFramesWithoutAllocatingPlain) { expect_client_sends_without_allocating(false); }

TEST(Allocation, WebSocketClientSendsFramesWithoutAllocatingTls) { expect_client_sends_without_allocating(true); }

}  // namespace
