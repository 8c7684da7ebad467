#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

namespace concierge::bench {

// The q-quantile (0..1) by the nearest-rank method; 0 for no data. Sorts `values`.
inline double quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(q * double(values.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

}  // namespace concierge::bench
