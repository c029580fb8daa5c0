#pragma once
// A read-only reader of bbolt database files (the B+tree store of etcd and
// containerd's metadata, meta.db). The file belongs to another process that
// keeps writing it while it is read here, and its bytes may be damaged or
// hostile, so nothing in it is trusted: every page id, offset and size is
// checked against the file before use, trees are descended at most
// max_depth levels, one lookup reads at most max_pages pages (a page loop
// ends there), and the file and each page span are bounded. Any such failure
// is an Error, never a crash.
//
// Layout read: two meta pages (0 and 1; magic 0xED0CDAED, version 2, an
// FNV-1a 64 checksum; the valid one with the higher transaction id is the
// current one), branch and leaf pages with their overflow continuation,
// buckets as leaf values (a root page id, or root 0 and an inline leaf page
// inside the value).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/result.h"
#include "format/unique_fd.h"

namespace traceloop::daemon {

struct BoltLimits {
  uint64_t max_file_bytes = 4ull << 30;  // a meta.db past this is refused
  uint32_t max_page_span = 64u << 20;    // one page with its overflow
  int max_depth = 32;                    // levels of one tree
  uint32_t max_pages = 65536;            // pages read by one lookup
  size_t max_entries = 4096;             // entries listed from one bucket
};

struct BoltEntry {
  std::string key;
  std::string value;  // empty for a bucket
  bool bucket = false;
};

class BoltFile {
 public:
  // Opens `path` (not following a final symlink) and reads its meta pages.
  static Result<BoltFile> open(const std::filesystem::path& path, const BoltLimits& limits = {});

  // The value of `key` in the bucket reached through `buckets` (names from the
  // top level down). nullopt when a bucket or the key does not exist, or when
  // the key names a bucket.
  Result<std::optional<std::string>> get(const std::vector<std::string_view>& buckets, std::string_view key) const;

  // Every entry of that bucket in key order (at most limits.max_entries; more
  // is an error). A missing bucket is an empty list.
  Result<std::vector<BoltEntry>> entries(const std::vector<std::string_view>& buckets) const;

  // The transaction the reads see. A reader that must not mix two versions
  // compares it with current_txid() after reading: bbolt reuses freed pages,
  // so pages read across a commit may belong to different versions.
  uint64_t txid() const { return txid_; }
  Result<uint64_t> current_txid() const;

  uint32_t page_size() const { return page_size_; }

 private:
  struct Meta {
    uint32_t page_size = 0;
    uint64_t root = 0;
    uint64_t high_water = 0;  // pages below this id are in use
    uint64_t txid = 0;
  };
  // A tree: its root page, or the bytes of an inline bucket's leaf page.
  struct Tree {
    uint64_t root = 0;
    std::string inline_page;
  };
  class Walk;

  BoltFile() = default;
  Result<Meta> read_meta(uint64_t offset, uint32_t assumed_page_size) const;
  Result<Meta> current_meta() const;
  Result<std::optional<Tree>> find_bucket(Walk& walk, const std::vector<std::string_view>& buckets) const;

  UniqueFd fd_;
  BoltLimits limits_;
  uint64_t file_bytes_ = 0;
  uint32_t page_size_ = 0;
  uint64_t root_ = 0;
  uint64_t high_water_ = 0;
  uint64_t txid_ = 0;
};

// FNV-1a, 64 bits: the checksum of bbolt's meta pages.
uint64_t fnv1a64(std::string_view bytes);

}  // namespace traceloop::daemon
