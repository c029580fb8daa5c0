// tl-show --format perfetto: the output checked against the trace-event
// format's rules (by python3's json, a parser of its own) on the recorded
// traces of testdata/, and what it says about single calls on a made trace.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "format/trace_reader.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/show_fixtures.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {
namespace {

namespace fs = std::filesystem;

// The trace-event format's rules a viewer relies on. Arguments: the file,
// then the number of complete events expected (-1: not checked). Prints
// the first problems and exits 1 when there are any.
constexpr const char* kChecker = R"PY(
import json, sys
path, expected = sys.argv[1], int(sys.argv[2])
duplicates = []
def pairs(items):
    keys = [k for k, _ in items]
    if len(set(keys)) != len(keys):
        duplicates.append(keys)
    return dict(items)
try:
    with open(path, encoding='utf-8') as f:
        doc = json.load(f, object_pairs_hook=pairs)
except Exception as e:
    print('not JSON:', e)
    sys.exit(1)
events = doc.get('traceEvents') if isinstance(doc, dict) else None
if not isinstance(events, list):
    print('no traceEvents array')
    sys.exit(1)
problems = [f'an object has a key twice: {keys}' for keys in duplicates[:5]]
thread_named, process_named, used, last_x, depth = set(), set(), set(), {}, {}
complete = 0
for i, e in enumerate(events):
    if not isinstance(e, dict) or any(k not in e for k in ('ph', 'ts', 'pid', 'tid')):
        problems.append(f'event {i} lacks one of ph, ts, pid, tid: {e}')
        continue
    if not isinstance(e['ts'], (int, float)) or type(e['pid']) is not int or type(e['tid']) is not int:
        problems.append(f'event {i}: ts, pid and tid must be numbers: {e}')
        continue
    ph, key = e['ph'], (e['pid'], e['tid'])
    if ph == 'X':
        complete += 1
        used.add(key)
        dur = e.get('dur')
        if not isinstance(dur, (int, float)) or dur < 0:
            problems.append(f'event {i}: complete event without a duration >= 0: {e}')
            continue
        if not isinstance(e.get('name'), str) or not isinstance(e.get('args', {}), dict):
            problems.append(f'event {i}: name must be a string and args an object: {e}')
        if key in last_x:
            ts, end = last_x[key]
            if e['ts'] < ts:
                problems.append(f'event {i}: thread {key} goes back in time ({e["ts"]} < {ts})')
            elif e['ts'] < end and e['ts'] + dur > end:
                problems.append(f'event {i}: overlaps the previous call of thread {key} without nesting in it')
        last_x[key] = (e['ts'], e['ts'] + dur)
    elif ph in ('B', 'E'):
        used.add(key)
        depth[key] = depth.get(key, 0) + (1 if ph == 'B' else -1)
        if depth[key] < 0:
            problems.append(f'event {i}: E without its B on thread {key}')
    elif ph == 'M':
        name, args = e.get('name'), e.get('args')
        if not isinstance(args, dict):
            problems.append(f'event {i}: metadata without args: {e}')
        elif name == 'thread_name' and isinstance(args.get('name'), str):
            thread_named.add(key)
        elif name == 'process_name' and isinstance(args.get('name'), str):
            process_named.add(e['pid'])
    elif ph in ('i', 'I'):
        if e.get('s', 't') not in ('g', 'p', 't'):
            problems.append(f'event {i}: instant event of unknown scope: {e}')
    else:
        problems.append(f'event {i}: unexpected phase {ph!r}')
problems += [f'thread {k} has {v} B without E' for k, v in depth.items() if v > 0]
problems += [f'thread {k} has calls but no thread_name' for k in sorted(used - thread_named)]
problems += [f'process {p} has calls but no process_name' for p in sorted({k[0] for k in used} - process_named)]
if expected >= 0 and complete != expected:
    problems.append(f'{complete} complete events, expected {expected}')
print('\n'.join(problems[:20]))
print(f'{complete} complete events, {len(used)} threads')
sys.exit(1 if problems else 0)
)PY";

testing::CommandResult check(const fs::path& file, int64_t expected_calls) {
  return testing::run_command({"/usr/bin/python3", "-c", kChecker, file.string(), std::to_string(expected_calls)});
}

std::string show(const fs::path& trace, OutputFormat format, bool setup) {
  ShowOptions options;
  options.path = trace.string();
  options.render.format = format;
  options.show_setup = setup;
  std::ostringstream out, err;
  EXPECT_EQ(run_show(options, out, err), 0) << err.str();
  return out.str();
}

uint64_t calls_in(const fs::path& trace) {
  auto reader = format::TraceReader::open(trace);
  EXPECT_TRUE(reader.ok()) << trace;
  if (!reader.ok()) return 0;
  uint64_t n = 0;
  while (true) {
    auto batch = reader->next_batch();
    EXPECT_TRUE(batch.ok());
    if (!batch.ok() || batch.value() == nullptr) return n;
    n += batch.value()->size();
  }
}

// The calls --format json shows with the same options: one line each.
uint64_t calls_shown(const fs::path& trace, bool setup) {
  std::istringstream lines(show(trace, OutputFormat::json, setup));
  uint64_t n = 0;
  for (std::string line; std::getline(lines, line);) n += line.starts_with("{\"type\":\"event\"");
  return n;
}

std::vector<fs::path> real_traces() {
  std::vector<fs::path> found;
  const fs::path source = TRACELOOP_TEST_SOURCE_DIR;
  for (const auto* dir : {"testdata/real", "testdata/analysis/real"})
    for (const auto& entry : fs::directory_iterator(source / dir))
      if (entry.path().extension() == ".tl") found.push_back(entry.path());
  std::sort(found.begin(), found.end());
  return found;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(RenderPerfetto, RealTracesFollowTheTraceEventRules) {
  testing::TempDir dir;
  const auto traces = real_traces();
  ASSERT_GE(traces.size(), 10u);
  for (const auto& trace : traces) {
    for (bool setup : {true, false}) {
      SCOPED_TRACE(trace.filename().string() + (setup ? " --setup" : ""));
      const fs::path out = dir / "out.json";
      write_file(out, show(trace, OutputFormat::perfetto, setup));
      const uint64_t expected = setup ? calls_in(trace) : calls_shown(trace, false);
      const auto result = check(out, static_cast<int64_t>(expected));
      EXPECT_TRUE(result.ok()) << result.output;
    }
  }
}

// The checker above is what the test relies on: it must refuse each broken rule.
TEST(RenderPerfetto, CheckerRefusesBrokenDocuments) {
  testing::TempDir dir;
  const std::string named =
      R"({"ph":"M","name":"thread_name","ts":0,"pid":1,"tid":1,"args":{"name":"sh"}},)"
      R"({"ph":"M","name":"process_name","ts":0,"pid":1,"tid":1,"args":{"name":"sh"}})";
  const std::string call = R"({"ph":"X","name":"read","ts":10,"dur":2,"pid":1,"tid":1,"args":{}})";
  const fs::path file = dir / "doc.json";
  write_file(file, "{\"traceEvents\":[" + call + "," + named + "]}");
  const auto good = check(file, 1);
  ASSERT_TRUE(good.ok()) << good.output;

  const std::vector<std::pair<std::string, std::string>> broken = {
      {"not JSON", "{\"traceEvents\":[" + call + "," + named},
      {"calls counted wrong", "{\"traceEvents\":[" + call + "," + call + "," + named + "]}"},
      {"no tid", R"({"traceEvents":[{"ph":"X","name":"read","ts":10,"dur":2,"pid":1},)" + named + "]}"},
      {"negative duration",
       R"({"traceEvents":[{"ph":"X","name":"read","ts":10,"dur":-1,"pid":1,"tid":1},)" + named + "]}"},
      {"back in time",
       "{\"traceEvents\":[" + call + R"(,{"ph":"X","name":"read","ts":5,"dur":1,"pid":1,"tid":1},)" + named + "]}"},
      {"overlap",
       "{\"traceEvents\":[" + call + R"(,{"ph":"X","name":"read","ts":11,"dur":5,"pid":1,"tid":1},)" + named + "]}"},
      {"thread unnamed", "{\"traceEvents\":[" + call + R"(,{"ph":"X","name":"read","ts":20,"dur":1,"pid":1,"tid":2},)" +
                             named + "]}"},
      {"key twice", R"({"traceEvents":[{"ph":"X","name":"read","ts":10,"dur":2,"pid":1,"tid":1,"args":{"a":1,"a":2}},)" +
                        named + "]}"},
      {"B without E", R"({"traceEvents":[{"ph":"B","name":"read","ts":10,"pid":1,"tid":1},)" + named + "]}"},
  };
  for (const auto& [what, text] : broken) {
    write_file(file, text);
    const int64_t expected = what == "calls counted wrong" || what == "thread unnamed" ? 1 : -1;
    EXPECT_FALSE(check(file, expected).ok()) << what;
  }
}

TEST(RenderPerfetto, MarksFailuresLossesAndUnfinishedCalls) {
  testing::TempDir dir;
  auto metadata = testing::test_metadata();
  testing::EventBuilder b(metadata.catalogue);
  b.as(100, "sh").in_container(0).call("close", {3}, 0);
  b.call("close", {99}, -9);  // EBADF
  b.loss(7);
  b.as(100, "worker", 101).call("read", {0, 0x1000, 16}, 0).state(format::CallState::unfinished);  // exit lost
  b.as(100, "sh").call("write", {1, 0x2000, 4}, 4);
  b.as(100, "worker", 101).call("close", {4}, 0);
  b.as(100, "sh").call("wait4", {uint64_t(-1), 0, 0, 0}, 0).state(format::CallState::unfinished);  // in flight
  b.as(200, "other").call("getpid", {}, 200);
  b.call("getcpu", {0x3000, 0, 0}, 0);  // a parameter named cpu: its key must not clash
  const fs::path trace = dir / "t.tl";
  testing::write_trace(trace, metadata, b);
  const std::string out = show(trace, OutputFormat::perfetto, true);
  const fs::path file = dir / "out.json";
  write_file(file, out);
  const auto result = check(file, 8);
  EXPECT_TRUE(result.ok()) << result.output << out;

  EXPECT_NE(out.find(R"("name":"close","cat":"failed","cname":"terrible")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"J("return":"-1 EBADF (Bad file descriptor)")J"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("ph":"i","s":"g","name":"events lost")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("lost":7)"), std::string::npos) << out;
  // The read entered at 5.00003 s lasts until its thread's next call, at
  // 5.00005 s; the wait4 entered at 5.00006 s until the trace ends, with
  // getcpu's exit at 5.00008 s + 2.5 us.
  EXPECT_NE(out.find(R"("name":"read","cat":"unfinished","ts":5000030,)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("return":"unfinished","on_cpu":1},"dur":20})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("name":"wait4","cat":"unfinished","ts":5000060,)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("dur":22.500})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("args":{"name":"sh [mypod]"})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("name":"thread_name","ts":0,"pid":100,"tid":101,"args":{"name":"worker"})"),
            std::string::npos)
      << out;
}

// A container's runtime setup, hidden by default, is one instant event on
// its init's process where the calls were.
TEST(RenderPerfetto, MarksAHiddenSetup) {
  testing::TempDir dir;
  auto metadata = testing::test_metadata();
  metadata.containers[0].init_pid = 300;
  testing::EventBuilder b(metadata.catalogue);
  b.as(301, "runc:[1:CHILD]").call("close", {3}, 0);
  b.as(300, "runc:[2:INIT]").call("close", {4}, 0);
  b.call("read", {5, 0x1000, 8}, 0).state(format::CallState::unfinished);  // exit lost, and hidden
  b.call("execve", {0x4000, 0x4100, 0x4200}, 0).str(0, "/bin/sh").data(1, std::string("sh\0", 3));
  b.as(300, "sh").call("getpid", {}, 300);
  const fs::path trace = dir / "t.tl";
  testing::write_trace(trace, metadata, b);
  const std::string out = show(trace, OutputFormat::perfetto, false);
  const fs::path file = dir / "out.json";
  write_file(file, out);
  const auto result = check(file, static_cast<int64_t>(calls_shown(trace, false)));
  EXPECT_TRUE(result.ok()) << result.output << out;
  EXPECT_NE(out.find(R"({"ph":"i","s":"p","name":"runtime setup","cat":"setup","ts":5000010,"pid":300,"tid":300,)"
                     R"("args":{"text":"… runtime setup hidden: 3 calls before the entrypoint's execve)"),
            std::string::npos)
      << out;
  // Only the execve and what follows: no trace of the setup's threads or calls.
  EXPECT_EQ(out.find("runc:[1:CHILD]"), std::string::npos) << out;
  EXPECT_EQ(out.find(R"("name":"read")"), std::string::npos) << out;
}

}  // namespace
}  // namespace traceloop::tools
