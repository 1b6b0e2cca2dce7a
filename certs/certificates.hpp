// Keys and X.509 certificates for sevenport's TLS listeners, as PEM text in and out: a key
// generator, a CA maker, a leaf issuer and an inspector. Every choice (key type, validity window,
// names, digest) is an option, so that deliberately broken profiles (expired, not yet valid,
// wrong host, untrusted CA, SHA-1, weak RSA) come from the same code as the good one.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sevenport::certs {

// Any failure in certs/: OpenSSL refused something (its error text is in the message), a file
// could not be read or written, or an option is invalid.
class CertError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using TimePoint = std::chrono::system_clock::time_point;

enum class KeyType : std::uint8_t {
  ecdsa_p256,
  ecdsa_p384,
  rsa_2048,
  rsa_3072,
  rsa_4096,
  rsa_1024,  // too weak for any current verifier: for "weak key" test profiles only
};
std::string_view to_string(KeyType type);

// The digest a certificate is signed with. sha1 exists for "rejected signature" profiles.
enum class Digest : std::uint8_t { sha256, sha384, sha512, sha1 };
std::string_view to_string(Digest digest);

// A fresh private key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"). The public half is
// derived from it wherever needed. RSA generation takes from milliseconds to seconds.
std::string generate_key(KeyType type);

struct CaOptions {
  std::string common_name;  // 1..64 characters (RFC 5280 ub-common-name)
  std::string key_pem;      // the CA's private key; its public half goes into the certificate
  TimePoint not_before;
  TimePoint not_after;
  Digest digest = Digest::sha256;
  int path_length = 0;  // basicConstraints pathLenConstraint; negative: no constraint
};

// A self-signed CA certificate (PEM), version 3: basicConstraints critical CA:TRUE, keyUsage
// critical keyCertSign+cRLSign, subjectKeyIdentifier and authorityKeyIdentifier, random
// 16-octet positive serial. Throws CertError.
std::string make_ca(const CaOptions& options);

// An intermediate CA certificate (PEM) signed by the CA `ca_cert_pem`: the extensions of
// make_ca, with the authorityKeyIdentifier naming the signing CA's key. Throws CertError, also
// when ca_key_pem is not the key of ca_cert_pem. The signing CA's own pathLenConstraint must
// leave room for it, or verifiers reject the chain (X509_V_ERR_PATH_LENGTH_EXCEEDED).
std::string issue_intermediate(std::string_view ca_cert_pem, std::string_view ca_key_pem,
                               const CaOptions& options);

struct LeafOptions {
  // Subject CN. Empty: an empty subject, and the subjectAltName extension is then marked
  // critical as RFC 5280 4.2.1.6 demands. At most 64 characters.
  std::string common_name;
  std::vector<std::string> dns_names;     // subjectAltName dNSName entries (ASCII)
  std::vector<std::string> ip_addresses;  // subjectAltName iPAddress entries, "1.2.3.4" / "::1"
  std::string key_pem;                    // the leaf's private key
  TimePoint not_before;
  TimePoint not_after;
  Digest digest = Digest::sha256;
  bool server_auth = true;   // extendedKeyUsage serverAuth
  bool client_auth = false;  // extendedKeyUsage clientAuth
};

// A leaf certificate (PEM) signed by the CA, version 3: basicConstraints critical CA:FALSE,
// keyUsage critical digitalSignature (plus keyEncipherment for RSA keys, for TLS 1.2 RSA key
// exchange), extendedKeyUsage, subjectKeyIdentifier, authorityKeyIdentifier (the CA's SKI),
// subjectAltName if any name is given, random 16-octet positive serial. Throws CertError, also
// when ca_key_pem is not the key of ca_cert_pem or an IP address does not parse.
std::string issue_leaf(std::string_view ca_cert_pem, std::string_view ca_key_pem,
                       const LeafOptions& options);

// A self-signed leaf (PEM): the extensions of issue_leaf, issuer = subject, signed with its own
// key and authorityKeyIdentifier = its own subjectKeyIdentifier, still CA:FALSE. No verifier
// accepts it unless told to trust this very certificate. Throws CertError.
std::string make_self_signed_leaf(const LeafOptions& options);

// What sevenport needs to know about an existing certificate.
struct CertInfo {
  std::string subject_common_name;  // empty if the subject has no CN
  std::string issuer_common_name;
  TimePoint not_before;
  TimePoint not_after;
  std::vector<std::string> dns_names;     // subjectAltName dNSName entries, as written
  std::vector<std::string> ip_addresses;  // subjectAltName iPAddress entries, printable form
  bool is_ca = false;                     // basicConstraints CA:TRUE
  int path_length = -1;                   // a CA's pathLenConstraint; -1: none
};

// Parses the first certificate of a PEM text. Throws CertError.
CertInfo inspect_certificate(std::string_view cert_pem);

// True if `cert_pem` names `ca_cert_pem`'s subject as issuer (and its AKI, if any, matches)
// and its signature verifies with the CA's public key. Throws CertError on unparsable input.
bool is_issued_by(std::string_view cert_pem, std::string_view ca_cert_pem);

// True if `cert_pem` is self-signed: issuer = subject, authorityKeyIdentifier (if any) = its own
// subjectKeyIdentifier, and the signature verifies with its own key. Unlike is_issued_by(cert,
// cert), true for a self-signed leaf too, whose keyUsage does not allow keyCertSign. Throws
// CertError on unparsable input.
bool is_self_signed(std::string_view cert_pem);

// True if `key_pem` is the private key of `cert_pem`'s public key. Throws CertError on
// unparsable input.
bool key_matches_certificate(std::string_view cert_pem, std::string_view key_pem);

}  // namespace sevenport::certs
