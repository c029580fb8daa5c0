#include "tools/lib/decoder/merge_traces.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "format/trace_reader.h"
#include "format/trace_writer.h"
#include "tests/support/temp_dir.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {
namespace {

namespace fs = std::filesystem;
using format::Arch;

// A history of one container: `events` writes by `pid`, every 100 ns from
// `start`, a loss marker before the second.
void write_history(const fs::path& path, const std::string& name, uint32_t pid, uint64_t start, int events,
                   Arch arch = format::host_arch()) {
  format::TraceMetadata m;
  format::fill_host_metadata(m);
  m.catalogue = format::builtin_catalogue(arch);
  m.arch = arch;
  format::ContainerInfo c;
  c.id = name + "-id";
  c.name = name;
  m.containers = {c};
  auto writer = format::TraceWriter::create(path, m);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  const uint32_t write_nr = m.catalogue.find("write")->nr;
  for (int i = 0; i < events; ++i) {
    if (i == 1) {
      format::LossMarker loss;
      loss.lost = 7;
      loss.at_ns = start + 50;
      ASSERT_TRUE(writer->append_loss(loss).ok());
    }
    format::OwnedEvent e;
    e.fields.enter_ns = start + static_cast<uint64_t>(i) * 100;
    e.fields.exit_ns = e.fields.enter_ns + 10;
    e.fields.pid = e.fields.tid = pid;
    e.fields.nr = write_nr;
    e.fields.ret = 3;
    e.comm = name;
    e.captures.push_back({1, 3, name.substr(0, 3)});
    ASSERT_TRUE(writer->append(e.view()).ok());
  }
  format::ProcessInfo p;
  p.pid = pid;
  p.comm = name;
  ASSERT_TRUE(writer->append_processes(std::span(&p, 1)).ok());
  ASSERT_TRUE(writer->finish().ok());
}

TEST(MergeTraces, EventsOfSeveralContainersAreMergedByTime) {
  testing::TempDir dir;
  write_history(dir / "a.tl", "web", 100, 1000, 5);  // 1000, 1100 ... 1400
  write_history(dir / "b.tl", "db", 200, 1050, 4);   // 1050, 1150 ... 1350
  const std::vector<fs::path> inputs = {dir / "a.tl", dir / "b.tl"};
  ASSERT_TRUE(merge_traces(inputs, dir / "m.tl").ok());

  auto merged = format::load_trace(dir / "m.tl");
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  ASSERT_EQ(merged->metadata.containers.size(), 2u);
  EXPECT_EQ(merged->metadata.containers[0].name, "web");
  EXPECT_EQ(merged->metadata.containers[1].name, "db");
  ASSERT_EQ(merged->events.size(), 9u);
  for (size_t i = 1; i < merged->events.size(); ++i)
    EXPECT_LE(merged->events[i - 1].fields.enter_ns, merged->events[i].fields.enter_ns);
  for (const auto& e : merged->events) {
    EXPECT_EQ(e.fields.container, e.fields.pid == 100 ? 0u : 1u);
    EXPECT_EQ(e.captures.at(0).bytes, e.fields.pid == 100 ? "web" : "db");
  }
  ASSERT_EQ(merged->losses.size(), 2u);
  std::set<uint32_t> loss_containers;
  for (const auto& [before, loss] : merged->losses) loss_containers.insert(loss.container);
  EXPECT_EQ(loss_containers, (std::set<uint32_t>{0, 1}));
  EXPECT_EQ(merged->processes.size(), 2u);

  // Rendered with the container of each line.
  ShowOptions show;
  show.path = (dir / "m.tl").string();
  std::ostringstream out, err;
  ASSERT_EQ(run_show(show, out, err), 0) << err.str();
  EXPECT_EQ(out.str().rfind("CONTAINER", 0), 0u) << out.str();
  EXPECT_NE(out.str().find("\ndb "), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("\nweb "), std::string::npos) << out.str();
}

TEST(MergeTraces, OneArchitectureOnly) {
  testing::TempDir dir;
  write_history(dir / "a.tl", "web", 100, 1000, 2, Arch::x86_64);
  write_history(dir / "b.tl", "db", 200, 1000, 2, Arch::aarch64);
  const std::vector<fs::path> inputs = {dir / "a.tl", dir / "b.tl"};
  auto r = merge_traces(inputs, dir / "m.tl");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("architecture"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(dir / "m.tl"));
}

TEST(MergeTraces, NotATraceIsAnError) {
  testing::TempDir dir;
  write_history(dir / "a.tl", "web", 100, 1000, 2);
  std::ofstream(dir / "junk.tl") << "junk";
  const std::vector<fs::path> inputs = {dir / "a.tl", dir / "junk.tl"};
  EXPECT_FALSE(merge_traces(inputs, dir / "m.tl").ok());
  EXPECT_FALSE(merge_traces({}, dir / "m.tl").ok());
}

}  // namespace
}  // namespace traceloop::tools
