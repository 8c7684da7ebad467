#pragma once
// The SDK's API version. A plugin records the version it was built against in its descriptor; the host refuses a
// plugin whose major version differs from its own. Bump the minor version for additions that old plugins can ignore
// (a new virtual function with a default body at the END of an interface), the major version for anything else.
#include <cstdint>

#define CONCIERGE_SDK_VERSION_MAJOR 1
#define CONCIERGE_SDK_VERSION_MINOR 0

namespace concierge {
inline constexpr std::uint32_t kSdkVersionMajor = CONCIERGE_SDK_VERSION_MAJOR;
inline constexpr std::uint32_t kSdkVersionMinor = CONCIERGE_SDK_VERSION_MINOR;
}  // namespace concierge
