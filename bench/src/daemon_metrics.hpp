#pragma once
// The daemon's own figures, from its Prometheus /metrics: the per-frame processing histogram per direction
// (concierge_frame_processing_microseconds{direction="in"|"out"}), read before and after a level so that the
// difference is that level's frames alone.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace concierge::bench {

struct HistogramSnapshot {
  std::vector<std::pair<double, double>> buckets;  // (upper bound, cumulative count), ascending; +Inf last
  double sum = 0;
  double count = 0;
};

// GET http://host:port/metrics; nullopt when nothing answers it within two seconds (a server without /metrics).
std::optional<std::string> fetch_metrics(const std::string& host, const std::string& port);

// The histogram `name`'s series whose labels contain `label` (e.g. direction="in").
std::optional<HistogramSnapshot> parse_histogram(std::string_view text, std::string_view name, std::string_view label);

// A counter or gauge without labels ("name 12").
std::optional<double> parse_value(std::string_view text, std::string_view name);

struct HistogramDelta {
  double count = 0;
  double mean = 0;
  double p99_upper_bound = 0;  // the bucket bound at or below which 99% of the level's observations fell
};
// after - before; nullopt when no observation was added.
std::optional<HistogramDelta> histogram_delta(const HistogramSnapshot& before, const HistogramSnapshot& after);

}  // namespace concierge::bench
