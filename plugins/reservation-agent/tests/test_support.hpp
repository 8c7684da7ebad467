#pragma once
// Shared fixtures: a directory of three restaurants and a fixed "today" (Tuesday 24 November 2026).
#include <cctype>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "reservation_config.hpp"

namespace concierge::reservation::testing {

inline const char* kDirectoryYaml = R"(
restaurants:
  - name: Demo Restaurant
    phone: "+1234567890"
    aliases: [demo]
  - name: Luigi's Trattoria
    phone: "+1 555 123 0001"
    aliases: ["Luigi's"]
  - name: The Golden Dragon
    phone: "+15551230002"
    aliases: [golden dragon]
customer:
  name: Alex Morgan
  phone: "+1 555 123 0000"
time_tolerance_minutes: 60
today: 2026-11-24
)";

// A readable, unique name for a table-driven case: "p07_Book_a_table_at_Demo_Restaurant_for".
inline std::string case_name(std::size_t index, std::string_view text) {
  std::string name = (index < 10 ? "p0" : "p") + std::to_string(index) + "_";
  for (char c : text.substr(0, 40)) {
    if (std::isalnum(static_cast<unsigned char>(c))) name.push_back(c);
    else if (name.back() != '_') name.push_back('_');
  }
  while (name.back() == '_') name.pop_back();
  return name;
}

inline ReservationConfig directory_config() {
  return parse_reservation_config(YAML::Load(kDirectoryYaml), "plugins.agent.config");
}

}  // namespace concierge::reservation::testing
