#include "call_request.hpp"

#include <nlohmann/json.hpp>

namespace concierge::host {

CallRequestReading read_call_request(std::string_view body_text) {
  // The body is read as JSON whatever the Content-Type says: `curl -d '{...}'` sends it as a form.
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(body_text);
  } catch (const nlohmann::json::parse_error& e) {
    // Also invalid UTF-8 inside a string; the message quotes the bytes, which json_error makes printable.
    return {std::nullopt, std::string("the body is not valid JSON: ") + e.what()};
  } catch (const nlohmann::json::exception& e) {
    // A number too large for a double ({"request": 1e999999}) and the like: still the client's mistake.
    return {std::nullopt, std::string("the body cannot be read as JSON: ") + e.what()};
  }
  if (!body.is_object()) return {std::nullopt, "the body must be a JSON object"};
  for (const auto& [key, value] : body.items())
    if (key != "request" && key != "fields" && key != "dry_run")
      return {std::nullopt, "unknown field \"" + key + "\" (expected \"request\", \"fields\" and/or \"dry_run\")"};
  bool dry_run = false;
  if (body.contains("dry_run")) {
    if (!body["dry_run"].is_boolean()) return {std::nullopt, "\"dry_run\" must be true or false"};
    dry_run = body["dry_run"].get<bool>();
  }
  TaskRequest task;
  if (body.contains("request")) {
    if (!body["request"].is_string()) return {std::nullopt, "\"request\" must be a string"};
    task.text = body["request"].get<std::string>();
  }
  if (body.contains("fields")) {
    if (!body["fields"].is_object()) return {std::nullopt, "\"fields\" must be an object"};
    task.fields = body["fields"];
  }
  if (task.text.empty() && task.fields.empty())
    return {std::nullopt, "say what to book: {\"request\": \"Book a table at ...\"}"};
  return {std::move(task), "", dry_run};
}

}  // namespace concierge::host
