// The local CA sevenport uses when no certificate is configured: created in the state directory
// on first run, reused afterwards, and the server certificate re-issued only when it no longer
// fits (expired, other CA, hostname not covered). Users trust ca.pem once in their client.
#pragma once

#include <filesystem>
#include <string>

namespace sevenport::certs {

struct LocalCa {
  std::filesystem::path ca_file;      // <state_dir>/ca.pem: give this to clients to trust
  std::filesystem::path ca_key_file;  // <state_dir>/ca-key.pem, mode 0600
  std::filesystem::path cert_file;  // <state_dir>/server.pem: the leaf only (the CA is not chained)
  std::filesystem::path key_file;   // <state_dir>/server-key.pem, mode 0600
  bool ca_created = false;          // a new CA was made: clients must trust the new ca.pem
  bool leaf_created = false;        // a new server certificate was issued
  std::string ca_reason;            // why the CA was (re)created, e.g. "ca.pem is missing"
  std::string leaf_reason;          // why the leaf was (re)issued, e.g. "it has expired"
};

// Ensures, in `state_dir` (created mode 0700 if missing, parents as by mkdir -p):
//  - ca.pem + ca-key.pem: ECDSA P-256, CN "sevenport local CA <random hex>", pathlen:1 (room
//    for the one intermediate of the incomplete-chain profile), valid ten years from a day ago.
//    Recreated when missing, unreadable, not matching its key, not a CA, not yet valid, expiring
//    within a day, or allowing no intermediate (pathlen:0, as CAs before profiles had).
//  - server.pem + server-key.pem: ECDSA P-256 leaf signed with SHA-256 by that CA, CN = hostname
//    (when at most 64 characters), SAN DNS:localhost, IP:127.0.0.1, IP:::1 and the hostname (as
//    IP when it is an IP literal), valid 397 days from a day ago. Reissued when missing,
//    unreadable, not matching its key, not signed by the current CA, not yet valid, expiring
//    within a day, or not covering one of those names.
// Files that are still good are not rewritten. Key files are mode 0600, certificates 0644, each
// written atomically; a lock file (.lock) serialises two processes sharing the directory.
// Returned paths are absolute. Throws CertError (e.g. the directory cannot be created).
LocalCa ensure_local_ca(const std::filesystem::path& state_dir, const std::string& hostname);

}  // namespace sevenport::certs
