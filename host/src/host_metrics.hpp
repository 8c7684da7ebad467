#pragma once
// Daemon-wide counters and histograms, rendered in Prometheus' text format by the call manager. Updated only on the
// event loop, so plain integers suffice.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace concierge::host {

template <std::size_t N>
struct Histogram {
  std::array<double, N> bounds;  // upper bounds, ascending
  std::array<std::uint64_t, N> buckets{};  // non-cumulative counts; +Inf is count - sum of buckets
  std::uint64_t count = 0;
  double sum = 0;
  double max = 0;

  void observe(double value) {
    ++count;
    sum += value;
    if (value > max) max = value;
    for (std::size_t i = 0; i < N; ++i)
      if (value <= bounds[i]) {
        ++buckets[i];
        return;
      }
  }

  void render(std::string& out, std::string_view name, std::string_view help, std::string_view labels = {}) const {
    const std::string n(name);
    const std::string sep = labels.empty() ? "" : ",";
    out += "# HELP " + n + " " + std::string(help) + "\n# TYPE " + n + " histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < N; ++i) {
      cumulative += buckets[i];
      char bound[32];
      std::snprintf(bound, sizeof bound, "%g", bounds[i]);
      out += n + "_bucket{" + std::string(labels) + sep + "le=\"" + bound + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += n + "_bucket{" + std::string(labels) + sep + "le=\"+Inf\"} " + std::to_string(count) + "\n";
    const std::string l = labels.empty() ? "" : "{" + std::string(labels) + "}";
    out += n + "_sum" + l + " " + std::to_string(sum) + "\n";
    out += n + "_count" + l + " " + std::to_string(count) + "\n";
  }
};

struct HostMetrics {
  std::uint64_t frames_from_line = 0;
  std::uint64_t frames_to_line = 0;
  std::uint64_t frames_to_voice = 0;
  std::uint64_t frames_from_voice = 0;
  std::uint64_t errors = 0;
  std::uint64_t calls_refused_capacity = 0;
  std::uint64_t interruptions = 0;
  std::uint64_t input_tokens = 0;
  std::uint64_t output_tokens = 0;
  // The host's own work per frame (conversion and hand-over), per direction, in microseconds.
  Histogram<10> line_to_voice_us{{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}};
  Histogram<10> voice_to_line_us{{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}};
  // The callee stops speaking -> the first agent audio handed to the line, in milliseconds.
  Histogram<11> voice_to_voice_ms{{50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000}};
};

}  // namespace concierge::host
