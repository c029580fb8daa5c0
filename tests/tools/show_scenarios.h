#pragma once
// Synthetic traces shaped like the user stories (SPEC): the multiplication
// demo, the listing demo, and a hostile trace. Used by the golden tests until
// real recorded traces sit next to them in testdata/ (scripts/record_testdata.sh).

#include <arpa/inet.h>

#include <string>

#include "tests/tools/show_fixtures.h"

namespace traceloop::testing {

inline constexpr uint64_t kAtFdcwd = static_cast<uint64_t>(-100);

inline std::string pipe_fds(int a, int b) { return StructBytes(8).set<int32_t>(0, a).set<int32_t>(4, b).str(); }
inline std::string wait_status(int status) { return StructBytes(4).set<int32_t>(0, status).str(); }

// sh -c 'RANDOM=output ; echo "3*7*2" | bc > /tmp/file-$RANDOM ; cat /tmp/file-$RANDOM'
inline void multiplication_demo(EventBuilder& b, format::Arch arch) {
  const std::string script = "RANDOM=output ; echo \"3*7*2\" | bc > /tmp/file-$RANDOM ; cat /tmp/file-$RANDOM";
  b.as(118470, "runc:[2:INIT]").on_cpu(5);
  b.call("execve", {0x5576c8219000, 0x5576c8219668, 0x5576c8219698}, 0)
      .str(0, "/bin/sh")
      .data(1, std::string("sh\0-c\0", 6) + script + std::string(1, '\0'));
  b.as(118470, "sh");
  b.call("brk", {0}, 0x5576c8219000);
  b.call("pipe2", {0x7ffd1000, 0}, 0).data(0, pipe_fds(3, 4));
  b.call("clone", {0x1200011, 0, 0, 0x7f3b2a1b0a10, 0}, 118483);
  b.as(118482, "sh").on_cpu(0);
  b.call("write", {1, 0x5576c8219800, 6}, 6).data(1, "3*7*2\n");
  b.call("exit_group", {0}, 0);
  b.as(118483, "sh").on_cpu(1);
  b.call("openat", {kAtFdcwd, 0x5576c8219900, 01101, 0666}, 3).str(1, "/tmp/file-24581");
  b.call("dup3", {3, 1, 0}, 1);
  b.call("execve", {0x5576c8219a00, 0x5576c8219668, 0x5576c8219698}, 0)
      .str(0, "/bin/bc")
      .data(1, std::string("bc\0", 3));
  b.as(118483, "bc");
  b.call("read", {0, 0x51b7a0, 4096}, 6).data(1, "3*7*2\n");
  b.call("write", {1, 0x51c7a0, 3}, 3).data(1, "42\n");
  b.call("exit_group", {0}, 0);
  b.loss(3);
  b.as(118470, "sh").on_cpu(5);
  b.call("wait4", {static_cast<uint64_t>(-1), 0x7ffd2000, 0, 0}, 118483).data(1, wait_status(0));
  b.as(10685, "cat").on_cpu(1);
  b.call("openat", {kAtFdcwd, 0x7ffd3000, 0, 0}, -2).str(1, "/tmp/file-3240");
  const std::string err = "cat: can't open '/tmp/file-3240': No such file or directory\n";
  b.call("write", {2, 0x7ffd4000, err.size()}, static_cast<int64_t>(err.size())).data(1, err);
  b.on_cpu(0).call("exit_group", {1}, 0);
  (void)arch;
}

// ls -l /bin | grep mv: the directory read and the stat of every entry.
inline void listing_demo(EventBuilder& b, format::Arch arch) {
  b.as(150829, "ls").on_cpu(6);
  b.call("execve", {0x11e3f38, 0x11e3ef0, 0x11e3f00}, 0).str(0, "/bin/ls").data(1, std::string("ls\0-l\0/bin\0", 11));
  b.call("openat", {kAtFdcwd, 0x7ffe1000, (arch == format::Arch::aarch64 ? 040000u : 0200000u) | 04000u | 02000000u, 0},
         3)
      .str(1, "/bin");
  b.call("fstat", {3, 0x7ffe2000}, 0).data(1, stat_bytes(arch, 040755, 4096));
  const std::string dents = dirent64(1, ".", 4) + dirent64(2, "..", 4) + dirent64(31, "cat", 8) +
                            dirent64(32, "mv", 8) + dirent64(33, "sh", 10) + dirent64(34, "weird\x1b[0m", 8);
  b.call("getdents64", {3, 0x7ffe3000, 32768}, static_cast<int64_t>(dents.size())).data(1, dents);
  b.call("getdents64", {3, 0x7ffe3000, 32768}, 0);
  b.call("close", {3}, 0);
  for (auto [name, mode, size] : {std::tuple{"cat", 0100755u, 43416}, std::tuple{"mv", 0100755u, 147080},
                                  std::tuple{"sh", 0120777u, 4}}) {
    StructBytes sx(256);
    sx.set<uint32_t>(0, 0x17ff).set<uint16_t>(28, static_cast<uint16_t>(mode)).set<uint64_t>(40, static_cast<uint64_t>(size));
    b.call("statx", {kAtFdcwd, 0x7ffe4000, 0x900, 0x25e, 0x7ffe5000}, 0)
        .str(1, std::string("/bin/") + name)
        .data(4, sx.str());
    b.call("lgetxattr", {0x7ffe4000, 0x7ffe6000, 0, 0}, -61)
        .str(0, std::string("/bin/") + name)
        .str(1, "security.selinux");
  }
  b.call("ioctl", {1, 0x5401, 0x7ffe7f25f690}, -25);
  const std::string line = "-rwxr-xr-x    1 root     root        147080 Sep 24  2020 mv\n";
  b.call("write", {1, 0x5000, line.size()}, static_cast<int64_t>(line.size())).data(1, line);
  b.call("exit_group", {0}, 0);
}

// What an attacker could put in a trace: terminal escapes in comm, paths and
// buffers, huge strings, unknown syscall numbers, calls in flight, losses.
inline void hostile_trace(EventBuilder& b, format::Arch) {
  b.as(666, "evil\x1b]0;x\x07").on_cpu(2);
  b.call("write", {1, 0x1000, 11}, 11).data(1, "\x1b[2J\x1b[H\x07\x9b" "1m!");
  b.call("openat", {kAtFdcwd, 0x2000, 0, 0}, -13).str(1, "/tmp/\x1b[31mred\r\n");
  b.call("write", {1, 0x1000, 100000}, 100000).data(1, std::string(300, 'A'), 100000);
  b.call_nr(999, {1, 2, 3, 4, 5, 6}, -38);
  b.call("read", {0, 0x3000, 4096}, 0).state(format::CallState::unfinished);
  b.loss(12, 40);
  b.call("newfstatat", {kAtFdcwd, 0x2000, 0x3000, 0}, 0).str(1, "x").data(2, "short");
}

}  // namespace traceloop::testing
