#pragma once
// POST /calls's body, read: {"request": "Book a table ..."} and/or {"fields": {...}}, optionally "dry_run": true
// (plan only, no call). Anything else (malformed
// JSON, invalid UTF-8, numbers no double holds, unknown fields, wrong types) is the client's mistake, said in words
// for a 400. Pure: no I/O, no daemon state (the fuzz target links only this).
#include <optional>
#include <string>
#include <string_view>

#include "concierge/agent.hpp"

namespace concierge::host {

struct CallRequestReading {
  std::optional<TaskRequest> task;  // set when the body is a request
  std::string error;                // otherwise why not (valid UTF-8 only when json_error makes it so)
  bool dry_run = false;             // "dry_run": true: the plan or the questions, no call
};

CallRequestReading read_call_request(std::string_view body);

}  // namespace concierge::host
