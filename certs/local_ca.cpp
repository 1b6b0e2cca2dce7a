#include "certs/local_ca.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "certs/certificates.hpp"
#include "certs/openssl_handles.hpp"
#include "certs/pem_files.hpp"

namespace sevenport::certs {

namespace {

namespace fs = std::filesystem;

constexpr auto one_day = std::chrono::hours(24);
constexpr auto ca_lifetime = std::chrono::days(3652);  // ten years, leap days included
// Apple and Chrome reject TLS server certificates valid for more than 398 days.
constexpr auto leaf_lifetime = std::chrono::days(397);

// The names every generated server certificate covers, besides the configured hostname: what a
// client on the same machine types.
const std::vector<std::string> default_dns_names = {"localhost"};
const std::vector<std::string> default_ip_addresses = {"127.0.0.1", "::1"};

struct PemPair {
  std::string cert;
  std::string key;
};

bool is_ip_literal(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// Holds an exclusive flock() on <dir>/.lock until destroyed: two sevenport processes starting on
// one state directory would otherwise each write a key and the other's certificate.
class DirectoryLock {
 public:
  explicit DirectoryLock(const fs::path& dir) {
    const fs::path lock_file = dir / ".lock";
    fd_ = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw CertError(lock_file.string() + ": cannot open: " + std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd_);
      throw CertError(lock_file.string() + ": cannot lock: " + std::strerror(error));
    }
  }
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock() { ::close(fd_); }

 private:
  int fd_ = -1;
};

fs::path prepare_state_dir(const fs::path& state_dir) {
  std::error_code error;
  fs::path dir = fs::absolute(state_dir, error).lexically_normal();
  if (error) throw CertError(state_dir.string() + ": " + error.message());
  if (!dir.has_filename()) dir = dir.parent_path();  // "state/" normalises to "state/"
  if (!fs::exists(dir, error)) {
    fs::create_directories(dir.parent_path(), error);
    if (error) throw CertError(dir.parent_path().string() + ": cannot create: " + error.message());
    // 0700: the directory holds the CA key, with which anyone could impersonate any host to
    // clients that trust ca.pem.
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      throw CertError(dir.string() + ": cannot create: " + std::strerror(errno));
  }
  if (!fs::is_directory(dir, error)) throw CertError(dir.string() + ": not a directory");
  return dir;
}

// Reads a certificate and its key; on any problem, says what it is (empty: both read).
std::string read_pair(const fs::path& cert_file, const fs::path& key_file, PemPair& pair) {
  for (const auto* file : {&cert_file, &key_file}) {
    std::error_code error;
    if (!fs::exists(*file, error)) return file->filename().string() + " is missing";
  }
  try {
    pair.cert = read_pem_file(cert_file);
    pair.key = read_pem_file(key_file);
    if (!key_matches_certificate(pair.cert, pair.key))
      return key_file.filename().string() + " is not the key of " + cert_file.filename().string();
  } catch (const CertError& e) {
    return e.what();
  }
  return {};
}

// Why a certificate's validity window does not cover [now, now + one day], or empty.
std::string check_validity(const CertInfo& info, TimePoint now) {
  if (info.not_before > now) return "it is not valid yet (clock changed?)";
  if (info.not_after <= now) return "it has expired";
  if (info.not_after <= now + one_day) return "it expires within a day";
  return {};
}

std::string check_ca(const fs::path& dir, PemPair& ca, TimePoint now) {
  const fs::path cert_file = dir / "ca.pem";
  if (auto problem = read_pair(cert_file, dir / "ca-key.pem", ca); !problem.empty()) return problem;
  try {
    const CertInfo info = inspect_certificate(ca.cert);
    if (!info.is_ca) return "ca.pem is not a CA certificate";
    if (auto problem = check_validity(info, now); !problem.empty()) return "ca.pem: " + problem;
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
    auto cert = parse_certificate(leaf.cert);
    std::vector<std::string> dns_names = default_dns_names;
    std::vector<std::string> ip_addresses = default_ip_addresses;
    if (!hostname.empty()) (is_ip_literal(hostname) ? ip_addresses : dns_names).push_back(hostname);
    // The subject CN is never consulted: current clients ignore it (RFC 6125 6.4.4).
    for (const auto& name : dns_names) {
      if (X509_check_host(cert.get(), name.data(), name.size(),
                          X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_WILDCARDS,
                          nullptr) != 1)
        return "server.pem does not cover " + name;
    }
    for (const auto& ip : ip_addresses) {
      if (X509_check_ip_asc(cert.get(), ip.c_str(), 0) != 1)
        return "server.pem does not cover " + ip;
    }
  } catch (const CertError& e) {
    return e.what();
  }
  ERR_clear_error();
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
                              .not_after = now - one_day + ca_lifetime});
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
  options.dns_names = default_dns_names;
  options.ip_addresses = default_ip_addresses;
  if (!hostname.empty()) {
    if (is_ip_literal(hostname)) {
      unsigned char wanted[16], have[16];
      const int family = hostname.find(':') == std::string::npos ? AF_INET : AF_INET6;
      inet_pton(family, hostname.c_str(), wanted);
      bool present = false;
      for (const auto& ip : options.ip_addresses) {
        present = present || (inet_pton(family, ip.c_str(), have) == 1 &&
                              std::memcmp(wanted, have, family == AF_INET ? 4 : 16) == 0);
      }
      if (!present) options.ip_addresses.push_back(hostname);
    } else if (strcasecmp(hostname.c_str(), "localhost") != 0) {
      options.dns_names.push_back(hostname);
    }
  }
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
  const fs::path dir = prepare_state_dir(state_dir);
  DirectoryLock lock(dir);
  const TimePoint now = std::chrono::system_clock::now();

  LocalCa result;
  result.ca_file = dir / "ca.pem";
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
