#pragma once
// The plugin ABI. A plugin is a shared library (built as a CMake MODULE with hidden visibility) that exports two
// extern "C" functions, declared by CONCIERGE_PLUGIN below:
//
//   const concierge::PluginDescriptor* concierge_plugin_descriptor();   Required. Plain C data, read first.
//   concierge::PluginInstance concierge_plugin_create(const concierge::PluginContext&, const YAML::Node&);
//                                                                        Required. Makes the provider from its
//                                                                        config block; throws ConfigError.
//
// The host reads the descriptor before it trusts anything else: a library without it is "not a concierge plugin",
// one with another magic or another SDK major version is refused with both versions named. Past the descriptor the
// boundary is C++ (std::shared_ptr, std::string, nlohmann::json, YAML::Node): plugins must be built with the same
// compiler family, standard library and library versions as the host. The descriptor's ABI tag records them
// (concierge/abi.hpp) and the host refuses a plugin whose tag differs, naming both; version.hpp has the version rule.
//
// OWNERSHIP: every object a plugin returns is owned by shared_ptrs the host binds to the library, so the library
// stays mapped until the last of them is gone (Boost.DLL tutorial 8). Nothing a plugin created may be kept by the
// host past that, including std::function objects passed to HostServices::run_blocking, which the host runs or
// destroys before it unloads.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/config.hpp>

// Asio and Beast are compiled once, in libconcierge_net, which the daemon has loaded. A plugin compiled without
// these definitions would carry header-only copies with their own static state (Asio's service ids), and so a second
// scheduler on the daemon's io_context. concierge::sdk (CMake) and `pkg-config --cflags concierge` set them.
// CONCIERGE_STANDALONE_PARSERS: the fuzz build (tests/fuzz) links parsers into standalone programs with no daemon
// and no plugin boundary, so header-only Asio is right there.
#if !defined(CONCIERGE_STANDALONE_PARSERS) && \
    (!defined(BOOST_ASIO_SEPARATE_COMPILATION) || !defined(BOOST_BEAST_SEPARATE_COMPILATION))
#error "concierge plugins need BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION: link concierge::sdk (find_package(concierge)) or use pkg-config --cflags concierge"
#endif

#include "concierge/abi.hpp"
#include "concierge/agent.hpp"
#include "concierge/config.hpp"
#include "concierge/http_client.hpp"
#include "concierge/log.hpp"
#include "concierge/telephony.hpp"
#include "concierge/version.hpp"
#include "concierge/voice_model.hpp"

namespace boost::asio { class io_context; }
namespace YAML { class Node; }

namespace concierge {

enum class PluginKind : std::uint32_t { telephony = 1, voice_model = 2, agent = 3 };
std::string_view to_string(PluginKind kind);

inline constexpr std::uint32_t kPluginMagic = 0x474e4343;  // "CCNG"

// Plain C data, read by the host before anything else of the plugin runs. The first three fields never move. Fields
// are only ever appended (see version.hpp): the host reads those of the plugin's sdk_minor and no further.
struct PluginDescriptor {
  // SDK 1.0
  std::uint32_t magic;        // kPluginMagic
  std::uint32_t sdk_major;    // CONCIERGE_SDK_VERSION_MAJOR the plugin was built with
  std::uint32_t sdk_minor;
  PluginKind kind;
  const char* name;           // "twilio"
  const char* version;        // the plugin's own version, "1.0.0"
  const char* description;    // one line
  // SDK 1.1
  std::uint32_t size;         // sizeof(PluginDescriptor) as the plugin was compiled
  const char* abi;            // CONCIERGE_ABI_TAG as the plugin was compiled (concierge/abi.hpp)
};

// An inbound call a telephony provider wants the host to take (a call to our number, or a media stream the host
// did not place). The host answers nullptr when inbound calls are not enabled.
struct InboundCall {
  std::string from;
  std::string to;
  std::string provider_call_id;
  std::shared_ptr<CallLeg> leg;
};

// What the host offers every plugin.
class HostServices {
 public:
  virtual ~HostServices();
  // The event loop. Every call into a plugin runs on it, and plugins run their own I/O and timers on it. Never
  // block it: HTTP requests go to http(); other blocking work goes to run_blocking.
  virtual boost::asio::io_context& io() = 0;
  // Runs `work` on one of the daemon's two worker threads, in the order given, and posts nothing back by itself
  // (post the result to io()). For work that has no asynchronous form: a library that blocks, a file read at the
  // start of a call. Not for REST calls (http() runs any number at once; two slow jobs here hold up every later
  // one). Called on the event loop; `work` runs on a worker thread, and the host runs or destroys it before it
  // unloads the plugin. No plugin in this tree needs it since SDK 1.2; it stays for those outside it (removing it
  // would change HostServices' layout: a major version).
  virtual void run_blocking(std::function<void()> work) = 0;
  // The daemon's public host name ("abc123.ngrok.io"), or "" when PUBLIC_DOMAIN is not configured.
  virtual std::string public_domain() const = 0;
  virtual std::shared_ptr<CallEvents> accept_inbound_call(const InboundCall& call) = 0;
  // The host's HTTP client (concierge/http_client.hpp): requests on the event loop, none blocking it or a thread.
  // The host owns it and keeps it until every plugin object is gone; call it on the event loop only. Since SDK 1.2;
  // the default (a host without one) throws std::logic_error.
  virtual HttpClient& http();
};

// Valid only during concierge_plugin_create (copy what you keep). Created by the host, passed by reference.
struct PluginContext {
  HostServices& host;                // outlives every object the plugin makes
  std::shared_ptr<Logger> log;       // never null; prefixes the plugin's name
  std::filesystem::path config_dir;  // the folder of the YAML file, for relative paths in the plugin's block
  // SDK 1.1: where the plugin's block sits in the daemon's YAML ("plugins.agent.config"); "" when a host has no
  // such file (a test harness). Read it through plugin_config() below.
  std::string config_key_path = {};
};

// THE way a plugin reads its block: a ConfigNode whose every error names the full key path
// ("plugins.agent.config.restaurants[0].phone") and the line; the daemon prefixes the file. An absent block reads
// as an empty mapping. (A plugin that builds ConfigNode(block, "") itself still gets the prefix from the daemon.)
inline ConfigNode plugin_config(const PluginContext& context, const YAML::Node& block) {
  return ConfigNode(block.IsDefined() && !block.IsNull() ? block : YAML::Node(YAML::NodeType::Map),
                    context.config_key_path);
}

// What concierge_plugin_create returns: the one member that matches the descriptor's kind is set.
struct PluginInstance {
  std::shared_ptr<TelephonyProvider> telephony;
  std::shared_ptr<VoiceModel> voice_model;
  std::shared_ptr<Agent> agent;
};

using PluginDescriptorFunction = const PluginDescriptor*();
using PluginCreateFunction = PluginInstance(const PluginContext&, const YAML::Node&);

}  // namespace concierge

// The daemon loads plugin `x` from the file x.so and refuses a descriptor naming another plugin. concierge_add_plugin()
// defines CONCIERGE_PLUGIN_FILE_NAME to the file's name, so a NAME that differs fails to compile instead.
#if defined(CONCIERGE_PLUGIN_FILE_NAME)
#define CONCIERGE_PLUGIN_CHECK_FILE_NAME(NAME)                                                                    \
  static_assert(std::string_view(NAME) == std::string_view(CONCIERGE_PLUGIN_FILE_NAME),                          \
                "CONCIERGE_PLUGIN's NAME must equal the plugin's file name (concierge_add_plugin's first argument)");
#else
#define CONCIERGE_PLUGIN_CHECK_FILE_NAME(NAME)
#endif

// Declares a plugin's two exports. KIND is telephony, voice_model or agent; CREATE a function
// `concierge::PluginInstance CREATE(const concierge::PluginContext&, const YAML::Node&)`.
#define CONCIERGE_PLUGIN(KIND, NAME, VERSION, DESCRIPTION, CREATE)                                             \
  CONCIERGE_PLUGIN_CHECK_FILE_NAME(NAME)                                                                       \
  extern "C" BOOST_SYMBOL_EXPORT const ::concierge::PluginDescriptor* concierge_plugin_descriptor() {          \
    static const ::concierge::PluginDescriptor descriptor{::concierge::kPluginMagic,                           \
                                                          CONCIERGE_SDK_VERSION_MAJOR,                         \
                                                          CONCIERGE_SDK_VERSION_MINOR,                         \
                                                          ::concierge::PluginKind::KIND,                       \
                                                          NAME,                                                \
                                                          VERSION,                                             \
                                                          DESCRIPTION,                                         \
                                                          sizeof(::concierge::PluginDescriptor),               \
                                                          CONCIERGE_ABI_TAG};                                  \
    return &descriptor;                                                                                        \
  }                                                                                                            \
  extern "C" BOOST_SYMBOL_EXPORT ::concierge::PluginInstance concierge_plugin_create(                          \
      const ::concierge::PluginContext& context, const ::YAML::Node& config) {                                 \
    return CREATE(context, config);                                                                            \
  }
