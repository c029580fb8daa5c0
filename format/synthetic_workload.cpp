#include "format/synthetic_workload.h"

#include <algorithm>

namespace traceloop::format {
namespace {

constexpr const char* kNames[] = {
    "ls", "cat", "sh", "grep", "sed", "awk", "bc", "cp", "mv", "rm", "mkdir", "chmod", "date", "env", "find",
    "head", "tail", "sort", "uniq", "wc", "tr", "cut", "xargs", "tar", "gzip", "python3", "perl", "curl", "wget",
    "stat", "touch", "ln", "readlink", "basename", "dirname", "id", "whoami", "uname", "ps", "kill"};
constexpr const char* kDirs[] = {"/usr/bin/", "/bin/", "/etc/", "/tmp/", "/usr/lib/x86_64-linux-gnu/", "/proc/self/"};
constexpr const char* kLines[] = {"total 1234\n", "-rwxr-xr-x 1 root root 147080 Sep 24  2020 mv\n", "42\n",
                                  "3*7*2\n", "cat: can't open '/tmp/file-3240': No such file or directory\n",
                                  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"};
constexpr int64_t kENOENT = -2;
constexpr uint64_t kAtFdcwd = static_cast<uint64_t>(-100);

}  // namespace

SyntheticWorkload::SyntheticWorkload(const Catalogue& catalogue, uint64_t seed, uint32_t max_data_bytes)
    : catalogue_(catalogue), random_(seed), max_data_(max_data_bytes) {
  for (const char* n : kNames) names_.emplace_back(n);
  new_process();
}

uint32_t SyntheticWorkload::nr(const char* name) const {
  const SyscallSpec* spec = catalogue_.find(name);
  return spec != nullptr ? spec->nr : 0;
}

void SyntheticWorkload::new_process() {
  process_.pid = next_pid_++;
  process_.comm = names_[random_() % names_.size()];
  process_.stack_base = 0x7ffc00000000ULL + (random_() & 0xffffff000ULL);
  process_.heap = 0x55d000000000ULL + (random_() & 0xfffff000ULL);
  process_.next_fd = 3;
  phase_ = 0;
  step_ = 0;
}

std::string SyntheticWorkload::random_path() {
  std::string p = kDirs[random_() % std::size(kDirs)];
  p += names_[random_() % names_.size()];
  if (random_() % 4 == 0) p += ".so." + std::to_string(random_() % 7);
  return p;
}

void SyntheticWorkload::begin(uint32_t syscall_nr, std::initializer_list<uint64_t> args, int64_t ret,
                              uint32_t duration_ns) {
  now_ns_ += 300 + random_() % 2000;
  event_ = Event{};
  event_.enter_ns = now_ns_;
  event_.exit_ns = now_ns_ + duration_ns;
  event_.pid = process_.pid;
  event_.tid = process_.pid;
  event_.cpu = static_cast<uint32_t>(random_() % 2);
  event_.nr = syscall_nr;
  event_.ret = ret;
  std::copy(args.begin(), args.end(), event_.args.begin());
  const SyscallSpec* spec = catalogue_.find(syscall_nr);
  event_.arg_count = static_cast<uint8_t>(spec != nullptr ? spec->params.size() : 6);
  if (spec != nullptr && spec->never_returns) {
    event_.state = CallState::never_returned;
    event_.exit_ns = 0;
  }
  now_ns_ += duration_ns;
  comm_ = process_.comm;
  capture_storage_.clear();
  captures_.clear();
}

void SyntheticWorkload::capture(uint8_t arg, std::string_view bytes, uint32_t size) {
  capture_storage_.emplace_back(bytes.substr(0, max_data_));
  captures_.push_back({arg, size, {}});
}

void SyntheticWorkload::capture_string(uint8_t arg, std::string_view text) {
  if (text.size() + 1 <= max_data_) {
    std::string with_nul(text);
    with_nul.push_back('\0');
    capture(arg, with_nul, static_cast<uint32_t>(with_nul.size()));
  } else {
    capture(arg, text.substr(0, max_data_), max_data_ + 1);
  }
}

const Event& SyntheticWorkload::next() {
  plan_next();
  for (size_t i = 0; i < captures_.size(); ++i) captures_[i].bytes = capture_storage_[i];
  event_.comm = comm_;
  event_.captures = captures_;
  return event_;
}

// A process: loader start-up (openat/read/fstat/mmap/close of libraries),
// then a body of stats, reads and writes, then exit_group.
void SyntheticWorkload::plan_next() {
  const uint64_t buf = process_.stack_base - 0x1000 - (random_() % 8) * 0x100;
  const uint64_t path_ptr = process_.heap + (random_() % 64) * 0x20;
  switch (phase_) {
    case 0: {  // loader: 4 libraries x (openat, read, fstat, mmap, mmap, close)
      const int lib_step = step_ % 6;
      const int fd = 3;
      if (lib_step == 0) {
        const std::string path = "/lib/x86_64-linux-gnu/lib" + names_[random_() % names_.size()] + ".so.6";
        begin(nr("openat"), {kAtFdcwd, path_ptr, 0x80000, 0}, random_() % 5 == 0 ? kENOENT : fd, 3000);
        capture_string(1, path);
      } else if (lib_step == 1) {
        std::string elf("\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0\x01\0\0\0", 24);
        elf.resize(832, '\0');
        begin(nr("read"), {static_cast<uint64_t>(fd), buf, 832}, 832, 900);
        capture(1, elf, 832);
      } else if (lib_step == 2) {
        begin(nr("fstat"), {static_cast<uint64_t>(fd), buf + 0x200}, 0, 500);
        capture(1, std::string(144, '\x01'), 144);
      } else if (lib_step == 3 || lib_step == 4) {
        const uint64_t addr = 0x7f0000000000ULL + (random_() & 0xfffff000ULL);
        begin(nr("mmap"), {0, 0x1f0000, 1, 0x802, static_cast<uint64_t>(fd), 0}, static_cast<int64_t>(addr), 1500);
      } else {
        begin(nr("close"), {static_cast<uint64_t>(fd)}, 0, 400);
      }
      if (++step_ >= 24) {
        phase_ = 1;
        step_ = 0;
      }
      return;
    }
    case 1: {  // body
      const uint64_t r = random_() % 100;
      if (r < 40) {
        const std::string path = random_path();
        const bool missing = random_() % 8 == 0;
        begin(nr("newfstatat"), {kAtFdcwd, path_ptr, buf, 0x100}, missing ? kENOENT : 0, 1200);
        capture_string(1, path);
        if (!missing) capture(2, std::string(144, '\x02'), 144);
      } else if (r < 55) {
        const std::string path = random_path();
        begin(nr("openat"), {kAtFdcwd, path_ptr, 0x80000, 0}, process_.next_fd, 2500);
        capture_string(1, path);
      } else if (r < 70) {
        const std::string_view line = kLines[random_() % std::size(kLines)];
        begin(nr("read"), {static_cast<uint64_t>(process_.next_fd), buf, 4096}, static_cast<int64_t>(line.size()),
              800);
        capture(1, line, static_cast<uint32_t>(line.size()));
      } else if (r < 85) {
        const std::string_view line = kLines[random_() % std::size(kLines)];
        begin(nr("write"), {1, process_.heap + 0x2a0, line.size()}, static_cast<int64_t>(line.size()), 2000);
        capture(1, line, static_cast<uint32_t>(line.size()));
      } else if (r < 92) {
        begin(nr("close"), {static_cast<uint64_t>(process_.next_fd)}, 0, 300);
      } else if (r < 96) {
        begin(nr("brk"), {process_.heap + 0x21000}, static_cast<int64_t>(process_.heap + 0x21000), 600);
      } else {
        begin(nr("rt_sigaction"), {17, buf, buf + 0x40, 8}, 0, 250);
      }
      if (++step_ >= 40 + static_cast<int>(random_() % 200)) phase_ = 2;
      return;
    }
    default:
      begin(nr("exit_group"), {static_cast<uint64_t>(random_() % 3 == 0)}, 0, 0);
      new_process();
      return;
  }
}

}  // namespace traceloop::format
