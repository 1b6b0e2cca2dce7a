// Owning handles for the OpenSSL objects that certs/ (and its tests) use: std::unique_ptr with the
// matching free function, so that every early return and every exception frees what was
// allocated. Also the PEM conversions and the one place that turns OpenSSL's error queue into a
// CertError.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

#include "certs/certificates.hpp"

namespace sevenport::certs {

template <auto Free>
struct OpensslDeleter {
  template <typename T>
  void operator()(T* object) const noexcept {
    Free(object);
  }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, OpensslDeleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpensslDeleter<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpensslDeleter<X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpensslDeleter<X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpensslDeleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpensslDeleter<X509_STORE_CTX_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpensslDeleter<GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OpensslDeleter<GENERAL_NAME_free>>;
using BioPtr = std::unique_ptr<BIO, OpensslDeleter<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpensslDeleter<BN_free>>;

// Throws CertError("<what>: <OpenSSL's queued errors, or 'no OpenSSL error reported'>") and
// empties the error queue, so that a stale entry never shows up in a later, unrelated message.
[[noreturn]] void throw_openssl_error(std::string_view what);

// The first certificate of a PEM text. Throws CertError if there is none or it is malformed.
X509Ptr parse_certificate(std::string_view pem);
// An unencrypted private key in PEM (PKCS#8 or the traditional RSA/EC forms). Throws CertError.
PkeyPtr parse_private_key(std::string_view pem);

// PEM encodings: "CERTIFICATE" and unencrypted PKCS#8 "PRIVATE KEY". Throw CertError.
std::string certificate_to_pem(const X509& cert);
std::string private_key_to_pem(const EVP_PKEY& key);

}  // namespace sevenport::certs
