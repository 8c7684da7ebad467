#include "signature.hpp"

#include <algorithm>
#include <array>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "concierge/base64.hpp"

namespace concierge::twilio {

std::string compute_signature(std::string_view auth_token, std::string_view url, const FormFields& post_params) {
  // Sorted by name; a stable sort keeps repeated names (StatusCallbackEvent) in the order they were sent, which is
  // how Twilio's helper libraries concatenate them.
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(post_params.size());
  for (const auto& field : post_params) sorted.push_back(&field);
  std::stable_sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });

  std::string data(url);
  for (const auto* field : sorted) {
    data += field->first;
    data += field->second;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(), &digest_size);
  return base64::encode(std::span<const std::uint8_t>(digest.data(), digest_size));
}

std::vector<std::string> url_port_variants(std::string_view url) {
  std::vector<std::string> variants{std::string(url)};
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return variants;
  const std::string_view scheme = url.substr(0, scheme_end);
  const char* default_port = (scheme == "https" || scheme == "wss") ? "443" : (scheme == "http" || scheme == "ws") ? "80" : nullptr;
  if (!default_port) return variants;
  const std::size_t host_start = scheme_end + 3;
  std::size_t host_end = url.find_first_of("/?#", host_start);
  if (host_end == std::string_view::npos) host_end = url.size();
  const std::string_view authority = url.substr(host_start, host_end - host_start);
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    variants.push_back(std::string(url.substr(0, host_end)) + ":" + default_port + std::string(url.substr(host_end)));
  } else if (authority.substr(colon + 1) == default_port) {
    variants.push_back(std::string(url.substr(0, host_start + colon)) + std::string(url.substr(host_end)));
  }
  return variants;
}

bool signature_matches(std::string_view auth_token, std::string_view signature, std::string_view url,
                       const FormFields& post_params) {
  if (signature.empty()) return false;
  bool matched = false;
  // Every variant is computed and compared, so the time taken does not depend on which one matched.
  for (const auto& variant : url_port_variants(url)) {
    const std::string expected = compute_signature(auth_token, variant, post_params);
    if (expected.size() == signature.size() &&
        CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) == 0)
      matched = true;
  }
  return matched;
}

}  // namespace concierge::twilio
