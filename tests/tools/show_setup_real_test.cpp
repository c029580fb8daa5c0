// The runtime's setup in real histories: the daemon (the traceloop-record
// binary) records real runc containers made by scripts/demo_container.sh,
// one that reaches its entrypoint and one whose entrypoint does not exist,
// and tl-show's rendering of the saved histories starts at the entrypoint's
// execve, or shows all of a setup that never got there.
//
// The container's init pid is the one runc reports (`runc state`); when the
// daemon did not record it in the history, the test writes it into a copy,
// as the daemon would.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "format/trace_reader.h"
#include "format/trace_writer.h"
#include "tests/tools/show_fixtures.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool bpf_required() { return std::getenv("TRACELOOP_REQUIRE_BPF") != nullptr; }

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// stdout of a shell command; nullopt when it fails.
std::optional<std::string> output_of(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  if (::pclose(p) != 0) return std::nullopt;
  return out;
}

template <typename F>
bool wait_for(F condition, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

// `"pid": 1234` of `runc state`.
uint32_t pid_in_state(const std::string& json) {
  const auto at = json.find("\"pid\":");
  return at == std::string::npos ? 0 : static_cast<uint32_t>(std::strtoul(json.c_str() + at + 6, nullptr, 10));
}

std::string render(const fs::path& trace, OutputFormat format, bool setup) {
  ShowOptions options;
  options.path = trace.string();
  options.render.format = format;
  options.show_setup = setup;
  std::ostringstream out, err;
  EXPECT_EQ(run_show(options, out, err), 0) << err.str();
  return out.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A copy of `trace` whose only container has `init_pid`.
fs::path with_init_pid(const fs::path& trace, uint32_t init_pid) {
  auto loaded = format::load_trace(trace);
  EXPECT_TRUE(loaded.ok()) << loaded.error().message;
  if (!loaded.ok() || loaded->metadata.containers.size() != 1) return trace;
  auto metadata = loaded->metadata;
  if (metadata.containers[0].init_pid != 0) return trace;
  metadata.containers[0].init_pid = init_pid;
  const fs::path copy = trace.parent_path() / (trace.stem().string() + ".init.tl");
  auto writer = format::TraceWriter::create(copy, metadata);
  EXPECT_TRUE(writer.ok());
  size_t loss = 0;
  for (size_t i = 0; i < loaded->events.size(); ++i) {
    for (; loss < loaded->losses.size() && loaded->losses[loss].first <= i; ++loss)
      EXPECT_TRUE(writer->append_loss(loaded->losses[loss].second).ok());
    EXPECT_TRUE(writer->append(loaded->events[i].view()).ok());
  }
  for (; loss < loaded->losses.size(); ++loss) EXPECT_TRUE(writer->append_loss(loaded->losses[loss].second).ok());
  EXPECT_TRUE(writer->append_processes(loaded->processes).ok());
  EXPECT_TRUE(writer->finish().ok());
  return copy;
}

class ShowSetupRealTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cli_ = testing::binary_dir() / "recorder" / "traceloop-record";
    if (::geteuid() != 0 || std::system("command -v runc >/dev/null && command -v busybox >/dev/null") != 0 ||
        !fs::exists(cli_)) {
      if (bpf_required()) FAIL() << "root, runc, busybox-static and " << cli_ << " are required";
      GTEST_SKIP() << "needs root, runc, busybox-static and " << cli_;
    }
    dir_ = fs::temp_directory_path() / ("tl-setup-real-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    state_ = dir_ / "state";
    daemon_ = ::fork();
    ASSERT_GE(daemon_, 0);
    if (daemon_ == 0) {
      const std::string chosen = ok_id_ + "," + fail_id_;
      ::execl(cli_.c_str(), cli_.c_str(), "daemon", "--dir", state_.c_str(), "--container", chosen.c_str(),
              static_cast<char*>(nullptr));
      _exit(127);
    }
    if (!wait_for([&] { return fs::exists(state_ / "control.sock"); })) {
      int status = 0;
      ::waitpid(daemon_, &status, 0);
      daemon_ = -1;
      if (!bpf_required() && WIFEXITED(status) && WEXITSTATUS(status) == 2) GTEST_SKIP() << "daemon could not start";
      FAIL() << "daemon did not start";
    }
  }

  void TearDown() override {
    for (const auto& id : containers_) std::system(("runc delete -f " + id + " >/dev/null 2>&1").c_str());
    if (daemon_ > 0) {
      ::kill(daemon_, SIGTERM);
      ::waitpid(daemon_, nullptr, 0);
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::string bundle(const std::string& id, const std::string& command) {
    containers_.push_back(id);
    const auto out = output_of(quote((testing::source_dir() / "scripts/demo_container.sh").string()) + " --work " +
                               quote((dir_ / "work").string()) + " --pod " + pod_ + " --bundle-only " + id + " -- " +
                               command);
    EXPECT_TRUE(out.has_value());
    return out ? out->substr(0, out->find('\n')) : std::string();
  }

  fs::path saved(const std::string& id) {
    const fs::path file = state_ / (id + ".tl");
    EXPECT_TRUE(wait_for([&] { return fs::exists(file); })) << file;
    return file;
  }

  fs::path cli_, dir_, state_;
  const std::string pod_ = "tlsetup-" + std::to_string(::getpid());
  // The daemon records only these, chosen by id: a container that fails at
  // once may be gone before the daemon reads its state, and its id (from its
  // cgroup) is then all that is known of it, not its pod.
  const std::string ok_id_ = "tlsetup-ok-" + std::to_string(::getpid());
  const std::string fail_id_ = "tlsetup-fail-" + std::to_string(::getpid());
  pid_t daemon_ = -1;
  std::vector<std::string> containers_;
};

TEST_F(ShowSetupRealTest, ARuncContainerStartsAtItsEntrypoint) {
  const std::string id = ok_id_;
  const auto b = bundle(id, "sh -c 'echo started; cat /etc/app.conf'");
  ASSERT_EQ(std::system(("runc create --bundle " + quote(b) + " " + id + " >/dev/null 2>&1").c_str()), 0);
  const auto state = output_of("runc state " + id);
  ASSERT_TRUE(state.has_value());
  const uint32_t init_pid = pid_in_state(*state);
  ASSERT_NE(init_pid, 0u) << *state;
  ASSERT_EQ(std::system(("runc start " + id).c_str()), 0);
  ASSERT_TRUE(wait_for([&] {
    const auto s = output_of("runc state " + id + " 2>/dev/null");
    return !s || s->find("\"stopped\"") != std::string::npos;
  }));
  ASSERT_EQ(std::system(("runc delete " + id).c_str()), 0);
  const auto original = saved(id);
  {
    auto loaded = format::load_trace(original);
    ASSERT_TRUE(loaded.ok());
    ASSERT_EQ(loaded->metadata.containers.size(), 1u);
    const uint32_t recorded = loaded->metadata.containers[0].init_pid;
    if (recorded != 0) {
      EXPECT_EQ(recorded, init_pid) << "the daemon's init pid is runc's";
    }
  }
  // traceloop-record show ID [--setup] renders the saved history as tl-show does.
  for (const bool setup : {false, true}) {
    const auto shown = output_of(quote(cli_.string()) + " show --dir " + quote(state_.string()) + " " + id +
                                 (setup ? " --setup" : ""));
    ASSERT_TRUE(shown.has_value());
    EXPECT_EQ(*shown, render(original, OutputFormat::table, setup)) << setup;
  }
  const auto watch_help = output_of(quote(cli_.string()) + " watch --help");
  ASSERT_TRUE(watch_help.has_value());
  EXPECT_NE(watch_help->find("--setup"), std::string::npos);
  const auto trace = with_init_pid(original, init_pid);

  // Where the handover is, from the events themselves.
  auto loaded = format::load_trace(trace);
  ASSERT_TRUE(loaded.ok());
  size_t handover = loaded->events.size();
  for (size_t i = 0; i < loaded->events.size(); ++i) {
    const auto e = loaded->events[i].view();
    const auto* spec = loaded->metadata.catalogue.find(e.nr);
    if (e.pid == init_pid && spec && spec->name == "execve" && e.ret == 0 &&
        e.state == format::CallState::returned) {
      handover = i;
      break;
    }
  }
  ASSERT_LT(handover, loaded->events.size()) << "no execve of the entrypoint by pid " << init_pid;
  ASSERT_GT(handover, 0u);

  const auto strace = lines_of(render(trace, OutputFormat::strace, false));
  const auto all = lines_of(render(trace, OutputFormat::strace, true));
  ASSERT_GE(strace.size(), 2u);
  EXPECT_EQ(strace[0], "\u2026 runtime setup hidden: " + std::to_string(handover) +
                           " calls before the entrypoint's execve (--setup shows them) \u2026");
  EXPECT_EQ(strace[1].rfind(std::to_string(init_pid) + " execve(\"/bin/sh\", [\"sh\", \"-c\", \"echo started;", 0),
            0u)
      << strace[1];
  ASSERT_GE(strace.size(), 3u);
  // The setup's task notices (its runc threads ending) are hidden with its calls.
  size_t setup_notices = 0;
  for (const auto& [first, notice] : loaded->notices) setup_notices += first <= handover ? 1 : 0;
  EXPECT_EQ(all.size(), strace.size() - 1 + handover + setup_notices);
  EXPECT_TRUE(std::equal(strace.begin() + 1, strace.end(), all.end() - static_cast<std::ptrdiff_t>(strace.size() - 1)));
  const auto table = render(trace, OutputFormat::table, false);
  EXPECT_EQ(table.find("runc:[1:CHILD]"), std::string::npos);
  EXPECT_NE(table.find("started"), std::string::npos);
  std::cerr << "real runc container: " << loaded->events.size() << " events, the entrypoint's execve is event "
            << handover + 1 << ", " << handover << " hidden; tl-show --format strace begins:\n"
            << strace[0] << '\n' << strace[1] << '\n' << strace[2] << '\n';
}

TEST_F(ShowSetupRealTest, ARuncContainerWhoseEntrypointIsMissingShowsItsWholeSetup) {
  const std::string id = fail_id_;
  const auto b = bundle(id, "/bin/no-such-program");
  // runc fails (exec: no such file), after its init set the container up.
  EXPECT_NE(std::system(("runc run --bundle " + quote(b) + " " + id + " </dev/null >/dev/null 2>&1").c_str()), 0);
  std::system(("runc delete -f " + id + " >/dev/null 2>&1").c_str());
  const auto original = saved(id);
  auto loaded = format::load_trace(original);
  ASSERT_TRUE(loaded.ok());
  ASSERT_FALSE(loaded->events.empty());
  // runc's init is the process that would have executed the entrypoint
  // (runc run cannot be asked its pid once it has failed).
  uint32_t init_pid = loaded->metadata.containers.at(0).init_pid;
  for (size_t i = 0; i < loaded->events.size() && init_pid == 0; ++i)
    if (loaded->events[i].comm == "runc:[2:INIT]") init_pid = loaded->events[i].fields.pid;
  ASSERT_NE(init_pid, 0u) << "no runc:[2:INIT] in the history";
  const auto trace = with_init_pid(original, init_pid);

  for (auto format : {OutputFormat::table, OutputFormat::strace, OutputFormat::json}) {
    auto shown = lines_of(render(trace, format, false));
    const auto all = lines_of(render(trace, format, true));
    const size_t note = format == OutputFormat::table ? 1 : 0;
    ASSERT_GT(shown.size(), note);
    EXPECT_TRUE(shown[note].find("never executed the entrypoint") != std::string::npos ||
                shown[note].find("\"reason\":\"no_exec\"") != std::string::npos)
        << shown[note];
    shown.erase(shown.begin() + static_cast<std::ptrdiff_t>(note));
    EXPECT_EQ(shown, all);
  }
  std::cerr << "real runc container with a missing entrypoint: " << loaded->events.size()
            << " events, all shown\n";
}

}  // namespace
}  // namespace traceloop::tools
