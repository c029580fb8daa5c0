// strace's filter language, against strace's own filtering of the same
// program: for each form (names, every class, !, /regex, -e status=, -z,
// -Z, -P), the syscalls strace -f prints with it, and their counts, are the
// ones tl-show prints with it from one unfiltered recording; and, for the
// forms `run -e trace=` takes, the ones such a recording holds.
#include <cctype>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "tests/recorder/recorder_test_util.h"

namespace traceloop::recorder {
namespace {

using namespace traceloop::recorder::testing;

using Counts = std::map<std::string, int>;  // syscall name -> calls

// The name of the call a line of `strace -f` (or tl-show -f strace) starts:
// empty for signal and exit notices and for the second half of a call
// strace split ("<... read resumed>").
std::string call_name(const std::string& line) {
  size_t at = 0;
  while (at < line.size() && (std::isdigit(static_cast<unsigned char>(line[at])) || line[at] == ' ')) ++at;
  const std::string rest = line.substr(at);
  if (rest.empty() || rest.starts_with("---") || rest.starts_with("+++") || rest.starts_with("<...")) return "";
  // A name, then its arguments. strace may also print the rest of a split
  // call alone, without "<... resumed>", when -e status= left its first half
  // out ("[{WIFEXITED(s) ...}], 0, NULL) = 12"): no call starts there.
  const size_t paren = rest.find('(');
  if (paren == 0 || paren == std::string::npos) return "";
  for (size_t i = 0; i < paren; ++i)
    if (!std::isalnum(static_cast<unsigned char>(rest[i])) && rest[i] != '_') return "";
  return rest.substr(0, paren);
}

Counts count_calls(const std::string& text) {
  Counts counts;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (const std::string name = call_name(line); !name.empty()) counts[name]++;
  return counts;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string describe(const Counts& counts) {
  std::string s;
  for (const auto& [name, n] : counts) s += " " + name + "x" + std::to_string(n);
  return s.empty() ? " (none)" : s;
}

std::filesystem::path tl_show() { return binary_dir() / "tools" / "tl-show"; }

class StraceFilterCompare : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    data_ = (dir_->path() / "data").string();
  }

  std::vector<std::string> workload() const { return {helper_binary("tl_filter_workload").string(), dir_->path().string()}; }

  // What `strace -f <filter>` prints of the workload.
  Counts strace_with(const std::vector<std::string>& filter) {
    const auto out = dir_->path() / "strace.txt";
    std::vector<std::string> argv{"strace", "-f", "-qq", "-o", out.string()};
    argv.insert(argv.end(), filter.begin(), filter.end());
    argv.push_back("--");
    for (const auto& a : workload()) argv.push_back(a);
    const auto run = run_process(argv);
    EXPECT_EQ(run.status, 0) << run.err;
    return count_calls(read_file(out));
  }

  // A recording of the workload (with `record_options`), shown by tl-show
  // with `filter`.
  Counts shown_with(const std::vector<std::string>& record_options, const std::vector<std::string>& filter) {
    const auto trace = dir_->path() / "trace.tl";
    std::filesystem::remove(trace);
    const auto rec = record(trace, record_options, workload());
    EXPECT_EQ(rec.result.status, 0) << rec.result.err;
    std::vector<std::string> argv{tl_show().string(), "-f", "strace"};
    argv.insert(argv.end(), filter.begin(), filter.end());
    argv.push_back(trace.string());
    const auto shown = run_process(argv);
    EXPECT_EQ(shown.status, 0) << shown.err;
    return count_calls(shown.out);
  }

  std::unique_ptr<TempDir> dir_;
  std::string data_;
};

// Every form tl-show takes, as strace takes it.
std::vector<std::vector<std::string>> show_forms(const std::string& data) {
  std::vector<std::vector<std::string>> forms{
      {"-e", "trace=openat,close"},
      {"-e", "openat,close"},
      {"-e", "trace=!%memory,%desc"},
      {"-e", "trace=/^(open|close|fstat)"},
      {"-e", "trace=?nosuchcall,write"},
      {"-e", "status=failed"},
      {"-e", "status=successful,unfinished"},
      {"-e", "status=!successful"},
      {"-z"},
      {"-Z"},
      {"-e", "trace=%file", "-Z"},
      // -P without the fd tracker: the calls that name the path (strace
      // also matches calls on an fd of it, as glibc's fstat, newfstatat(fd,
      // "", AT_EMPTY_PATH): those need the fd tracker).
      {"-e", "trace=/^(open|openat|stat|lstat|statfs|unlink)$", "-P", data},
      {"-e", "trace=/^(open|openat|stat|lstat|statfs|unlink)$", "-P", data, "-P", data + ".missing"},
  };
  for (const char* cls : {"%file", "%process", "%network", "%net", "%signal", "%ipc", "%desc", "%memory", "%creds",
                          "%clock", "%stat", "%lstat", "%fstat", "%%stat", "%statfs", "%fstatfs", "%%statfs", "%pure"})
    forms.push_back({"-e", std::string("trace=") + cls});
  return forms;
}

TEST_F(StraceFilterCompare, ShowPrintsWhatStracePrints) {
  REQUIRE_BPF_OR_SKIP();
  const auto trace = dir_->path() / "all.tl";
  const auto rec = record(trace, {}, workload());
  ASSERT_EQ(rec.result.status, 0) << rec.result.err;
  for (const auto& filter : show_forms(data_)) {
    std::string text;
    for (const auto& word : filter) text += " " + word;
    SCOPED_TRACE(text);
    const Counts expected = strace_with(filter);
    std::vector<std::string> argv{tl_show().string(), "-f", "strace"};
    argv.insert(argv.end(), filter.begin(), filter.end());
    argv.push_back(trace.string());
    const auto shown = run_process(argv);
    ASSERT_EQ(shown.status, 0) << shown.err;
    const Counts actual = count_calls(shown.out);
    EXPECT_EQ(actual, expected) << "strace:" << describe(expected) << "\ntl-show:" << describe(actual);
  }
  // Every class had calls to compare (the workload makes some of each).
  for (const char* cls : {"%file", "%process", "%network", "%signal", "%ipc", "%desc", "%memory", "%creds", "%clock",
                          "%stat", "%lstat", "%fstat", "%statfs", "%fstatfs", "%pure"})
    EXPECT_FALSE(strace_with({"-e", std::string("trace=") + cls}).empty()) << cls;
}

TEST_F(StraceFilterCompare, RunRecordsWhatStracePrints) {
  REQUIRE_BPF_OR_SKIP();
  for (const std::vector<std::string>& filter : {std::vector<std::string>{"-e", "trace=openat,close"},
                                                {"-e", "trace=%file"},
                                                {"-e", "trace=%process,%signal"},
                                                {"-e", "trace=!%memory,%desc"},
                                                {"-e", "trace=/^(open|close|fstat)"},
                                                {"-e", "%pure"},
                                                {"--trace=%network"}}) {
    std::string text;
    for (const auto& word : filter) text += " " + word;
    SCOPED_TRACE(text);
    // strace has no --trace= in 6.1's short help, but reads -e trace= alike.
    std::vector<std::string> strace_filter = filter;
    if (filter[0].starts_with("--trace=")) strace_filter = {"-e", "trace=" + filter[0].substr(8)};
    const Counts expected = strace_with(strace_filter);
    const Counts actual = shown_with(filter, {});
    EXPECT_EQ(actual, expected) << "strace:" << describe(expected) << "\nrecorded:" << describe(actual);
  }
}

}  // namespace
}  // namespace traceloop::recorder
