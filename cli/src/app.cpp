#include "app.hpp"

#include <istream>
#include <ostream>

#include <nlohmann/json.hpp>

#include "render.hpp"

namespace concierge::cli {
namespace {

std::string trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const size_t last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string lower(std::string text) {
  for (auto& c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

std::string seconds_text(double seconds) {
  std::string text = std::to_string(seconds);
  text.erase(text.find_last_not_of('0') + 1);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

// Prints what went wrong with the transport and returns the exit status; nullopt when the request got an answer.
// A 401 is one too: nothing the command does can succeed without the right token.
std::optional<int> transport_problem(const ApiReply& reply, const Options& options, Console& console) {
  switch (reply.failure) {
    case ApiReply::Failure::none:
      if (reply.status != 401) return std::nullopt;
      if (options.token.empty()) {
        console.err << "The concierge daemon at " << options.server << " needs its API token and none was found: "
                    << "pass --token or set CONCIERGE_API_TOKEN";
        if (!options.token_file.empty()) console.err << " (no token in " << options.token_file << ")";
        console.err << ".\n";
      } else {
        console.err << "The concierge daemon at " << options.server << " refused the API token from "
                    << options.token_source << ": " << error_text(reply.body) << "\n";
      }
      return kExitUsage;
    case ApiReply::Failure::unreachable: console.err << unreachable_message(options.server) << "\n"; return kExitUsage;
    case ApiReply::Failure::timeout:
      console.err << "The concierge daemon at " << options.server << " did not answer in time.\n";
      return kExitUsage;
    case ApiReply::Failure::interrupted: return kExitInterrupted;
    case ApiReply::Failure::other:
      console.err << "Cannot talk to the concierge daemon at " << options.server << ": " << reply.detail << "\n";
      return kExitUsage;
  }
  return kExitUsage;
}

std::optional<nlohmann::json> parse_body(const ApiReply& reply, const Options& options, Console& console) {
  auto parsed = nlohmann::json::parse(reply.body, nullptr, false);
  if (parsed.is_discarded()) {
    console.err << "The server at " << options.server << " answered HTTP " << reply.status
                << " with something that is not JSON; is it the concierge daemon?\n";
    return std::nullopt;
  }
  return parsed;
}

int unexpected_status(const ApiReply& reply, const std::string& what, Console& console) {
  console.err << what << " failed (HTTP " << reply.status << "): " << error_text(reply.body) << "\n";
  return kExitFailed;
}

int hang_up(const Options& options, const std::string& call_id, Api& api, Console& console) {
  const ApiReply reply = api.request("POST", "/calls/" + call_id + "/hangup", "", false);
  if (auto code = transport_problem(reply, options, console)) return *code;
  if (reply.status == 404) {
    console.err << "No call " << call_id << " at " << options.server << ".\n";
    return kExitFailed;
  }
  if (reply.status / 100 != 2) return unexpected_status(reply, "Hanging up", console);
  if (options.json) console.out << reply.body << "\n";
  else console.out << "Hung up call " << call_id << ".\n";
  return kExitOk;
}

// Follows a created call until it is over (or the user stops waiting).
int follow_call(const Options& options, const std::string& call_id, Api& api, Console& console) {
  using clock = std::chrono::steady_clock;
  const auto started = console.now();
  const auto deadline = options.timeout_seconds
                            ? started + std::chrono::duration_cast<clock::duration>(
                                            std::chrono::duration<double>(*options.timeout_seconds))
                            : clock::time_point::max();
  ProgressTracker tracker;
  int polls_since_terminal_status = 0;
  while (true) {
    if (console.interrupted()) {
      if (!options.json) console.out << "\nInterrupted: hanging up call " << call_id << "...\n";
      hang_up(options, call_id, api, console);
      return kExitInterrupted;
    }
    const ApiReply reply = api.request("GET", "/calls/" + call_id + "/status", "", true);
    if (reply.failure == ApiReply::Failure::interrupted) continue;  // hang up at the top of the loop
    if (reply.failure == ApiReply::Failure::timeout) {
      console.sleep(kPollInterval);  // a slow answer is no reason to give up on a running call
      continue;
    }
    if (reply.failure != ApiReply::Failure::none || reply.status == 401) {
      transport_problem(reply, options, console);
      console.err << "Call " << call_id << " may still be running; check it with: concierge status " << call_id
                  << "\n";
      return kExitUsage;
    }
    if (reply.status == 404) {
      console.err << "The daemon no longer knows call " << call_id << ".\n";
      return kExitFailed;
    }
    if (reply.status != 200) return unexpected_status(reply, "Reading the call's status", console);
    const auto record = parse_body(reply, options, console);
    if (!record) return kExitUsage;
    if (!options.json)
      for (const auto& line : tracker.update(*record)) console.out << line << "\n" << std::flush;
    // The result is set with the terminal status; allow the daemon a few polls if it ever lags behind.
    const bool has_result = record->contains("result") && (*record)["result"].is_object();
    if (call_is_over(*record) && (has_result || ++polls_since_terminal_status > 4)) {
      if (options.json) console.out << record->dump(2) << "\n";
      else console.out << "\n" << result_block(*record) << std::flush;
      return booking_succeeded(*record) ? kExitOk : kExitFailed;
    }
    if (console.now() >= deadline) {
      console.err << "Stopped waiting after " << seconds_text(*options.timeout_seconds) << " s; call " << call_id
                  << " goes on. Follow it with: concierge status " << call_id
                  << " (or end it: concierge hangup " << call_id << ")\n";
      return kExitFailed;
    }
    console.sleep(kPollInterval);
  }
}

int show_health(const Options& options, Api& api, Console& console) {
  const ApiReply reply = api.request("GET", "/health", "", true);
  if (auto code = transport_problem(reply, options, console)) return *code;
  const auto body = parse_body(reply, options, console);
  if (!body) return kExitUsage;
  if (options.json) console.out << body->dump() << "\n";
  if (reply.status != 200 || body->value("status", "") != "healthy") {
    if (!options.json)
      console.err << "The concierge daemon at " << options.server << " is not healthy (HTTP " << reply.status
                  << "): " << reply.body << "\n";
    return kExitFailed;
  }
  if (!options.json)
    console.out << "The concierge daemon at " << options.server << " is healthy (" << body->value("service", "?")
                << ").\n";
  return kExitOk;
}

int show_calls(const Options& options, Api& api, Console& console) {
  // The daemon lists its calls a page at a time (newest first); follow next_cursor to the end and show them all.
  nlohmann::json all;
  std::string path = "/calls?limit=500";
  for (;;) {
    const ApiReply reply = api.request("GET", path, "", true);
    if (auto code = transport_problem(reply, options, console)) return *code;
    if (reply.status != 200) return unexpected_status(reply, "Listing calls", console);
    auto page = parse_body(reply, options, console);
    if (!page) return kExitUsage;
    std::string next;
    if (auto cursor = page->find("next_cursor"); cursor != page->end() && cursor->is_string()) next = *cursor;
    if (all.is_null()) {
      all = std::move(*page);
    } else if (auto calls = page->find("calls"); calls != page->end() && calls->is_array()) {
      for (auto& call : *calls) all["calls"].push_back(std::move(call));
    }
    if (next.empty()) break;
    path = "/calls?limit=500&cursor=" + next;
  }
  if (all.is_object()) all.erase("next_cursor");
  console.out << (options.json ? all.dump(2) + "\n" : calls_table(all));
  return kExitOk;
}

int show_status(const Options& options, Api& api, Console& console) {
  const ApiReply reply = api.request("GET", "/calls/" + options.call_id + "/status", "", true);
  if (auto code = transport_problem(reply, options, console)) return *code;
  if (reply.status == 404) {
    console.err << "No call " << options.call_id << " at " << options.server << ".\n";
    return kExitFailed;
  }
  if (reply.status != 200) return unexpected_status(reply, "Reading the call's status", console);
  const auto body = parse_body(reply, options, console);
  if (!body) return kExitUsage;
  console.out << (options.json ? body->dump(2) + "\n" : record_text(*body));
  return kExitOk;
}

int interactive(const Options& options, Api& api, Console& console) {
  const ApiReply health = api.request("GET", "/health", "", true);
  if (auto code = transport_problem(health, options, console)) return *code;
  console.out << "AI Concierge: tell me what to book and I will phone the restaurant.\n"
              << "Daemon: " << options.server << "\n"
              << "Example: Book a table at Demo Restaurant for 4 people tomorrow at 7pm\n"
              << "Type \"quit\" to leave.\n";
  while (true) {
    console.out << "\nYour request: " << std::flush;
    std::string line;
    if (!std::getline(console.in, line)) {
      console.out << "\n";
      return console.interrupted() ? kExitInterrupted : kExitOk;
    }
    line = trim(line);
    if (line.empty()) continue;
    const std::string word = lower(line);
    if (word == "quit" || word == "exit" || word == "q") {
      console.out << "Goodbye.\n";
      return kExitOk;
    }
    if (book(options, line, true, api, console) == kExitInterrupted) return kExitInterrupted;
  }
}

}  // namespace

std::string unreachable_message(const std::string& server) {
  return "Cannot reach the concierge daemon at " + server + " \xE2\x80\x94 start it with: concierge-host [--config FILE]";
}

int book(const Options& options, const std::string& request, bool can_ask, Api& api, Console& console) {
  std::string text = request;
  nlohmann::json created;
  // Read back before dialing: with a person at the terminal (and no --yes), a dry run shows the plan in words and
  // the call is placed only after a "yes". Scripts (no terminal, or --yes) dial at once, as before.
  const bool read_back = can_ask && !options.yes && !options.json;
  bool confirmed = false;
  while (true) {
    if (console.interrupted()) return kExitInterrupted;
    nlohmann::json payload = {{"request", text}};
    if (!options.time_zone.empty()) payload["fields"] = {{"time_zone", options.time_zone}};
    if (read_back && !confirmed) payload["dry_run"] = true;
    const ApiReply reply = api.request("POST", "/calls", payload.dump(), true);
    if (auto code = transport_problem(reply, options, console)) return *code;
    if (reply.status == 200 && read_back && !confirmed) {
      const auto body = parse_body(reply, options, console);
      if (!body) return kExitUsage;
      if (body->value("dry_run", false)) {
        std::string words;
        if (const auto it = body->find("reading"); it != body->end() && it->is_object())
          words = it->value("in_words", "");
        if (words.empty()) words = body->value("summary", "");
        const std::string number = body->value("phone_number", "");
        console.out << "Plan: " << words << (number.empty() ? "" : " (" + number + ")") << "\n"
                    << "Call now? [y = call, n = cancel, or type a change]: " << std::flush;
        std::string answer;
        if (!std::getline(console.in, answer)) {
          console.out << "\n";
          return console.interrupted() ? kExitInterrupted : kExitFailed;
        }
        answer = trim(answer);
        const std::string word = lower(answer);
        if (word == "y" || word == "yes" || word == "ok" || word == "call") {
          confirmed = true;
          continue;
        }
        if (answer.empty() || word == "n" || word == "no" || word == "quit" || word == "cancel" || word == "q") {
          console.out << "Nothing booked.\n";
          return kExitFailed;
        }
        // A change: it corrects what was said before ("8pm", "for 3"), and the plan is read back again.
        text = combine_answer(text, "", answer, /*correction=*/true);
        continue;
      }
    }
    if (reply.status == 201 || reply.status == 200) {
      const auto body = parse_body(reply, options, console);
      if (!body) return kExitUsage;
      created = *body;
      break;
    }
    if (reply.status == 422) {
      const auto body = nlohmann::json::parse(reply.body, nullptr, false);
      std::string question = body.is_object() ? body.value("question", "") : "";
      if (question.empty()) question = error_text(reply.body);
      // An answer to a doubt ("7 or 8?") corrects what was said; an answer to a missing field adds to it.
      const bool doubtful = body.is_object() && body.contains("doubtful") && body["doubtful"].is_array() &&
                            !body["doubtful"].empty();
      if (options.json) {
        console.out << reply.body << "\n";
        return kExitFailed;
      }
      if (!can_ask) {
        console.err << "The concierge needs more details: " << question << "\n";
        return kExitFailed;
      }
      console.out << "Concierge: " << question << "\nYour answer: " << std::flush;
      std::string answer;
      if (!std::getline(console.in, answer)) {
        console.out << "\n";
        return console.interrupted() ? kExitInterrupted : kExitFailed;
      }
      answer = trim(answer);
      const std::string word = lower(answer);
      if (answer.empty() || word == "quit" || word == "exit" || word == "cancel" || word == "q") {
        console.out << "Nothing booked.\n";
        return kExitFailed;
      }
      // The agent reads the whole request again, with the answer as one more sentence.
      text = combine_answer(text, question, answer, doubtful);
      continue;
    }
    if (reply.status == 503) {
      console.err << "The concierge daemon is at capacity: " << error_text(reply.body) << "\n";
      return kExitFailed;
    }
    return unexpected_status(reply, "Booking", console);
  }
  const std::string call_id = created.value("call_id", "");
  if (call_id.empty()) {
    console.err << "The daemon accepted the booking but sent no call id: " << created.dump() << "\n";
    return kExitUsage;
  }
  if (!options.json) {
    const std::string summary = created.value("summary", "");
    if (!summary.empty()) console.out << "Booking: " << summary << "\n";
    console.out << "Call " << call_id << " queued.\n" << std::flush;
  }
  return follow_call(options, call_id, api, console);
}

int run(const Options& options, Api& api, Console& console) {
  switch (options.command) {
    case Command::help: console.out << usage_text(); return kExitOk;
    case Command::version: console.out << "concierge " << CONCIERGE_CLI_VERSION << "\n"; return kExitOk;
    case Command::health: return show_health(options, api, console);
    case Command::calls: return show_calls(options, api, console);
    case Command::status: return show_status(options, api, console);
    case Command::hangup: return hang_up(options, options.call_id, api, console);
    case Command::book: return book(options, options.request, console.interactive_input, api, console);
    case Command::interactive: return interactive(options, api, console);
  }
  return kExitUsage;
}

}  // namespace concierge::cli
