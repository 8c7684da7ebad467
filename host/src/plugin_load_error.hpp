#pragma once
// Why a plugin was not loaded: one line naming the file (plugin_loader.hpp says the forms). Its own header so that
// the C boundary's adapters (c_plugin.cpp), which the loader calls, need not include the loader back.
#include <stdexcept>

namespace concierge::host {

class PluginLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace concierge::host
