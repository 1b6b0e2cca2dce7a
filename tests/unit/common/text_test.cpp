#include <catch2/catch.hpp>

#include "protocols/common/text.hpp"
#include "protocols/common/users.hpp"

using namespace sevenport;

TEST_CASE("base64 round-trips every length", "[base64]") {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    data += static_cast<char>(i * 7);
    const auto encoded = base64_encode(data);
    CHECK(encoded.size() % 4 == 0);
    CHECK(base64_decode(encoded) == data);
  }
  CHECK(base64_encode(std::string("\0alice\0secret", 13)) == "AGFsaWNlAHNlY3JldA==");
}

TEST_CASE("base64 decoding is strict", "[base64]") {
  CHECK(!base64_decode("abc"));
  CHECK(!base64_decode("ab=c"));
  CHECK(!base64_decode("a===="));
  CHECK(!base64_decode("ab!d"));
  CHECK(!base64_decode("YQ==YQ=="));
  CHECK(base64_decode("") == std::string());
  CHECK(base64_decode("YQ==") == std::string("a"));
}

TEST_CASE("SASL PLAIN message is split into its three parts", "[sasl]") {
  const auto creds = parse_sasl_plain(std::string("admin\0alice\0pw", 14));
  REQUIRE(creds);
  CHECK(creds->authzid == "admin");
  CHECK(creds->authcid == "alice");
  CHECK(creds->password == "pw");
  CHECK(!parse_sasl_plain("alice"));
  CHECK(!parse_sasl_plain(std::string("\0\0pw", 4)));
  CHECK(!parse_sasl_plain(std::string("a\0b\0c\0d", 7)));
}

TEST_CASE("sanitize escapes control bytes and bounds the length", "[text]") {
  CHECK(sanitize("ok") == "ok");
  CHECK(sanitize("a\r\n\x01\xff") == "a\\x0d\\x0a\\x01\\xff");
  CHECK(sanitize(std::string(500, 'a'), 10) == std::string(10, 'a') + "...");
}

TEST_CASE("case-insensitive helpers", "[text]") {
  CHECK(iequals("EHLO", "ehlo"));
  CHECK(!iequals("EHLO", "HELO"));
  CHECK(istarts_with("MAIL FROM:<a>", "mail from:"));
  CHECK(trim("  x y\t") == "x y");
  CHECK(split_verb("AUTH PLAIN abc") ==
        std::pair<std::string_view, std::string_view>{"AUTH", "PLAIN abc"});
}

TEST_CASE("user directory resolves full addresses and unique local parts", "[users]") {
  UserDirectory users;
  users.add({"alice@example.test", "a-pw"});
  users.add({"bob@example.test", "b-pw"});
  users.add({"bob@other.test", "b2-pw"});
  CHECK(users.authenticate("ALICE@example.test", "a-pw") ==
        std::optional<std::string>("alice@example.test"));
  CHECK(users.authenticate("alice", "a-pw") == std::optional<std::string>("alice@example.test"));
  CHECK(!users.authenticate("alice", "A-pw"));
  CHECK(!users.authenticate("alice", "a-pw "));
  CHECK(!users.authenticate("bob", "b-pw"));  // ambiguous local part
  CHECK(users.authenticate("bob@other.test", "b2-pw"));
  CHECK(!users.authenticate("carol", "x"));
  users.add({"Alice@example.test", "new"});
  CHECK(users.all().size() == 3);
  CHECK(users.authenticate("alice", "new"));
  CHECK(users.remove("alice@EXAMPLE.test"));
  CHECK(!users.remove("alice@example.test"));
}
