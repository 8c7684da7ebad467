# What `cmake --install build --prefix <dir>` puts under <dir>. Every installed file finds the others relative to
# itself, so the prefix can be moved or copied anywhere (nothing below records the prefix or the build tree):
#   include/concierge/...                        the SDK headers (the plugin surface)
#   lib/libconcierge_sdk.so.1, libconcierge_net.so.1   (the SDK's RUNPATH $ORIGIN: it needs libconcierge_net for
#                                                 its HTTP client, and a RUNPATH only serves direct dependencies)
#   lib/cmake/concierge/concierge-config.cmake   find_package(concierge 1.0): concierge::sdk, concierge_add_plugin()
#   lib/pkgconfig/concierge.pc                   pkg-config --cflags --libs concierge
#   bin/concierge-host                           the daemon (RUNPATH $ORIGIN/../lib)
#   lib/concierge/plugins/*.so                   the plugins of this repository (no RUNPATH)
include(CMakePackageConfigHelpers)
set(concierge_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/concierge)

install(EXPORT concierge-targets NAMESPACE concierge:: DESTINATION ${concierge_cmake_dir}
        FILE concierge-targets.cmake COMPONENT sdk)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/concierge-config.cmake.in
                              ${PROJECT_BINARY_DIR}/package/concierge-config.cmake
                              INSTALL_DESTINATION ${concierge_cmake_dir})
# The package's version is the SDK's: a plugin asking for 1.0 accepts any 1.x (same major), never 2.x.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/concierge-config-version.cmake
                                 VERSION ${CONCIERGE_SDK_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package/concierge-config.cmake
              ${PROJECT_BINARY_DIR}/package/concierge-config-version.cmake
              ${PROJECT_SOURCE_DIR}/cmake/ConciergePlugin.cmake
        DESTINATION ${concierge_cmake_dir} COMPONENT sdk)

# pkg-config: prefix from the .pc file's own folder (pkg-config's ${pcfiledir}), so it too is relocatable.
file(RELATIVE_PATH concierge_pc_to_prefix /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
get_target_property(concierge_net_definitions concierge_net INTERFACE_COMPILE_DEFINITIONS)
get_target_property(concierge_sdk_definitions concierge_sdk INTERFACE_COMPILE_DEFINITIONS)
set(concierge_pc_definitions ${concierge_net_definitions} ${concierge_sdk_definitions})
list(TRANSFORM concierge_pc_definitions REPLACE "\"" "\\\\\"")
list(TRANSFORM concierge_pc_definitions PREPEND "-D")
string(JOIN " " CONCIERGE_PC_DEFINITIONS ${concierge_pc_definitions})
set(CONCIERGE_PC_PREFIX "\${pcfiledir}/${concierge_pc_to_prefix}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/concierge.pc.in ${PROJECT_BINARY_DIR}/package/concierge.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/package/concierge.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT sdk)

# libconcierge_sdk links libconcierge_net (the HTTP client runs on Asio): a program or plugin's RUNPATH finds only
# its own direct dependencies, so the SDK finds its sibling itself.
set_target_properties(concierge_sdk PROPERTIES INSTALL_RPATH "$ORIGIN")

# The daemon and the plugins, so an installed prefix runs on its own.
if(TARGET concierge-host)
  file(RELATIVE_PATH concierge_bin_to_lib /prefix/${CMAKE_INSTALL_BINDIR} /prefix/${CMAKE_INSTALL_LIBDIR})
  set_target_properties(concierge-host PROPERTIES INSTALL_RPATH "$ORIGIN/${concierge_bin_to_lib}")
  install(TARGETS concierge-host RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
endif()
get_property(concierge_installed_plugins GLOBAL PROPERTY CONCIERGE_PLUGIN_TARGETS)
if(concierge_installed_plugins)
  install(TARGETS ${concierge_installed_plugins} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/concierge/plugins
          COMPONENT runtime)
endif()
