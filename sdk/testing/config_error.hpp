#pragma once
// The words of the ConfigError that `parse()` throws, "" when it throws none: for the tests of a plugin's config
// block (each names the key path and says what is wrong). Header-only.
#include <string>

#include "concierge/config.hpp"

namespace concierge::testing {

template <class Parse>
std::string config_error_of(Parse&& parse) {
  try {
    parse();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace concierge::testing
