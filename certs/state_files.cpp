#include "certs/state_files.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "certs/openssl_handles.hpp"
#include "certs/pem_files.hpp"

namespace sevenport::certs {

namespace fs = std::filesystem;

namespace {

bool is_ip_literal(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

}  // namespace

fs::path prepare_private_directory(const fs::path& dir_in) {
  std::error_code error;
  fs::path dir = fs::absolute(dir_in, error).lexically_normal();
  if (error) throw CertError(dir_in.string() + ": " + error.message());
  if (!dir.has_filename()) dir = dir.parent_path();  // "state/" normalises to "state/"
  if (!fs::exists(dir, error)) {
    fs::create_directories(dir.parent_path(), error);
    if (error) throw CertError(dir.parent_path().string() + ": cannot create: " + error.message());
    // 0700: the directory holds CA keys, with which anyone could impersonate any host to clients
    // that trust the CA.
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      throw CertError(dir.string() + ": cannot create: " + std::strerror(errno));
  }
  if (!fs::is_directory(dir, error)) throw CertError(dir.string() + ": not a directory");
  return dir;
}

// Two sevenport processes starting on one state directory would otherwise each write a key and
// the other's certificate.
DirectoryLock::DirectoryLock(const fs::path& dir) {
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

DirectoryLock::~DirectoryLock() { ::close(fd_); }

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

std::string check_validity(const CertInfo& info, TimePoint now) {
  if (info.not_before > now) return "it is not valid yet (clock changed?)";
  if (info.not_after <= now) return "it has expired";
  if (info.not_after <= now + one_day) return "it expires within a day";
  return {};
}

ServerNames server_names(const std::string& hostname) {
  // What a client on the same machine types, besides the configured hostname.
  ServerNames names{{"localhost"}, {"127.0.0.1", "::1"}};
  if (hostname.empty()) return names;
  if (is_ip_literal(hostname)) {
    unsigned char wanted[16], have[16];
    const int family = hostname.find(':') == std::string::npos ? AF_INET : AF_INET6;
    inet_pton(family, hostname.c_str(), wanted);
    bool present = false;
    for (const auto& ip : names.ip_addresses) {
      present = present || (inet_pton(family, ip.c_str(), have) == 1 &&
                            std::memcmp(wanted, have, family == AF_INET ? 4 : 16) == 0);
    }
    if (!present) names.ip_addresses.push_back(hostname);
  } else if (strcasecmp(hostname.c_str(), "localhost") != 0) {
    names.dns_names.push_back(hostname);
  }
  return names;
}

std::string uncovered_name(const std::string& cert_pem, const ServerNames& names) {
  auto cert = parse_certificate(cert_pem);
  std::string missing;
  // The subject CN is never consulted: current clients ignore it (RFC 6125 6.4.4).
  for (const auto& name : names.dns_names) {
    if (missing.empty() &&
        X509_check_host(cert.get(), name.data(), name.size(),
                        X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_WILDCARDS,
                        nullptr) != 1)
      missing = name;
  }
  for (const auto& ip : names.ip_addresses) {
    if (missing.empty() && X509_check_ip_asc(cert.get(), ip.c_str(), 0) != 1) missing = ip;
  }
  ERR_clear_error();
  return missing;
}

}  // namespace sevenport::certs
