#include "recorder/daemon/bolt_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

namespace fs = std::filesystem;

const fs::path kEngines = fs::path(TRACELOOP_TEST_SOURCE_DIR) / "testdata/engines";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

template <typename T>
void put(std::string& buf, size_t at, T v) {
  std::memcpy(buf.data() + at, &v, sizeof(T));
}

// Builds bbolt files page by page, for the shapes the engines never write:
// loops, lies about sizes, trees too deep.
class BoltImage {
 public:
  static constexpr uint32_t kPage = 4096;
  explicit BoltImage(uint64_t pages) : bytes_(pages * kPage, '\0') {}

  void meta(uint64_t page, uint64_t root, uint64_t high_water, uint64_t txid) {
    const size_t at = page * kPage;
    put<uint64_t>(bytes_, at, page);
    put<uint16_t>(bytes_, at + 8, 0x04);
    const size_t m = at + 16;
    put<uint32_t>(bytes_, m, 0xED0CDAED);
    put<uint32_t>(bytes_, m + 4, 2);
    put<uint32_t>(bytes_, m + 8, kPage);
    put<uint64_t>(bytes_, m + 16, root);
    put<uint64_t>(bytes_, m + 32, 0);  // freelist
    put<uint64_t>(bytes_, m + 40, high_water);
    put<uint64_t>(bytes_, m + 48, txid);
    put<uint64_t>(bytes_, m + 56, fnv1a64(std::string_view(bytes_).substr(m, 56)));
  }

  struct Leaf {
    std::string key, value;
    bool bucket = false;
  };
  // A leaf page's bytes (also the body of an inline bucket).
  static std::string leaf_bytes(const std::vector<Leaf>& items, uint64_t id, size_t size, uint32_t overflow = 0) {
    std::string page(size, '\0');
    put<uint64_t>(page, 0, id);
    put<uint16_t>(page, 8, 0x02);
    put<uint16_t>(page, 10, static_cast<uint16_t>(items.size()));
    put<uint32_t>(page, 12, overflow);
    size_t data = 16 + items.size() * 16;
    for (size_t i = 0; i < items.size(); ++i) {
      const size_t e = 16 + i * 16;
      put<uint32_t>(page, e, items[i].bucket ? 1 : 0);
      put<uint32_t>(page, e + 4, static_cast<uint32_t>(data - e));
      put<uint32_t>(page, e + 8, static_cast<uint32_t>(items[i].key.size()));
      put<uint32_t>(page, e + 12, static_cast<uint32_t>(items[i].value.size()));
      std::memcpy(page.data() + data, items[i].key.data(), items[i].key.size());
      data += items[i].key.size();
      std::memcpy(page.data() + data, items[i].value.data(), items[i].value.size());
      data += items[i].value.size();
    }
    return page;
  }
  void leaf(uint64_t page, const std::vector<Leaf>& items, uint32_t overflow = 0) {
    std::string bytes = leaf_bytes(items, page, kPage * (overflow + 1), overflow);
    if (bytes_.size() < (page + overflow + 1) * kPage) bytes_.resize((page + overflow + 1) * kPage);
    std::memcpy(bytes_.data() + page * kPage, bytes.data(), bytes.size());
  }
  void branch(uint64_t page, const std::vector<std::pair<std::string, uint64_t>>& children) {
    const size_t at = page * kPage;
    put<uint64_t>(bytes_, at, page);
    put<uint16_t>(bytes_, at + 8, 0x01);
    put<uint16_t>(bytes_, at + 10, static_cast<uint16_t>(children.size()));
    size_t data = 16 + children.size() * 16;
    for (size_t i = 0; i < children.size(); ++i) {
      const size_t e = 16 + i * 16;
      put<uint32_t>(bytes_, at + e, static_cast<uint32_t>(data - e));
      put<uint32_t>(bytes_, at + e + 4, static_cast<uint32_t>(children[i].first.size()));
      put<uint64_t>(bytes_, at + e + 8, children[i].second);
      std::memcpy(bytes_.data() + at + data, children[i].first.data(), children[i].first.size());
      data += children[i].first.size();
    }
  }
  static std::string bucket_value(uint64_t root) {
    std::string v(16, '\0');
    put<uint64_t>(v, 0, root);
    return v;
  }
  static std::string inline_bucket(const std::vector<Leaf>& items) {
    size_t size = 16 + items.size() * 16;
    for (const auto& i : items) size += i.key.size() + i.value.size();
    return bucket_value(0) + leaf_bytes(items, 0, size);
  }

  std::string& bytes() { return bytes_; }
  fs::path save(const fs::path& path) const {
    write_file(path, bytes_);
    return path;
  }

 private:
  std::string bytes_;
};

TEST(BoltReader, ReadsContainerdsRealStore) {
  auto db = BoltFile::open(kEngines / "containerd/meta.db");
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(db->page_size(), 4096u);
  EXPECT_GT(db->txid(), 0u);
  auto now = db->current_txid();
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(*now, db->txid());

  auto image = db->get({"v1", "tltest", "containers", "ctr1"}, "image");
  ASSERT_TRUE(image.ok()) << image.error().message;
  EXPECT_EQ(*image, "docker.io/library/bb:local");
  auto labels = db->entries({"v1", "tltest", "containers", "ctr1", "labels"});
  ASSERT_TRUE(labels.ok()) << labels.error().message;
  std::vector<std::string> seen;
  for (const auto& e : *labels) seen.push_back(e.key + "=" + e.value);
  EXPECT_EQ(seen, (std::vector<std::string>{"app=ctrdemo", "io.containerd.image.config.stop-signal=SIGTERM",
                                            "team=core"}));
  // Buckets are listed as buckets, absent things as nothing.
  auto containers = db->entries({"v1", "tltest", "containers"});
  ASSERT_TRUE(containers.ok());
  ASSERT_EQ(containers->size(), 1u);
  EXPECT_TRUE((*containers)[0].bucket);
  EXPECT_FALSE(db->get({"v1", "tltest", "containers", "nope"}, "image")->has_value());
  EXPECT_FALSE(db->get({"v1", "tltest", "containers", "ctr1"}, "labels")->has_value());  // a bucket, not a value
  EXPECT_TRUE(db->entries({"v1", "other"})->empty());
}

TEST(BoltReader, ReadsBranchAndOverflowPagesOfARealStore) {
  // 41 containers (a branch page over their leaves); one with a 12 kB
  // environment, so its spec spans a page and its overflow.
  auto db = BoltFile::open(kEngines / "containerd/meta-many.db");
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto containers = db->entries({"v1", "many", "containers"});
  ASSERT_TRUE(containers.ok()) << containers.error().message;
  EXPECT_EQ(containers->size(), 41u);
  for (int i : {1, 17, 40}) {
    auto idx = db->get({"v1", "many", "containers", "c" + std::to_string(i), "labels"}, "idx");
    ASSERT_TRUE(idx.ok()) << idx.error().message;
    EXPECT_EQ(*idx, std::to_string(i));
  }
  auto spec = db->get({"v1", "many", "containers", "cbig"}, "spec");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  ASSERT_TRUE(spec->has_value());
  EXPECT_GT((*spec)->size(), 12000u);
  EXPECT_NE((*spec)->find("BIG=" + std::string(12000, 'x')), std::string::npos);
}

TEST(BoltReader, ReadsSyntheticTreesAndInlineBuckets) {
  testing::TempDir dir;
  BoltImage img(8);
  img.meta(0, 2, 8, 5);
  img.meta(1, 2, 8, 4);
  img.branch(2, {{"a", 3}, {"m", 4}});
  img.leaf(3, {{"a", BoltImage::bucket_value(5), true}, {"b", "2"}});
  img.leaf(4, {{"m", "13"}, {"n", BoltImage::inline_bucket({{"k", "v"}, {"k2", "v2"}}), true}});
  img.leaf(5, {{"x", "in a"}});
  auto db = BoltFile::open(img.save(dir / "db"));
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(db->txid(), 5u);
  EXPECT_EQ(*db->get({}, "b"), "2");
  EXPECT_EQ(*db->get({}, "m"), "13");
  EXPECT_EQ(*db->get({"a"}, "x"), "in a");
  EXPECT_EQ(*db->get({"n"}, "k2"), "v2");
  EXPECT_FALSE(db->get({}, "0")->has_value());  // before every key
  EXPECT_FALSE(db->get({}, "z")->has_value());  // after every key
  auto top = db->entries({});
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 4u);
  EXPECT_EQ((*top)[3].key, "n");
  EXPECT_TRUE((*top)[3].bucket);
}

TEST(BoltReader, TakesTheValidMetaWithTheHigherTransaction) {
  testing::TempDir dir;
  BoltImage img(4);
  img.meta(0, 2, 4, 7);
  img.meta(1, 3, 4, 9);
  img.leaf(2, {{"k", "old"}});
  img.leaf(3, {{"k", "new"}});
  auto both = BoltFile::open(img.save(dir / "both"));
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->txid(), 9u);
  EXPECT_EQ(*both->get({}, "k"), "new");

  // A torn write of the newer meta: its checksum fails, the older one serves.
  img.bytes()[4096 + 16 + 48] ^= 0x40;
  auto torn = BoltFile::open(img.save(dir / "torn"));
  ASSERT_TRUE(torn.ok()) << torn.error().message;
  EXPECT_EQ(torn->txid(), 7u);
  EXPECT_EQ(*torn->get({}, "k"), "old");

  // Both damaged: not a database.
  img.bytes()[16 + 20] ^= 0x01;
  auto none = BoltFile::open(img.save(dir / "none"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no valid meta page"), std::string::npos) << none.error().message;
  // Only the second meta valid: found although the first gives no page size.
  img.meta(1, 3, 4, 9);
  auto second = BoltFile::open(img.save(dir / "second"));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->txid(), 9u);
}

TEST(BoltReader, RefusesDamagedAndHostileFiles) {
  testing::TempDir dir;
  auto expect_error = [&](BoltImage& img, const std::vector<std::string_view>& path, const std::string& what,
                          BoltLimits limits = {}) {
    auto db = BoltFile::open(img.save(dir / "db"), limits);
    if (!db.ok()) {
      EXPECT_NE(db.error().message.find(what), std::string::npos) << db.error().message;
      return;
    }
    auto listed = db->entries(path);
    ASSERT_FALSE(listed.ok()) << what;
    EXPECT_NE(listed.error().message.find(what), std::string::npos) << listed.error().message;
    auto got = db->get(path, "k");
    EXPECT_FALSE(got.ok()) << what;
  };
  {  // a branch that is its own child: the depth limit ends the descent
    BoltImage img(3);
    img.meta(0, 2, 3, 1);
    img.meta(1, 2, 3, 1);
    img.branch(2, {{"a", 2}});
    expect_error(img, {}, "deeper");
  }
  {  // two branches pointing at each other
    BoltImage img(4);
    img.meta(0, 2, 4, 1);
    img.meta(1, 2, 4, 1);
    img.branch(2, {{"a", 3}});
    img.branch(3, {{"a", 2}});
    expect_error(img, {}, "deeper");
  }
  {  // a wide fan of one leaf: the page budget ends it
    BoltImage img(4);
    img.meta(0, 2, 4, 1);
    img.meta(1, 2, 4, 1);
    std::vector<std::pair<std::string, uint64_t>> fan(200, {"a", 3});
    img.branch(2, fan);
    img.leaf(3, {{"a", "1"}});
    BoltLimits limits;
    limits.max_pages = 50;
    auto db = BoltFile::open(img.save(dir / "fan"), limits);
    ASSERT_TRUE(db.ok());
    auto listed = db->entries({});
    ASSERT_FALSE(listed.ok());
    EXPECT_NE(listed.error().message.find("pages read"), std::string::npos) << listed.error().message;
  }
  {  // a chain deeper than the limit
    BoltImage img(40);
    img.meta(0, 2, 40, 1);
    img.meta(1, 2, 40, 1);
    for (uint64_t p = 2; p < 39; ++p) img.branch(p, {{"a", p + 1}});
    img.leaf(39, {{"k", "v"}});
    expect_error(img, {}, "deeper");
  }
  {  // a key longer than its page
    BoltImage img(3);
    img.meta(0, 2, 3, 1);
    img.meta(1, 2, 3, 1);
    img.leaf(2, {{"k", "v"}});
    put<uint32_t>(img.bytes(), 2 * 4096 + 16 + 8, 0xFFFFFFFFu);
    expect_error(img, {}, "past the end");
  }
  {  // more elements than fit
    BoltImage img(3);
    img.meta(0, 2, 3, 1);
    img.meta(1, 2, 3, 1);
    img.leaf(2, {{"k", "v"}});
    put<uint16_t>(img.bytes(), 2 * 4096 + 10, 0xFFFF);
    expect_error(img, {}, "more elements");
  }
  {  // an overflow past the end of the file
    BoltImage img(3);
    img.meta(0, 2, 3, 1);
    img.meta(1, 2, 3, 1);
    img.leaf(2, {{"k", "v"}});
    put<uint32_t>(img.bytes(), 2 * 4096 + 12, 1000000u);
    expect_error(img, {}, "spans too many bytes");
    put<uint32_t>(img.bytes(), 2 * 4096 + 12, 5u);
    expect_error(img, {}, "past the end of the file");
  }
  {  // a child past the high-water mark, and one past the end of the file
    BoltImage img(3);
    img.meta(0, 2, 3, 1);
    img.meta(1, 2, 3, 1);
    img.branch(2, {{"a", 7}});
    expect_error(img, {}, "out of range");
    img.meta(0, 2, 1000, 1);
    img.meta(1, 2, 1000, 1);
    expect_error(img, {}, "past the end of the file");
  }
  {  // a page that says it is another (reused under the reader)
    BoltImage img(4);
    img.meta(0, 2, 4, 1);
    img.meta(1, 2, 4, 1);
    img.branch(2, {{"a", 3}});
    img.leaf(3, {{"k", "v"}});
    put<uint64_t>(img.bytes(), 3 * 4096, 9);
    expect_error(img, {}, "says it is page");
  }
  {  // a freelist page where a tree page belongs
    BoltImage img(3);
    img.meta(0, 2, 3, 1);
    img.meta(1, 2, 3, 1);
    img.leaf(2, {{"k", "v"}});
    put<uint16_t>(img.bytes(), 2 * 4096 + 8, 0x10);
    expect_error(img, {}, "where a branch or leaf was expected");
  }
  {  // bucket values too short, an inline bucket that claims to branch
    BoltImage img(3);
    img.meta(0, 2, 3, 1);
    img.meta(1, 2, 3, 1);
    std::string branchy = BoltImage::inline_bucket({{"k", "v"}});
    put<uint16_t>(branchy, 16 + 8, 0x01);
    img.leaf(2, {{"s", "short", true}, {"t", branchy, true}});
    expect_error(img, {"s"}, "too short");
    expect_error(img, {"t"}, "inline bucket is not a leaf");
  }
  {  // nesting deeper than the bucket path limit
    BoltImage img(3);
    img.meta(0, 2, 3, 1);
    img.meta(1, 2, 3, 1);
    img.leaf(2, {{"k", "v"}});
    std::vector<std::string_view> deep(100, "a");
    expect_error(img, deep, "too deep");
  }
  {  // a file past the size limit, a truncated one, not a bbolt file
    BoltImage img(3);
    img.meta(0, 2, 3, 1);
    img.meta(1, 2, 3, 1);
    img.leaf(2, {{"k", "v"}});
    BoltLimits small;
    small.max_file_bytes = 4096;
    expect_error(img, {}, "exceeds the limit", small);
    img.bytes().resize(2 * 4096 + 100);
    expect_error(img, {}, "past the end of the file");
    img.bytes().resize(50);
    expect_error(img, {}, "no valid meta page");
    write_file(dir / "text", std::string(8192, 'a'));
    EXPECT_FALSE(BoltFile::open(dir / "text").ok());
  }
  // Not a regular file, or a symlink: refused.
  EXPECT_FALSE(BoltFile::open(dir.path()).ok());
  fs::create_symlink(kEngines / "containerd/meta.db", dir / "link");
  EXPECT_FALSE(BoltFile::open(dir / "link").ok());
}

TEST(BoltReader, SurvivesRandomDamageToARealStore) {
  // Whatever the damage, a lookup answers or fails; it never crashes or hangs.
  const std::string original = read_file(kEngines / "containerd/meta-many.db");
  ASSERT_GT(original.size(), 8192u);
  testing::TempDir dir;
  std::mt19937_64 rng(20261205);
  int failures = 0, answers = 0;
  for (int round = 0; round < 300; ++round) {
    std::string bytes = original;
    const int flips = 1 + static_cast<int>(rng() % 64);
    for (int i = 0; i < flips; ++i) {
      // Half the damage lands in page headers and element tables, where it hurts.
      size_t at = rng() % bytes.size();
      if (rng() % 2) at = (at / 4096) * 4096 + rng() % 64;
      bytes[at] = static_cast<char>(rng());
    }
    if (round % 10 == 0) bytes.resize(rng() % bytes.size());
    write_file(dir / "db", bytes);
    auto db = BoltFile::open(dir / "db");
    if (!db.ok()) {
      ++failures;
      continue;
    }
    auto listed = db->entries({"v1", "many", "containers"});
    auto got = db->get({"v1", "many", "containers", "c7", "labels"}, "idx");
    (listed.ok() && got.ok() ? answers : failures) += 1;
  }
  EXPECT_EQ(failures + answers, 300);
  EXPECT_GT(failures, 0);
}

}  // namespace
}  // namespace traceloop::daemon
