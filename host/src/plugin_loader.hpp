#pragma once
// Loads plugins (MODULE .so files built against the SDK) by name from a list of folders (the first that has
// <name>.so wins), or from a given file, with Boost.DLL.
//
// Two boundaries, side by side while the plugins move: a library exporting concierge_plugin_entry is a C plugin
// (concierge/abi.h; c_plugin.hpp checks its descriptor and adapts its tables), any other must have the C++ boundary's
// exports (concierge/plugin.hpp).
// Order of trust: the file must exist and be an ELF shared object; it is opened with RTLD_NOW | RTLD_LOCAL (an
// unresolved symbol fails here, not mid-call); concierge_plugin_descriptor() is read and checked (magic, SDK major
// equal, SDK minor not newer than the host's, the descriptor's size and ABI tag for the fields its minor defines,
// kind, name) before concierge_plugin_create is even looked up. The descriptor is copied field by field as far as
// the plugin's minor defines it, never further (version.hpp has the rule).
// Every refusal is a PluginLoadError whose what() is one line naming the file.
//
// Lifetime (Boost.DLL tutorial 8): each pointer in LoadedPlugin::instance is an aliasing shared_ptr whose control
// block holds the library, so the .so stays mapped until the last of them is gone. Objects the plugin makes later
// (sessions) must be bound the same way: LoadedPlugin::bind() does it.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "concierge/plugin.hpp"
#include "plugin_load_error.hpp"

namespace concierge::host {

struct HostConfig;

struct LoadedPlugin {
  std::string name, version, description;
  PluginKind kind = PluginKind::telephony;
  std::uint32_t sdk_major = 0, sdk_minor = 0;
  std::string abi;  // the descriptor's ABI tag (equal to the host's); "" for an SDK 1.0 plugin, which has none
  // A plugin of the C boundary (concierge/abi.h) and the C ABI version it was built for. Its objects are the host's
  // adapters over the plugin's C tables, so sdk_major/sdk_minor are the host's own.
  bool c_abi = false;
  std::uint32_t c_abi_major = 0, c_abi_minor = 0;
  // Whether the plugin's SDK has what minor `minor` added (version.hpp): check before using any such addition.
  bool has_sdk_minor(std::uint32_t minor) const { return sdk_minor >= minor; }
  std::filesystem::path file;
  PluginInstance instance;
  // Keeps the shared library loaded while held; what bind() attaches to objects.
  std::shared_ptr<const void> library;

  // `object` (made by this plugin) in a shared_ptr that also keeps the library loaded; destroys `object` first.
  template <class T>
  std::shared_ptr<T> bind(std::shared_ptr<T> object) const {
    if (!object) return nullptr;
    struct Holder {
      std::shared_ptr<const void> library;  // declared first: destroyed last
      std::shared_ptr<T> object;
    };
    auto holder = std::make_shared<Holder>(Holder{library, std::move(object)});
    T* raw = holder->object.get();
    return std::shared_ptr<T>(std::move(holder), raw);
  }
};

// One .so file found in the plugin folders, as `concierge-host --list-plugins` shows it: what its descriptor says,
// or why it is refused. Nothing found is left out.
struct PluginListing {
  std::filesystem::path file;           // the .so, or the folder when `error` is about the folder itself
  std::optional<LoadedPlugin> plugin;   // its descriptor's contents (instance empty) when it passed every check
  std::string error;                    // otherwise the one-line reason
  std::filesystem::path shadowed_by;    // a file of the same name in an earlier folder, which is the one loaded
};

class PluginLoader {
 public:
  explicit PluginLoader(std::vector<std::filesystem::path> dirs);
  explicit PluginLoader(std::filesystem::path dir) : PluginLoader(std::vector<std::filesystem::path>{std::move(dir)}) {}

  const std::vector<std::filesystem::path>& dirs() const { return dirs_; }

  // The plugin names (file names without ".so") in all the folders, sorted, each once; missing folders add none.
  std::vector<std::string> available() const;

  // Where <name>.so is: the first folder that has it. Throws PluginLoadError naming the folders and what they hold.
  std::filesystem::path find(const std::string& name) const;

  // Loads <name>.so (found with find()), checks it and calls its create() with `config`.
  // A ConfigError thrown by create() becomes a PluginLoadError reading
  // "<config_file>: <config_key_path>.<key> (line N): <message>" (the form of every config error, so the user sees
  // which line to edit); the host passes config_key_path "plugins.telephony.config" and its config file.
  LoadedPlugin load(const std::string& name, PluginKind expected_kind, const PluginContext& ctx,
                    const YAML::Node& config, const std::string& config_key_path = "",
                    const std::filesystem::path& config_file = {}) const;
  // The same from a given file (`plugin: ./build/my-agent.so`); its descriptor must name it <file stem>.
  LoadedPlugin load_file(const std::filesystem::path& file, PluginKind expected_kind, const PluginContext& ctx,
                         const YAML::Node& config, const std::string& config_key_path = "",
                         const std::filesystem::path& config_file = {}) const;

  // Only the checks (descriptor, versions, kind): what `concierge-host --list-plugins` can show without running
  // any plugin code beyond its descriptor. instance is empty; library is held.
  LoadedPlugin inspect(const std::string& name) const;
  LoadedPlugin inspect_file(const std::filesystem::path& file) const;

  // Every .so in every folder, folder by folder in order and sorted by name within one, each inspected; a missing
  // folder is a listing of its own with the error.
  std::vector<PluginListing> list() const;

 private:
  std::vector<std::filesystem::path> dirs_;
};

// The listing as `concierge-host --list-plugins` prints it, a line per file:
//   "agent        reservation-agent  1.0.0  SDK 1.1  /usr/lib/concierge/plugins/reservation-agent.so"
//   "refused      /x/old.so: built for SDK 2.0, this host has SDK 1.1; rebuild the plugin"
std::string format_plugin_listing(const std::vector<PluginListing>& listing);

// The three plugins of a validated HostConfig, in the order the daemon starts them.
struct LoadedPlugins {
  LoadedPlugin telephony, voice_model, agent;
};
// Loads the three with their config blocks, each from its `plugin:` path or found in config.plugin_dirs;
// `make_context` gives each its PluginContext (a logger named after the plugin). `loaded`, when given, is called
// with each plugin as soon as it is loaded (the daemon keeps its library and logs it there, so a plugin loaded before
// a later one fails stays mapped as long as the daemon needs). Throws PluginLoadError.
LoadedPlugins load_configured_plugins(const HostConfig& config,
                                      const std::function<PluginContext(const std::string& plugin_name)>& make_context,
                                      const std::function<void(const LoadedPlugin&)>& loaded = {});

}  // namespace concierge::host
