#pragma once
// A call store full of finished calls, for the listing floods: concierge-bench-flood (bench/src/flood_main.cpp) and
// the flood tests (tests/integration/flood_test.cpp) write the same one, so the figures and the tests see the same
// records. The rows are what the daemon's SQLite call store holds (host/src/call_store.cpp: the calls table, the
// record as JSON), shaped like its records: a twelve-line transcript each, ids call_0000000000000000 upwards.
#include <string>

namespace concierge::bench {

// Writes `n` finished calls into `file` (created when missing), oldest first, in one transaction. Returns "" or
// what went wrong, in words.
std::string write_finished_calls(const std::string& file, int n);

}  // namespace concierge::bench
