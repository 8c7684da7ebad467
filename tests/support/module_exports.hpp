#pragma once
// What a plugin module exports of its own, read with binutils' nm: the check behind "a plugin shows our entry point
// and nothing else of ours" (the C boundary's rule). Header-only; a test passes its CMAKE_NM.
#include <cstdio>
#include <string>
#include <vector>

namespace concierge::testing {

// A C++ symbol from the standard library's headers (a template's static, typeinfo of a std type): mangled, and
// naming nothing of ours or of the libraries a plugin must not expose (Boost, yaml-cpp, nlohmann).
inline bool is_standard_library(const std::string& name) {
  if (name.rfind("_Z", 0) != 0) return false;
  for (const char* ours : {"concierge", "boost", "YAML", "nlohmann"})
    if (name.find(ours) != std::string::npos) return false;
  return true;
}

// Defined dynamic symbols of `module` that are not the standard library's: what the module exports of its own.
inline std::vector<std::string> own_exports(const std::string& nm, const std::string& module) {
  std::vector<std::string> names;
  FILE* out = popen((nm + " -D --defined-only '" + module + "'").c_str(), "r");
  if (!out) return names;
  char line[4096];
  while (fgets(line, sizeof line, out)) {
    std::string text(line);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    const auto first = text.find(' '), second = text.find(' ', first + 1);
    if (second == std::string::npos) continue;
    const std::string name = text.substr(second + 1);
    if (!is_standard_library(name)) names.push_back(name);
  }
  pclose(out);
  return names;
}

}  // namespace concierge::testing
