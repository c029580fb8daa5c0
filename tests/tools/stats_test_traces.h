#pragma once
// Synthetic traces for the tl-grep / tl-stats / tl-diff tests, written with
// the real TraceWriter: small scripted stories (the multiplication demo of
// the SPEC, several containers, loss markers, an aarch64 file) with fixed
// times so goldens are stable. Header-only test support.

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "format/catalogue.h"
#include "format/trace_reader.h"
#include "format/trace_writer.h"
#include "tests/support/golden.h"
#include "tests/support/source_dir.h"

namespace traceloop::tools::testing {

namespace fs = std::filesystem;

inline constexpr uint64_t kAtFdcwd = static_cast<uint64_t>(-100);

struct Capture {
  uint8_t arg;
  std::string bytes;
  bool nul = false;  // a C string: captured with its NUL
};

class TraceBuilder {
 public:
  explicit TraceBuilder(format::Arch arch = format::Arch::x86_64) {
    metadata_.recorder_version = "test";
    metadata_.host_name = "testhost";
    metadata_.kernel_release = "6.18.0-test";
    metadata_.arch = arch;
    metadata_.boot_to_wall_ns = 1'700'000'000'000'000'000;
    metadata_.created_wall_ns = 1'700'000'100'000'000'000;
    metadata_.capture.mode = "synthetic";
    metadata_.catalogue = format::builtin_catalogue(arch);
  }

  format::TraceMetadata& metadata() { return metadata_; }

  TraceBuilder& container(std::string id, std::string name) {
    format::ContainerInfo info;
    info.id = std::move(id);
    info.name = std::move(name);
    info.runtime = "runc";
    metadata_.containers.push_back(std::move(info));
    return *this;
  }

  // One returned call; `ret` < 0 is -errno. Advances the clock by the duration plus a gap.
  TraceBuilder& call(uint32_t pid, std::string comm, std::string_view name, const std::vector<uint64_t>& args,
                     int64_t ret, uint64_t duration_us = 5, std::vector<Capture> captures = {},
                     format::CallState state = format::CallState::returned, uint32_t tid = 0, uint32_t container = 0) {
    const format::SyscallSpec* spec = metadata_.catalogue.find(name);
    if (spec == nullptr) throw std::runtime_error("unknown syscall in test: " + std::string(name));
    format::OwnedEvent e;
    e.fields.nr = spec->nr;
    e.fields.pid = pid;
    e.fields.tid = tid == 0 ? pid : tid;
    e.fields.cpu = pid % 4;
    e.fields.container = container;
    e.fields.enter_ns = now_ns_;
    e.fields.state = state;
    if (state == format::CallState::returned) {
      e.fields.exit_ns = now_ns_ + duration_us * 1000;
      e.fields.ret = ret;
    }
    e.fields.arg_count = static_cast<uint8_t>(spec->params.size());
    size_t i = 0;
    for (const uint64_t a : args) e.fields.args[i++] = a;
    e.comm = std::move(comm);
    for (auto& c : captures) {
      std::string bytes = std::move(c.bytes);
      if (c.nul) bytes.push_back('\0');
      const auto size = static_cast<uint32_t>(bytes.size());
      e.captures.push_back({c.arg, size, std::move(bytes)});
    }
    now_ns_ += duration_us * 1000 + 1000;
    records_.push_back({false, std::move(e), {}});
    return *this;
  }

  TraceBuilder& loss(uint64_t lost, uint64_t overwritten, uint32_t container = 0) {
    format::LossMarker marker;
    marker.lost = lost;
    marker.overwritten = overwritten;
    marker.container = container;
    marker.at_ns = now_ns_;
    records_.push_back({true, {}, marker});
    return *this;
  }

  TraceBuilder& process(uint32_t pid, uint32_t ppid, std::string comm, std::vector<std::string> argv) {
    format::ProcessInfo info;
    info.pid = pid;
    info.ppid = ppid;
    info.comm = std::move(comm);
    info.argv = std::move(argv);
    processes_.push_back(std::move(info));
    return *this;
  }

  fs::path write(const fs::path& path) const {
    auto writer = format::TraceWriter::create(path, metadata_);
    if (!writer) throw std::runtime_error(writer.error().message);
    for (const auto& r : records_) {
      auto ok = r.is_loss ? writer->append_loss(r.loss) : writer->append(r.event.view());
      if (!ok) throw std::runtime_error(ok.error().message);
    }
    if (!processes_.empty()) {
      if (auto ok = writer->append_processes(processes_); !ok) throw std::runtime_error(ok.error().message);
    }
    if (auto ok = writer->finish(); !ok) throw std::runtime_error(ok.error().message);
    return path;
  }

 private:
  struct Item {
    bool is_loss;
    format::OwnedEvent event;
    format::LossMarker loss;
  };
  format::TraceMetadata metadata_;
  std::vector<Item> records_;
  std::vector<format::ProcessInfo> processes_;
  uint64_t now_ns_ = 5'000'000'000;
};

inline Capture path(uint8_t arg, std::string text) { return {arg, std::move(text), true}; }
inline Capture data(uint8_t arg, std::string bytes) { return {arg, std::move(bytes), false}; }
inline Capture argv(uint8_t arg, const std::vector<std::string>& items) {
  std::string bytes;
  for (const auto& s : items) {
    bytes += s;
    bytes.push_back('\0');
  }
  return {arg, std::move(bytes), false};
}

// The multiplication demo of the SPEC: sh runs bc writing to /tmp/file-<written>
// and cat reading /tmp/file-<read>; when they differ cat fails with ENOENT.
// `pid_base` and `pointer_base` vary between runs like they do for real.
inline TraceBuilder multiplication_demo(int written, int read, uint32_t pid_base = 100,
                                        uint64_t pointer_base = 0x55d0c8a1e000, int first_fd = 3,
                                        format::Arch arch = format::Arch::x86_64) {
  TraceBuilder t(arch);
  t.container("3f1c9a7be2d04c55a0e1b9c8d7f6e5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8", "demo");
  const uint32_t sh = pid_base, bc = pid_base + 1, cat = pid_base + 2;
  const std::string script = "RANDOM=output ; echo \"3*7*2\" | bc > /tmp/file-$RANDOM ; cat /tmp/file-$RANDOM";
  const std::string file_w = "/tmp/file-" + std::to_string(written);
  const std::string file_r = "/tmp/file-" + std::to_string(read);
  const auto fd = static_cast<uint64_t>(first_fd);
  t.call(sh, "sh", "execve", {pointer_base + 0x10, pointer_base + 0x40, pointer_base + 0x80}, 0, 300,
         {path(0, "/bin/sh"), argv(1, {"sh", "-c", script})});
  t.call(sh, "sh", "brk", {0}, static_cast<int64_t>(pointer_base + 0x21000), 2);
  // clone's child_tidptr is the 4th argument on x86_64, the 5th on aarch64.
  const format::SyscallSpec* clone = t.metadata().catalogue.find("clone");
  const bool tid_fourth = clone->params.size() > 3 && clone->params[3].name == "child_tidptr";
  const std::vector<uint64_t> clone_args = tid_fourth
                                               ? std::vector<uint64_t>{0x1200011, 0, 0, pointer_base + 0x2a10, 0}
                                               : std::vector<uint64_t>{0x1200011, 0, 0, 0, pointer_base + 0x2a10};
  t.call(sh, "sh", "clone", clone_args, bc, 60);
  t.call(bc, "sh", "openat", {kAtFdcwd, pointer_base + 0x3000, 0x241, 0666}, first_fd, 12, {path(1, file_w)});
  t.call(bc, "sh", "dup3", {fd, 1, 0}, 1, 1);
  t.call(bc, "sh", "close", {fd}, 0, 1);
  t.call(bc, "sh", "execve", {pointer_base + 0x3100, pointer_base + 0x3200, pointer_base + 0x3300}, 0, 250,
         {path(0, "/usr/bin/bc"), argv(1, {"bc"})});
  t.call(bc, "bc", "read", {0, pointer_base + 0x5000, 4096}, 6, 20, {data(1, "3*7*2\n")});
  t.call(bc, "bc", "write", {1, pointer_base + 0x6000, 3}, 3, 8, {data(1, "42\n")});
  t.call(bc, "bc", "exit_group", {0}, 0, 0, {}, format::CallState::never_returned);
  t.call(sh, "sh", "wait4", {bc, pointer_base + 0x2b00, 0, 0}, bc, 900);
  t.call(sh, "sh", "clone", clone_args, cat, 55);
  t.call(cat, "sh", "execve", {pointer_base + 0x4100, pointer_base + 0x4200, pointer_base + 0x4300}, 0, 240,
         {path(0, "/bin/cat"), argv(1, {"cat", file_r})});
  if (written == read) {
    t.call(cat, "cat", "openat", {kAtFdcwd, pointer_base + 0x7000, 0, 0}, first_fd, 9, {path(1, file_r)});
    t.call(cat, "cat", "read", {fd, pointer_base + 0x8000, 4096}, 3, 6, {data(1, "42\n")});
    t.call(cat, "cat", "write", {1, pointer_base + 0x8000, 3}, 3, 7, {data(1, "42\n")});
    t.call(cat, "cat", "read", {fd, pointer_base + 0x8000, 4096}, 0, 3, {data(1, "")});
    t.call(cat, "cat", "close", {fd}, 0, 2);
    t.call(cat, "cat", "exit_group", {0}, 0, 0, {}, format::CallState::never_returned);
  } else {
    t.call(cat, "cat", "openat", {kAtFdcwd, pointer_base + 0x7000, 0, 0}, -2, 9, {path(1, file_r)});
    const std::string message = "cat: can't open '" + file_r + "': No such file or directory\n";
    t.call(cat, "cat", "write", {2, pointer_base + 0x9000, message.size()}, static_cast<int64_t>(message.size()), 15,
           {data(1, message)});
    t.call(cat, "cat", "exit_group", {1}, 0, 0, {}, format::CallState::never_returned);
  }
  t.call(sh, "sh", "wait4", {cat, pointer_base + 0x2b00, 0, 0}, cat, 700);
  t.call(sh, "sh", "exit_group", {written == read ? 0u : 1u}, 0, 0, {}, format::CallState::never_returned);
  t.process(sh, 1, "sh", {"sh", "-c", script});
  t.process(bc, sh, "bc", {"bc"});
  t.process(cat, sh, "cat", {"cat", file_r});
  return t;
}

// Two containers, a loss marker, failures of several kinds.
inline TraceBuilder two_containers() {
  TraceBuilder t;
  t.container("aaaa1111", "web");
  t.container("bbbb2222", "db");
  for (int i = 0; i < 3; ++i) {
    t.call(200, "nginx", "openat", {kAtFdcwd, 0x1000, 0, 0}, 5 + i, 10 + static_cast<uint64_t>(i) * 30,
           {path(1, "/etc/nginx/nginx.conf")}, format::CallState::returned, 0, 0);
    t.call(300, "postgres", "openat", {kAtFdcwd, 0x2000, 0, 0}, -13, 4, {path(1, "/var/lib/pg/secret")},
           format::CallState::returned, 301, 1);
    t.call(200, "nginx", "read", {static_cast<uint64_t>(5 + i), 0x3000, 100}, 100, 2000,
           {data(1, std::string(100, 'x'))}, format::CallState::returned, 0, 0);
  }
  t.loss(7, 0, 1);
  t.call(300, "postgres", "openat", {kAtFdcwd, 0x2000, 0, 0}, -2, 3, {path(1, "/var/lib/pg/missing")},
         format::CallState::returned, 301, 1);
  t.call(200, "nginx", "close", {5}, -9, 1, {}, format::CallState::returned, 0, 0);
  t.loss(0, 40, 0);
  t.call(300, "postgres", "read", {3, 0x3000, 100}, 0, 0, {}, format::CallState::unfinished, 302, 1);
  return t;
}

// Test temp dir and golden files.
inline fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("tl-analysis-" + name + "-" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir;
}

using traceloop::testing::expect_golden;
using traceloop::testing::source_dir;

// File names hold the temp dir: goldens say DIR instead.
// In one pass (replacing in place moves the whole tail at every match).
inline void replace_all(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  std::string out;
  out.reserve(text.size());
  size_t done = 0;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, done)) {
    out.append(text, done, at - done);
    out.append(to);
    done = at + from.size();
  }
  out.append(text, done, std::string::npos);
  text = std::move(out);
}

}  // namespace traceloop::tools::testing
