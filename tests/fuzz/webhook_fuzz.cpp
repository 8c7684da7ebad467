// Twilio's webhooks (plugins/twilio): the form body and query of a TwiML fetch or a status callback, its
// X-Twilio-Signature and the URL it signs. The input is split into URL, signature and body at the first two
// newlines. Properties checked: parsing never crashes; the status a callback maps to carries only valid UTF-8; a
// signature computed for a request always validates and a changed one never does.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "concierge/http.hpp"
#include "concierge/text.hpp"
#include "signature.hpp"
#include "status_callback.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge;
  using namespace concierge::twilio;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto next_line = [&input] {
    const auto newline = input.find('\n');
    const std::string_view line = input.substr(0, newline);
    input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
    return line;
  };
  const std::string_view url = next_line();
  const std::string_view signature = next_line();
  const std::string_view body = input;

  const FormFields form = parse_form(body);
  (void)parse_query(url.substr(std::min(url.size(), url.find('?') + 1)));
  if (auto update = status_from_callback(form)) {
    if (!is_valid_utf8(update->answered_by) || !is_valid_utf8(update->reason)) std::abort();
  }
  const std::string token = "fuzz-auth-token-0123456789";
  (void)signature_matches(token, signature, url, form);
  const std::string correct = compute_signature(token, url, form);
  if (!signature_matches(token, correct, url, form)) std::abort();
  std::string wrong = correct;
  if (!wrong.empty()) wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
  if (signature_matches(token, wrong, url, form)) std::abort();
  (void)url_decode(body);
  (void)xml_escape(body);
  return 0;
}
