#include "certs/local_ca.hpp"

#include <openssl/rand.h>

#include <chrono>
#include <string>

#include "certs/certificates.hpp"
#include "certs/openssl_handles.hpp"
#include "certs/pem_files.hpp"
#include "certs/state_files.hpp"

namespace sevenport::certs {

namespace {

namespace fs = std::filesystem;

constexpr auto ca_lifetime = std::chrono::days(3652);  // ten years, leap days included
// Apple and Chrome reject TLS server certificates valid for more than 398 days.
constexpr auto leaf_lifetime = std::chrono::days(397);
// One intermediate below the local CA: the incomplete-chain profile (certs/profiles.hpp) needs
// a chain that verifies once the withheld intermediate is supplied.
constexpr int ca_path_length = 1;

std::string check_ca(const fs::path& dir, PemPair& ca, TimePoint now) {
  if (auto problem = read_pair(dir / "ca.pem", dir / "ca-key.pem", ca); !problem.empty())
    return problem;
  try {
    const CertInfo info = inspect_certificate(ca.cert);
    if (!info.is_ca) return "ca.pem is not a CA certificate";
    if (auto problem = check_validity(info, now); !problem.empty()) return "ca.pem: " + problem;
    if (info.path_length == 0) return "ca.pem allows no intermediate CA (pathlen:0)";
  } catch (const CertError& e) {
    return e.what();
  }
  return {};
}

std::string check_leaf(const fs::path& dir, const std::string& ca_cert, const std::string& hostname,
                       TimePoint now) {
  PemPair leaf;
  if (auto problem = read_pair(dir / "server.pem", dir / "server-key.pem", leaf); !problem.empty())
    return problem;
  try {
    if (!is_issued_by(leaf.cert, ca_cert)) return "server.pem is not signed by the current CA";
    const CertInfo info = inspect_certificate(leaf.cert);
    if (auto problem = check_validity(info, now); !problem.empty()) return "server.pem: " + problem;
    if (auto name = uncovered_name(leaf.cert, server_names(hostname)); !name.empty())
      return "server.pem does not cover " + name;
  } catch (const CertError& e) {
    return e.what();
  }
  return {};
}

PemPair create_ca(const fs::path& dir, TimePoint now) {
  // A random suffix makes every install's CA distinct, so a client that trusts one machine's
  // local CA does not silently trust another's, and certificate caches can tell them apart.
  unsigned char random[4];
  if (RAND_bytes(random, sizeof random) != 1) throw_openssl_error("cannot generate CA name");
  static constexpr char hex[] = "0123456789abcdef";
  std::string common_name = "sevenport local CA ";
  for (const unsigned char byte : random) {
    common_name += hex[byte >> 4];
    common_name += hex[byte & 0x0f];
  }
  PemPair ca;
  ca.key = generate_key(KeyType::ecdsa_p256);
  ca.cert = make_ca(CaOptions{.common_name = common_name,
                              .key_pem = ca.key,
                              .not_before = now - one_day,
                              .not_after = now - one_day + ca_lifetime,
                              .path_length = ca_path_length});
  // Key first: a crash between the two renames leaves a mismatch, which the next run detects.
  write_pem_file(dir / "ca-key.pem", ca.key, FileMode::private_key);
  write_pem_file(dir / "ca.pem", ca.cert, FileMode::public_file);
  return ca;
}

void create_leaf(const fs::path& dir, const PemPair& ca, const std::string& hostname,
                 TimePoint now) {
  LeafOptions options;
  // A CN over 64 characters is not allowed; the SAN alone then names the host.
  if (hostname.size() <= 64) options.common_name = hostname;
  ServerNames names = server_names(hostname);
  options.dns_names = std::move(names.dns_names);
  options.ip_addresses = std::move(names.ip_addresses);
  options.key_pem = generate_key(KeyType::ecdsa_p256);
  options.not_before = now - one_day;
  options.not_after = now - one_day + leaf_lifetime;
  options.digest = Digest::sha256;
  const std::string cert = issue_leaf(ca.cert, ca.key, options);
  write_pem_file(dir / "server-key.pem", options.key_pem, FileMode::private_key);
  write_pem_file(dir / "server.pem", cert, FileMode::public_file);
}

}  // namespace

LocalCa ensure_local_ca(const std::filesystem::path& state_dir, const std::string& hostname) {
  const fs::path dir = prepare_private_directory(state_dir);
  DirectoryLock lock(dir);
  const TimePoint now = std::chrono::system_clock::now();

  LocalCa result;
  result.ca_file = dir / "ca.pem";
  result.ca_key_file = dir / "ca-key.pem";
  result.cert_file = dir / "server.pem";
  result.key_file = dir / "server-key.pem";

  PemPair ca;
  result.ca_reason = check_ca(dir, ca, now);
  if (!result.ca_reason.empty()) {
    ca = create_ca(dir, now);
    result.ca_created = true;
  }
  result.leaf_reason = check_leaf(dir, ca.cert, hostname, now);
  if (!result.leaf_reason.empty()) {
    create_leaf(dir, ca, hostname, now);
    result.leaf_created = true;
  }
  return result;
}

}  // namespace sevenport::certs
