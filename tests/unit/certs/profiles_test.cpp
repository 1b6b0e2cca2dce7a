#include <catch2/catch.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cert_test_support.hpp"
#include "certs/certificates.hpp"
#include "certs/local_ca.hpp"
#include "certs/pem_files.hpp"
#include "certs/profiles.hpp"

using namespace sevenport::certs;
using sevenport::certs::testing::TempDir;
namespace fs = std::filesystem;

namespace {

using X509StackPtr =
    std::unique_ptr<STACK_OF(X509),
                    decltype([](STACK_OF(X509) * stack) { sk_X509_pop_free(stack, X509_free); })>;

constexpr auto all_profiles = {
    Profile::valid,      Profile::self_signed,  Profile::expired,          Profile::not_yet_valid,
    Profile::wrong_host, Profile::untrusted_ca, Profile::incomplete_chain, Profile::weak_rsa1024,
    Profile::weak_sha1};
const std::string hostname = "mail.example.test";

unsigned mode_of(const fs::path& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

// Every certificate of a PEM file, in order.
std::vector<X509Ptr> read_chain(const fs::path& file) {
  const std::string pem = read_pem_file(file);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<X509Ptr> chain;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
    chain.emplace_back(cert);
  ERR_clear_error();  // the read past the last certificate queues "no start line"
  return chain;
}

// How a client verifies the chain it was served. Defaults: a strict client on Debian's default
// security level, connecting to "localhost".
struct Client {
  std::vector<fs::path> trusted;          // the CA files it trusts
  std::vector<fs::path> extra_untrusted;  // certificates it found elsewhere (a cache, AIA)
  int auth_level = 2;
  std::string host = "localhost";
  std::string ip;                 // instead of host when set
  std::optional<std::time_t> at;  // the verification time; default: now
  bool check_time = true;
};

// X509_verify_cert of the chain in `served` (leaf first, then whatever else the server sends)
// as `client` would: X509_STRICT, TLS server purpose. Returns X509_V_OK or the error.
int verify_served(const fs::path& served, const Client& client) {
  auto chain = read_chain(served);
  REQUIRE_FALSE(chain.empty());
  X509StorePtr store(X509_STORE_new());
  REQUIRE(store);
  for (const auto& file : client.trusted) {
    for (auto& cert : read_chain(file)) REQUIRE(X509_STORE_add_cert(store.get(), cert.get()) == 1);
  }
  X509StackPtr untrusted(sk_X509_new_null());
  std::vector<X509Ptr> extra;
  for (const auto& file : client.extra_untrusted)
    for (auto& cert : read_chain(file)) extra.push_back(std::move(cert));
  for (std::size_t i = 1; i < chain.size(); ++i)
    REQUIRE(X509_add_cert(untrusted.get(), chain[i].get(), X509_ADD_FLAG_UP_REF) == 1);
  for (auto& cert : extra)
    REQUIRE(X509_add_cert(untrusted.get(), cert.get(), X509_ADD_FLAG_UP_REF) == 1);

  X509StoreCtxPtr context(X509_STORE_CTX_new());
  REQUIRE(context);
  REQUIRE(X509_STORE_CTX_init(context.get(), store.get(), chain[0].get(), untrusted.get()) == 1);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(context.get());
  X509_STORE_CTX_set_flags(
      context.get(), X509_V_FLAG_X509_STRICT | (client.check_time ? 0 : X509_V_FLAG_NO_CHECK_TIME));
  X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set_auth_level(param, client.auth_level);
  if (!client.ip.empty()) {
    REQUIRE(X509_VERIFY_PARAM_set1_ip_asc(param, client.ip.c_str()) == 1);
  } else {
    REQUIRE(X509_VERIFY_PARAM_set1_host(param, client.host.c_str(), client.host.size()) == 1);
  }
  if (client.at) X509_VERIFY_PARAM_set_time(param, *client.at);
  const int result = X509_verify_cert(context.get());
  const int error = X509_STORE_CTX_get_error(context.get());
  ERR_clear_error();
  return result == 1 ? X509_V_OK : error;
}

Client trusting(const fs::path& ca_file) {
  Client client;
  client.trusted = {ca_file};
  return client;
}

std::time_t to_time_t(TimePoint when) { return std::chrono::system_clock::to_time_t(when); }

// A state directory with its local CA, as the server sets it up before asking for profiles.
struct State {
  TempDir temp;
  LocalCa ca = ensure_local_ca(temp.path(), hostname);

  ProfileFiles ensure(Profile profile, KeyKind key, const std::string& host = hostname) const {
    return ensure_profile(temp.path(), ca, host, profile, key);
  }
  Client client() const { return trusting(ca.ca_file); }
};

// What holds for every profile: the files exist with the right modes, the key is the leaf's and
// of the right kind, the server sends the leaf alone.
void check_files(const State& state, const ProfileFiles& files, Profile profile, KeyKind key) {
  INFO(to_string(profile) << " " << to_string(key));
  CHECK(files.cert_file.is_absolute());
  CHECK(mode_of(files.cert_file) == 0644);
  CHECK(mode_of(files.key_file) == 0600);
  if (profile == Profile::valid && key == KeyKind::ecdsa_p256) {
    CHECK(files.cert_file == state.ca.cert_file);
    CHECK(files.key_file == state.ca.key_file);
  } else {
    CHECK(files.cert_file.parent_path() == state.temp.path() / "profiles");
    CHECK(files.key_file.parent_path() == state.temp.path() / "profiles");
    CHECK(mode_of(state.temp.path() / "profiles") == 0700);
  }
  const std::string cert = read_pem_file(files.cert_file);
  CHECK(key_matches_certificate(cert, read_pem_file(files.key_file)));
  CHECK(read_chain(files.cert_file).size() == 1);

  auto leaf = parse_certificate(cert);
  const EVP_PKEY* public_key = X509_get0_pubkey(leaf.get());
  if (profile == Profile::weak_rsa1024) {
    CHECK(EVP_PKEY_get_base_id(public_key) == EVP_PKEY_RSA);
    CHECK(EVP_PKEY_get_bits(public_key) == 1024);
  } else if (key == KeyKind::rsa_2048) {
    CHECK(EVP_PKEY_get_base_id(public_key) == EVP_PKEY_RSA);
    CHECK(EVP_PKEY_get_bits(public_key) == 2048);
  } else {
    CHECK(EVP_PKEY_get_base_id(public_key) == EVP_PKEY_EC);
    CHECK(EVP_PKEY_get_bits(public_key) == 256);
  }
  CHECK(files.needs_legacy_security_level ==
        (profile == Profile::weak_rsa1024 || profile == Profile::weak_sha1));
  CHECK(files.intermediate_file.empty() == (profile != Profile::incomplete_chain));
  CHECK(files.untrusted_ca_file.empty() == (profile != Profile::untrusted_ca));

  const CertInfo info = inspect_certificate(cert);
  CHECK_FALSE(info.is_ca);
  if (profile != Profile::wrong_host) {
    CHECK(info.subject_common_name == hostname);
    CHECK(info.dns_names == std::vector<std::string>{"localhost", hostname});
    CHECK(info.ip_addresses == std::vector<std::string>{"127.0.0.1", "::1"});
  }
}

constexpr auto both_keys = {KeyKind::ecdsa_p256, KeyKind::rsa_2048};

}  // namespace

TEST_CASE("profile and key kind names round-trip", "[certs][profiles]") {
  for (const Profile profile : all_profiles) {
    CHECK(parse_profile(to_string(profile)) == profile);
    const std::string description(describe(profile));
    CHECK(description.rfind(std::string(to_string(profile)) + ": ", 0) == 0);
    CHECK(description.find(profile == Profile::valid ? "must accept" : "refuse it") !=
          std::string::npos);
  }
  CHECK(to_string(Profile::self_signed) == "self-signed");
  CHECK(to_string(Profile::incomplete_chain) == "incomplete-chain");
  CHECK(to_string(Profile::weak_rsa1024) == "weak-rsa1024");
  CHECK(describe(Profile::expired) ==
        "expired: the certificate's notAfter lies in the past; a client must refuse it "
        "(certificate has expired)");
  for (const char* bad : {"", "Expired", "self_signed", "valid ", "weak-rsa"})
    CHECK_FALSE(parse_profile(bad).has_value());

  for (const KeyKind key : both_keys) CHECK(parse_key_kind(to_string(key)) == key);
  CHECK(to_string(KeyKind::ecdsa_p256) == "ecdsa-p256");
  CHECK(to_string(KeyKind::rsa_2048) == "rsa-2048");
  CHECK_FALSE(parse_key_kind("rsa_2048").has_value());
}

TEST_CASE("profile valid verifies", "[certs][profiles]") {
  State state;
  for (const KeyKind key : both_keys) {
    INFO(to_string(key));
    const ProfileFiles files = state.ensure(Profile::valid, key);
    check_files(state, files, Profile::valid, key);
    Client client = state.client();
    CHECK(verify_served(files.cert_file, client) == X509_V_OK);
    client.host = hostname;
    CHECK(verify_served(files.cert_file, client) == X509_V_OK);
    client.ip = "::1";
    CHECK(verify_served(files.cert_file, client) == X509_V_OK);
  }
}

TEST_CASE("profile self-signed is refused as self-signed", "[certs][profiles]") {
  State state;
  for (const KeyKind key : both_keys) {
    INFO(to_string(key));
    const ProfileFiles files = state.ensure(Profile::self_signed, key);
    check_files(state, files, Profile::self_signed, key);
    CHECK(verify_served(files.cert_file, state.client()) == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);

    const std::string cert = read_pem_file(files.cert_file);
    CHECK(is_self_signed(cert));
    CHECK_FALSE(is_issued_by(cert, read_pem_file(state.ca.ca_file)));
    CHECK(inspect_certificate(cert).issuer_common_name == hostname);
    // Its only defect: a client told to trust this very certificate accepts it.
    CHECK(verify_served(files.cert_file, trusting(files.cert_file)) == X509_V_OK);
  }
}

TEST_CASE("profile expired is refused as expired", "[certs][profiles]") {
  State state;
  const auto now = std::chrono::system_clock::now();
  for (const KeyKind key : both_keys) {
    INFO(to_string(key));
    const ProfileFiles files = state.ensure(Profile::expired, key);
    check_files(state, files, Profile::expired, key);
    CHECK(verify_served(files.cert_file, state.client()) == X509_V_ERR_CERT_HAS_EXPIRED);

    const CertInfo info = inspect_certificate(read_pem_file(files.cert_file));
    CHECK(info.not_before < now - std::chrono::days(729));
    CHECK(info.not_after < now - std::chrono::days(364));
    CHECK(info.not_after > now - std::chrono::days(366));
    // Its only defect: a client that does not check the time accepts it. (Verifying at a time
    // inside its window would not do: the local CA is younger than that.)
    Client timeless = state.client();
    timeless.check_time = false;
    CHECK(verify_served(files.cert_file, timeless) == X509_V_OK);
  }
}

TEST_CASE("profile not-yet-valid is refused as not yet valid", "[certs][profiles]") {
  State state;
  const auto now = std::chrono::system_clock::now();
  for (const KeyKind key : both_keys) {
    INFO(to_string(key));
    const ProfileFiles files = state.ensure(Profile::not_yet_valid, key);
    check_files(state, files, Profile::not_yet_valid, key);
    CHECK(verify_served(files.cert_file, state.client()) == X509_V_ERR_CERT_NOT_YET_VALID);

    const CertInfo info = inspect_certificate(read_pem_file(files.cert_file));
    CHECK(info.not_before > now + std::chrono::days(364));
    CHECK(info.not_before < now + std::chrono::days(366));
    Client later = state.client();
    later.at = to_time_t(info.not_before + std::chrono::days(30));
    // The local CA is valid for ten years, so a year on, the chain verifies.
    CHECK(verify_served(files.cert_file, later) == X509_V_OK);
  }
}

TEST_CASE("profile wrong-host is refused for every name a local client uses", "[certs][profiles]") {
  State state;
  for (const KeyKind key : both_keys) {
    INFO(to_string(key));
    const ProfileFiles files = state.ensure(Profile::wrong_host, key);
    check_files(state, files, Profile::wrong_host, key);
    Client client = state.client();
    CHECK(verify_served(files.cert_file, client) == X509_V_ERR_HOSTNAME_MISMATCH);
    client.host = hostname;
    CHECK(verify_served(files.cert_file, client) == X509_V_ERR_HOSTNAME_MISMATCH);
    client.ip = "127.0.0.1";
    CHECK(verify_served(files.cert_file, client) == X509_V_ERR_IP_ADDRESS_MISMATCH);

    const CertInfo info = inspect_certificate(read_pem_file(files.cert_file));
    CHECK(info.subject_common_name == "wrong.host.invalid");
    CHECK(info.dns_names == std::vector<std::string>{"wrong.host.invalid"});
    CHECK(info.ip_addresses.empty());
    client.ip.clear();
    client.host = "wrong.host.invalid";
    CHECK(verify_served(files.cert_file, client) == X509_V_OK);
  }
}

TEST_CASE("profile untrusted-ca is refused for want of a trusted issuer", "[certs][profiles]") {
  State state;
  for (const KeyKind key : both_keys) {
    INFO(to_string(key));
    const ProfileFiles files = state.ensure(Profile::untrusted_ca, key);
    check_files(state, files, Profile::untrusted_ca, key);
    CHECK(verify_served(files.cert_file, state.client()) ==
          X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);

    CHECK(files.untrusted_ca_file == state.temp.path() / "profiles" / "untrusted-ca.pem");
    CHECK(mode_of(state.temp.path() / "profiles" / "untrusted-ca-key.pem") == 0600);
    const std::string untrusted = read_pem_file(files.untrusted_ca_file);
    const CertInfo info = inspect_certificate(untrusted);
    CHECK(info.is_ca);
    CHECK(info.subject_common_name == "sevenport untrusted CA");
    CHECK(info.subject_common_name !=
          inspect_certificate(read_pem_file(state.ca.ca_file)).subject_common_name);
    // Its only defect: a client that trusted the other CA would accept it.
    CHECK(verify_served(files.cert_file, trusting(files.untrusted_ca_file)) == X509_V_OK);
  }
}

TEST_CASE("profile incomplete-chain verifies only with the withheld intermediate",
          "[certs][profiles]") {
  State state;
  for (const KeyKind key : both_keys) {
    INFO(to_string(key));
    const ProfileFiles files = state.ensure(Profile::incomplete_chain, key);
    check_files(state, files, Profile::incomplete_chain, key);
    CHECK(verify_served(files.cert_file, state.client()) ==
          X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);

    CHECK(files.intermediate_file == state.temp.path() / "profiles" / "intermediate.pem");
    CHECK(mode_of(state.temp.path() / "profiles" / "intermediate-key.pem") == 0600);
    const std::string intermediate = read_pem_file(files.intermediate_file);
    const CertInfo info = inspect_certificate(intermediate);
    CHECK(info.is_ca);
    CHECK(info.subject_common_name == "sevenport intermediate");
    CHECK(is_issued_by(intermediate, read_pem_file(state.ca.ca_file)));
    CHECK(is_issued_by(read_pem_file(files.cert_file), intermediate));

    Client with_intermediate = state.client();
    with_intermediate.extra_untrusted = {files.intermediate_file};
    CHECK(verify_served(files.cert_file, with_intermediate) == X509_V_OK);
  }
}

TEST_CASE("profile weak-rsa1024 is refused at security level 2", "[certs][profiles]") {
  State state;
  for (const KeyKind key : both_keys) {
    INFO(to_string(key));
    const ProfileFiles files = state.ensure(Profile::weak_rsa1024, key);
    check_files(state, files, Profile::weak_rsa1024, key);
    Client client = state.client();
    CHECK(verify_served(files.cert_file, client) == X509_V_ERR_EE_KEY_TOO_SMALL);
    client.auth_level = 0;
    CHECK(verify_served(files.cert_file, client) == X509_V_OK);

    auto leaf = parse_certificate(read_pem_file(files.cert_file));
    CHECK(X509_get_signature_nid(leaf.get()) == NID_ecdsa_with_SHA256);
    // One RSA-1024 certificate serves both key kinds.
    CHECK(files.cert_file.filename() == "weak-rsa1024.pem");
  }
}

TEST_CASE("profile weak-sha1 is refused at security level 2", "[certs][profiles]") {
  State state;
  for (const KeyKind key : both_keys) {
    INFO(to_string(key));
    const ProfileFiles files = state.ensure(Profile::weak_sha1, key);
    check_files(state, files, Profile::weak_sha1, key);
    Client client = state.client();
    // OpenSSL 3.0 reports a weak signature on any certificate below the trust anchor as
    // "CA signature digest algorithm too weak", the leaf's included.
    CHECK(verify_served(files.cert_file, client) == X509_V_ERR_CA_MD_TOO_WEAK);
    client.auth_level = 0;
    CHECK(verify_served(files.cert_file, client) == X509_V_OK);

    auto leaf = parse_certificate(read_pem_file(files.cert_file));
    CHECK(X509_get_signature_nid(leaf.get()) == NID_ecdsa_with_SHA1);
  }
}

TEST_CASE("profiles are made once and then reused byte for byte", "[certs][profiles]") {
  State state;
  for (const KeyKind key : both_keys) {
    for (const Profile profile : all_profiles) {
      INFO(to_string(profile) << " " << to_string(key));
      const ProfileFiles first = state.ensure(profile, key);
      const bool shared = (profile == Profile::valid && key == KeyKind::ecdsa_p256) ||
                          (profile == Profile::weak_rsa1024 && key == KeyKind::rsa_2048);
      CHECK(first.created == !shared);
      if (!shared) CHECK(first.reason == first.cert_file.filename().string() + " is missing");
      const std::string cert = read_pem_file(first.cert_file);
      const std::string cert_key = read_pem_file(first.key_file);
      const auto written = fs::last_write_time(first.cert_file);

      const ProfileFiles again = state.ensure(profile, key);
      CHECK_FALSE(again.created);
      CHECK(again.reason.empty());
      CHECK(again.cert_file == first.cert_file);
      CHECK(again.key_file == first.key_file);
      CHECK(read_pem_file(again.cert_file) == cert);
      CHECK(read_pem_file(again.key_file) == cert_key);
      CHECK(fs::last_write_time(again.cert_file) == written);
    }
  }
}

TEST_CASE("a new local CA reissues what it signs and keeps what it does not", "[certs][profiles]") {
  State state;
  const auto key = KeyKind::ecdsa_p256;
  std::vector<std::string> before;
  for (const Profile profile : all_profiles)
    before.push_back(read_pem_file(state.ensure(profile, key).cert_file));
  const std::string old_intermediate =
      read_pem_file(state.temp.path() / "profiles" / "intermediate.pem");

  fs::remove(state.ca.ca_file);
  const LocalCa fresh = ensure_local_ca(state.temp.path(), hostname);
  REQUIRE(fresh.ca_created);
  std::size_t index = 0;
  for (const Profile profile : all_profiles) {
    INFO(to_string(profile));
    const ProfileFiles files = ensure_profile(state.temp.path(), fresh, hostname, profile, key);
    const bool signed_by_local_ca =
        profile != Profile::self_signed && profile != Profile::untrusted_ca;
    if (profile != Profile::valid) {
      CHECK(files.created == signed_by_local_ca);
      if (signed_by_local_ca)
        CHECK(files.reason ==
              files.cert_file.filename().string() + " is not signed by the current CA");
    }
    CHECK((read_pem_file(files.cert_file) != before[index++]) == signed_by_local_ca);
  }
  const ProfileFiles chain =
      ensure_profile(state.temp.path(), fresh, hostname, Profile::incomplete_chain, key);
  CHECK(read_pem_file(chain.intermediate_file) != old_intermediate);
  Client client = trusting(fresh.ca_file);
  client.extra_untrusted = {chain.intermediate_file};
  CHECK(verify_served(chain.cert_file, client) == X509_V_OK);
  CHECK(verify_served(
            ensure_profile(state.temp.path(), fresh, hostname, Profile::expired, key).cert_file,
            trusting(fresh.ca_file)) == X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_CASE("another hostname reissues every profile but wrong-host", "[certs][profiles]") {
  State state;
  const auto key = KeyKind::ecdsa_p256;
  for (const Profile profile : all_profiles) state.ensure(profile, key);
  for (const Profile profile : all_profiles) {
    if (profile == Profile::valid) continue;  // ensure_local_ca's server.pem
    INFO(to_string(profile));
    const ProfileFiles files = state.ensure(profile, key, "mx.example.test");
    CHECK(files.created == (profile != Profile::wrong_host));
    if (files.created) {
      CHECK(files.reason ==
            files.cert_file.filename().string() + " does not cover mx.example.test");
      CHECK(inspect_certificate(read_pem_file(files.cert_file)).dns_names ==
            std::vector<std::string>{"localhost", "mx.example.test"});
    }
  }
}

TEST_CASE("a profile leaf that lost its defect or gained another is reissued",
          "[certs][profiles]") {
  State state;
  const auto now = std::chrono::system_clock::now();
  const std::string ca_pem = read_pem_file(state.ca.ca_file);
  const std::string ca_key = read_pem_file(state.ca.ca_key_file);
  auto plant = [&](const ProfileFiles& files, TimePoint not_before, TimePoint not_after) {
    LeafOptions options;
    options.common_name = hostname;
    options.dns_names = {"localhost", hostname};
    options.ip_addresses = {"127.0.0.1", "::1"};
    options.key_pem = generate_key(KeyType::ecdsa_p256);
    options.not_before = not_before;
    options.not_after = not_after;
    write_pem_file(files.key_file, options.key_pem, FileMode::private_key);
    write_pem_file(files.cert_file, issue_leaf(ca_pem, ca_key, options), FileMode::public_file);
  };

  SECTION("a not-yet-valid leaf about to become valid") {
    plant(state.ensure(Profile::not_yet_valid, KeyKind::ecdsa_p256), now + std::chrono::hours(12),
          now + std::chrono::days(30));
    const ProfileFiles files = state.ensure(Profile::not_yet_valid, KeyKind::ecdsa_p256);
    CHECK(files.created);
    CHECK(files.reason == "not-yet-valid-ecdsa-p256.pem: it becomes valid within a day");
    CHECK(verify_served(files.cert_file, state.client()) == X509_V_ERR_CERT_NOT_YET_VALID);
  }
  SECTION("a wrong-host leaf that expired") {
    plant(state.ensure(Profile::wrong_host, KeyKind::ecdsa_p256), now - std::chrono::days(30),
          now - std::chrono::days(1));
    const ProfileFiles files = state.ensure(Profile::wrong_host, KeyKind::ecdsa_p256);
    CHECK(files.created);
    CHECK(files.reason == "wrong-host-ecdsa-p256.pem: it has expired");
    CHECK(verify_served(files.cert_file, state.client()) == X509_V_ERR_HOSTNAME_MISMATCH);
  }
  SECTION("a wrong-host leaf that names the right host") {
    plant(state.ensure(Profile::wrong_host, KeyKind::ecdsa_p256), now - std::chrono::days(1),
          now + std::chrono::days(30));
    const ProfileFiles files = state.ensure(Profile::wrong_host, KeyKind::ecdsa_p256);
    CHECK(files.created);
    CHECK(files.reason == "wrong-host-ecdsa-p256.pem names more than wrong.host.invalid");
  }
  SECTION("an expired leaf that is in date") {
    plant(state.ensure(Profile::expired, KeyKind::ecdsa_p256), now - std::chrono::days(1),
          now + std::chrono::days(30));
    const ProfileFiles files = state.ensure(Profile::expired, KeyKind::ecdsa_p256);
    CHECK(files.created);
    CHECK(files.reason == "expired-ecdsa-p256.pem: it has not expired");
    CHECK(verify_served(files.cert_file, state.client()) == X509_V_ERR_CERT_HAS_EXPIRED);
  }
  SECTION("a self-signed leaf signed by the local CA") {
    plant(state.ensure(Profile::self_signed, KeyKind::ecdsa_p256), now - std::chrono::days(1),
          now + std::chrono::days(30));
    const ProfileFiles files = state.ensure(Profile::self_signed, KeyKind::ecdsa_p256);
    CHECK(files.created);
    CHECK(files.reason == "self-signed-ecdsa-p256.pem is not self-signed");
  }
  SECTION("a deleted key") {
    const ProfileFiles first = state.ensure(Profile::weak_sha1, KeyKind::rsa_2048);
    fs::remove(first.key_file);
    const ProfileFiles files = state.ensure(Profile::weak_sha1, KeyKind::rsa_2048);
    CHECK(files.created);
    CHECK(files.reason == "weak-sha1-rsa-2048-key.pem is missing");
    CHECK(key_matches_certificate(read_pem_file(files.cert_file), read_pem_file(files.key_file)));
  }
}

TEST_CASE("weak profiles load into an SSL_CTX only at security level 0", "[certs][profiles]") {
  State state;
  auto loads = [](const ProfileFiles& files, int level) {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                          SSL_CTX_free);
    REQUIRE(ctx);
    SSL_CTX_set_security_level(ctx.get(), level);
    const bool ok =
        SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert_file.c_str()) == 1 &&
        SSL_CTX_use_PrivateKey_file(ctx.get(), files.key_file.c_str(), SSL_FILETYPE_PEM) == 1 &&
        SSL_CTX_check_private_key(ctx.get()) == 1;
    ERR_clear_error();
    return ok;
  };
  for (const Profile profile : all_profiles) {
    INFO(to_string(profile));
    const ProfileFiles files = state.ensure(profile, KeyKind::ecdsa_p256);
    CHECK(loads(files, 2) == !files.needs_legacy_security_level);
    CHECK(loads(files, 0));
  }
}
