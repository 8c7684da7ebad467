#include "plugin_loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <boost/dll/shared_library.hpp>
#include <yaml-cpp/yaml.h>

#include "c_plugin.hpp"
#include "concierge/config.hpp"
#include "concierge/version.hpp"
#include "host_config.hpp"

namespace concierge::host {
namespace {

std::string version_text(std::uint32_t major, std::uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string hex(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

bool is_known_kind(PluginKind kind) {
  return kind == PluginKind::telephony || kind == PluginKind::voice_model || kind == PluginKind::agent;
}

// dlopen's own reason ("undefined symbol: x", "wrong ELF class") is worth showing; Boost.DLL's error_code is
// always "bad file descriptor" here, so it is not. dlerror() still holds the reason: Boost.DLL makes no other dl*
// call between the failed dlopen and its return on Linux.
std::string dlopen_reason(const std::filesystem::path& file) {
  const char* reason = dlerror();
  if (!reason) return "the dynamic loader refused it";
  std::string text(reason);
  const std::string prefix = file.string() + ": ";
  if (text.rfind(prefix, 0) == 0) text.erase(0, prefix.size());
  return text;
}

// Refuses what dlopen would misreport or, worse, accept: not ELF at all, an executable, an object file.
void check_elf_shared_object(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::array<unsigned char, 18> header{};
  in.read(reinterpret_cast<char*>(header.data()), header.size());
  if (in.gcount() < static_cast<std::streamsize>(header.size()) || header[0] != 0x7f || header[1] != 'E' ||
      header[2] != 'L' || header[3] != 'F')
    throw PluginLoadError(file.string() + ": is not a shared library (not an ELF file)");
  const bool little_endian = header[5] == 1;
  const unsigned type = little_endian ? header[16] | (header[17] << 8) : (header[16] << 8) | header[17];
  if (type != 3)  // ET_DYN
    throw PluginLoadError(file.string() + ": is not a shared library (ELF type " + std::to_string(type) +
                          "; plugins are built as MODULE libraries)");
}

struct OpenedLibrary {
  std::shared_ptr<boost::dll::shared_library> library;
  PluginDescriptor descriptor{};  // the fields of the plugin's minor; zero beyond
  // A plugin of the C boundary (concierge/abi.h): its checked descriptor. `descriptor` then holds only the magic,
  // the host's SDK version and the kind; the name, version and description are c_descriptor's.
  std::optional<c_abi::Descriptor> c_descriptor;
};

// How much of PluginDescriptor each minor defines (version.hpp's history).
constexpr std::size_t kDescriptorSize10 = offsetof(PluginDescriptor, size);
constexpr std::size_t kDescriptorSize11 = sizeof(PluginDescriptor);

// A Logger for a host that passes none (PluginContext::log is promised never null).
class DiscardingLogger final : public Logger {
 public:
  void write(LogLevel, std::string_view) override {}
  bool enabled(LogLevel) const override { return false; }
};

}  // namespace

PluginLoader::PluginLoader(std::vector<std::filesystem::path> dirs) : dirs_(std::move(dirs)) {}

std::vector<std::string> PluginLoader::available() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& dir : dirs_)
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const auto& path = it->path();
      if (path.extension() == ".so") names.push_back(path.stem().string());
    }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::filesystem::path PluginLoader::find(const std::string& name) const {
  std::error_code ec;
  for (const auto& dir : dirs_)
    if (std::filesystem::exists(dir / (name + ".so"), ec)) return dir / (name + ".so");
  std::string folders;
  bool any_exists = false;
  for (const auto& dir : dirs_) {
    folders += (folders.empty() ? "" : ", ") + dir.string();
    if (std::filesystem::is_directory(dir, ec)) any_exists = true;
  }
  std::string there;
  for (const auto& other : available()) there += (there.empty() ? "" : ", ") + other;
  if (dirs_.size() == 1) {
    const std::filesystem::path file = dirs_.front() / (name + ".so");
    if (!any_exists)
      throw PluginLoadError(file.string() + ": no such plugin; the plugin folder " + folders +
                            " does not exist (set plugin_dir in the config)");
    throw PluginLoadError(file.string() + ": no such plugin; " + folders +
                          (there.empty() ? " has no plugins" : " has: " + there));
  }
  if (!any_exists)
    throw PluginLoadError(name + ".so: no such plugin; none of the plugin folders " + folders +
                          " exists (set plugin_dir in the config)");
  throw PluginLoadError(name + ".so: no such plugin in " + folders +
                        (there.empty() ? "; they have no plugins" : "; they have: " + there));
}

namespace {

// `name` is what the descriptor must declare: the file's stem.
OpenedLibrary open_and_check(const std::filesystem::path& file, const std::string& name) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) throw PluginLoadError(file.string() + ": no such file");
  if (!std::filesystem::is_regular_file(file, ec)) throw PluginLoadError(file.string() + ": is not a file");
  check_elf_shared_object(file);

  // Absolute: dlopen would look a bare "x.so" up in the library search path, not here.
  const std::filesystem::path absolute = std::filesystem::absolute(file, ec);
  OpenedLibrary opened;
  const PluginDescriptor* d = nullptr;
  boost::dll::fs::error_code load_error;
  dlerror();  // clear any stale reason
  opened.library = std::make_shared<boost::dll::shared_library>(
      boost::dll::fs::path(absolute.string()), load_error,
      boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  if (load_error || !opened.library->is_loaded())
    throw PluginLoadError(file.string() + ": cannot be loaded: " + dlopen_reason(absolute));

  // The C boundary first: a library exporting concierge_plugin_entry is a C plugin whatever else it exports.
  if (opened.library->has(CONCIERGE_PLUGIN_ENTRY_SYMBOL)) {
    const concierge_plugin* entry_descriptor = nullptr;
    try {
      auto& entry = opened.library->get<const concierge_plugin*(const concierge_host_api*)>(
          CONCIERGE_PLUGIN_ENTRY_SYMBOL);
      entry_descriptor = entry(&c_abi::host_api());
    } catch (const boost::dll::fs::system_error&) {
      throw PluginLoadError(file.string() + ": cannot read its " CONCIERGE_PLUGIN_ENTRY_SYMBOL);
    }
    c_abi::Descriptor checked;
    const std::string refusal = c_abi::check_descriptor(entry_descriptor, name, checked);
    if (!refusal.empty()) throw PluginLoadError(file.string() + ": " + refusal);
    opened.c_descriptor = std::move(checked);
    opened.descriptor.magic = kPluginMagic;
    opened.descriptor.sdk_major = kSdkVersionMajor;  // the adapters are host code: the host's SDK
    opened.descriptor.sdk_minor = kSdkVersionMinor;
    opened.descriptor.kind = opened.c_descriptor->kind;
    return opened;
  }

  try {
    if (!opened.library->has("concierge_plugin_descriptor"))
      throw PluginLoadError(file.string() + ": is not a concierge plugin (it exports neither "
                            CONCIERGE_PLUGIN_ENTRY_SYMBOL " nor concierge_plugin_descriptor)");
    auto& describe = opened.library->get<PluginDescriptorFunction>("concierge_plugin_descriptor");
    d = describe();
  } catch (const boost::dll::fs::system_error&) {
    throw PluginLoadError(file.string() + ": cannot read its concierge_plugin_descriptor");
  }
  if (!d) throw PluginLoadError(file.string() + ": concierge_plugin_descriptor() returned nothing");
  if (d->magic != kPluginMagic)
    throw PluginLoadError(file.string() + ": is not a concierge plugin (descriptor magic " + hex(d->magic) +
                          ", expected " + hex(kPluginMagic) + ")");
  const std::string built_for = version_text(d->sdk_major, d->sdk_minor);
  const std::string ours = version_text(kSdkVersionMajor, kSdkVersionMinor);
  if (d->sdk_major != kSdkVersionMajor)
    throw PluginLoadError(file.string() + ": built for SDK " + built_for + ", this host has SDK " + ours +
                          "; rebuild the plugin");
  if (d->sdk_minor > kSdkVersionMinor)
    throw PluginLoadError(file.string() + ": built for SDK " + built_for + ", this host has SDK " + ours +
                          "; upgrade the host or rebuild the plugin against SDK " + ours);
  // From here on only the copy: the fields of the plugin's minor, zero beyond.
  std::memcpy(&opened.descriptor, d, kDescriptorSize10);
  if (d->sdk_minor >= 1) {
    if (d->size < kDescriptorSize11)
      throw PluginLoadError(file.string() + ": its descriptor is " + std::to_string(d->size) + " bytes, SDK " +
                            built_for + " defines " + std::to_string(kDescriptorSize11) + "; rebuild the plugin");
    std::memcpy(&opened.descriptor, d, kDescriptorSize11);
    const std::string theirs = opened.descriptor.abi ? opened.descriptor.abi : "";
    if (theirs != CONCIERGE_ABI_TAG)
      throw PluginLoadError(file.string() + ": built with " + (theirs.empty() ? "no ABI tag" : theirs) +
                            ", this host with " CONCIERGE_ABI_TAG "; rebuild the plugin with the host's compiler and "
                            "libraries");
  }
  d = &opened.descriptor;
  if (!is_known_kind(d->kind))
    throw PluginLoadError(file.string() + ": declares an unknown plugin kind " +
                          std::to_string(static_cast<std::uint32_t>(d->kind)));
  if (!d->name || d->name != name)
    throw PluginLoadError(file.string() + ": declares the plugin name \"" + std::string(d->name ? d->name : "") +
                          "\"; a plugin's file must be <its name>.so");
  return opened;
}

LoadedPlugin describe(const OpenedLibrary& opened, const std::filesystem::path& file) {
  const PluginDescriptor* d = &opened.descriptor;
  LoadedPlugin plugin;
  plugin.name = d->name ? d->name : "";
  plugin.version = d->version ? d->version : "";
  plugin.description = d->description ? d->description : "";
  plugin.kind = d->kind;
  plugin.sdk_major = d->sdk_major;
  plugin.sdk_minor = d->sdk_minor;
  plugin.abi = d->sdk_minor >= 1 && d->abi ? d->abi : "";
  if (opened.c_descriptor) {
    plugin.name = opened.c_descriptor->name;
    plugin.version = opened.c_descriptor->version;
    plugin.description = opened.c_descriptor->description;
    plugin.c_abi = true;
    plugin.c_abi_major = opened.c_descriptor->abi_major;
    plugin.c_abi_minor = opened.c_descriptor->abi_minor;
  }
  plugin.file = file;
  plugin.library = opened.library;
  return plugin;
}

std::string config_error_text(const std::filesystem::path& config_file, const std::string& key_path, int line,
                              const std::string& message) {
  std::string text = config_file.empty() ? std::string() : config_file.string() + ": ";
  text += key_path;
  if (line > 0) text += " (line " + std::to_string(line) + ")";
  return text + ": " + message;
}

}  // namespace

LoadedPlugin PluginLoader::inspect(const std::string& name) const { return inspect_file(find(name)); }

LoadedPlugin PluginLoader::inspect_file(const std::filesystem::path& file) const {
  return describe(open_and_check(file, file.stem().string()), file);
}

LoadedPlugin PluginLoader::load(const std::string& name, PluginKind expected_kind, const PluginContext& ctx,
                                const YAML::Node& config, const std::string& config_key_path,
                                const std::filesystem::path& config_file) const {
  return load_file(find(name), expected_kind, ctx, config, config_key_path, config_file);
}

LoadedPlugin PluginLoader::load_file(const std::filesystem::path& file, PluginKind expected_kind,
                                     const PluginContext& ctx, const YAML::Node& config,
                                     const std::string& config_key_path,
                                     const std::filesystem::path& config_file) const {
  const std::string name = file.stem().string();
  const OpenedLibrary opened = open_and_check(file, name);
  if (opened.descriptor.kind != expected_kind)
    throw PluginLoadError(file.string() + ": is a " + std::string(to_string(opened.descriptor.kind)) +
                          " plugin, configured as " + std::string(to_string(expected_kind)));
  if (opened.c_descriptor) {
    LoadedPlugin plugin = describe(opened, file);
    PluginContext context = ctx;
    if (!context.log) context.log = std::make_shared<DiscardingLogger>();
    plugin.instance = c_abi::create_instance(*opened.c_descriptor, opened.library, context, config, config_key_path,
                                             config_file, file);
    if (!plugin.instance.telephony && !plugin.instance.voice_model && !plugin.instance.agent)
      throw PluginLoadError(file.string() + ": create() returned no " + std::string(to_string(expected_kind)) +
                            " object");
    return plugin;
  }
  if (!opened.library->has("concierge_plugin_create"))
    throw PluginLoadError(file.string() + ": exports no concierge_plugin_create");
  auto& create = opened.library->get<PluginCreateFunction>("concierge_plugin_create");

  LoadedPlugin plugin = describe(opened, file);
  PluginInstance made;
  // The library stays loaded through every handler below: an exception object thrown by plugin code may have its
  // destructor there.
  PluginContext context = ctx;
  if (!context.log) context.log = std::make_shared<DiscardingLogger>();
  context.config_key_path = config_key_path;
  try {
    made = create(context, config);
  } catch (const ConfigError& e) {
    std::string key = e.key_path();
    if (!config_key_path.empty() && key.rfind(config_key_path, 0) != 0)
      key = key.empty() ? config_key_path : config_key_path + "." + key;
    throw PluginLoadError(config_error_text(config_file, key, e.line(), e.message()));
  } catch (const YAML::Exception& e) {
    throw PluginLoadError(config_error_text(config_file, config_key_path.empty() ? name : config_key_path,
                                            e.mark.line >= 0 ? e.mark.line + 1 : 0, e.msg));
  } catch (const std::exception& e) {
    throw PluginLoadError(file.string() + ": create() failed: " + e.what());
  } catch (...) {
    throw PluginLoadError(file.string() + ": create() failed with an exception that is not a std::exception");
  }

  // Keep only the member the kind promises; anything else the plugin filled in is released now, while the library
  // is certainly loaded.
  switch (expected_kind) {
    case PluginKind::telephony:
      made.voice_model.reset();
      made.agent.reset();
      plugin.instance.telephony = plugin.bind(std::move(made.telephony));
      break;
    case PluginKind::voice_model:
      made.telephony.reset();
      made.agent.reset();
      plugin.instance.voice_model = plugin.bind(std::move(made.voice_model));
      break;
    case PluginKind::agent:
      made.telephony.reset();
      made.voice_model.reset();
      plugin.instance.agent = plugin.bind(std::move(made.agent));
      break;
  }
  if (!plugin.instance.telephony && !plugin.instance.voice_model && !plugin.instance.agent)
    throw PluginLoadError(file.string() + ": create() returned no " + std::string(to_string(expected_kind)) +
                          " object");
  return plugin;
}

std::vector<PluginListing> PluginLoader::list() const {
  std::vector<PluginListing> listing;
  std::vector<std::pair<std::string, std::filesystem::path>> seen;  // name, the file that wins
  for (const auto& dir : dirs_) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      listing.push_back({dir, std::nullopt, dir.string() + ": no such folder", {}});
      continue;
    }
    std::vector<std::filesystem::path> files;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".so") files.push_back(it->path());
    if (ec) listing.push_back({dir, std::nullopt, dir.string() + ": cannot be read: " + ec.message(), {}});
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      PluginListing entry;
      entry.file = file;
      const std::string name = file.stem().string();
      const auto earlier = std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == name; });
      if (earlier != seen.end()) entry.shadowed_by = earlier->second;
      else seen.emplace_back(name, file);
      try {
        entry.plugin = inspect_file(file);
        entry.plugin->library.reset();  // a listing holds no library open
      } catch (const std::exception& e) {
        entry.error = e.what();
      }
      listing.push_back(std::move(entry));
    }
  }
  return listing;
}

std::string format_plugin_listing(const std::vector<PluginListing>& listing) {
  std::size_t name_width = 4, version_width = 7;
  for (const auto& entry : listing)
    if (entry.plugin) {
      name_width = std::max(name_width, entry.plugin->name.size());
      version_width = std::max(version_width, entry.plugin->version.size());
    }
  auto pad = [](std::string text, std::size_t width) {
    if (text.size() < width) text.append(width - text.size(), ' ');
    return text;
  };
  std::string out;
  for (const auto& entry : listing) {
    std::string line;
    if (entry.plugin) {
      const LoadedPlugin& p = *entry.plugin;
      line = pad(std::string(to_string(p.kind)), 12) + " " + pad(p.name, name_width) + "  " +
             pad(p.version.empty() ? "-" : p.version, version_width) +
             (p.c_abi ? "  C ABI " + version_text(p.c_abi_major, p.c_abi_minor)
                      : "  SDK " + version_text(p.sdk_major, p.sdk_minor)) +
             "  " + entry.file.string();
    } else {
      line = pad("refused", 12) + " " + entry.error;
    }
    if (!entry.shadowed_by.empty()) line += " (not used: " + entry.shadowed_by.string() + " comes first)";
    out += line + "\n";
  }
  return out;
}

LoadedPlugins load_configured_plugins(const HostConfig& config,
                                      const std::function<PluginContext(const std::string& plugin_name)>& make_context,
                                      const std::function<void(const LoadedPlugin&)>& loaded) {
  const PluginLoader loader(config.plugin_dirs);
  auto one = [&](const HostConfig::PluginChoice& choice, PluginKind kind) {
    const std::filesystem::path file = choice.file.empty() ? loader.find(choice.plugin) : choice.file;
    LoadedPlugin plugin =
        loader.load_file(file, kind, make_context(choice.plugin), choice.config, choice.key_path, config.file);
    if (loaded) loaded(plugin);
    return plugin;
  };
  LoadedPlugins plugins;
  plugins.telephony = one(config.telephony, PluginKind::telephony);
  plugins.voice_model = one(config.voice_model, PluginKind::voice_model);
  plugins.agent = one(config.agent, PluginKind::agent);
  return plugins;
}

}  // namespace concierge::host
