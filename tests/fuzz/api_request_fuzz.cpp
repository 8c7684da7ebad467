// The control API's request bodies (host): POST /calls's JSON, read as the daemon reads it, and the error answer
// it would give. Whatever the bytes: no crash, no exception escapes, and a refusal's body is always valid JSON.
// Also the boundary text helpers every such answer relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "call_request.hpp"
#include "concierge/http.hpp"
#include "concierge/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto reading = host::read_call_request(body);
  if (!reading.task) {
    const HttpResponse answer = HttpResponse::json_error(400, reading.error);
    const auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
    if (parsed.is_discarded() || !parsed.contains("error")) std::abort();
  } else {
    (void)nlohmann::json(reading.task->text).dump();  // a parsed string is valid UTF-8: this must not throw
  }
  const std::string valid = to_valid_utf8(body);
  if (!is_valid_utf8(valid)) std::abort();
  if (is_valid_utf8(body) && valid != body) std::abort();
  for (std::size_t max : {std::size_t(0), std::size_t(1), std::size_t(7), size / 2}) {
    const std::string cut = truncate_utf8(body, max, "");
    if (cut.size() > max || !is_valid_utf8(cut)) std::abort();
  }
  return 0;
}
