// Helpers shared by the certs tests: a temporary directory that cleans up after itself and a
// chain verification with the flags strict clients use.
#pragma once

#include <openssl/x509_vfy.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "certs/openssl_handles.hpp"

namespace sevenport::certs::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sevenport-certs-XXXXXX").string();
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    if (mkdtemp(name.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = name.data();
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// X509_verify_cert of `leaf_pem` against the single trusted `ca_pem`, with X509_STRICT, the TLS
// server purpose (checks extendedKeyUsage) and OpenSSL security level `auth_level` (2 is
// Debian's default for TLS: no SHA-1 signatures, no RSA keys under 2048 bits). Returns
// X509_V_OK or the verification error.
inline int verify_chain(const std::string& leaf_pem, const std::string& ca_pem,
                        int auth_level = 2) {
  X509StorePtr store(X509_STORE_new());
  auto ca = parse_certificate(ca_pem);
  auto leaf = parse_certificate(leaf_pem);
  if (!store || X509_STORE_add_cert(store.get(), ca.get()) != 1) return -1;
  X509StoreCtxPtr context(X509_STORE_CTX_new());
  if (!context || X509_STORE_CTX_init(context.get(), store.get(), leaf.get(), nullptr) != 1)
    return -1;
  X509_STORE_CTX_set_flags(context.get(), X509_V_FLAG_X509_STRICT);
  X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(context.get()), auth_level);
  const int result = X509_verify_cert(context.get());
  return result == 1 ? X509_V_OK : X509_STORE_CTX_get_error(context.get());
}

}  // namespace sevenport::certs::testing
