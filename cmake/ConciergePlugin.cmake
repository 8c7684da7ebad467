# concierge_add_plugin(<name> [C_BOUNDARY] <sources>...): a concierge plugin, built the one way the daemon can load it.
#
# Used by the plugins in this repository and, installed as part of the concierge CMake package, by plugins built
# outside it (find_package(concierge 1.0) then concierge_add_plugin(my-agent src/my_agent.cpp)). It
# - makes a MODULE library named exactly <name>.so (no "lib" prefix): the daemon loads plugin `<name>` from the
#   file <name>.so, and the descriptor's name must be <name> too. CONCIERGE_PLUGIN_FILE_NAME="<name>" is defined,
#   so CONCIERGE_PLUGIN (concierge/plugin.hpp) refuses at compile time a NAME that differs;
# - links concierge::sdk, which carries every compile definition a plugin needs (BOOST_ASIO_SEPARATE_COMPILATION,
#   BOOST_BEAST_SEPARATE_COMPILATION, BOOST_ASIO_NO_DEPRECATED: Asio and Beast are compiled once, in
#   libconcierge_net, which the daemon has already loaded), and C++20;
# - hides every symbol but the two entry points (hidden visibility, inlines hidden too), so two plugins never
#   interpose each other's code;
# - gives the file no RUNPATH: the SDK libraries a plugin needs are the ones the daemon loaded (the dynamic loader
#   matches them by soname), so a plugin never drags in a second copy from wherever it was built.
# - C_BOUNDARY: the plugin crosses into the daemon through the C boundary only (concierge/abi.h, or the C++ layer
#   concierge/cxx/plugin.hpp over it). With GCC it is then compiled with -fno-gnu-unique: GCC marks the statics of
#   inline functions and templates from the standard library's headers STB_GNU_UNIQUE, and a library with one such
#   symbol is never unmapped by dlclose, so the daemon could never unload it (clang never emits them). Such statics
#   must be one per process only when C++ objects cross the boundary (Asio's service ids on a shared io_context),
#   which the C boundary rules out. Static libraries linked into the plugin need the same flag:
#   concierge_compile_for_c_boundary(<target>).
# The output folder is CONCIERGE_PLUGIN_OUTPUT_DIR when set (this repository: build/plugins), else CMake's default.
function(concierge_compile_for_c_boundary target)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -fno-gnu-unique)
  endif()
endfunction()

function(concierge_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "C_BOUNDARY" "" "")
  add_library(${name} MODULE ${ARG_UNPARSED_ARGUMENTS})
  if(ARG_C_BOUNDARY)
    concierge_compile_for_c_boundary(${name})
  endif()
  target_link_libraries(${name} PRIVATE concierge::sdk)
  target_compile_features(${name} PRIVATE cxx_std_20)
  target_compile_definitions(${name} PRIVATE CONCIERGE_PLUGIN_FILE_NAME="${name}")
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    SKIP_BUILD_RPATH ON
    INSTALL_RPATH "")
  if(CONCIERGE_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CONCIERGE_PLUGIN_OUTPUT_DIR})
  endif()
  set_property(GLOBAL APPEND PROPERTY CONCIERGE_PLUGIN_TARGETS ${name})
endfunction()
