#pragma once
// A throw-away certificate authority and a server certificate it signed, made at test time with OpenSSL (EC P-256,
// valid for a day), so TLS tests verify for real without committing keys to the repository.
#include <string>
#include <vector>

namespace concierge::fakes {

struct TestPki {
  std::string ca_pem;           // the CA certificate: what a client trusts (write it to a file for ca_file)
  std::string server_cert_pem;  // the leaf certificate, signed by the CA
  std::string server_key_pem;   // the leaf's private key (PKCS#8)
};

// The leaf carries subjectAltName entries for `dns_names` and `ip_addresses` (e.g. {"localhost"}, {"127.0.0.1"}).
// Throws std::runtime_error when OpenSSL fails.
TestPki make_test_pki(const std::vector<std::string>& dns_names, const std::vector<std::string>& ip_addresses);

// Writes `text` to a new file under the system's temp folder and returns its path.
std::string write_temp_file(const std::string& name_hint, const std::string& text);

}  // namespace concierge::fakes
