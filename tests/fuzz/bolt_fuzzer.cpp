// libFuzzer target: the bbolt reader behind containerd's metadata store
// (meta.db). The input is the file. Both meta pages get their checksum made
// right before the file is read, so mutations reach the trees (branch,
// leaf, overflow pages, inline buckets) instead of stopping at the meta
// check; damaged checksums are the unit tests' business.

#include <cstdint>
#include <cstring>
#include <deque>
#include <string>

#include "recorder/daemon/bolt_reader.h"
#include "recorder/daemon/containerd_store.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace traceloop;
using namespace traceloop::daemon;

constexpr size_t kPageHeader = 16;
constexpr size_t kChecksummed = 56;  // meta bytes the checksum covers

void fix_meta_checksum(std::string& file, size_t page_offset) {
  const size_t meta = page_offset + kPageHeader;
  if (meta + kChecksummed + sizeof(uint64_t) > file.size()) return;
  const uint64_t sum = fnv1a64(std::string_view(file).substr(meta, kChecksummed));
  std::memcpy(file.data() + meta + kChecksummed, &sum, sizeof sum);
}

// Every bucket below `path`, and each of its keys looked up.
// `path` is a deque: growing it leaves the strings the views point to in place.
void walk(const BoltFile& db, std::deque<std::string>& path, int depth) {
  std::vector<std::string_view> buckets(path.begin(), path.end());
  auto entries = db.entries(buckets);
  if (!entries) return;
  for (const BoltEntry& entry : *entries) {
    if (!entry.bucket) {
      // A hostile file may list a key twice or out of order: the lookup
      // only has to stay within its limits.
      (void)db.get(buckets, entry.key);
    } else if (depth < 6) {
      path.push_back(entry.key);
      walk(db, path, depth + 1);
      path.pop_back();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string file(fuzz::as_text(data, size));
  fix_meta_checksum(file, 0);
  uint32_t page_size = 0;
  if (file.size() >= kPageHeader + 12) std::memcpy(&page_size, file.data() + kPageHeader + 8, sizeof page_size);
  if (page_size >= 512 && page_size <= (1u << 20)) fix_meta_checksum(file, page_size);

  static const fuzz::InputFile input("meta.db");
  const auto& meta_db = input.write(file);
  BoltLimits limits;
  limits.max_pages = 4096;  // keeps one input's work small; the limit itself is what is tested
  auto db = BoltFile::open(meta_db, limits);
  if (db.ok()) {
    std::deque<std::string> path;
    walk(*db, path, 0);
    (void)db->current_txid();
  }
  // containerd's record of each container of each namespace, as the daemon reads it.
  if (db.ok())
    if (auto namespaces = db->entries({"v1"}); namespaces.ok())
      for (const BoltEntry& ns : *namespaces)
        if (auto containers = db->entries({"v1", ns.key, "containers"}); containers.ok())
          for (const BoltEntry& c : *containers) (void)read_containerd_store(meta_db, ns.key, c.key);
  return 0;
}
