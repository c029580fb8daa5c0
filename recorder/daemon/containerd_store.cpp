#include "recorder/daemon/containerd_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include "recorder/daemon/bolt_reader.h"
#include "recorder/daemon/untrusted_text.h"

namespace traceloop::daemon {

namespace {

constexpr size_t kMaxLabels = 256;
constexpr size_t kMaxKeyBytes = 256;
constexpr int kAttempts = 4;
constexpr std::string_view kTaskDir = "io.containerd.runtime.v2.task";

Result<std::optional<ContainerdRecord>> read_once(const BoltFile& db, std::string_view ns, std::string_view id) {
  const std::vector<std::string_view> container = {"v1", ns, "containers", id};
  auto entries = db.entries(container);
  if (!entries.ok()) return entries.error();
  if (entries->empty()) return std::optional<ContainerdRecord>{};
  ContainerdRecord out;
  for (const auto& e : *entries)
    if (e.key == "image" && !e.bucket) out.image = bounded_text(e.value, kMaxKeyBytes);
  auto with_labels = container;
  with_labels.push_back("labels");
  auto labels = db.entries(with_labels);
  if (!labels.ok()) return labels.error();
  for (const auto& e : *labels) {
    if (out.labels.size() >= kMaxLabels) break;
    if (!e.bucket) out.labels.emplace_back(bounded_text(e.key, kMaxKeyBytes), bounded_text(e.value));
  }
  return std::optional<ContainerdRecord>{std::move(out)};
}

}  // namespace

std::optional<std::filesystem::path> containerd_root_from_bundle(const std::filesystem::path& bundle,
                                                                 std::string_view ns, std::string_view id) {
  if (!plain_path_before(bundle.string(), {kTaskDir, ns, id})) return std::nullopt;
  const auto link = bundle / "work";
  struct stat st {};
  if (::lstat(link.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return std::nullopt;
  char target[4097];
  ssize_t n = ::readlink(link.c_str(), target, sizeof(target));
  if (n <= 0 || static_cast<size_t>(n) >= sizeof(target)) return std::nullopt;
  return plain_path_before(std::string_view(target, static_cast<size_t>(n)), {kTaskDir, ns, id});
}

Result<std::optional<ContainerdRecord>> read_containerd_container(const std::filesystem::path& root,
                                                                  std::string_view ns, std::string_view id) {
  return read_containerd_store(root / "io.containerd.metadata.v1.bolt" / "meta.db", ns, id);
}

Result<std::optional<ContainerdRecord>> read_containerd_store(const std::filesystem::path& meta_db,
                                                              std::string_view ns, std::string_view id) {
  // bbolt reuses the pages a commit frees: a read is only trusted when the
  // store's transaction did not move under it.
  Error last{"containerd store " + meta_db.string() + " kept changing while read"};
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto db = BoltFile::open(meta_db);
    if (!db.ok()) return Error{"containerd store " + db.error().message};
    auto record = read_once(*db, ns, id);
    auto now = db->current_txid();
    if (now.ok() && *now == db->txid()) {
      if (!record.ok()) return Error{"containerd store " + meta_db.string() + ": " + record.error().message};
      return record;
    }
    if (!record.ok()) last = Error{"containerd store " + meta_db.string() + ": " + record.error().message};
  }
  return last;
}

}  // namespace traceloop::daemon
