#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "cert_test_support.hpp"
#include "certs/certificates.hpp"
#include "certs/pem_files.hpp"

using namespace sevenport::certs;
using Catch::Matchers::Contains;
using sevenport::certs::testing::TempDir;
using sevenport::certs::testing::verify_chain;
namespace fs = std::filesystem;

namespace {

const auto now = std::chrono::system_clock::now();
const auto day = std::chrono::days(1);

struct TestCa {
  std::string key = generate_key(KeyType::ecdsa_p256);
  std::string cert = make_ca({.common_name = "test CA",
                              .key_pem = key,
                              .not_before = now - day,
                              .not_after = now + 30 * day});
};

LeafOptions leaf_for(std::string host, KeyType type = KeyType::ecdsa_p256) {
  LeafOptions options;
  options.common_name = host;
  options.dns_names = {std::move(host)};
  options.key_pem = generate_key(type);
  options.not_before = now - day;
  options.not_after = now + 10 * day;
  return options;
}

}  // namespace

TEST_CASE("generated keys have the requested type", "[certs]") {
  for (const auto type : {KeyType::ecdsa_p256, KeyType::ecdsa_p384, KeyType::rsa_2048}) {
    const std::string pem = generate_key(type);
    CHECK(pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
    auto key = parse_private_key(pem);
    CHECK(EVP_PKEY_get_base_id(key.get()) ==
          (type == KeyType::rsa_2048 ? EVP_PKEY_RSA : EVP_PKEY_EC));
    CHECK(EVP_PKEY_get_bits(key.get()) == (type == KeyType::ecdsa_p256   ? 256
                                           : type == KeyType::ecdsa_p384 ? 384
                                                                         : 2048));
  }
}

TEST_CASE("make_ca and issue_leaf produce strict v3 certificates", "[certs]") {
  TestCa ca;
  auto ca_cert = parse_certificate(ca.cert);
  CHECK(X509_get_version(ca_cert.get()) == X509_VERSION_3);
  CHECK(X509_get0_subject_key_id(ca_cert.get()) != nullptr);
  CHECK((X509_get_extension_flags(ca_cert.get()) & EXFLAG_CA) != 0);
  CHECK(X509_get_pathlen(ca_cert.get()) == 0);
  CHECK(X509_get_key_usage(ca_cert.get()) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));

  const LeafOptions options = leaf_for("host.example.test");
  const std::string leaf_pem = issue_leaf(ca.cert, ca.key, options);
  auto leaf = parse_certificate(leaf_pem);
  CHECK(X509_get_version(leaf.get()) == X509_VERSION_3);
  CHECK(X509_get0_subject_key_id(leaf.get()) != nullptr);
  REQUIRE(X509_get0_authority_key_id(leaf.get()) != nullptr);
  CHECK(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf.get()),
                              X509_get0_subject_key_id(ca_cert.get())) == 0);
  CHECK(X509_get_key_usage(leaf.get()) == KU_DIGITAL_SIGNATURE);
  CHECK(X509_get_extended_key_usage(leaf.get()) == XKU_SSL_SERVER);
  const ASN1_INTEGER* serial = X509_get0_serialNumber(leaf.get());
  CHECK(ASN1_STRING_length(serial) == 16);
  CHECK(ASN1_STRING_type(serial) == V_ASN1_INTEGER);  // not V_ASN1_NEG_INTEGER

  CHECK(verify_chain(leaf_pem, ca.cert) == X509_V_OK);
  CHECK(is_issued_by(leaf_pem, ca.cert));
  CHECK(key_matches_certificate(leaf_pem, options.key_pem));
  CHECK_FALSE(key_matches_certificate(leaf_pem, ca.key));
}

TEST_CASE("broken profiles fail verification for the intended reason", "[certs]") {
  TestCa ca;

  SECTION("expired") {
    LeafOptions options = leaf_for("localhost");
    options.not_before = now - 10 * day;
    options.not_after = now - day;
    CHECK(verify_chain(issue_leaf(ca.cert, ca.key, options), ca.cert) ==
          X509_V_ERR_CERT_HAS_EXPIRED);
  }
  SECTION("not yet valid") {
    LeafOptions options = leaf_for("localhost");
    options.not_before = now + day;
    options.not_after = now + 10 * day;
    CHECK(verify_chain(issue_leaf(ca.cert, ca.key, options), ca.cert) ==
          X509_V_ERR_CERT_NOT_YET_VALID);
  }
  SECTION("untrusted CA") {
    TestCa other;
    const std::string leaf = issue_leaf(other.cert, other.key, leaf_for("localhost"));
    CHECK(verify_chain(leaf, ca.cert) == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    CHECK_FALSE(is_issued_by(leaf, ca.cert));
  }
  SECTION("wrong host") {
    auto leaf = parse_certificate(issue_leaf(ca.cert, ca.key, leaf_for("other.example.test")));
    CHECK(X509_check_host(leaf.get(), "localhost", 9, 0, nullptr) == 0);
  }
  SECTION("SHA-1 signature") {
    LeafOptions options = leaf_for("localhost");
    options.digest = Digest::sha1;
    const std::string leaf = issue_leaf(ca.cert, ca.key, options);
    CHECK(verify_chain(leaf, ca.cert) == X509_V_ERR_CA_MD_TOO_WEAK);
    CHECK(verify_chain(leaf, ca.cert, 0) == X509_V_OK);
  }
  SECTION("RSA 1024") {
    const std::string leaf = issue_leaf(ca.cert, ca.key, leaf_for("localhost", KeyType::rsa_1024));
    CHECK(verify_chain(leaf, ca.cert) == X509_V_ERR_EE_KEY_TOO_SMALL);
  }
  SECTION("client certificate only") {
    LeafOptions options = leaf_for("localhost");
    options.server_auth = false;
    options.client_auth = true;
    CHECK(verify_chain(issue_leaf(ca.cert, ca.key, options), ca.cert) ==
          X509_V_ERR_INVALID_PURPOSE);
  }
}

TEST_CASE("an RSA leaf under an RSA CA also verifies", "[certs]") {
  const std::string key = generate_key(KeyType::rsa_2048);
  const std::string ca = make_ca({.common_name = "rsa CA",
                                  .key_pem = key,
                                  .not_before = now - day,
                                  .not_after = now + day * 2,
                                  .digest = Digest::sha384,
                                  .path_length = -1});
  const std::string leaf = issue_leaf(ca, key, leaf_for("localhost", KeyType::rsa_2048));
  CHECK(verify_chain(leaf, ca) == X509_V_OK);
  CHECK(X509_get_key_usage(parse_certificate(leaf).get()) ==
        (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  CHECK(X509_get_pathlen(parse_certificate(ca).get()) == -1);
}

TEST_CASE("a leaf without a CN has a critical subjectAltName", "[certs]") {
  TestCa ca;
  LeafOptions options = leaf_for("localhost");
  options.common_name.clear();
  options.ip_addresses = {"127.0.0.1"};
  const std::string leaf = issue_leaf(ca.cert, ca.key, options);
  auto cert = parse_certificate(leaf);
  const int index = X509_get_ext_by_NID(cert.get(), NID_subject_alt_name, -1);
  REQUIRE(index >= 0);
  CHECK(X509_EXTENSION_get_critical(X509_get_ext(cert.get(), index)) == 1);
  CHECK(verify_chain(leaf, ca.cert) == X509_V_OK);
  const CertInfo info = inspect_certificate(leaf);
  CHECK(info.subject_common_name.empty());
  CHECK(info.dns_names == std::vector<std::string>{"localhost"});
  CHECK(info.ip_addresses == std::vector<std::string>{"127.0.0.1"});
}

TEST_CASE("invalid options are rejected with a clear CertError", "[certs]") {
  TestCa ca;
  TestCa other;
  CHECK_THROWS_WITH(issue_leaf(ca.cert, other.key, leaf_for("localhost")),
                    "the CA key does not belong to the CA certificate");
  LeafOptions bad_ip = leaf_for("localhost");
  bad_ip.ip_addresses = {"256.1.1.1"};
  CHECK_THROWS_WITH(issue_leaf(ca.cert, ca.key, bad_ip),
                    "\"256.1.1.1\" is not an IPv4 or IPv6 address");
  LeafOptions bad_dns = leaf_for("localhost");
  bad_dns.dns_names = {"a b"};
  CHECK_THROWS_WITH(issue_leaf(ca.cert, ca.key, bad_dns),
                    "DNS name \"a b\" must be printable ASCII without spaces");
  LeafOptions inverted = leaf_for("localhost");
  std::swap(inverted.not_before, inverted.not_after);
  CHECK_THROWS_WITH(issue_leaf(ca.cert, ca.key, inverted),
                    "certificate not_after must be after not_before");
  LeafOptions long_cn = leaf_for("localhost");
  long_cn.common_name = std::string(65, 'a');
  CHECK_THROWS_WITH(issue_leaf(ca.cert, ca.key, long_cn), Contains("longer than 64 characters"));
  CHECK_THROWS_WITH(parse_certificate("junk"), Contains("cannot parse certificate PEM: "));
  CHECK_THROWS_WITH(parse_private_key("junk"), Contains("cannot parse private key PEM: "));
  CHECK_THROWS_AS(inspect_certificate(""), CertError);
}

TEST_CASE("PEM files are written atomically with the right mode", "[certs]") {
  TempDir temp;
  const fs::path key = temp.path() / "key.pem";
  write_pem_file(key, "first", FileMode::private_key);
  write_pem_file(key, "second", FileMode::private_key);
  CHECK(read_pem_file(key) == "second");
  struct stat info {};
  REQUIRE(::stat(key.c_str(), &info) == 0);
  CHECK((info.st_mode & 07777) == 0600);
  // Only the target is left: no temporary files.
  CHECK(std::distance(fs::directory_iterator(temp.path()), fs::directory_iterator()) == 1);

  const fs::path missing_dir = temp.path() / "nope" / "key.pem";
  CHECK_THROWS_WITH(write_pem_file(missing_dir, "x", FileMode::private_key),
                    missing_dir.string() + ": cannot write: No such file or directory");
  CHECK_THROWS_WITH(
      read_pem_file(temp.path() / "absent.pem"),
      (temp.path() / "absent.pem").string() + ": cannot read: No such file or directory");
}

TEST_CASE("issue_intermediate makes a CA that chains to its issuer", "[certs]") {
  const std::string root_key = generate_key(KeyType::ecdsa_p256);
  const std::string root = make_ca({.common_name = "root",
                                    .key_pem = root_key,
                                    .not_before = now - day,
                                    .not_after = now + 30 * day,
                                    .path_length = 1});
  const std::string middle_key = generate_key(KeyType::ecdsa_p256);
  const std::string middle = issue_intermediate(root, root_key,
                                                {.common_name = "middle",
                                                 .key_pem = middle_key,
                                                 .not_before = now - day,
                                                 .not_after = now + 20 * day});
  const CertInfo info = inspect_certificate(middle);
  CHECK(info.is_ca);
  CHECK(info.path_length == 0);
  CHECK(info.subject_common_name == "middle");
  CHECK(info.issuer_common_name == "root");
  CHECK(inspect_certificate(root).path_length == 1);
  CHECK(is_issued_by(middle, root));
  CHECK_FALSE(is_self_signed(middle));
  CHECK(is_self_signed(root));

  const std::string leaf = issue_leaf(middle, middle_key, leaf_for("localhost"));
  CHECK(is_issued_by(leaf, middle));
  CHECK(inspect_certificate(leaf).path_length == -1);
  CHECK(verify_chain(leaf, root) == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  CHECK_THROWS_WITH(issue_intermediate(root, middle_key,
                                       {.common_name = "x",
                                        .key_pem = middle_key,
                                        .not_before = now - day,
                                        .not_after = now + day}),
                    "the CA key does not belong to the CA certificate");
}

TEST_CASE("make_self_signed_leaf signs a non-CA leaf with its own key", "[certs]") {
  const LeafOptions options = leaf_for("host.example.test", KeyType::rsa_2048);
  const std::string leaf = make_self_signed_leaf(options);
  CHECK(is_self_signed(leaf));
  CHECK(key_matches_certificate(leaf, options.key_pem));
  const CertInfo info = inspect_certificate(leaf);
  CHECK_FALSE(info.is_ca);
  CHECK(info.subject_common_name == "host.example.test");
  CHECK(info.issuer_common_name == "host.example.test");
  CHECK(info.dns_names == std::vector<std::string>{"host.example.test"});
  auto cert = parse_certificate(leaf);
  CHECK(X509_get_key_usage(cert.get()) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert.get());
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert.get());
  REQUIRE(ski != nullptr);
  REQUIRE(aki != nullptr);
  CHECK(ASN1_OCTET_STRING_cmp(ski, aki) == 0);
  CHECK(verify_chain(leaf, leaf) == X509_V_OK);  // trusted as itself, and only so
  TestCa ca;
  CHECK(verify_chain(leaf, ca.cert) == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  CHECK_FALSE(is_self_signed(issue_leaf(ca.cert, ca.key, leaf_for("localhost"))));
}
