#pragma once
// Helpers for the tl-show tests: events built by syscall name against the
// built-in catalogue, structure bytes in each architecture's layout, traces
// written with TraceWriter, and golden comparisons with a readable diff.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "format/catalogue.h"
#include "format/event.h"
#include "format/metadata.h"
#include "format/trace_writer.h"
#include "tests/support/file_bytes.h"
#include "tests/support/golden.h"
#include "tests/support/source_dir.h"

namespace traceloop::testing {

inline format::TraceMetadata test_metadata(format::Arch arch = format::Arch::x86_64) {
  format::TraceMetadata m;
  m.recorder_version = "test";
  m.host_name = "testhost";
  m.kernel_release = "6.18.0-test";
  m.arch = arch;
  // 2026-11-22T03:00:00Z at boot time 0.
  m.boot_to_wall_ns = 1'795'316'400'000'000'000LL;
  m.created_wall_ns = m.boot_to_wall_ns + 10'000'000'000LL;
  m.capture.mode = "synthetic";
  m.catalogue = format::builtin_catalogue(arch);
  format::ContainerInfo c;
  c.id = "50f702a9e3f0cd2b8d6c1f6a1c4e0d7e2b9a8c7d6e5f4a3b2c1d0e9f8a7b6c5d";
  c.name = "mypod";
  c.runtime = "runc";
  m.containers.push_back(c);
  return m;
}

// Builds OwnedEvents by syscall name; calls start 10 us apart and last 2.5 us.
class EventBuilder {
 public:
  explicit EventBuilder(const format::Catalogue& catalogue) : catalogue_(catalogue) {}

  EventBuilder& call(std::string_view name, std::initializer_list<uint64_t> args, int64_t ret) {
    const auto* spec = catalogue_.find(name);
    EXPECT_NE(spec, nullptr) << "catalogue has no " << name;
    return call_nr(spec ? spec->nr : 0, args, ret);
  }
  EventBuilder& call_nr(uint32_t nr, std::initializer_list<uint64_t> args, int64_t ret) {
    format::OwnedEvent e;
    now_ns_ += 10000;
    e.fields.enter_ns = now_ns_;
    e.fields.exit_ns = now_ns_ + 2500;
    e.fields.pid = pid_;
    e.fields.tid = tid_ ? tid_ : pid_;
    e.fields.cpu = cpu_;
    e.fields.nr = nr;
    e.fields.ret = ret;
    e.fields.container = container_;
    size_t i = 0;
    for (uint64_t a : args) e.fields.args[i++] = a;
    const auto* spec = catalogue_.find(nr);
    e.fields.arg_count = static_cast<uint8_t>(spec ? spec->params.size() : 6);
    if (spec && spec->never_returns) {
      e.fields.state = format::CallState::never_returned;
      e.fields.exit_ns = 0;
      e.fields.ret = 0;
    }
    e.comm = comm_;
    events_.push_back(std::move(e));
    return *this;
  }
  // Data of argument `arg`: `size` is its size in user memory (default: all of it).
  EventBuilder& data(uint8_t arg, std::string_view bytes, int64_t size = -1) {
    events_.back().captures.push_back(
        {arg, static_cast<uint32_t>(size < 0 ? bytes.size() : static_cast<size_t>(size)), std::string(bytes)});
    return *this;
  }
  // A NUL-terminated string argument.
  EventBuilder& str(uint8_t arg, std::string_view text) {
    std::string s(text);
    s.push_back('\0');
    return data(arg, s);
  }
  EventBuilder& state(format::CallState s) {
    events_.back().fields.state = s;
    if (s != format::CallState::returned) events_.back().fields.exit_ns = 0;
    return *this;
  }
  EventBuilder& as(uint32_t pid, std::string_view comm, uint32_t tid = 0) {
    pid_ = pid;
    tid_ = tid;
    comm_ = comm;
    return *this;
  }
  EventBuilder& on_cpu(uint32_t cpu) {
    cpu_ = cpu;
    return *this;
  }
  EventBuilder& in_container(uint32_t c) {
    container_ = c;
    return *this;
  }
  EventBuilder& loss(uint64_t lost, uint64_t overwritten = 0) {
    losses_.push_back({events_.size(), format::LossMarker{lost, overwritten, -1, container_, now_ns_}});
    return *this;
  }
  // A signal delivered to the current thread, with its siginfo bytes.
  EventBuilder& signal(int32_t signo, std::string_view siginfo) {
    format::TaskNotice n = notice_here(format::TaskNotice::Kind::signal);
    n.signo = signo;
    n.siginfo = siginfo;
    notices_.push_back({events_.size(), format::OwnedTaskNotice::from(n)});
    return *this;
  }
  // The current thread's end with a wait status; `group_dead`: the last of its process.
  EventBuilder& thread_end(int32_t wait_status, bool group_dead = true) {
    format::TaskNotice n = notice_here(format::TaskNotice::Kind::exit);
    n.exit_status = wait_status;
    n.group_dead = group_dead;
    notices_.push_back({events_.size(), format::OwnedTaskNotice::from(n)});
    return *this;
  }
  const std::vector<format::OwnedEvent>& events() const { return events_; }
  const std::vector<std::pair<size_t, format::LossMarker>>& losses() const { return losses_; }
  const std::vector<std::pair<size_t, format::OwnedTaskNotice>>& notices() const { return notices_; }
  format::Event last() const { return events_.back().view(); }

 private:
  format::TaskNotice notice_here(format::TaskNotice::Kind kind) {
    now_ns_ += 10000;
    format::TaskNotice n;
    n.kind = kind;
    n.at_ns = now_ns_;
    n.pid = pid_;
    n.tid = tid_ ? tid_ : pid_;
    n.cpu = cpu_;
    n.container = container_;
    n.comm = comm_;
    return n;
  }

  const format::Catalogue& catalogue_;
  std::vector<format::OwnedEvent> events_;
  std::vector<std::pair<size_t, format::LossMarker>> losses_;
  std::vector<std::pair<size_t, format::OwnedTaskNotice>> notices_;  // after the events before each
  uint64_t now_ns_ = 5'000'000'000;
  uint32_t pid_ = 100;
  uint32_t tid_ = 0;
  uint32_t cpu_ = 1;
  uint32_t container_ = 0;
  std::string comm_ = "sh";
};

inline void write_trace(const std::filesystem::path& path, const format::TraceMetadata& metadata,
                        const EventBuilder& builder) {
  auto writer = format::TraceWriter::create(path, metadata);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  size_t loss_index = 0, notice_index = 0;
  const auto& losses = builder.losses();
  const auto& notices = builder.notices();
  for (size_t i = 0; i <= builder.events().size(); ++i) {
    while (loss_index < losses.size() && losses[loss_index].first <= i)
      ASSERT_TRUE(writer->append_loss(losses[loss_index++].second).ok());
    while (notice_index < notices.size() && notices[notice_index].first <= i)
      ASSERT_TRUE(writer->append_notice(notices[notice_index++].second.view()).ok());
    if (i < builder.events().size()) {
      ASSERT_TRUE(writer->append(builder.events()[i].view()).ok());
    }
  }
  auto done = writer->finish();
  ASSERT_TRUE(done.ok()) << done.error().message;
}

// Little-endian structure bytes.
class StructBytes {
 public:
  explicit StructBytes(size_t size) : bytes_(size, '\0') {}
  template <typename T>
  StructBytes& set(size_t offset, T value) {
    std::memcpy(bytes_.data() + offset, &value, sizeof(T));
    return *this;
  }
  StructBytes& text(size_t offset, std::string_view s) {
    std::memcpy(bytes_.data() + offset, s.data(), s.size());
    return *this;
  }
  const std::string& str() const { return bytes_; }

 private:
  std::string bytes_;
};

inline std::string stat_bytes(format::Arch arch, uint32_t mode, int64_t size) {
  if (arch == format::Arch::aarch64) return StructBytes(128).set<uint32_t>(16, mode).set<int64_t>(48, size).str();
  return StructBytes(144).set<uint32_t>(24, mode).set<int64_t>(48, size).str();
}

inline std::string dirent64(uint64_t ino, const std::string& name, uint8_t type) {
  const size_t reclen = (19 + name.size() + 1 + 7) / 8 * 8;
  StructBytes b(reclen);
  b.set<uint64_t>(0, ino).set<int64_t>(8, static_cast<int64_t>(ino * 10)).set<uint16_t>(16, static_cast<uint16_t>(reclen));
  b.set<uint8_t>(18, type).text(19, name);
  return b.str();
}

// The build directory: TRACELOOP_BINARY_DIR (set by ctest), else derived from
// this test binary's place (BUILD/tests/tools/<test>).
// A control message of the 64-bit ABIs: struct cmsghdr (cmsg_len,
// cmsg_level, cmsg_type), its data, padding to 8 bytes. `len`: cmsg_len when
// it is to lie (default: header and data).
inline std::string cmsg(int32_t level, int32_t type, std::string_view data, int64_t len = -1) {
  StructBytes b((16 + data.size() + 7) / 8 * 8);
  b.set<uint64_t>(0, len < 0 ? 16 + data.size() : static_cast<uint64_t>(len)).set<int32_t>(8, level).set<int32_t>(12, type);
  b.text(16, data);
  return b.str();
}

// A message header as the recorder captures it (bpf/traceloop_events.h,
// struct tl_msghdr_head), in the 64-bit ABIs' struct user_msghdr and iovec.
struct MessageCapture {
  uint64_t name = 0;
  int32_t namelen = 0;
  uint64_t iov = 0;
  uint64_t iovlen = 0;
  uint64_t control = 0;
  uint64_t controllen = 0;
  uint32_t flags = 0;
  std::string name_bytes;                              // kept of msg_name
  std::vector<std::pair<uint64_t, uint64_t>> iovecs;   // kept: base, len
  std::vector<std::string> data;                       // kept of each iovec's data
  std::vector<size_t> unread;                          // iovecs whose data could not be read
  std::string control_bytes;                           // kept of msg_control
  uint8_t faults = 0;                                  // TL_MSGHDR_FAULT_* bits

  std::string str() const {
    StructBytes head(80);
    head.set<uint16_t>(0, 56)
        .set<uint16_t>(2, static_cast<uint16_t>(name_bytes.size()))
        .set<uint16_t>(4, static_cast<uint16_t>(iovecs.size()))
        .set<uint16_t>(6, static_cast<uint16_t>(control_bytes.size()))
        .set<uint8_t>(8, faults);
    for (size_t i = 0; i < data.size(); ++i) head.set<uint16_t>(16 + 2 * i, static_cast<uint16_t>(data[i].size()));
    for (size_t i : unread) head.set<uint16_t>(16 + 2 * i, 0xffff);
    StructBytes hdr(56);
    hdr.set<uint64_t>(0, name).set<int32_t>(8, namelen).set<uint64_t>(16, iov).set<uint64_t>(24, iovlen);
    hdr.set<uint64_t>(32, control).set<uint64_t>(40, controllen).set<uint32_t>(48, flags);
    std::string out = head.str() + hdr.str() + name_bytes;
    for (const auto& [base, len] : iovecs) out += StructBytes(16).set<uint64_t>(0, base).set<uint64_t>(8, len).str();
    out += control_bytes;
    for (const auto& d : data) out += d;
    return out;
  }
};

// One iovec of `text`, and `control` (whole) as its control data.
inline MessageCapture simple_message(std::string_view text, std::string control = {}) {
  MessageCapture m;
  m.iov = 0x7ffd0100;
  m.iovlen = 1;
  m.iovecs = {{0x7ffd0200, text.size()}};
  m.data = {std::string(text)};
  if (!control.empty()) {
    m.control = 0x7ffd0300;
    m.controllen = control.size();
    m.control_bytes = std::move(control);
  }
  return m;
}

inline std::filesystem::path binary_dir() {
  if (const char* dir = std::getenv("TRACELOOP_BINARY_DIR"); dir && *dir) return dir;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return self.parent_path().parent_path().parent_path();
}


}  // namespace traceloop::testing
