#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "cert_test_support.hpp"
#include "certs/certificates.hpp"
#include "certs/local_ca.hpp"
#include "certs/pem_files.hpp"

using namespace sevenport::certs;
using sevenport::certs::testing::TempDir;
using sevenport::certs::testing::verify_chain;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

bool covers_host(const std::string& cert_pem, const std::string& host) {
  auto cert = parse_certificate(cert_pem);
  return X509_check_host(cert.get(), host.data(), host.size(), X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
                         nullptr) == 1;
}

bool covers_ip(const std::string& cert_pem, const std::string& ip) {
  auto cert = parse_certificate(cert_pem);
  return X509_check_ip_asc(cert.get(), ip.c_str(), 0) == 1;
}

struct Snapshot {
  std::string ca, ca_key, cert, key;
  fs::file_time_type ca_time, cert_time;
};

Snapshot snapshot(const fs::path& dir) {
  return {read_pem_file(dir / "ca.pem"),       read_pem_file(dir / "ca-key.pem"),
          read_pem_file(dir / "server.pem"),   read_pem_file(dir / "server-key.pem"),
          fs::last_write_time(dir / "ca.pem"), fs::last_write_time(dir / "server.pem")};
}

}  // namespace

TEST_CASE("ensure_local_ca creates a CA and a leaf that strict verifiers accept", "[certs]") {
  TempDir temp;
  const fs::path dir = temp.path() / "state" / "sevenport";
  const LocalCa ca = ensure_local_ca(dir, "mail.example.test");

  CHECK(ca.ca_created);
  CHECK(ca.leaf_created);
  CHECK(ca.ca_file == dir / "ca.pem");
  CHECK(ca.ca_key_file == dir / "ca-key.pem");
  CHECK(ca.cert_file == dir / "server.pem");
  CHECK(ca.key_file == dir / "server-key.pem");
  CHECK(ca.ca_file.is_absolute());
  CHECK(mode_of(dir) == 0700);
  CHECK(mode_of(dir / "ca-key.pem") == 0600);
  CHECK(mode_of(dir / "server-key.pem") == 0600);
  CHECK(mode_of(dir / "ca.pem") == 0644);
  CHECK(mode_of(dir / "server.pem") == 0644);

  const std::string ca_pem = read_pem_file(ca.ca_file);
  const std::string leaf_pem = read_pem_file(ca.cert_file);
  CHECK(verify_chain(leaf_pem, ca_pem) == X509_V_OK);
  CHECK(covers_host(leaf_pem, "localhost"));
  CHECK(covers_host(leaf_pem, "mail.example.test"));
  CHECK_FALSE(covers_host(leaf_pem, "other.example.test"));
  CHECK(covers_ip(leaf_pem, "127.0.0.1"));
  CHECK(covers_ip(leaf_pem, "::1"));
  CHECK(key_matches_certificate(leaf_pem, read_pem_file(ca.key_file)));

  const CertInfo ca_info = inspect_certificate(ca_pem);
  CHECK(ca_info.is_ca);
  CHECK(ca_info.path_length == 1);
  CHECK(ca_info.subject_common_name.rfind("sevenport local CA ", 0) == 0);
  CHECK(ca_info.subject_common_name.size() == std::string("sevenport local CA ").size() + 8);
  const auto now = std::chrono::system_clock::now();
  CHECK(ca_info.not_after - now > std::chrono::days(3640));

  const CertInfo leaf = inspect_certificate(leaf_pem);
  CHECK_FALSE(leaf.is_ca);
  CHECK(leaf.subject_common_name == "mail.example.test");
  CHECK(leaf.issuer_common_name == ca_info.subject_common_name);
  CHECK(leaf.dns_names == std::vector<std::string>{"localhost", "mail.example.test"});
  CHECK(leaf.ip_addresses == std::vector<std::string>{"127.0.0.1", "::1"});
  CHECK(leaf.not_before < now - std::chrono::hours(23));
  CHECK(leaf.not_after - leaf.not_before == std::chrono::days(397));
}

TEST_CASE("two installs get different CAs", "[certs]") {
  TempDir one, two;
  const auto a = ensure_local_ca(one.path(), "localhost");
  const auto b = ensure_local_ca(two.path(), "localhost");
  CHECK(inspect_certificate(read_pem_file(a.ca_file)).subject_common_name !=
        inspect_certificate(read_pem_file(b.ca_file)).subject_common_name);
  CHECK(verify_chain(read_pem_file(a.cert_file), read_pem_file(b.ca_file)) != X509_V_OK);
}

TEST_CASE("openssl verify -x509_strict accepts the generated chain", "[certs]") {
  if (!fs::exists("/usr/bin/openssl")) {
    WARN("/usr/bin/openssl not found: skipped");
    return;
  }
  TempDir temp;
  const auto ca = ensure_local_ca(temp.path(), "localhost");
  const std::string command = "/usr/bin/openssl verify -x509_strict -purpose sslserver -CAfile '" +
                              ca.ca_file.string() + "' '" + ca.cert_file.string() +
                              "' >/dev/null 2>&1";
  CHECK(std::system(command.c_str()) == 0);
}

TEST_CASE("a second call reuses every file untouched", "[certs]") {
  TempDir temp;
  ensure_local_ca(temp.path(), "localhost");
  const Snapshot before = snapshot(temp.path());
  const LocalCa again = ensure_local_ca(temp.path(), "localhost");
  CHECK_FALSE(again.ca_created);
  CHECK_FALSE(again.leaf_created);
  CHECK(again.ca_reason.empty());
  CHECK(again.leaf_reason.empty());
  const Snapshot after = snapshot(temp.path());
  CHECK(after.ca == before.ca);
  CHECK(after.ca_key == before.ca_key);
  CHECK(after.cert == before.cert);
  CHECK(after.key == before.key);
  CHECK(after.ca_time == before.ca_time);
  CHECK(after.cert_time == before.cert_time);
}

TEST_CASE("another hostname reissues the leaf only", "[certs]") {
  TempDir temp;
  ensure_local_ca(temp.path(), "localhost");
  const Snapshot before = snapshot(temp.path());

  const LocalCa renamed = ensure_local_ca(temp.path(), "mx.example.test");
  CHECK_FALSE(renamed.ca_created);
  CHECK(renamed.leaf_created);
  CHECK(renamed.leaf_reason == "server.pem does not cover mx.example.test");
  const Snapshot after = snapshot(temp.path());
  CHECK(after.ca == before.ca);
  CHECK(after.ca_key == before.ca_key);
  CHECK(after.cert != before.cert);
  CHECK(after.key != before.key);
  CHECK(covers_host(after.cert, "mx.example.test"));
  CHECK(verify_chain(after.cert, after.ca) == X509_V_OK);

  SECTION("an IP literal hostname goes in as an IP address") {
    const LocalCa by_ip = ensure_local_ca(temp.path(), "192.0.2.7");
    CHECK(by_ip.leaf_created);
    const std::string cert = read_pem_file(by_ip.cert_file);
    CHECK(covers_ip(cert, "192.0.2.7"));
    CHECK(inspect_certificate(cert).dns_names == std::vector<std::string>{"localhost"});
    CHECK_FALSE(ensure_local_ca(temp.path(), "192.0.2.7").leaf_created);
  }
  SECTION("the loopback address as hostname is not listed twice") {
    ensure_local_ca(temp.path(), "::1");
    CHECK(inspect_certificate(read_pem_file(temp.path() / "server.pem")).ip_addresses ==
          std::vector<std::string>{"127.0.0.1", "::1"});
  }
}

TEST_CASE("an expired leaf is reissued", "[certs]") {
  TempDir temp;
  ensure_local_ca(temp.path(), "localhost");
  const auto now = std::chrono::system_clock::now();
  LeafOptions expired;
  expired.common_name = "localhost";
  expired.dns_names = {"localhost"};
  expired.ip_addresses = {"127.0.0.1", "::1"};
  expired.key_pem = generate_key(KeyType::ecdsa_p256);
  expired.not_before = now - std::chrono::days(400);
  expired.not_after = now - std::chrono::days(3);
  const std::string ca = read_pem_file(temp.path() / "ca.pem");
  const std::string old_leaf = issue_leaf(ca, read_pem_file(temp.path() / "ca-key.pem"), expired);
  write_pem_file(temp.path() / "server.pem", old_leaf, FileMode::public_file);
  write_pem_file(temp.path() / "server-key.pem", expired.key_pem, FileMode::private_key);
  CHECK(verify_chain(old_leaf, ca) == X509_V_ERR_CERT_HAS_EXPIRED);

  const LocalCa renewed = ensure_local_ca(temp.path(), "localhost");
  CHECK_FALSE(renewed.ca_created);
  CHECK(renewed.leaf_created);
  CHECK(renewed.leaf_reason == "server.pem: it has expired");
  CHECK(verify_chain(read_pem_file(renewed.cert_file), ca) == X509_V_OK);
}

TEST_CASE("a leaf expiring within a day is reissued", "[certs]") {
  TempDir temp;
  ensure_local_ca(temp.path(), "localhost");
  const auto now = std::chrono::system_clock::now();
  LeafOptions soon;
  soon.dns_names = {"localhost"};
  soon.ip_addresses = {"127.0.0.1", "::1"};
  soon.key_pem = generate_key(KeyType::ecdsa_p256);
  soon.not_before = now - std::chrono::days(1);
  soon.not_after = now + std::chrono::hours(12);
  write_pem_file(temp.path() / "server.pem",
                 issue_leaf(read_pem_file(temp.path() / "ca.pem"),
                            read_pem_file(temp.path() / "ca-key.pem"), soon),
                 FileMode::public_file);
  write_pem_file(temp.path() / "server-key.pem", soon.key_pem, FileMode::private_key);
  const LocalCa renewed = ensure_local_ca(temp.path(), "localhost");
  CHECK(renewed.leaf_created);
  CHECK(renewed.leaf_reason == "server.pem: it expires within a day");
}

TEST_CASE("a leaf that does not match its key or its CA is reissued", "[certs]") {
  TempDir temp;
  ensure_local_ca(temp.path(), "localhost");

  SECTION("foreign key") {
    write_pem_file(temp.path() / "server-key.pem", generate_key(KeyType::ecdsa_p256),
                   FileMode::private_key);
    const LocalCa fixed = ensure_local_ca(temp.path(), "localhost");
    CHECK(fixed.leaf_created);
    CHECK(fixed.leaf_reason == "server-key.pem is not the key of server.pem");
  }
  SECTION("signed by another CA with the same name") {
    const auto now = std::chrono::system_clock::now();
    const std::string ca = read_pem_file(temp.path() / "ca.pem");
    const std::string impostor_key = generate_key(KeyType::ecdsa_p256);
    const std::string impostor =
        make_ca({.common_name = inspect_certificate(ca).subject_common_name,
                 .key_pem = impostor_key,
                 .not_before = now - std::chrono::days(1),
                 .not_after = now + std::chrono::days(30)});
    LeafOptions options;
    options.dns_names = {"localhost"};
    options.ip_addresses = {"127.0.0.1", "::1"};
    options.key_pem = generate_key(KeyType::ecdsa_p256);
    options.not_before = now - std::chrono::days(1);
    options.not_after = now + std::chrono::days(30);
    write_pem_file(temp.path() / "server.pem", issue_leaf(impostor, impostor_key, options),
                   FileMode::public_file);
    write_pem_file(temp.path() / "server-key.pem", options.key_pem, FileMode::private_key);
    const LocalCa fixed = ensure_local_ca(temp.path(), "localhost");
    CHECK_FALSE(fixed.ca_created);
    CHECK(fixed.leaf_created);
    CHECK(fixed.leaf_reason == "server.pem is not signed by the current CA");
  }
  SECTION("garbage in server.pem") {
    write_pem_file(temp.path() / "server.pem", "not a certificate\n", FileMode::public_file);
    const LocalCa fixed = ensure_local_ca(temp.path(), "localhost");
    CHECK(fixed.leaf_created);
    CHECK(fixed.leaf_reason.find("cannot parse certificate PEM") != std::string::npos);
  }
}

TEST_CASE("a deleted or expired CA regenerates both", "[certs]") {
  TempDir temp;
  ensure_local_ca(temp.path(), "localhost");
  const Snapshot before = snapshot(temp.path());

  SECTION("deleted") {
    fs::remove(temp.path() / "ca.pem");
    const LocalCa fresh = ensure_local_ca(temp.path(), "localhost");
    CHECK(fresh.ca_created);
    CHECK(fresh.ca_reason == "ca.pem is missing");
    CHECK(fresh.leaf_created);
    CHECK(fresh.leaf_reason == "server.pem is not signed by the current CA");
  }
  SECTION("key deleted") {
    fs::remove(temp.path() / "ca-key.pem");
    const LocalCa fresh = ensure_local_ca(temp.path(), "localhost");
    CHECK(fresh.ca_created);
    CHECK(fresh.ca_reason == "ca-key.pem is missing");
    CHECK(fresh.leaf_created);
  }
  SECTION("a CA that allows no intermediate") {
    const auto now = std::chrono::system_clock::now();
    const std::string key = read_pem_file(temp.path() / "ca-key.pem");
    write_pem_file(temp.path() / "ca.pem",
                   make_ca({.common_name = "sevenport local CA old",
                            .key_pem = key,
                            .not_before = now - std::chrono::days(1),
                            .not_after = now + std::chrono::days(3000),
                            .path_length = 0}),
                   FileMode::public_file);
    const LocalCa fresh = ensure_local_ca(temp.path(), "localhost");
    CHECK(fresh.ca_created);
    CHECK(fresh.ca_reason == "ca.pem allows no intermediate CA (pathlen:0)");
    CHECK(fresh.leaf_created);
  }
  SECTION("expired") {
    const auto now = std::chrono::system_clock::now();
    const std::string key = read_pem_file(temp.path() / "ca-key.pem");
    write_pem_file(temp.path() / "ca.pem",
                   make_ca({.common_name = "sevenport local CA old",
                            .key_pem = key,
                            .not_before = now - std::chrono::days(20),
                            .not_after = now - std::chrono::days(10)}),
                   FileMode::public_file);
    const LocalCa fresh = ensure_local_ca(temp.path(), "localhost");
    CHECK(fresh.ca_created);
    CHECK(fresh.ca_reason == "ca.pem: it has expired");
    CHECK(fresh.leaf_created);
  }
  const Snapshot after = snapshot(temp.path());
  CHECK(after.ca != before.ca);
  CHECK(after.ca_key != before.ca_key);
  CHECK(after.cert != before.cert);
  CHECK(verify_chain(after.cert, after.ca) == X509_V_OK);
  CHECK(mode_of(temp.path() / "ca-key.pem") == 0600);
}

TEST_CASE("a state_dir that is a file is an error", "[certs]") {
  TempDir temp;
  const fs::path file = temp.path() / "plain";
  write_pem_file(file, "x", FileMode::public_file);
  CHECK_THROWS_WITH(ensure_local_ca(file, "localhost"), file.string() + ": not a directory");
}
