#include "certs/certificates.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <climits>
#include <ctime>
#include <string>

#include "certs/openssl_handles.hpp"

namespace sevenport::certs {

namespace {

using Ia5StringPtr = std::unique_ptr<ASN1_IA5STRING, OpensslDeleter<ASN1_IA5STRING_free>>;
using OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, OpensslDeleter<ASN1_OCTET_STRING_free>>;

// RFC 5280 Appendix A: ub-common-name. OpenSSL refuses longer CNs anyway; this says why.
constexpr std::size_t max_common_name_length = 64;

const EVP_MD* digest_method(Digest digest) {
  switch (digest) {
    case Digest::sha256:
      return EVP_sha256();
    case Digest::sha384:
      return EVP_sha384();
    case Digest::sha512:
      return EVP_sha512();
    case Digest::sha1:
      return EVP_sha1();
  }
  return EVP_sha256();
}

void set_time(ASN1_TIME* field, TimePoint when) {
  // ASN1_TIME_set picks UTCTime up to 2049 and GeneralizedTime after, as RFC 5280 4.1.2.5 asks.
  if (ASN1_TIME_set(field, std::chrono::system_clock::to_time_t(when)) == nullptr)
    throw_openssl_error("cannot set certificate validity");
}

TimePoint read_time(const ASN1_TIME* field) {
  std::tm tm{};
  if (field == nullptr || ASN1_TIME_to_tm(field, &tm) != 1)
    throw_openssl_error("cannot read certificate validity");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// RFC 5280 4.1.2.2: positive, at most 20 octets; CA/Browser Forum: at least 64 random bits.
// Sixteen random octets with the top bit cleared (positive) and the top octet non-zero (so the
// DER encoding really is 16 octets).
void set_random_serial(X509& cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw_openssl_error("cannot generate a serial number");
  bytes[0] &= 0x7f;
  if (bytes[0] == 0) bytes[0] = 0x01;
  BignumPtr number(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!number || BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(&cert)) == nullptr)
    throw_openssl_error("cannot set the serial number");
}

void add_common_name(X509_NAME& name, const std::string& common_name) {
  if (common_name.size() > max_common_name_length)
    throw CertError("common name \"" + common_name + "\" is longer than 64 characters");
  if (X509_NAME_add_entry_by_txt(&name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1)
    throw_openssl_error("cannot set common name \"" + common_name + "\"");
}

// A version 3 certificate for `key` with a random serial and the given validity, not yet signed.
X509Ptr new_certificate(EVP_PKEY& key, TimePoint not_before, TimePoint not_after) {
  if (not_after <= not_before) throw CertError("certificate not_after must be after not_before");
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
    throw_openssl_error("cannot create a certificate");
  set_random_serial(*cert);
  set_time(X509_getm_notBefore(cert.get()), not_before);
  set_time(X509_getm_notAfter(cert.get()), not_after);
  if (X509_set_pubkey(cert.get(), &key) != 1) throw_openssl_error("cannot set the public key");
  return cert;
}

// Only for values written in this file: the config syntax would let a comma inject options.
void add_extension(X509& cert, X509V3_CTX& context, int nid, const char* value) {
  X509ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, &context, nid, value));
  if (!extension || X509_add_ext(&cert, extension.get(), -1) != 1)
    throw_openssl_error(std::string("cannot add extension ") + OBJ_nid2sn(nid) + " = " + value);
}

// subjectAltName built entry by entry rather than through the "DNS:a,IP:b" config syntax, so a
// name can never smuggle in another entry.
void add_subject_alt_names(X509& cert, const LeafOptions& options, bool critical) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) throw_openssl_error("cannot create subjectAltName");
  for (const auto& dns_name : options.dns_names) {
    if (dns_name.empty() || dns_name.size() > 253)
      throw CertError("invalid DNS name \"" + dns_name + "\"");
    for (const unsigned char c : dns_name) {
      // dNSName is an IA5String: internationalised names go in as A-labels (xn--...).
      if (c <= 0x20 || c >= 0x7f)
        throw CertError("DNS name \"" + dns_name + "\" must be printable ASCII without spaces");
    }
    Ia5StringPtr text(ASN1_IA5STRING_new());
    if (!text ||
        ASN1_STRING_set(text.get(), dns_name.data(), static_cast<int>(dns_name.size())) != 1)
      throw_openssl_error("cannot encode DNS name");
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!name) throw_openssl_error("cannot create subjectAltName entry");
    GENERAL_NAME_set0_value(name.get(), GEN_DNS, text.release());
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) throw_openssl_error("out of memory");
    name.release();
  }
  for (const auto& ip_address : options.ip_addresses) {
    OctetStringPtr octets(a2i_IPADDRESS(ip_address.c_str()));
    if (!octets) {
      ERR_clear_error();
      throw CertError("\"" + ip_address + "\" is not an IPv4 or IPv6 address");
    }
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!name) throw_openssl_error("cannot create subjectAltName entry");
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, octets.release());
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) throw_openssl_error("out of memory");
    name.release();
  }
  if (sk_GENERAL_NAME_num(names.get()) == 0) return;
  if (X509_add1_ext_i2d(&cert, NID_subject_alt_name, names.get(), critical ? 1 : 0,
                        X509V3_ADD_DEFAULT) != 1)
    throw_openssl_error("cannot add subjectAltName");
}

void sign(X509& cert, EVP_PKEY& key, Digest digest) {
  if (X509_sign(&cert, &key, digest_method(digest)) <= 0)
    throw_openssl_error(std::string("cannot sign the certificate with ") +
                        std::string(to_string(digest)));
}

PkeyPtr parse_ca_key(X509& ca_cert, std::string_view ca_key_pem) {
  auto ca_key = parse_private_key(ca_key_pem);
  if (X509_check_private_key(&ca_cert, ca_key.get()) != 1) {
    ERR_clear_error();
    throw CertError("the CA key does not belong to the CA certificate");
  }
  return ca_key;
}

// Sets the issuer name and prepares the extension context. `issuer` null: the certificate is
// self-signed, and its authorityKeyIdentifier will repeat its own subjectKeyIdentifier.
void set_issuer(X509& cert, X509* issuer, X509V3_CTX& context) {
  X509* const signer = issuer != nullptr ? issuer : &cert;
  if (X509_set_issuer_name(&cert, X509_get_subject_name(signer)) != 1)
    throw_openssl_error("cannot set issuer");
  X509V3_set_ctx(&context, signer, &cert, nullptr, nullptr, 0);
}

std::string build_ca(const CaOptions& options, EVP_PKEY& key, X509* issuer, EVP_PKEY& signing_key) {
  if (options.common_name.empty()) throw CertError("a CA needs a common name");
  auto cert = new_certificate(key, options.not_before, options.not_after);
  add_common_name(*X509_get_subject_name(cert.get()), options.common_name);
  X509V3_CTX context;
  set_issuer(*cert, issuer, context);
  const std::string basic_constraints =
      options.path_length >= 0 ? "critical,CA:TRUE,pathlen:" + std::to_string(options.path_length)
                               : std::string("critical,CA:TRUE");
  add_extension(*cert, context, NID_basic_constraints, basic_constraints.c_str());
  add_extension(*cert, context, NID_key_usage, "critical,keyCertSign,cRLSign");
  // The SKI must exist before the AKI: for a self-signed certificate the AKI copies it.
  add_extension(*cert, context, NID_subject_key_identifier, "hash");
  add_extension(*cert, context, NID_authority_key_identifier, "keyid:always");
  sign(*cert, signing_key, options.digest);
  return certificate_to_pem(*cert);
}

std::string build_leaf(const LeafOptions& options, EVP_PKEY& key, X509* issuer,
                       EVP_PKEY& signing_key) {
  auto cert = new_certificate(key, options.not_before, options.not_after);
  if (!options.common_name.empty())
    add_common_name(*X509_get_subject_name(cert.get()), options.common_name);
  X509V3_CTX context;
  set_issuer(*cert, issuer, context);
  add_extension(*cert, context, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(*cert, context, NID_key_usage,
                EVP_PKEY_get_base_id(&key) == EVP_PKEY_RSA
                    ? "critical,digitalSignature,keyEncipherment"
                    : "critical,digitalSignature");
  if (options.server_auth || options.client_auth) {
    add_extension(*cert, context, NID_ext_key_usage,
                  options.server_auth && options.client_auth ? "serverAuth,clientAuth"
                  : options.server_auth                      ? "serverAuth"
                                                             : "clientAuth");
  }
  add_extension(*cert, context, NID_subject_key_identifier, "hash");
  add_extension(*cert, context, NID_authority_key_identifier, "keyid:always");
  add_subject_alt_names(*cert, options, options.common_name.empty());
  sign(*cert, signing_key, options.digest);
  return certificate_to_pem(*cert);
}

std::string name_entry(const X509_NAME* name, int nid) {
  const int index = name == nullptr ? -1 : X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) {
    ERR_clear_error();
    return {};
  }
  std::string text(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return text;
}

}  // namespace

std::string_view to_string(KeyType type) {
  switch (type) {
    case KeyType::ecdsa_p256:
      return "ecdsa_p256";
    case KeyType::ecdsa_p384:
      return "ecdsa_p384";
    case KeyType::rsa_2048:
      return "rsa_2048";
    case KeyType::rsa_3072:
      return "rsa_3072";
    case KeyType::rsa_4096:
      return "rsa_4096";
    case KeyType::rsa_1024:
      return "rsa_1024";
  }
  return "ecdsa_p256";
}

std::string_view to_string(Digest digest) {
  switch (digest) {
    case Digest::sha256:
      return "sha256";
    case Digest::sha384:
      return "sha384";
    case Digest::sha512:
      return "sha512";
    case Digest::sha1:
      return "sha1";
  }
  return "sha256";
}

std::string generate_key(KeyType type) {
  PkeyPtr key;
  switch (type) {
    case KeyType::ecdsa_p256:
      key.reset(EVP_EC_gen("P-256"));
      break;
    case KeyType::ecdsa_p384:
      key.reset(EVP_EC_gen("P-384"));
      break;
    case KeyType::rsa_2048:
      key.reset(EVP_RSA_gen(2048));
      break;
    case KeyType::rsa_3072:
      key.reset(EVP_RSA_gen(3072));
      break;
    case KeyType::rsa_4096:
      key.reset(EVP_RSA_gen(4096));
      break;
    case KeyType::rsa_1024:
      key.reset(EVP_RSA_gen(1024));
      break;
  }
  if (!key) throw_openssl_error("cannot generate a " + std::string(to_string(type)) + " key");
  return private_key_to_pem(*key);
}

std::string make_ca(const CaOptions& options) {
  auto key = parse_private_key(options.key_pem);
  return build_ca(options, *key, nullptr, *key);
}

std::string issue_intermediate(std::string_view ca_cert_pem, std::string_view ca_key_pem,
                               const CaOptions& options) {
  auto ca_cert = parse_certificate(ca_cert_pem);
  auto ca_key = parse_ca_key(*ca_cert, ca_key_pem);
  auto key = parse_private_key(options.key_pem);
  return build_ca(options, *key, ca_cert.get(), *ca_key);
}

std::string issue_leaf(std::string_view ca_cert_pem, std::string_view ca_key_pem,
                       const LeafOptions& options) {
  auto ca_cert = parse_certificate(ca_cert_pem);
  auto ca_key = parse_ca_key(*ca_cert, ca_key_pem);
  auto key = parse_private_key(options.key_pem);
  return build_leaf(options, *key, ca_cert.get(), *ca_key);
}

std::string make_self_signed_leaf(const LeafOptions& options) {
  auto key = parse_private_key(options.key_pem);
  return build_leaf(options, *key, nullptr, *key);
}

CertInfo inspect_certificate(std::string_view cert_pem) {
  auto cert = parse_certificate(cert_pem);
  CertInfo info;
  info.subject_common_name = name_entry(X509_get_subject_name(cert.get()), NID_commonName);
  info.issuer_common_name = name_entry(X509_get_issuer_name(cert.get()), NID_commonName);
  info.not_before = read_time(X509_get0_notBefore(cert.get()));
  info.not_after = read_time(X509_get0_notAfter(cert.get()));
  info.is_ca = (X509_get_extension_flags(cert.get()) & EXFLAG_CA) != 0;
  info.path_length = info.is_ca ? static_cast<int>(X509_get_pathlen(cert.get())) : -1;

  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_STRING* text = name->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                                  static_cast<std::size_t>(ASN1_STRING_length(text)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* octets = name->d.iPAddress;
      const int length = ASN1_STRING_length(octets);
      char printable[INET6_ADDRSTRLEN] = {};
      const int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : AF_UNSPEC;
      if (family != AF_UNSPEC &&
          inet_ntop(family, ASN1_STRING_get0_data(octets), printable, sizeof printable) != nullptr)
        info.ip_addresses.emplace_back(printable);
    }
  }
  ERR_clear_error();  // X509_get_ext_d2i queues an error when the extension is simply absent
  return info;
}

bool is_issued_by(std::string_view cert_pem, std::string_view ca_cert_pem) {
  auto cert = parse_certificate(cert_pem);
  auto ca = parse_certificate(ca_cert_pem);
  // X509_check_issued compares the names, the AKI against the CA's SKI and the CA's keyUsage;
  // only the signature proves that this CA (and not one with the same name) signed it.
  const bool issued = X509_check_issued(ca.get(), cert.get()) == X509_V_OK &&
                      X509_verify(cert.get(), X509_get0_pubkey(ca.get())) == 1;
  ERR_clear_error();
  return issued;
}

bool is_self_signed(std::string_view cert_pem) {
  auto cert = parse_certificate(cert_pem);
  const bool self_signed = X509_self_signed(cert.get(), 1) == 1;
  ERR_clear_error();
  return self_signed;
}

bool key_matches_certificate(std::string_view cert_pem, std::string_view key_pem) {
  auto cert = parse_certificate(cert_pem);
  auto key = parse_private_key(key_pem);
  const bool matches = X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();
  return matches;
}

}  // namespace sevenport::certs
