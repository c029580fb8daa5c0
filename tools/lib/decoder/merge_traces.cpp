#include "tools/lib/decoder/merge_traces.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "format/trace_reader.h"
#include "format/trace_writer.h"

namespace traceloop::tools {

namespace fs = std::filesystem;

namespace {

// One input being read: its current record and where its containers start
// in the output's list.
struct Input {
  format::TraceReader reader;
  uint32_t container_base = 0;
  std::optional<format::TraceReader::RecordIterator> at;

  bool done() const { return !at || *at == format::TraceReader::Sentinel{}; }
  uint64_t time() const {
    const auto& r = **at;
    switch (r.kind) {
      case format::Record::Kind::event: return r.event.enter_ns;
      case format::Record::Kind::loss: return r.loss.at_ns;
      case format::Record::Kind::notice: return r.notice.at_ns;
    }
    return 0;
  }
};

// The syscalls of both, `a`'s entry where both know a number.
format::Catalogue union_of(const format::Catalogue& a, const format::Catalogue& b) {
  std::vector<format::SyscallSpec> specs(a.syscalls().begin(), a.syscalls().end());
  for (const auto& spec : b.syscalls())
    if (a.find(spec.nr) == nullptr) specs.push_back(spec);
  std::sort(specs.begin(), specs.end(), [](const auto& x, const auto& y) { return x.nr < y.nr; });
  return format::Catalogue(a.arch(), std::move(specs));
}

}  // namespace

Result<void> merge_traces(std::span<const fs::path> paths, const fs::path& output) {
  if (paths.empty()) return Error{"no trace to merge"};
  std::vector<Input> inputs;
  inputs.reserve(paths.size());
  format::TraceMetadata metadata;
  for (const auto& path : paths) {
    auto reader = format::TraceReader::open(path);
    if (!reader.ok()) return reader.error();
    const auto& m = reader->metadata();
    if (inputs.empty()) {
      metadata = m;
      metadata.containers.clear();
    } else if (m.catalogue.arch() != metadata.catalogue.arch()) {
      return Error{path.string() + ": recorded on another architecture than " + paths.front().string()};
    } else {
      metadata.catalogue = union_of(metadata.catalogue, m.catalogue);
    }
    const auto base = static_cast<uint32_t>(metadata.containers.size());
    metadata.containers.insert(metadata.containers.end(), m.containers.begin(), m.containers.end());
    if (m.containers.empty()) metadata.containers.emplace_back();  // events of index 0 still need one
    inputs.push_back(Input{std::move(reader.value()), base, std::nullopt});
  }
  auto writer = format::TraceWriter::create(output, metadata);
  if (!writer.ok()) return writer.error();
  try {
    for (auto& in : inputs) in.at.emplace(in.reader.records().begin());
    for (;;) {
      Input* next = nullptr;
      for (auto& in : inputs)
        if (!in.done() && (next == nullptr || in.time() < next->time())) next = &in;
      if (next == nullptr) break;
      const format::Record& r = **next->at;
      if (r.kind == format::Record::Kind::event) {
        format::Event e = r.event;
        e.container += next->container_base;
        if (auto w = writer->append(e); !w.ok()) return w.error();
      } else if (r.kind == format::Record::Kind::notice) {
        format::TaskNotice n = r.notice;
        n.container += next->container_base;
        if (auto w = writer->append_notice(n); !w.ok()) return w.error();
      } else {
        format::LossMarker l = r.loss;
        l.container += next->container_base;
        if (auto w = writer->append_loss(l); !w.ok()) return w.error();
      }
      ++*next->at;
    }
  } catch (const FatalError& e) {
    return Error{e.what()};
  }
  auto& counters = writer->counters();
  for (auto& in : inputs) {
    if (auto w = writer->append_processes(in.reader.processes()); !w.ok()) return w.error();
    if (const auto& c = in.reader.counters()) {
      // Losses and overwritten events are counted from their markers, as
      // they were appended; the per-CPU figures exist only here.
      if (counters.lost_per_cpu.size() < c->lost_per_cpu.size()) counters.lost_per_cpu.resize(c->lost_per_cpu.size());
      for (size_t i = 0; i < c->lost_per_cpu.size(); ++i) counters.lost_per_cpu[i] += c->lost_per_cpu[i];
      counters.end_wall_ns = std::max(counters.end_wall_ns, c->end_wall_ns);
    }
  }
  return writer->finish();
}

}  // namespace traceloop::tools
