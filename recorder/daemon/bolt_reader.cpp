#include "recorder/daemon/bolt_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace traceloop::daemon {

namespace {

constexpr uint32_t kMagic = 0xED0CDAED;
constexpr uint32_t kVersion = 2;
constexpr uint16_t kBranchPage = 0x01;
constexpr uint16_t kLeafPage = 0x02;
constexpr uint16_t kMetaPage = 0x04;
constexpr uint32_t kBucketLeaf = 0x01;
constexpr size_t kPageHeader = 16;
constexpr size_t kElement = 16;     // branch and leaf elements alike
constexpr size_t kMetaBytes = 64;   // the meta after the page header
constexpr size_t kChecksummed = 56; // the meta bytes before its checksum
constexpr size_t kBucketHeader = 16;
constexpr uint32_t kMinPageSize = 512;
constexpr uint32_t kMaxPageSize = 1u << 20;

// bbolt writes its structures in the host's byte order; the file is read on
// the host that wrote it.
template <typename T>
T load(std::string_view bytes, size_t offset) {
  T v{};
  std::memcpy(&v, bytes.data() + offset, sizeof(T));
  return v;
}

Result<void> pread_exact(int fd, char* out, size_t size, uint64_t offset) {
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, out + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{std::string("read: ") + std::strerror(errno)};
    if (n == 0) return Error{"file ends at byte " + std::to_string(offset + got) + " inside a page"};
    got += static_cast<size_t>(n);
  }
  return {};
}

struct PageHeader {
  uint64_t id = 0;
  uint16_t flags = 0;
  uint16_t count = 0;
  uint32_t overflow = 0;
};

PageHeader page_header(std::string_view page) {
  return {load<uint64_t>(page, 0), load<uint16_t>(page, 8), load<uint16_t>(page, 10), load<uint32_t>(page, 12)};
}

struct Element {
  uint32_t flags = 0;  // leaf: kBucketLeaf for a bucket
  std::string_view key;
  std::string_view value;  // leaf only
  uint64_t child = 0;      // branch only
};

// Element `i` of a branch or leaf page held in `page` (the whole span), with
// its key and value checked to lie inside the span.
Result<Element> element(std::string_view page, const PageHeader& h, size_t i) {
  const uint64_t at = kPageHeader + static_cast<uint64_t>(i) * kElement;
  if (at + kElement > page.size()) return Error{"page element past the end of its page"};
  Element e;
  const uint64_t pos = load<uint32_t>(page, at + (h.flags & kLeafPage ? 4 : 0));
  const uint64_t ksize = load<uint32_t>(page, at + (h.flags & kLeafPage ? 8 : 4));
  uint64_t vsize = 0;
  if (h.flags & kLeafPage) {
    e.flags = load<uint32_t>(page, at);
    vsize = load<uint32_t>(page, at + 12);
  } else {
    e.child = load<uint64_t>(page, at + 8);
  }
  const uint64_t key_at = at + pos;
  if (key_at + ksize + vsize > page.size()) return Error{"key or value past the end of its page"};
  e.key = page.substr(key_at, ksize);
  e.value = page.substr(key_at + ksize, vsize);
  return e;
}

Result<PageHeader> tree_page_header(std::string_view page) {
  if (page.size() < kPageHeader) return Error{"page shorter than its header"};
  PageHeader h = page_header(page);
  if (h.flags != kBranchPage && h.flags != kLeafPage)
    return Error{"page of kind " + std::to_string(h.flags) + " where a branch or leaf was expected"};
  if (kPageHeader + static_cast<uint64_t>(h.count) * kElement > page.size())
    return Error{"page claims more elements than fit in it"};
  return h;
}

}  // namespace

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// One lookup: reads pages on demand and counts them, so that a loop in the
// page graph or a tree of absurd size ends with an error.
class BoltFile::Walk {
 public:
  explicit Walk(const BoltFile& file) : file_(file) {}

  Result<std::string> page(uint64_t id) {
    if (++visited_ > file_.limits_.max_pages)
      return Error{"more than " + std::to_string(file_.limits_.max_pages) + " pages read: a loop or a damaged file"};
    const uint64_t ps = file_.page_size_;
    if (id < 2 || id >= file_.high_water_) return Error{"page id " + std::to_string(id) + " out of range"};
    if (id > file_.file_bytes_ / ps || (id + 1) * ps > file_.file_bytes_)
      return Error{"page " + std::to_string(id) + " lies past the end of the file"};
    std::string head(kPageHeader, '\0');
    if (auto r = pread_exact(file_.fd_.get(), head.data(), head.size(), id * ps); !r.ok()) return r.error();
    PageHeader h = page_header(head);
    if (h.id != id) return Error{"page " + std::to_string(id) + " says it is page " + std::to_string(h.id)};
    const uint64_t span = (static_cast<uint64_t>(h.overflow) + 1) * ps;
    if (span > file_.limits_.max_page_span) return Error{"page " + std::to_string(id) + " spans too many bytes"};
    if (id + h.overflow + 1 > file_.high_water_ || id * ps + span > file_.file_bytes_)
      return Error{"page " + std::to_string(id) + "'s overflow lies past the end of the file"};
    std::string bytes(span, '\0');
    if (auto r = pread_exact(file_.fd_.get(), bytes.data(), bytes.size(), id * ps); !r.ok()) return r.error();
    return bytes;
  }

  // The leaf element whose key is `key`, in `tree`; nullopt when absent.
  Result<std::optional<std::pair<uint32_t, std::string>>> seek(const Tree& tree, std::string_view key) {
    std::string page;
    if (tree.root == 0) page = tree.inline_page;
    else if (auto p = this->page(tree.root); p.ok()) page = std::move(p.value());
    else return p.error();
    for (int depth = 0;; ++depth) {
      if (depth > file_.limits_.max_depth) return Error{"tree deeper than " + std::to_string(file_.limits_.max_depth)};
      auto h = tree_page_header(page);
      if (!h.ok()) return h.error();
      if (tree.root == 0 && h->flags != kLeafPage) return Error{"inline bucket is not a leaf"};
      if (h->flags == kLeafPage) {
        for (size_t i = 0; i < h->count; ++i) {
          auto e = element(page, *h, i);
          if (!e.ok()) return e.error();
          if (e->key == key) return std::optional{std::pair{e->flags, std::string(e->value)}};
        }
        return std::optional<std::pair<uint32_t, std::string>>{};
      }
      if (h->count == 0) return Error{"empty branch page"};
      // The last child whose first key is not past `key` (the first child
      // for a key before them all).
      uint64_t child = 0;
      for (size_t i = 0; i < h->count; ++i) {
        auto e = element(page, *h, i);
        if (!e.ok()) return e.error();
        if (i > 0 && e->key > key) break;
        child = e->child;
      }
      auto next = this->page(child);
      if (!next.ok()) return next.error();
      page = std::move(next.value());
    }
  }

  Result<void> list(const Tree& tree, std::vector<BoltEntry>& out) {
    if (tree.root == 0) return list_page(tree.inline_page, 0, true, out);
    auto p = page(tree.root);
    if (!p.ok()) return p.error();
    return list_page(*p, 0, false, out);
  }

 private:
  Result<void> list_page(const std::string& page, int depth, bool is_inline, std::vector<BoltEntry>& out) {
    if (depth > file_.limits_.max_depth) return Error{"tree deeper than " + std::to_string(file_.limits_.max_depth)};
    auto h = tree_page_header(page);
    if (!h.ok()) return h.error();
    if (is_inline && h->flags != kLeafPage) return Error{"inline bucket is not a leaf"};
    for (size_t i = 0; i < h->count; ++i) {
      auto e = element(page, *h, i);
      if (!e.ok()) return e.error();
      if (h->flags == kLeafPage) {
        if (out.size() >= file_.limits_.max_entries)
          return Error{"bucket has more than " + std::to_string(file_.limits_.max_entries) + " entries"};
        BoltEntry entry;
        entry.key = std::string(e->key);
        entry.bucket = (e->flags & kBucketLeaf) != 0;
        if (!entry.bucket) entry.value = std::string(e->value);
        out.push_back(std::move(entry));
        continue;
      }
      auto child = this->page(e->child);
      if (!child.ok()) return child.error();
      if (auto r = list_page(*child, depth + 1, false, out); !r.ok()) return r;
    }
    return {};
  }

  const BoltFile& file_;
  uint32_t visited_ = 0;
};

Result<BoltFile> BoltFile::open(const std::filesystem::path& path, const BoltLimits& limits) {
  BoltFile f;
  f.limits_ = limits;
  f.fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!f.fd_) return Error{path.string() + ": " + std::strerror(errno)};
  struct stat st {};
  if (::fstat(f.fd_.get(), &st) != 0 || !S_ISREG(st.st_mode)) return Error{path.string() + ": not a regular file"};
  f.file_bytes_ = static_cast<uint64_t>(st.st_size);
  if (f.file_bytes_ > limits.max_file_bytes)
    return Error{path.string() + ": " + std::to_string(f.file_bytes_) + " bytes exceeds the limit of " +
                 std::to_string(limits.max_file_bytes)};
  auto meta = f.current_meta();
  if (!meta.ok()) return Error{path.string() + ": " + meta.error().message};
  f.page_size_ = meta->page_size;
  f.root_ = meta->root;
  f.high_water_ = meta->high_water;
  f.txid_ = meta->txid;
  return f;
}

Result<BoltFile::Meta> BoltFile::read_meta(uint64_t offset, uint32_t assumed_page_size) const {
  if (offset + kPageHeader + kMetaBytes > file_bytes_) return Error{"meta page past the end of the file"};
  std::string bytes(kPageHeader + kMetaBytes, '\0');
  if (auto r = pread_exact(fd_.get(), bytes.data(), bytes.size(), offset); !r.ok()) return r.error();
  if (!(page_header(bytes).flags & kMetaPage)) return Error{"not a meta page"};
  std::string_view m = std::string_view(bytes).substr(kPageHeader);
  if (load<uint32_t>(m, 0) != kMagic) return Error{"not a bbolt file (bad magic)"};
  if (load<uint32_t>(m, 4) != kVersion) return Error{"unsupported bbolt version " + std::to_string(load<uint32_t>(m, 4))};
  if (load<uint64_t>(m, kChecksummed) != fnv1a64(m.substr(0, kChecksummed))) return Error{"meta checksum mismatch"};
  Meta meta;
  meta.page_size = load<uint32_t>(m, 8);
  meta.root = load<uint64_t>(m, 16);
  meta.high_water = load<uint64_t>(m, 40);
  meta.txid = load<uint64_t>(m, 48);
  if (meta.page_size < kMinPageSize || meta.page_size > kMaxPageSize || (meta.page_size & (meta.page_size - 1)) != 0)
    return Error{"bad page size " + std::to_string(meta.page_size)};
  if (assumed_page_size != 0 && meta.page_size != assumed_page_size) return Error{"meta page at an odd offset"};
  if (meta.root < 2 || meta.root >= meta.high_water) return Error{"root page out of range"};
  return meta;
}

Result<BoltFile::Meta> BoltFile::current_meta() const {
  auto first = read_meta(0, 0);
  std::optional<Meta> best;
  if (first.ok()) best = *first;
  // The second meta page sits one page in; when the first is damaged its
  // page size is unknown, so each possible size is tried.
  for (uint32_t ps = kMinPageSize; ps <= kMaxPageSize; ps <<= 1) {
    if (first.ok() && ps != first->page_size) continue;
    auto second = read_meta(ps, ps);
    if (second.ok() && (!best || second->txid > best->txid)) best = *second;
    if (second.ok()) break;
  }
  if (!best) return Error{"no valid meta page (" + first.error().message + ")"};
  return *best;
}

Result<uint64_t> BoltFile::current_txid() const {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return Error{std::string("fstat: ") + std::strerror(errno)};
  BoltFile view;  // the same descriptor, the file's current size
  view.file_bytes_ = static_cast<uint64_t>(st.st_size);
  view.fd_.reset(::dup(fd_.get()));
  if (!view.fd_) return Error{std::string("dup: ") + std::strerror(errno)};
  auto meta = view.current_meta();
  if (!meta.ok()) return meta.error();
  return meta->txid;
}

Result<std::optional<BoltFile::Tree>> BoltFile::find_bucket(Walk& walk,
                                                             const std::vector<std::string_view>& buckets) const {
  if (static_cast<int>(buckets.size()) > limits_.max_depth) return Error{"bucket path too deep"};
  Tree tree{root_, {}};
  for (std::string_view name : buckets) {
    auto hit = walk.seek(tree, name);
    if (!hit.ok()) return hit.error();
    if (!*hit || !((*hit)->first & kBucketLeaf)) return std::optional<Tree>{};
    const std::string& value = (*hit)->second;
    if (value.size() < kBucketHeader) return Error{"bucket value too short"};
    Tree next;
    next.root = load<uint64_t>(value, 0);
    if (next.root == 0) {
      next.inline_page = value.substr(kBucketHeader);
      if (next.inline_page.size() < kPageHeader) return Error{"inline bucket too short"};
    }
    tree = std::move(next);
  }
  return std::optional<Tree>{std::move(tree)};
}

Result<std::optional<std::string>> BoltFile::get(const std::vector<std::string_view>& buckets,
                                                 std::string_view key) const {
  Walk walk(*this);
  auto tree = find_bucket(walk, buckets);
  if (!tree.ok()) return tree.error();
  if (!*tree) return std::optional<std::string>{};
  auto hit = walk.seek(**tree, key);
  if (!hit.ok()) return hit.error();
  if (!*hit || ((*hit)->first & kBucketLeaf)) return std::optional<std::string>{};
  return std::optional<std::string>{std::move((*hit)->second)};
}

Result<std::vector<BoltEntry>> BoltFile::entries(const std::vector<std::string_view>& buckets) const {
  Walk walk(*this);
  auto tree = find_bucket(walk, buckets);
  if (!tree.ok()) return tree.error();
  std::vector<BoltEntry> out;
  if (!*tree) return out;
  if (auto r = walk.list(**tree, out); !r.ok()) return r.error();
  return out;
}

}  // namespace traceloop::daemon
