#include "daemon_metrics.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "concierge/net/asio.hpp"

namespace concierge::bench {

std::optional<std::string> fetch_metrics(const std::string& host, const std::string& port) {
  using namespace concierge::net;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    tcp::resolver resolver(io);
    stream.expires_after(std::chrono::seconds(2));
    stream.connect(resolver.resolve(host, port));
    http::request<http::empty_body> request{http::verb::get, "/metrics", 11};
    request.set(http::field::host, host);
    // /metrics needs the daemon's API token (unless server.metrics_public): the one a spawned daemon was given, or
    // the one the user exported for a daemon of their own.
    if (const char* token = std::getenv("CONCIERGE_API_TOKEN"); token && *token)
      request.set(http::field::authorization, std::string("Bearer ") + token);
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    if (response.result_int() != 200) return std::nullopt;
    return response.body();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<HistogramSnapshot> parse_histogram(std::string_view text, std::string_view name,
                                                 std::string_view label) {
  HistogramSnapshot snapshot;
  bool seen = false;
  const std::string bucket = std::string(name) + "_bucket{";
  // Series without labels have no braces: "name_sum 1.5".
  const std::string sum = std::string(name) + (label.empty() ? "_sum " : "_sum{");
  const std::string count = std::string(name) + (label.empty() ? "_count " : "_count{");
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (line.empty() || line[0] == '#' || line.find(label) == std::string_view::npos) continue;
    const auto space = line.rfind(' ');
    if (space == std::string_view::npos) continue;
    const double value = std::strtod(std::string(line.substr(space + 1)).c_str(), nullptr);
    if (line.rfind(bucket, 0) == 0) {
      const auto le = line.find("le=\"");
      if (le == std::string_view::npos) continue;
      const auto close = line.find('"', le + 4);
      const std::string bound(line.substr(le + 4, close - le - 4));
      snapshot.buckets.emplace_back(bound == "+Inf" ? std::numeric_limits<double>::infinity()
                                                    : std::strtod(bound.c_str(), nullptr),
                                    value);
      seen = true;
    } else if (line.rfind(sum, 0) == 0) {
      snapshot.sum = value;
    } else if (line.rfind(count, 0) == 0) {
      snapshot.count = value;
    }
  }
  if (!seen) return std::nullopt;
  return snapshot;
}

std::optional<double> parse_value(std::string_view text, std::string_view name) {
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (line.size() > name.size() && line.substr(0, name.size()) == name && line[name.size()] == ' ')
      return std::strtod(std::string(line.substr(name.size() + 1)).c_str(), nullptr);
  }
  return std::nullopt;
}

std::optional<HistogramDelta> histogram_delta(const HistogramSnapshot& before, const HistogramSnapshot& after) {
  HistogramDelta delta;
  delta.count = after.count - before.count;
  if (delta.count <= 0 || before.buckets.size() != after.buckets.size()) return std::nullopt;
  delta.mean = (after.sum - before.sum) / delta.count;
  delta.p99_upper_bound = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < after.buckets.size(); ++i) {
    if (after.buckets[i].second - before.buckets[i].second >= 0.99 * delta.count) {
      delta.p99_upper_bound = after.buckets[i].first;
      break;
    }
  }
  return delta;
}

}  // namespace concierge::bench
