#pragma once
// The histories the daemon has published in its DIR, as DIR/<id>.tl: those
// of this run and those an earlier daemon left, listed until `delete`. Also
// what earlier daemons left that nothing will use (temporary files of
// interrupted writes, snapshots), and where a new history goes when one is
// already saved under its id.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "format/metadata.h"
#include "format/trace_reader.h"

namespace traceloop::daemon {

// The events a trace holds, from its trailer or its frame headers (a file
// cut short): what a listing needs, read without decompressing any events.
uint64_t count_events(format::TraceReader& reader);

struct Saved {
  format::ContainerInfo info;
  std::filesystem::path file;
  uint64_t events = 0;
};

class SavedHistories {
 public:
  explicit SavedHistories(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Removes what killed daemons left: temporary files whose writer is gone
  // (or had this process's pid), and snapshots. Their journals are not
  // leftovers: history_journal.h.
  void remove_leftovers() const;
  // Lists the traces an earlier daemon published (files named after the
  // container id their header holds).
  void load();

  // Where the history of `id` is published. A history saved earlier under
  // this id (before the daemon restarted, or by a container restarted with
  // its id) is first moved aside as ID.N.tl, never replaced.
  std::filesystem::path prepare_file(const std::string& id) const;
  std::filesystem::path snapshot_file(const std::string& id) const { return dir_ / (id + ".snapshot.tl"); }

  void add(Saved saved) { by_id_[saved.info.id] = std::move(saved); }
  const Saved* find(const std::string& id) const;
  // Forgets the entry whose file could not be written.
  void forget_file(const std::filesystem::path& file);
  // Deletes the history's file and its snapshot.
  void remove(const std::string& id);
  const std::map<std::string, Saved>& entries() const { return by_id_; }

 private:
  std::filesystem::path dir_;
  std::map<std::string, Saved> by_id_;
};

}  // namespace traceloop::daemon
