#include <catch2/catch.hpp>

#include "protocols/store/mail_store.hpp"

using namespace sevenport::store;

namespace {
Message make(std::string raw) {
  Message m;
  m.raw = std::move(raw);
  m.mail_from = "a@x.test";
  return m;
}
}  // namespace

TEST_CASE("store delivers into each owner's INBOX with increasing ids and UIDs", "[store]") {
  MailStore store;
  std::vector<StoreEvent> events;
  store.observe([&](const StoreEvent& e) { events.push_back(e); });
  const auto id1 = store.deliver(make("one"), {"Alice@example.test", "bob@example.test"});
  const auto id2 = store.deliver(make("two"), {"alice@example.test"});
  const auto id3 = store.deliver(make("relayed"), {});
  CHECK(id1 == 1);
  CHECK(id2 == 2);
  CHECK(id3 == 3);
  CHECK(store.messages().size() == 3);
  auto& inbox = store.account("alice@example.test").inbox();
  REQUIRE(inbox.entries().size() == 2);
  CHECK(inbox.entries()[0].uid == 1);
  CHECK(inbox.entries()[1].uid == 2);
  CHECK(inbox.entries()[1].message->raw == "two");
  CHECK(store.account("bob@example.test").inbox().entries().size() == 1);
  REQUIRE(events.size() == 4);
  CHECK(events[0].owner == "alice@example.test");
  CHECK(events[3].owner.empty());
  CHECK(store.find_message(2)->raw == "two");
  CHECK(!store.find_message(9));
}

TEST_CASE("accounts have the special-use folders and INBOX is case-insensitive", "[store]") {
  MailStore store;
  auto& account = store.account("carol@example.test");
  CHECK(account.find("inbox") == &account.inbox());
  CHECK(account.find("Sent")->special_use() == "\\Sent");
  CHECK(account.find("Trash"));
  CHECK(!account.create("Sent"));
  CHECK(account.create("Projects"));
  CHECK(account.rename("Projects", "Archive"));
  CHECK(!account.find("Projects"));
  CHECK(account.find("Archive")->name() == "Archive");
  CHECK(!account.remove("INBOX"));
  CHECK(account.remove("Archive"));
}

TEST_CASE("expunge removes entries, UIDs are never reused, remove_message reaches every mailbox",
          "[store]") {
  MailStore store;
  store.deliver(make("1"), {"d@x.test"});
  const auto id2 = store.deliver(make("2"), {"d@x.test", "e@x.test"});
  store.deliver(make("3"), {"d@x.test"});
  CHECK(store.expunge("d@x.test", "INBOX", {1, 3}) == std::vector<std::uint32_t>{1, 3});
  auto& inbox = store.account("d@x.test").inbox();
  CHECK(inbox.entries().size() == 1);
  store.deliver(make("4"), {"d@x.test"});
  CHECK(inbox.entries().back().uid == 4);
  CHECK(store.remove_message(id2));
  CHECK(inbox.entries().size() == 1);
  CHECK(store.account("e@x.test").inbox().entries().empty());
  store.clear_messages();
  CHECK(store.messages().empty());
  CHECK(inbox.entries().empty());
}

TEST_CASE("maildrop lock is exclusive", "[store]") {
  MailStore store;
  CHECK(store.try_lock("a@x.test"));
  CHECK(!store.try_lock("A@x.test"));
  store.unlock("a@x.test");
  CHECK(store.try_lock("a@x.test"));
}
