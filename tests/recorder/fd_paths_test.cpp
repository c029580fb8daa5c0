// tl-show -y/-yy of a recorded program against strace -f -y/-yy of the same
// program (tl_fdpass: open, dup, fcntl F_DUPFD_CLOEXEC, dup3, a pipe, a unix
// socketpair, fork, the file's fd passed to the child with SCM_RIGHTS, closes).
//
// Calls are matched by process (numbered in order of appearance), syscall
// and occurrence, from the open of the test's file on. Every fd the trace
// annotates must read as strace's annotation of that fd on that call (the
// inodes of sockets and pipes, which no recorded call reveals, compared as
// `?`); and every fd strace annotates that the trace's line shows must be
// annotated too, except those the process had before it was traced (0-2),
// which the trace cannot know. The fd passed through SCM_RIGHTS is among
// them: in the sendmsg's control data, in the recvmsg's, and in the child's
// calls on it. The sendmsg and recvmsg lines are strace's, inodes aside.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "recorder_test_util.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::recorder::testing {
namespace {

namespace fs = std::filesystem;

struct Call {
  std::string name;
  std::string text;  // the line from the syscall name on
};
// By process, in order of first appearance: its calls in order.
using Calls = std::vector<std::vector<Call>>;

Calls parse(const std::string& text) {
  Calls calls;
  std::map<std::string, size_t> role;
  std::istringstream lines(text);
  std::string line;
  static const std::regex kLine(R"(^(\d+)\s+([a-z0-9_]+)\((.*)$)");
  static const std::regex kResumed(R"(^(\d+)\s+<\.\.\. ([a-z0-9_]+) resumed>(.*)$)");
  std::map<std::string, size_t> unfinished;  // pid -> its call strace split, waiting for the rest
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kResumed)) {
      // A call another process's line interrupted: one call again.
      const auto role_it = role.find(m[1].str());
      const auto open = unfinished.find(m[1].str());
      if (role_it != role.end() && open != unfinished.end()) calls[role_it->second][open->second].text += m[3].str();
      unfinished.erase(m[1].str());
      continue;
    }
    if (!std::regex_match(line, m, kLine)) continue;  // signals, exits
    auto [it, fresh] = role.try_emplace(m[1].str(), role.size());
    if (fresh) calls.emplace_back();
    std::string rest = m[2].str() + "(" + m[3].str();
    if (const size_t cut = rest.find(" <unfinished ...>"); cut != std::string::npos) {
      rest.resize(cut);
      unfinished[m[1].str()] = calls[it->second].size();
    }
    calls[it->second].push_back({m[2].str(), rest});
  }
  return calls;
}

// fd -> annotation, inode numbers as `?`.
std::map<std::string, std::string> annotations(const std::string& text) {
  static const std::regex kAnnotated(R"((\b\d+)<(.*?)>(?=[,)\]} ]|$))");
  static const std::regex kInode(R"((\[|->)\d+)");
  std::map<std::string, std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kAnnotated); it != std::sregex_iterator(); ++it)
    out[(*it)[1].str()] = std::regex_replace((*it)[2].str(), kInode, "$1?");
  return out;
}

// Whether `fd` stands in the text as a value of its own (an argument, an
// element, the return value).
bool shows_number(const std::string& text, const std::string& fd) {
  const std::regex number("(^|[^0-9a-zA-Z_])" + fd + "([,)\\]<]|$)");
  return std::regex_search(text, number);
}

std::string show(const fs::path& trace, tools::FdPaths fd_paths) {
  tools::ShowOptions options;
  options.path = trace.string();
  options.render.format = tools::OutputFormat::strace;
  options.fd_paths = fd_paths;
  options.string_limit = 64;
  std::ostringstream out, err;
  EXPECT_EQ(tools::run_show(options, out, err), 0) << err.str();
  return out.str();
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void compare(const std::string& ours_text, const std::string& strace_text, const std::string& data_path,
             size_t& compared) {
  Calls ours = parse(ours_text), theirs = parse(strace_text);
  ASSERT_EQ(ours.size(), 2u) << ours_text;
  ASSERT_EQ(theirs.size(), 2u) << strace_text;
  std::string received;  // the fd the child got through SCM_RIGHTS, as strace saw it
  for (const auto& c : theirs[1]) {
    std::smatch m;
    if (c.name == "recvmsg" && std::regex_search(c.text, m, std::regex(R"(cmsg_data=\[(\d+)<)"))) received = m[1];
  }
  ASSERT_FALSE(received.empty()) << strace_text;
  size_t received_compared = 0, messages_compared = 0;
  for (size_t role = 0; role < 2; ++role) {
    // From the open of the file on: the dynamic loader's opens before it go
    // through symbolic links strace resolves and a trace cannot.
    auto from_marker = [&](const std::vector<Call>& calls) {
      std::vector<Call> out;
      bool on = role != 0;
      for (const auto& c : calls) {
        on = on || (c.name == "openat" && c.text.find(data_path) != std::string::npos);
        if (on) out.push_back(c);
      }
      return out;
    };
    const auto a = from_marker(ours[role]), b = from_marker(theirs[role]);
    std::map<std::string, size_t> seen_a, seen_b;
    std::map<std::pair<std::string, size_t>, const Call*> by_key;
    for (const auto& c : b) by_key[{c.name, seen_b[c.name]++}] = &c;
    for (const auto& c : a) {
      const auto it = by_key.find({c.name, seen_a[c.name]++});
      if (it == by_key.end()) continue;
      const auto mine = annotations(c.text), strace = annotations(it->second->text);
      // The message headers whole: structure, data, control messages.
      if (c.name == "sendmsg" || c.name == "recvmsg") {
        static const std::regex kInode(R"((\[|->)\d+)");
        EXPECT_EQ(std::regex_replace(c.text, kInode, "$1?"), std::regex_replace(it->second->text, kInode, "$1?"));
        ++messages_compared;
      }
      if (role == 1 && mine.contains(received)) ++received_compared;
      for (const auto& [fd, path] : mine) {
        ++compared;
        const auto s = strace.find(fd);
        ASSERT_NE(s, strace.end()) << "fd " << fd << " annotated by the trace only\n  trace:  " << c.text
                                   << "\n  strace: " << it->second->text;
        EXPECT_EQ(path, s->second) << "\n  trace:  " << c.text << "\n  strace: " << it->second->text;
      }
      for (const auto& [fd, path] : strace) {
        if (mine.contains(fd) || std::stoi(fd) <= 2) continue;
        EXPECT_FALSE(shows_number(c.text, fd)) << "fd " << fd << " (" << path << ") left plain\n  trace:  " << c.text
                                               << "\n  strace: " << it->second->text;
      }
    }
  }
  // recvmsg, pread64, close: the received fd annotated in the child.
  EXPECT_GE(received_compared, 3u) << ours_text;
  EXPECT_EQ(messages_compared, 2u) << "the sendmsg and the recvmsg";
}

TEST(FdPaths, AgreeWithStraceOnARealProgram) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  const fs::path data = dir.path() / "data.txt";
  std::ofstream(data) << "hello\n";
  const std::string program = helper_binary("tl_fdpass").string();
  auto rec = record(dir.path() / "fdpass.tl", {}, {program, data.string()});
  ASSERT_EQ(rec.result.status, 0) << rec.result.err;
  size_t compared = 0;
  for (const auto& [flag, mode] : {std::pair{"-y", tools::FdPaths::paths}, {"-yy", tools::FdPaths::detailed}}) {
    SCOPED_TRACE(flag);
    const fs::path out = dir.path() / (std::string("strace") + flag + ".txt");
    auto s = run_process({"strace", "-f", flag, "-s", "64", "-o", out.string(), program, data.string()});
    ASSERT_EQ(s.status, 0) << s.err;
    compare(show(dir.path() / "fdpass.tl", mode), read_text(out), data.string(), compared);
  }
  // open, dup, fcntl, dup3, read, pread, pipe2 (2), write, read, socketpair
  // (2), closes, sendmsg, recvmsg..., in both runs.
  EXPECT_GE(compared, 2u * 25) << show(dir.path() / "fdpass.tl", tools::FdPaths::detailed);
}

// The line of the first call named `name` in the strace-style text.
std::string line_of(const std::string& text, const std::string& name) {
  for (const auto& process : parse(text))
    for (const auto& c : process)
      if (c.name == name) return c.text;
  return {};
}

// The data limit bounds the data a message carries, not its header: with
// --max-data 0 the header and its control messages (the fds passed) are
// still captured, the iovecs' data are not. --no-data captures nothing:
// the headers show as their addresses.
TEST(FdPaths, MessageHeadersWithoutTheData) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  const fs::path data = dir.path() / "data.txt";
  std::ofstream(data) << "hello\n";
  const std::string program = helper_binary("tl_fdpass").string();
  auto rec = record(dir.path() / "nodata0.tl", {"--max-data", "0"}, {program, data.string()});
  ASSERT_EQ(rec.result.status, 0) << rec.result.err;
  std::string text = show(dir.path() / "nodata0.tl", tools::FdPaths::off);
  for (const std::string name : {"sendmsg", "recvmsg"}) {
    const std::regex header("^" + name +
                            R"(\(\d+, \{msg_name=NULL, msg_namelen=0, msg_iov=\[\{iov_base=""\.\.\., iov_len=1\}\], )"
                            R"(msg_iovlen=1, msg_control=\[\{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, )"
                            R"(cmsg_data=\[\d+\]\}\], msg_controllen=24, msg_flags=0\}, 0\) += 1$)");
    EXPECT_TRUE(std::regex_match(line_of(text, name), header)) << text;
  }

  rec = record(dir.path() / "nodata.tl", {"--no-data"}, {program, data.string()});
  ASSERT_EQ(rec.result.status, 0) << rec.result.err;
  text = show(dir.path() / "nodata.tl", tools::FdPaths::off);
  for (const std::string name : {"sendmsg", "recvmsg"})
    EXPECT_TRUE(std::regex_match(line_of(text, name), std::regex("^" + name + R"(\(\d+, 0x[0-9a-f]+, 0\) += 1$)")))
        << text;
}

}  // namespace
}  // namespace traceloop::recorder::testing
