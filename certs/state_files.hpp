// What ensure_local_ca and ensure_profile share about the files they keep in the state
// directory: creating a private directory, locking it against a second process, reading a
// certificate with its key, and checking a certificate's validity window and names. Internal to
// certs/; nothing outside it includes this header.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "certs/certificates.hpp"

namespace sevenport::certs {

inline constexpr auto one_day = std::chrono::hours(24);

struct PemPair {
  std::string cert;
  std::string key;
};

// `dir` made absolute and normalised; created mode 0700 (its parents as by mkdir -p) if missing.
// Throws CertError when it cannot be created or is not a directory.
std::filesystem::path prepare_private_directory(const std::filesystem::path& dir);

// Holds an exclusive flock() on <dir>/.lock until destroyed. Throws CertError.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::filesystem::path& dir);
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock();

 private:
  int fd_ = -1;
};

// Reads a certificate and its key into `pair`. Returns what is wrong ("x.pem is missing", a read
// or parse error, "x-key.pem is not the key of x.pem"), or empty when both are read and match.
std::string read_pair(const std::filesystem::path& cert_file, const std::filesystem::path& key_file,
                      PemPair& pair);

// Why the validity window does not cover [now, now + one day] ("it has expired", ...), or empty.
std::string check_validity(const CertInfo& info, TimePoint now);

// The names a sevenport server certificate covers: DNS localhost, IP 127.0.0.1 and ::1, and the
// hostname (as an IP address when it is an IP literal), each once.
struct ServerNames {
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
};
ServerNames server_names(const std::string& hostname);

// The first of `names` that the certificate's subjectAltName does not cover, or empty. The
// subject CN is never consulted. Throws CertError on unparsable input.
std::string uncovered_name(const std::string& cert_pem, const ServerNames& names);

}  // namespace sevenport::certs
