#pragma once
// What the C++ boundary between the daemon and a plugin depends on, as one string: CONCIERGE_ABI_TAG, e.g.
//   "gcc-12 libstdc++-cxx11-abi-1 boost-1_74 yaml-cpp-0.7.0 nlohmann_json-3.11.2"
// Past the descriptor, plugins and the daemon exchange std::shared_ptr, std::string, std::function, nlohmann::json
// and YAML::Node, and run Boost.Asio on one io_context: a plugin built by another compiler family or major version,
// with the other libstdc++ string ABI, or against other Boost, yaml-cpp or nlohmann versions may load and then
// misbehave. Each plugin records the tag it was compiled with in its descriptor (PluginDescriptor::abi) and the
// daemon refuses one that differs from its own, naming both.
//
// Every part is read from the headers the file is compiled with, except yaml-cpp's version, which yaml-cpp's headers
// do not carry: concierge::sdk defines CONCIERGE_YAML_CPP_VERSION from the yaml-cpp CMake package the SDK was built
// with, and the installed package requires that exact version again (find_dependency(yaml-cpp <v> EXACT)).
#include <string>  // _GLIBCXX_USE_CXX11_ABI

#include <boost/version.hpp>
#include <nlohmann/json.hpp>

#define CONCIERGE_ABI_STRINGIFY_(x) #x
#define CONCIERGE_ABI_STRINGIFY(x) CONCIERGE_ABI_STRINGIFY_(x)

#if defined(__clang__)
#define CONCIERGE_ABI_COMPILER "clang-" CONCIERGE_ABI_STRINGIFY(__clang_major__)
#elif defined(__GNUC__)
#define CONCIERGE_ABI_COMPILER "gcc-" CONCIERGE_ABI_STRINGIFY(__GNUC__)
#else
#define CONCIERGE_ABI_COMPILER "unknown-compiler"
#endif

#if defined(_GLIBCXX_USE_CXX11_ABI)
#define CONCIERGE_ABI_STDLIB "libstdc++-cxx11-abi-" CONCIERGE_ABI_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define CONCIERGE_ABI_STDLIB "libc++-" CONCIERGE_ABI_STRINGIFY(_LIBCPP_VERSION)
#else
#define CONCIERGE_ABI_STDLIB "unknown-stdlib"
#endif

#if !defined(CONCIERGE_YAML_CPP_VERSION)
#define CONCIERGE_YAML_CPP_VERSION "unknown"
#endif

#define CONCIERGE_ABI_TAG                                                                                        \
  CONCIERGE_ABI_COMPILER " " CONCIERGE_ABI_STDLIB " boost-" BOOST_LIB_VERSION " yaml-cpp-" CONCIERGE_YAML_CPP_VERSION \
                         " nlohmann_json-" CONCIERGE_ABI_STRINGIFY(NLOHMANN_JSON_VERSION_MAJOR) "."                \
                             CONCIERGE_ABI_STRINGIFY(NLOHMANN_JSON_VERSION_MINOR) "."                              \
                                 CONCIERGE_ABI_STRINGIFY(NLOHMANN_JSON_VERSION_PATCH)
