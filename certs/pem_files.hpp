// Reading and writing the PEM files certs/ keeps on disk. Writes are atomic (a temporary file in
// the same directory, fsync, rename), so a crash or a concurrent reader never sees half a key;
// private keys are created mode 0600 from the start, never readable by others even briefly.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace sevenport::certs {

// Who may read a written file.
enum class FileMode : unsigned { public_file = 0644, private_key = 0600 };

// The whole file (at most 1 MiB: no PEM file of ours is bigger, and a huge file is a mistake).
// Throws CertError "<path>: cannot read: <strerror>" or "<path>: too large".
std::string read_pem_file(const std::filesystem::path& path);

// Replaces `path` atomically with `contents` and the given mode (umask does not apply). The
// directory must exist. Throws CertError "<path>: cannot write: <strerror>"; on failure `path`
// is untouched and no temporary file is left behind.
void write_pem_file(const std::filesystem::path& path, std::string_view contents, FileMode mode);

}  // namespace sevenport::certs
