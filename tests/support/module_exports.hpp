#pragma once
// What a plugin module exports of its own, read with binutils' nm: the check behind "a plugin shows our entry point
// and nothing else of ours" (the C boundary's rule). Header-only; a test passes its CMAKE_NM (and links libdl).
#include <dlfcn.h>

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

// nm's lines for `module` with `flags` (e.g. "-D -C --undefined-only"), each "<address> <type> <name>" or
// "<type> <name>".
inline std::vector<std::string> nm_lines(const std::string& nm, const std::string& flags, const std::string& module) {
  std::vector<std::string> lines;
  FILE* out = popen((nm + " " + flags + " '" + module + "' 2>&1").c_str(), "r");
  if (!out) return lines;
  char line[8192];
  while (fgets(line, sizeof line, out)) lines.emplace_back(line);
  pclose(out);
  return lines;
}

// What keeps `module` from being a plugin on the C boundary, one problem a line (none: it is one). It must load
// (dlopen), export concierge_plugin_entry and nothing else of ours (not the C++ boundary's concierge_plugin_descriptor
// or concierge_plugin_create), have no Boost code inside (every symbol, hidden ones of .symtab too), and call nothing
// of the SDK's Asio-based libconcierge_net or of OpenSSL's TLS (SSL_*): its event loop, timers, HTTP and WebSocket
// clients are the host's. (libcrypto for a signature, as Twilio's HMAC, is allowed.)
inline std::vector<std::string> c_boundary_problems(const std::string& nm, const std::string& module) {
  std::vector<std::string> problems;
  if (void* handle = dlopen(module.c_str(), RTLD_NOW | RTLD_LOCAL)) {
    if (!dlsym(handle, "concierge_plugin_entry")) problems.push_back("no concierge_plugin_entry");
    for (const char* old : {"concierge_plugin_descriptor", "concierge_plugin_create"})
      if (dlsym(handle, old)) problems.push_back(std::string("the C++ boundary's ") + old + " is still exported");
    dlclose(handle);
  } else {
    problems.push_back(std::string("dlopen: ") + dlerror());
  }
  for (const auto& name : own_exports(nm, module))
    if (name != "concierge_plugin_entry") problems.push_back("exports " + name);
  const auto all = nm_lines(nm, "-C", module);
  if (all.size() < 100) problems.push_back("no symbol table read: " + std::to_string(all.size()) + " lines");
  for (const auto& line : all)
    if (line.find("boost") != std::string::npos) problems.push_back("Boost inside: " + line);
  const auto undefined = nm_lines(nm, "-D -C --undefined-only", module);
  if (undefined.empty()) problems.push_back("no undefined symbol read");
  for (const auto& line : undefined) {
    const auto name = line.substr(line.find_last_of(' ') + 1);
    if (line.find("concierge::net::") != std::string::npos || name.rfind("SSL_", 0) == 0)
      problems.push_back("calls " + line);
  }
  return problems;
}

}  // namespace concierge::testing
