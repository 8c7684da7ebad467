#pragma once
// Twilio's request signature (X-Twilio-Signature): base64(HMAC-SHA1(auth token, URL + name1 + value1 + ...)), POST
// parameters sorted by name. Twilio signs the URL exactly as it called it; its own validators accept the URL with and
// without the scheme's default port, because proxies in front of a server add or drop it.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace concierge::twilio {

using FormFields = std::vector<std::pair<std::string, std::string>>;

// The signature Twilio would send for this URL and these POST parameters (GET requests: no parameters).
std::string compute_signature(std::string_view auth_token, std::string_view url, const FormFields& post_params);

// The URL as given, plus the same URL with the default port added (when it has none) or removed (when it has the
// default one): "https://a.example/x" -> {"https://a.example/x", "https://a.example:443/x"}.
std::vector<std::string> url_port_variants(std::string_view url);

// True when `signature` matches any port variant of `url`. Compared in constant time; an empty signature never
// matches.
bool signature_matches(std::string_view auth_token, std::string_view signature, std::string_view url,
                       const FormFields& post_params);

}  // namespace concierge::twilio
