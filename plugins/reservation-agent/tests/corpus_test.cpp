// The corpora in tests/corpus/: every request phrasing through plan(), every confirmation utterance through
// find_confirmation_code(), each compared with the reading written beside it. Prints right / asked / wrong counts
// and lists every case that was not right. Passes only with wrong = 0 and, for requests, questions on at most 10%
// of the complete ones. "Today" is pinned by the corpus' @now lines, never the machine's date.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "concierge/speech/spoken.hpp"
#include "request_planner.hpp"
#include "reservation_config.hpp"

#ifndef CONCIERGE_CORPUS_DIR
#error "CONCIERGE_CORPUS_DIR must name plugins/reservation-agent/tests/corpus"
#endif

namespace concierge::reservation {
namespace {

namespace chr = std::chrono;

constexpr const char* kDirectoryYaml = R"(
restaurants:
  - name: Demo Restaurant
    phone: "+1234567890"
    aliases: [demo]
  - name: Luigi's Trattoria
    phone: "+1 212 555 0101"
    aliases: ["Luigi's"]
  - name: The Golden Dragon
    phone: "+1 212 555 0102"
    aliases: [golden dragon]
  - name: Golden Lotus
    phone: "+1 212 555 0103"
  - name: Sushi Zen
    phone: "+1 212 555 0104"
    aliases: [zen]
  - name: Chez Marie
    phone: "+44 20 7946 0105"
customer:
  name: Alex Morgan
  phone: "+1 212 555 0100"
time_zone: "UTC-05:00"
)";
constexpr int kZoneOffsetMinutes = -5 * 60;

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t from = 0;
  while (from < s.size() && std::isspace(static_cast<unsigned char>(s[from]))) ++from;
  return s.substr(from);
}

struct Line {
  int number = 0;
  std::string text;
  std::string expected;
};

// The corpus file's cases and directives, in order ("@now ..." lines come back with an empty expected).
std::vector<Line> read_corpus(const std::string& name) {
  std::ifstream in(std::string(CONCIERGE_CORPUS_DIR) + "/" + name);
  EXPECT_TRUE(in) << "cannot open corpus " << name;
  std::vector<Line> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '@') {
      out.push_back(Line{number, line, ""});
      continue;
    }
    const auto arrow = line.rfind("=>");
    EXPECT_NE(arrow, std::string::npos) << name << ":" << number << " has no \"=>\"";
    if (arrow == std::string::npos) continue;
    out.push_back(Line{number, trim(line.substr(0, arrow)), trim(line.substr(arrow + 2))});
  }
  return out;
}

// "2026-12-01T15:00" in the restaurants' zone -> the instant.
chr::system_clock::time_point local_instant(const std::string& text) {
  int y, mo, d, h, mi;
  char dash1, dash2, t, colon;
  std::istringstream in(text);
  in >> y >> dash1 >> mo >> dash2 >> d >> t >> h >> colon >> mi;
  EXPECT_FALSE(in.fail()) << "bad @now " << text;
  const chr::sys_days day{chr::year{y} / chr::month{static_cast<unsigned>(mo)} / chr::day{static_cast<unsigned>(d)}};
  return day + chr::hours{h} + chr::minutes{mi} - chr::minutes{kZoneOffsetMinutes};
}

struct Reading {
  std::string restaurant, date, time;
  int party = 0;
};

Reading parse_reading(const std::string& expected, int line) {
  Reading r;
  std::istringstream in(expected);
  std::string part;
  while (std::getline(in, part, ';')) {
    part = trim(part);
    const auto eq = part.find('=');
    EXPECT_NE(eq, std::string::npos) << "line " << line << ": bad expectation " << part;
    if (eq == std::string::npos) continue;
    const std::string key = part.substr(0, eq), value = trim(part.substr(eq + 1));
    if (key == "r") r.restaurant = value;
    else if (key == "d") r.date = value;
    else if (key == "t") r.time = value;
    else if (key == "p") r.party = std::stoi(value);
    else ADD_FAILURE() << "line " << line << ": unknown key " << key;
  }
  EXPECT_TRUE(!r.restaurant.empty() && !r.date.empty() && !r.time.empty() && r.party > 0)
      << "line " << line << ": a reading needs r, d, t and p";
  return r;
}

// The fields a not-ready plan asks about: its "questions" list when it has one, else the fields its partial
// reading lacks.
std::set<std::string> asked_fields(const TaskPlan& plan) {
  std::set<std::string> out;
  if (const auto it = plan.reading.find("questions"); it != plan.reading.end() && it->is_array()) {
    for (const auto& q : *it)
      if (q.contains("field") && q["field"].is_string()) out.insert(q["field"].get<std::string>());
    return out;
  }
  for (const char* field : {"restaurant", "date", "time", "party_size"})
    if (!plan.details.contains(field)) out.insert(field);
  return out;
}

std::string describe(const TaskPlan& plan) {
  if (!plan.ready) return "asked: " + plan.question;
  return "read: " + plan.details.value("restaurant", std::string()) + "; " + plan.details.value("date", std::string()) +
         "; " + plan.details.value("time", std::string()) + "; " + std::to_string(plan.details.value("party_size", 0));
}

std::string config_yaml(const std::string& date_order) {
  return std::string(kDirectoryYaml) + "date_order: " + date_order + "\n";
}

TEST(RequestCorpus, ReadRightOrAskedNeverWrong) {
  const auto lines = read_corpus("requests.txt");
  chr::system_clock::time_point now = local_instant("2026-12-01T15:00");
  std::string date_order = "ask";
  auto make_planner = [&] {
    return RequestPlanner(parse_reservation_config(YAML::Load(config_yaml(date_order)), "plugins.agent.config"),
                          [&now] { return now; });
  };
  RequestPlanner planner = make_planner();
  int complete = 0, right = 0, asked = 0, wrong = 0, must_ask = 0, asked_right = 0;
  std::ostringstream report;
  for (const Line& line : lines) {
    if (line.expected.empty()) {
      std::istringstream in(line.text);
      std::string directive, value;
      in >> directive >> value;
      if (directive == "@now") now = local_instant(value);
      else if (directive == "@date_order") date_order = value;
      else ADD_FAILURE() << "line " << line.number << ": unknown directive " << directive;
      planner = make_planner();
      continue;
    }
    const TaskPlan plan = planner.plan(TaskRequest{line.text, nlohmann::json::object()});
    const std::string where = "requests.txt:" + std::to_string(line.number) + ": " + line.text + "\n    ";
    if (line.expected.rfind("ask:", 0) == 0) {
      ++must_ask;
      std::set<std::string> wanted;
      std::istringstream in(line.expected.substr(4));
      std::string field;
      while (std::getline(in, field, ',')) wanted.insert(trim(field));
      const auto got = asked_fields(plan);
      const bool hit = !plan.ready && std::any_of(wanted.begin(), wanted.end(), [&](const std::string& f) {
        return got.count(f) > 0;
      });
      if (hit) {
        ++asked_right;
      } else {
        ++wrong;
        report << "WRONG " << where << "expected a question about " << line.expected.substr(4) << ", "
               << describe(plan) << "\n";
      }
      continue;
    }
    ++complete;
    const Reading want = parse_reading(line.expected, line.number);
    if (!plan.ready) {
      // A question is not a mistake, unless the partial reading it shows is already wrong.
      const auto& d = plan.details;
      const bool partial_wrong =
          (d.contains("restaurant") && d["restaurant"] != want.restaurant) || (d.contains("date") && d["date"] != want.date) ||
          (d.contains("time") && d["time"] != want.time) || (d.contains("party_size") && d["party_size"] != want.party);
      if (partial_wrong) {
        ++wrong;
        report << "WRONG " << where << "expected " << line.expected << ", " << describe(plan)
               << " with a wrong partial reading " << d.dump() << "\n";
      } else {
        ++asked;
        report << "ASKED " << where << "expected " << line.expected << ", " << describe(plan) << "\n";
      }
      continue;
    }
    const auto& d = plan.details;
    if (d.value("restaurant", std::string()) == want.restaurant && d.value("date", std::string()) == want.date &&
        d.value("time", std::string()) == want.time && d.value("party_size", 0) == want.party) {
      ++right;
    } else {
      ++wrong;
      report << "WRONG " << where << "expected " << line.expected << ", " << describe(plan) << "\n";
    }
  }
  std::cout << report.str();
  std::cout << "request corpus: " << complete << " complete requests: " << right << " right, " << asked
            << " asked back, " << wrong - (must_ask - asked_right) << " wrong; " << must_ask
            << " that must be asked: " << asked_right << " asked; wrong in all: " << wrong << "\n";
  EXPECT_GE(complete + must_ask, 300);
  EXPECT_EQ(wrong, 0);
  EXPECT_LE(asked * 10, complete) << "more than 10% of complete requests were asked back";
}

TEST(ConfirmationCorpus, FoundRightNeverWrong) {
  const auto lines = read_corpus("confirmations.txt");
  int right = 0, missed = 0, wrong = 0, with_number = 0;
  std::ostringstream report;
  for (const Line& line : lines) {
    ASSERT_FALSE(line.expected.empty()) << "confirmations.txt has no directives";
    // "asked: ..." is the answer right after the agent asked for the number (read_confirmation_answer).
    constexpr std::string_view kAsked = "asked: ";
    const bool asked = line.text.rfind(kAsked, 0) == 0;
    std::optional<std::string> code;
    if (asked) {
      if (auto reading = read_confirmation_answer(std::string_view(line.text).substr(kAsked.size())))
        code = reading->code;
    } else {
      code = find_confirmation_code(line.text);
    }
    const std::string where = "confirmations.txt:" + std::to_string(line.number) + ": " + line.text + "\n    ";
    if (line.expected == "none") {
      if (code) {
        ++wrong;
        report << "WRONG " << where << "took " << *code << " where there is none\n";
      } else {
        ++right;
      }
      continue;
    }
    ++with_number;
    if (!code) {
      ++missed;
      report << "MISSED " << where << "expected " << line.expected << "\n";
    } else if (*code != line.expected) {
      ++wrong;
      report << "WRONG " << where << "expected " << line.expected << ", took " << *code << "\n";
    } else {
      ++right;
    }
  }
  std::cout << report.str();
  std::cout << "confirmation corpus: " << lines.size() << " utterances (" << with_number << " with a number): "
            << right << " right, " << missed << " missed, " << wrong << " wrong\n";
  EXPECT_GE(lines.size(), 200u);
  EXPECT_EQ(wrong, 0);
  EXPECT_LE(missed * 10, with_number) << "more than 10% of the confirmation numbers were missed";
}

}  // namespace
}  // namespace concierge::reservation
