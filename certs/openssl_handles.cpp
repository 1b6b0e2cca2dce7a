#include "certs/openssl_handles.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>
#include <string>

namespace sevenport::certs {

namespace {

BioPtr memory_bio(std::string_view text) {
  if (text.size() > static_cast<std::size_t>(INT_MAX)) throw CertError("PEM text too large");
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) throw_openssl_error("cannot create a memory BIO");
  return bio;
}

std::string drain(BIO& bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(&bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

}  // namespace

void throw_openssl_error(std::string_view what) {
  std::string message(what);
  message += ": ";
  bool first = true;
  // Oldest first: the root cause is queued before the errors of the layers that called it.
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    if (!first) message += "; ";
    message += text;
    first = false;
  }
  if (first) message += "no OpenSSL error reported";
  throw CertError(message);
}

X509Ptr parse_certificate(std::string_view pem) {
  auto bio = memory_bio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) throw_openssl_error("cannot parse certificate PEM");
  return cert;
}

PkeyPtr parse_private_key(std::string_view pem) {
  auto bio = memory_bio(pem);
  // An empty passphrase callback result: an encrypted key fails instead of prompting on a tty.
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) throw_openssl_error("cannot parse private key PEM");
  return key;
}

std::string certificate_to_pem(const X509& cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), &cert) != 1)
    throw_openssl_error("cannot encode certificate as PEM");
  return drain(*bio);
}

std::string private_key_to_pem(const EVP_PKEY& key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), &key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw_openssl_error("cannot encode private key as PEM");
  return drain(*bio);
}

}  // namespace sevenport::certs
