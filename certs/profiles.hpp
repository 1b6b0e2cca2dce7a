// Deliberately broken server certificates, one per way a TLS client must refuse a server, in
// the spirit of badssl.com: a listener serves one profile, and a client under test either refuses
// it (correct) or does not (a bug). Every profile but the first differs from a good certificate
// in exactly one respect. The files live in <state_dir>/profiles/, are made on first use from the
// local CA (certs/local_ca.hpp), and are reused while they still show their defect and nothing
// else.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "certs/local_ca.hpp"

namespace sevenport::certs {

enum class Profile : std::uint8_t {
  valid,             // signed by the local CA, in date, names this host: must be accepted
  self_signed,       // signed by its own key
  expired,           // notAfter a year in the past
  not_yet_valid,     // notBefore a year in the future
  wrong_host,        // names only wrong.host.invalid
  untrusted_ca,      // signed by a CA that clients are never told to trust
  incomplete_chain,  // signed by an intermediate that the server does not send
  weak_rsa1024,      // an RSA-1024 key
  weak_sha1,         // signed with SHA-1
};

// The leaf's key for every profile except weak_rsa1024, whose key is always RSA-1024.
enum class KeyKind : std::uint8_t { ecdsa_p256, rsa_2048 };

// Profile names as written in config and logs: "valid", "self-signed", "expired",
// "not-yet-valid", "wrong-host", "untrusted-ca", "incomplete-chain", "weak-rsa1024", "weak-sha1".
// Exact, case-sensitive; nullopt for anything else.
std::optional<Profile> parse_profile(std::string_view name);
std::string_view to_string(Profile profile);

// Key kind names: "ecdsa-p256", "rsa-2048". Exact; nullopt for anything else.
std::optional<KeyKind> parse_key_kind(std::string_view name);
std::string_view to_string(KeyKind key);

// One sentence in plain words for logs and docs: what is wrong with the certificate and what a
// correct client does about it, with the usual wording of the client's error in parentheses.
std::string_view describe(Profile profile);

struct ProfileFiles {
  // The chain PEM to serve (SSL_CTX_use_certificate_chain_file): the leaf alone for every
  // profile, incomplete_chain included, whose point is the intermediate left out.
  std::filesystem::path cert_file;
  std::filesystem::path key_file;  // mode 0600
  // incomplete_chain only: the withheld intermediate (profiles/intermediate.pem), never served.
  std::filesystem::path intermediate_file;
  // untrusted_ca only: the CA that signed the leaf (profiles/untrusted-ca.pem), never to be
  // offered to clients as a CA to trust.
  std::filesystem::path untrusted_ca_file;
  // weak_rsa1024 and weak_sha1: OpenSSL's default security level refuses to load the certificate
  // into an SSL_CTX, so that context needs SSL_CTX_set_security_level(ctx, 0) first.
  bool needs_legacy_security_level = false;
  bool created = false;  // the leaf was (re)issued by this call
  std::string reason;    // why, e.g. "expired-ecdsa-p256.pem is missing"; empty if reused
};

// Ensures the profile's files in <state_dir>/profiles/ (created mode 0700) and returns their
// absolute paths. `ca` is the result of ensure_local_ca for the same state_dir and hostname.
//  - valid: for ecdsa_p256 the local CA's own server.pem and server-key.pem; for rsa_2048 the
//    same certificate with an RSA key (profiles/valid-rsa-2048.pem).
//  - the others: profiles/<profile>-<key>.pem and -key.pem (weak_rsa1024: weak-rsa1024.pem,
//    whatever `key`), subjectAltName DNS localhost, IP 127.0.0.1, IP ::1 and the hostname (only
//    DNS wrong.host.invalid for wrong_host), signed with SHA-256 by the local CA except where
//    the profile says otherwise. untrusted_ca also keeps profiles/untrusted-ca.pem (CN
//    "sevenport untrusted CA") and incomplete_chain profiles/intermediate.pem (CN "sevenport
//    intermediate", signed by the local CA), each with its -key.pem.
// A leaf is reissued when missing, unreadable, not matching its key, not signed by its current
// issuer (the local CA changed), no longer showing its defect (a not-yet-valid certificate close
// to its notBefore) or showing one it should not (a leaf that expires, a changed hostname). An
// expired leaf stays expired and is kept. Takes the state directory's lock like
// ensure_local_ca. Throws CertError.
ProfileFiles ensure_profile(const std::filesystem::path& state_dir, const LocalCa& ca,
                            const std::string& hostname, Profile profile, KeyKind key);

}  // namespace sevenport::certs
