#include "certs/profiles.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <utility>

#include "certs/certificates.hpp"
#include "certs/pem_files.hpp"
#include "certs/state_files.hpp"

namespace sevenport::certs {

namespace {

namespace fs = std::filesystem;

constexpr auto ca_lifetime = std::chrono::days(3652);
constexpr auto leaf_lifetime = std::chrono::days(397);  // as the local CA's server.pem
constexpr auto year = std::chrono::days(365);
// .invalid is reserved (RFC 2606 2): the name can never belong to a real host.
constexpr std::string_view wrong_host_name = "wrong.host.invalid";
constexpr std::string_view untrusted_ca_name = "sevenport untrusted CA";
constexpr std::string_view intermediate_name = "sevenport intermediate";

struct ProfileEntry {
  Profile profile;
  std::string_view name;
  std::string_view description;
};

constexpr std::array<ProfileEntry, 9> profile_table{{
    {Profile::valid, "valid",
     "valid: signed by the local CA, in date and naming this host; a client that trusts ca.pem "
     "must accept it"},
    {Profile::self_signed, "self-signed",
     "self-signed: the certificate is signed by its own key, not by a CA; a client must refuse it "
     "(self-signed certificate)"},
    {Profile::expired, "expired",
     "expired: the certificate's notAfter lies in the past; a client must refuse it (certificate "
     "has expired)"},
    {Profile::not_yet_valid, "not-yet-valid",
     "not-yet-valid: the certificate's notBefore lies a year in the future; a client must refuse "
     "it (certificate is not yet valid)"},
    {Profile::wrong_host, "wrong-host",
     "wrong-host: the certificate names only wrong.host.invalid, not the host the client asked "
     "for; a client must refuse it (hostname mismatch)"},
    {Profile::untrusted_ca, "untrusted-ca",
     "untrusted-ca: the certificate is signed by a CA that the client was never told to trust; a "
     "client must refuse it (unable to get local issuer certificate)"},
    {Profile::incomplete_chain, "incomplete-chain",
     "incomplete-chain: the certificate is signed by an intermediate CA that the server does not "
     "send; a client that trusts ca.pem must still refuse it (unable to get local issuer "
     "certificate)"},
    {Profile::weak_rsa1024, "weak-rsa1024",
     "weak-rsa1024: the certificate's key is RSA with 1024 bits, which can be factored; a client "
     "must refuse it (key too small)"},
    {Profile::weak_sha1, "weak-sha1",
     "weak-sha1: the certificate is signed with SHA-1, for which collisions have been produced; a "
     "client must refuse it (signature digest too weak)"},
}};

const ProfileEntry& entry_for(Profile profile) {
  for (const auto& entry : profile_table)
    if (entry.profile == profile) return entry;
  return profile_table[0];
}

// The leaf's validity window, placed so that the profile shows its defect and no other.
enum class Window { current, past, future };

enum class Signer { local_ca, self, untrusted_ca, intermediate };

struct LeafPlan {
  Signer signer = Signer::local_ca;
  Window window = Window::current;
  Digest digest = Digest::sha256;
  bool wrong_host = false;
};

LeafPlan plan_for(Profile profile) {
  LeafPlan plan;
  switch (profile) {
    case Profile::valid:
    case Profile::weak_rsa1024:
      break;
    case Profile::self_signed:
      plan.signer = Signer::self;
      break;
    case Profile::expired:
      plan.window = Window::past;
      break;
    case Profile::not_yet_valid:
      plan.window = Window::future;
      break;
    case Profile::wrong_host:
      plan.wrong_host = true;
      break;
    case Profile::untrusted_ca:
      plan.signer = Signer::untrusted_ca;
      break;
    case Profile::incomplete_chain:
      plan.signer = Signer::intermediate;
      break;
    case Profile::weak_sha1:
      plan.digest = Digest::sha1;
      break;
  }
  return plan;
}

std::string check_window(const CertInfo& info, Window window, TimePoint now) {
  switch (window) {
    case Window::current:
      return check_validity(info, now);
    case Window::past:
      return info.not_after > now ? "it has not expired" : "";
    case Window::future:
      return info.not_before <= now + one_day ? "it becomes valid within a day" : "";
  }
  return {};
}

// A CA kept in profiles/: the untrusted one (issuer null: self-signed) or the intermediate
// (signed by the local CA). Reused while it is a CA in date signed by `issuer`.
PemPair ensure_profile_ca(const fs::path& dir, std::string_view stem, std::string_view common_name,
                          const PemPair* issuer, TimePoint now) {
  const fs::path cert_file = dir / (std::string(stem) + ".pem");
  const fs::path key_file = dir / (std::string(stem) + "-key.pem");
  PemPair ca;
  bool reusable = read_pair(cert_file, key_file, ca).empty();
  try {
    if (reusable) {
      const CertInfo info = inspect_certificate(ca.cert);
      const bool signed_right =
          issuer != nullptr ? is_issued_by(ca.cert, issuer->cert) : is_self_signed(ca.cert);
      reusable = info.is_ca && info.subject_common_name == common_name && signed_right &&
                 check_validity(info, now).empty();
    }
  } catch (const CertError&) {
    reusable = false;
  }
  if (reusable) return ca;

  CaOptions options{.common_name = std::string(common_name),
                    .key_pem = generate_key(KeyType::ecdsa_p256),
                    .not_before = now - one_day,
                    .not_after = now - one_day + ca_lifetime,
                    .path_length = 0};
  if (issuer != nullptr) {
    // Not beyond the issuer's own end: verifiers do not require it, but a chain outliving its
    // root only confuses whoever reads it.
    options.not_after = std::min(options.not_after, inspect_certificate(issuer->cert).not_after);
    ca.cert = issue_intermediate(issuer->cert, issuer->key, options);
  } else {
    ca.cert = make_ca(options);
  }
  ca.key = options.key_pem;
  write_pem_file(key_file, ca.key, FileMode::private_key);
  write_pem_file(cert_file, ca.cert, FileMode::public_file);
  return ca;
}

// Why the leaf at `cert_file` does not fit the plan, or empty. `issuer` null: self-signed.
std::string check_leaf(const fs::path& cert_file, const fs::path& key_file, const LeafPlan& plan,
                       const PemPair* issuer, const ServerNames& names, TimePoint now) {
  PemPair leaf;
  if (auto problem = read_pair(cert_file, key_file, leaf); !problem.empty()) return problem;
  const std::string file = cert_file.filename().string();
  try {
    if (issuer != nullptr && !is_issued_by(leaf.cert, issuer->cert))
      return file + " is not signed by the current CA";
    if (issuer == nullptr && !is_self_signed(leaf.cert)) return file + " is not self-signed";
    const CertInfo info = inspect_certificate(leaf.cert);
    if (auto problem = check_window(info, plan.window, now); !problem.empty())
      return file + ": " + problem;
    if (plan.wrong_host) {
      if (info.dns_names != std::vector<std::string>{std::string(wrong_host_name)} ||
          !info.ip_addresses.empty())
        return file + " names more than " + std::string(wrong_host_name);
    } else if (auto name = uncovered_name(leaf.cert, names); !name.empty()) {
      return file + " does not cover " + name;
    }
  } catch (const CertError& e) {
    return e.what();
  }
  return {};
}

void create_leaf(const fs::path& cert_file, const fs::path& key_file, const LeafPlan& plan,
                 const PemPair* issuer, KeyType key_type, const std::string& hostname,
                 ServerNames names, TimePoint now) {
  LeafOptions options;
  if (plan.wrong_host) {
    options.common_name = wrong_host_name;
    options.dns_names = {std::string(wrong_host_name)};
  } else {
    // A CN over 64 characters is not allowed; the SAN alone then names the host.
    if (hostname.size() <= 64) options.common_name = hostname;
    // A self-signed certificate's subject is its issuer, which RFC 5280 4.1.2.4 wants non-empty.
    if (issuer == nullptr && options.common_name.empty())
      options.common_name = "sevenport self-signed";
    options.dns_names = std::move(names.dns_names);
    options.ip_addresses = std::move(names.ip_addresses);
  }
  options.key_pem = generate_key(key_type);
  options.digest = plan.digest;
  switch (plan.window) {
    case Window::current:
      options.not_before = now - one_day;
      break;
    case Window::past:
      options.not_before = now - 2 * year;
      break;
    case Window::future:
      options.not_before = now + year;
      break;
  }
  options.not_after = plan.window == Window::past ? now - year : options.not_before + leaf_lifetime;
  const std::string cert = issuer != nullptr ? issue_leaf(issuer->cert, issuer->key, options)
                                             : make_self_signed_leaf(options);
  // Key first: a crash between the two renames leaves a mismatch, which the next call detects.
  write_pem_file(key_file, options.key_pem, FileMode::private_key);
  write_pem_file(cert_file, cert, FileMode::public_file);
}

}  // namespace

std::optional<Profile> parse_profile(std::string_view name) {
  for (const auto& entry : profile_table)
    if (entry.name == name) return entry.profile;
  return std::nullopt;
}

std::string_view to_string(Profile profile) { return entry_for(profile).name; }

std::string_view describe(Profile profile) { return entry_for(profile).description; }

std::optional<KeyKind> parse_key_kind(std::string_view name) {
  if (name == "ecdsa-p256") return KeyKind::ecdsa_p256;
  if (name == "rsa-2048") return KeyKind::rsa_2048;
  return std::nullopt;
}

std::string_view to_string(KeyKind key) {
  return key == KeyKind::rsa_2048 ? "rsa-2048" : "ecdsa-p256";
}

ProfileFiles ensure_profile(const std::filesystem::path& state_dir, const LocalCa& ca,
                            const std::string& hostname, Profile profile, KeyKind key) {
  ProfileFiles result;
  result.needs_legacy_security_level =
      profile == Profile::weak_rsa1024 || profile == Profile::weak_sha1;
  if (profile == Profile::valid && key == KeyKind::ecdsa_p256) {
    result.cert_file = ca.cert_file;
    result.key_file = ca.key_file;
    return result;
  }

  const fs::path dir = prepare_private_directory(state_dir);
  // The state directory's lock, not one of our own: ensure_local_ca may be replacing the CA
  // pair that is read here.
  DirectoryLock lock(dir);
  const fs::path profiles = prepare_private_directory(dir / "profiles");
  const TimePoint now = std::chrono::system_clock::now();
  const PemPair local{read_pem_file(ca.ca_file), read_pem_file(ca.ca_key_file)};

  const LeafPlan plan = plan_for(profile);
  PemPair signer;
  const PemPair* issuer = &signer;
  switch (plan.signer) {
    case Signer::local_ca:
      issuer = &local;
      break;
    case Signer::self:
      issuer = nullptr;
      break;
    case Signer::untrusted_ca:
      signer = ensure_profile_ca(profiles, "untrusted-ca", untrusted_ca_name, nullptr, now);
      result.untrusted_ca_file = profiles / "untrusted-ca.pem";
      break;
    case Signer::intermediate:
      signer = ensure_profile_ca(profiles, "intermediate", intermediate_name, &local, now);
      result.intermediate_file = profiles / "intermediate.pem";
      break;
  }

  const KeyType key_type = profile == Profile::weak_rsa1024 ? KeyType::rsa_1024
                           : key == KeyKind::rsa_2048       ? KeyType::rsa_2048
                                                            : KeyType::ecdsa_p256;
  const std::string stem = profile == Profile::weak_rsa1024 ? std::string(to_string(profile))
                                                            : std::string(to_string(profile)) +
                                                                  "-" + std::string(to_string(key));
  result.cert_file = profiles / (stem + ".pem");
  result.key_file = profiles / (stem + "-key.pem");
  const ServerNames names = server_names(hostname);
  result.reason = check_leaf(result.cert_file, result.key_file, plan, issuer, names, now);
  if (!result.reason.empty()) {
    create_leaf(result.cert_file, result.key_file, plan, issuer, key_type, hostname, names, now);
    result.created = true;
  }
  return result;
}

}  // namespace sevenport::certs
