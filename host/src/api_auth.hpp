#pragma once
// The control API's credential: one bearer token, compared in constant time, and (when the owner configured none)
// a generated one written to a file only the daemon's user can read, where the CLI finds it.
//
// There is no exemption by source address: ngrok, SSH tunnels and load balancers all connect from 127.0.0.1, so
// "loopback is trusted" would publish the API to whoever reaches the tunnel.
//
// Where the generated token lives (the CLI computes the same path; keep cli/src/options.cpp's token_file_path in
// step): $XDG_RUNTIME_DIR/concierge/api-token-<port> when XDG_RUNTIME_DIR is set (a per-user tmpfs, mode 0700),
// else $HOME/.local/state/concierge/api-token-<port>. One file per listening port, so several daemons of one user
// (tests, a demo beside a real one) never overwrite each other's token. The folder is created mode 0700, the file
// mode 0600; it is removed when the daemon stops.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "concierge/http.hpp"
#include "env.hpp"

namespace concierge::host {

// True when `given` equals `expected`. Runs in time that depends only on expected.size(), never on where the two
// first differ, so response timing does not leak the token byte by byte.
bool tokens_equal(std::string_view given, std::string_view expected);

// 32 bytes from the kernel's CSPRNG (getrandom), as 64 lower-case hex digits. Throws std::runtime_error when the
// kernel gives none.
std::string generate_api_token();

// "" when `token` is acceptable as a configured token, else why not (too short to be a credential, or characters
// a header cannot carry).
std::string api_token_problem(std::string_view token);

// The default file for a generated token (see above); nullopt when neither XDG_RUNTIME_DIR nor HOME is set.
std::optional<std::filesystem::path> default_api_token_file(const Environment& env, unsigned port);

// Writes `token` to `file` (creating its folder mode 0700 when missing) with mode 0600, atomically (a temporary
// file in the same folder, renamed over). Throws std::runtime_error naming the path on failure.
void write_api_token_file(const std::filesystem::path& file, const std::string& token);
// Removes `file` if it still holds `token` (a newer daemon on the same port may have replaced it).
void remove_api_token_file(const std::filesystem::path& file, const std::string& token);

class ApiAuth {
 public:
  explicit ApiAuth(std::string token) : token_(std::move(token)) {}
  // nullopt when the request carries `Authorization: Bearer <the token>`; otherwise the 401 to send, with
  // WWW-Authenticate (RFC 6750) and a JSON error that says what is missing and where the token is found.
  std::optional<HttpResponse> check(const HttpRequest& request) const;

 private:
  std::string token_;
};

}  // namespace concierge::host
