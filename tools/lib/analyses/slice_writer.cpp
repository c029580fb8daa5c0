#include "tools/lib/analyses/slice_writer.h"

namespace traceloop::tools {

format::TraceMetadata slice_metadata(const format::TraceMetadata& source, const SliceOptions& options) {
  format::TraceMetadata metadata = source;
  metadata.capture.mode = "slice";
  if (options.strip_data) metadata.capture.capture_data = false;
  return metadata;
}

Result<SliceWriter> SliceWriter::create(const std::filesystem::path& path, const format::TraceMetadata& source,
                                        SliceOptions options) {
  format::TraceMetadata metadata = slice_metadata(source, options);
  auto writer = format::TraceWriter::create(path, metadata);
  if (!writer) return writer.error();
  return SliceWriter(std::move(writer).value(), std::move(metadata), options);
}

SliceWriter::SliceWriter(format::TraceWriter writer, format::TraceMetadata metadata, SliceOptions options)
    : writer_(std::move(writer)), metadata_(std::move(metadata)), options_(options) {}

Result<void> SliceWriter::add(const format::Event& event) {
  pids_.insert(event.pid);
  events_++;
  if (!options_.strip_data || event.captures.empty()) return writer_.append(event);
  kept_.clear();
  const format::SyscallSpec* spec = metadata_.catalogue.find(event.nr);
  for (const auto& capture : event.captures) {
    const bool is_path = spec != nullptr && capture.arg < spec->params.size() &&
                         spec->params[capture.arg].kind == format::ArgKind::path;
    if (is_path) kept_.push_back(capture);
  }
  format::Event stripped = event;
  stripped.captures = kept_;
  return writer_.append(stripped);
}

Result<void> SliceWriter::add_notice(const format::TaskNotice& notice) {
  if (!pids_.contains(notice.pid)) return {};
  notices_++;
  return writer_.append_notice(notice);
}

Result<void> SliceWriter::finish(const std::vector<format::ProcessInfo>& processes) {
  std::vector<format::ProcessInfo> kept;
  for (const auto& process : processes) {
    if (!pids_.contains(process.pid)) continue;
    kept.push_back(process);
    // Arguments hold secrets as often as buffers do: only the program name stays.
    if (options_.strip_data && kept.back().argv.size() > 1) kept.back().argv.resize(1);
  }
  if (!kept.empty()) {
    if (auto r = writer_.append_processes(kept); !r) return r;
  }
  return writer_.finish();
}

}  // namespace traceloop::tools
