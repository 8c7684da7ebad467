#include <gtest/gtest.h>

#include "signature.hpp"

namespace concierge::twilio {
namespace {

// The worked example of Twilio's "Webhooks security" guide: auth token 12345, this URL and these POST parameters.
const FormFields kPublishedParams{{"CallSid", "CA1234567890ABCDE"},
                                  {"Caller", "+12349013030"},
                                  {"Digits", "1234"},
                                  {"From", "+12349013030"},
                                  {"To", "+18005551212"}};
constexpr const char* kPublishedUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
constexpr const char* kPublishedSignature = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

TEST(TwilioSignature, PublishedExampleComputesTheSameSignature) {
  EXPECT_EQ(compute_signature("12345", kPublishedUrl, kPublishedParams), kPublishedSignature);
}

TEST(TwilioSignature, ParameterOrderDoesNotMatter) {
  FormFields shuffled{kPublishedParams[4], kPublishedParams[2], kPublishedParams[0], kPublishedParams[3],
                      kPublishedParams[1]};
  EXPECT_TRUE(signature_matches("12345", kPublishedSignature, kPublishedUrl, shuffled));
}

TEST(TwilioSignature, AnyChangeBreaksIt) {
  EXPECT_TRUE(signature_matches("12345", kPublishedSignature, kPublishedUrl, kPublishedParams));
  EXPECT_FALSE(signature_matches("12346", kPublishedSignature, kPublishedUrl, kPublishedParams));
  EXPECT_FALSE(signature_matches("12345", kPublishedSignature, "https://mycompany.com/myapp.php?foo=1&bar=3",
                                 kPublishedParams));
  auto tampered = kPublishedParams;
  tampered[2].second = "9999";
  EXPECT_FALSE(signature_matches("12345", kPublishedSignature, kPublishedUrl, tampered));
  EXPECT_FALSE(signature_matches("12345", "", kPublishedUrl, kPublishedParams));
  EXPECT_FALSE(signature_matches("12345", "0/KCTR6DLpKmkAf8muzZqo1nDgQ", kPublishedUrl, kPublishedParams));
}

TEST(TwilioSignature, DefaultPortIsAcceptedEitherWay) {
  // Signed with the port, checked without (and the other way round), as Twilio's validators allow.
  const auto with_port = compute_signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", kPublishedParams);
  EXPECT_TRUE(signature_matches("12345", with_port, kPublishedUrl, kPublishedParams));
  EXPECT_TRUE(signature_matches("12345", kPublishedSignature, "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                                kPublishedParams));
  // Another port is another URL.
  EXPECT_FALSE(signature_matches("12345", kPublishedSignature, "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
                                 kPublishedParams));
}

TEST(TwilioSignature, PortVariants) {
  EXPECT_EQ(url_port_variants("https://a.example/x?y=1"),
            (std::vector<std::string>{"https://a.example/x?y=1", "https://a.example:443/x?y=1"}));
  EXPECT_EQ(url_port_variants("wss://a.example:443/media-stream"),
            (std::vector<std::string>{"wss://a.example:443/media-stream", "wss://a.example/media-stream"}));
  EXPECT_EQ(url_port_variants("http://a.example"), (std::vector<std::string>{"http://a.example", "http://a.example:80"}));
  EXPECT_EQ(url_port_variants("https://a.example:8443/x"), (std::vector<std::string>{"https://a.example:8443/x"}));
}

TEST(TwilioSignature, GetRequestsSignTheUrlAlone) {
  // A WebSocket handshake or GET carries no POST parameters: the URL is all that is signed.
  const auto signature = compute_signature("secret", "wss://abc.ngrok.io/media-stream", {});
  EXPECT_TRUE(signature_matches("secret", signature, "wss://abc.ngrok.io/media-stream", {}));
  EXPECT_FALSE(signature_matches("secret", signature, "wss://abc.ngrok.io/media-stream", {{"a", "b"}}));
}

}  // namespace
}  // namespace concierge::twilio
