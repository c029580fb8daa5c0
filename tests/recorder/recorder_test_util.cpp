#include "tests/recorder/recorder_test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <mutex>
#include <sstream>

#include "recorder/bpf_recorder.h"
#include "recorder/capture_plan.h"

namespace traceloop::recorder::testing {

namespace fs = std::filesystem;

CommandResult run_process(const std::vector<std::string>& argv) {
  CommandResult r;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return r;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  std::array<pollfd, 2> fds{{{out[0], POLLIN, 0}, {err[0], POLLIN, 0}}};
  int open_count = 2;
  while (open_count > 0) {
    if (poll(fds.data(), fds.size(), -1) < 0) break;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
        continue;
      }
      (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// TRACELOOP_BINARY_DIR when it holds the recorder; else from where this test
// binary lives (BUILD/tests/recorder/recorder_bpf_test).
fs::path binary_dir() {
  const char* dir = std::getenv("TRACELOOP_BINARY_DIR");
  if (dir != nullptr && fs::exists(fs::path(dir) / "recorder" / "traceloop-record")) return dir;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return exe.parent_path().parent_path().parent_path();
}

fs::path recorder_binary() { return binary_dir() / "recorder" / "traceloop-record"; }
fs::path helper_binary(const std::string& name) { return binary_dir() / "tests" / "recorder" / name; }

TempDir::TempDir() {
  char tmpl[] = "/tmp/tl-recorder-test-XXXXXX";
  path_ = mkdtemp(tmpl);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

bool bpf_available(std::string* why) {
  static std::once_flag once;
  static bool ok = false;
  static std::string reason;
  std::call_once(once, [] {
    BpfOptions options;
    options.plans = build_capture_plans(format::builtin_catalogue(format::host_arch()), {});
    auto r = BpfRecorder::start(options);
    ok = r.ok();
    if (!ok) reason = "BPF unavailable: " + r.error().message;
  });
  *why = reason;
  return ok;
}

Recording record(const fs::path& output, const std::vector<std::string>& options,
                 const std::vector<std::string>& command) {
  Recording rec;
  std::vector<std::string> argv{recorder_binary().string(), "run", "-o", output.string()};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  rec.result = run_process(argv);
  auto loaded = format::load_trace(output);
  if (!loaded.ok()) {
    ADD_FAILURE() << "loading " << output << ": " << loaded.error().message << "\nstderr: " << rec.result.err;
    return rec;
  }
  rec.trace = std::move(loaded).value();
  return rec;
}

const format::Catalogue& catalogue_of(const format::LoadedTrace& trace) { return trace.metadata.catalogue; }

std::string name_of(const format::LoadedTrace& trace, const format::OwnedEvent& e) {
  return trace.metadata.catalogue.name_of(e.fields.nr);
}

std::vector<const format::OwnedEvent*> events_named(const format::LoadedTrace& trace, const std::string& name) {
  std::vector<const format::OwnedEvent*> out;
  for (const auto& e : trace.events)
    if (name_of(trace, e) == name) out.push_back(&e);
  return out;
}

std::string capture_string(const format::Event& e, unsigned arg) {
  const auto* c = e.capture_for(arg);
  if (c == nullptr) return {};
  std::string s(c->bytes);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::string dump(const format::LoadedTrace& trace, size_t max_lines) {
  std::ostringstream out;
  size_t n = 0;
  for (const auto& owned : trace.events) {
    if (++n > max_lines) {
      out << "...\n";
      break;
    }
    auto e = owned.view();
    out << e.pid << "/" << e.tid << " " << e.comm << " " << trace.metadata.catalogue.name_of(e.nr) << "(";
    for (unsigned i = 0; i < e.arg_count; ++i) {
      if (i) out << ", ";
      if (const auto* c = e.capture_for(i)) {
        std::string s(c->bytes.substr(0, 40));
        for (auto& ch : s)
          if (static_cast<unsigned char>(ch) < 32 || static_cast<unsigned char>(ch) > 126) ch = '.';
        out << '"' << s << '"' << (c->truncated() ? "..." : "");
      } else {
        out << "0x" << std::hex << e.args[i] << std::dec;
      }
    }
    out << ") = ";
    if (e.state == format::CallState::returned) out << e.ret;
    else if (e.state == format::CallState::never_returned) out << "X";
    else out << "<unfinished>";
    out << "\n";
  }
  for (const auto& [before, loss] : trace.losses) out << "loss before " << before << ": " << loss.lost << "\n";
  return out.str();
}

}  // namespace traceloop::recorder::testing
