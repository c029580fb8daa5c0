// Colour in tl-show's table and strace lines: on a terminal (a real pseudo-
// terminal here) or with --color=always, never through a pipe or with
// NO_COLOR (unless --color=always), and nothing but the escapes added: the
// text without them is the plain output, columns included.

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "tests/support/pseudo_terminal.h"

namespace traceloop::tools {
namespace {

const std::string kTrace = std::string(TRACELOOP_TEST_SOURCE_DIR) + "/testdata/real/multiplication.tl";
const std::string kShow = std::string(TRACELOOP_TEST_BINARY_DIR) + "/tools/tl-show";

testing::TerminalRun show(std::vector<std::string> args, bool on_terminal, const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), kShow);
  args.push_back(kTrace);
  auto run = testing::run_on_terminal(args, {.stdout_on_terminal = on_terminal}, env);
  if (on_terminal) run.out = run.terminal;
  return run;
}

std::string without_escapes(const std::string& text) {
  static const std::regex escape("\x1b\\[[0-9;]*m");
  return std::regex_replace(text, escape, "");
}

bool has_escape(const std::string& text) { return text.find('\x1b') != std::string::npos; }

TEST(ColorCli, StraceLinesGolden) {
  const auto run = show({"-f", "strace", "--color=always"}, false, {"NO_COLOR"});
  ASSERT_EQ(run.status, 0) << run.err;
  // The failed call: its name bold, the error red, the return still at column 40.
  EXPECT_NE(run.out.find("7019 \x1b[1mopenat\x1b[0m(AT_FDCWD, \"/tmp/file-3240\", O_RDONLY) = "
                         "\x1b[31m-1 ENOENT (No such file or directory)\x1b[0m\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("7021 \x1b[1mioctl\x1b[0m(0, TCGETS, 0x7ffeeace4380)   = "
                         "\x1b[31m-1 ENOTTY (Inappropriate ioctl for device)\x1b[0m\n"),
            std::string::npos)
      << run.out;
  // Signal names magenta; SIG_DFL is a handler, not a signal; a success stays plain.
  EXPECT_NE(run.out.find("7019 \x1b[1mrt_sigaction\x1b[0m(\x1b[35mSIGINT\x1b[0m, NULL, "
                         "{sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0\n"),
            std::string::npos)
      << run.out;
}

TEST(ColorCli, TableGolden) {
  const auto run = show({"--color=always", "--failed"}, false);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("1   7021    bc              \x1b[1mioctl\x1b[0m            fd=0, cmd=TCGETS, "
                         "arg=0x7ffeeace4380                         "
                         "\x1b[31m-1 ENOTTY (Inappropriate ioctl for device)\x1b[0m\n"),
            std::string::npos)
      << run.out;
  const auto signals = show({"--color=always", "-e", "trace=rt_sigaction"}, false);
  EXPECT_NE(signals.out.find("sig=\x1b[35mSIGCHLD\x1b[0m, act={"), std::string::npos) << signals.out;
}

TEST(ColorCli, OnlyEscapesAreAdded) {
  for (const std::string format : {"table", "strace"}) {
    SCOPED_TRACE(format);
    const auto plain = show({"-f", format, "--color=never"}, false);
    const auto colored = show({"-f", format, "--color=always"}, false);
    ASSERT_EQ(colored.status, 0);
    EXPECT_TRUE(has_escape(colored.out));
    EXPECT_FALSE(has_escape(plain.out));
    EXPECT_EQ(without_escapes(colored.out), plain.out);
  }
}

TEST(ColorCli, AutoColoursATerminalOnly) {
  const auto plain = show({"-f", "strace"}, false, {"NO_COLOR"});
  EXPECT_FALSE(has_escape(plain.out)) << "a file or pipe gets no colour";
  const auto terminal = show({"-f", "strace"}, true, {"NO_COLOR"});
  EXPECT_TRUE(has_escape(terminal.out));
  EXPECT_EQ(without_escapes(terminal.out), plain.out);
  EXPECT_TRUE(has_escape(show({"-f", "strace", "--color=auto"}, true, {"NO_COLOR="}).out))
      << "an empty NO_COLOR does not count";
}

TEST(ColorCli, NoColorTurnsAutoOffButNotAlways) {
  EXPECT_FALSE(has_escape(show({"-f", "strace"}, true, {"NO_COLOR=1"}).out));
  EXPECT_FALSE(has_escape(show({}, true, {"NO_COLOR=yes"}).out));
  EXPECT_TRUE(has_escape(show({"--color=always"}, true, {"NO_COLOR=1"}).out));
  EXPECT_FALSE(has_escape(show({"--color=never"}, true, {"NO_COLOR"}).out));
}

TEST(ColorCli, JsonIsNeverColoured) {
  EXPECT_FALSE(has_escape(show({"-f", "json", "--color=always"}, true).out));
}

TEST(ColorCli, UnknownWhenIsAUsageError) {
  EXPECT_EQ(show({"--color=sometimes"}, false).status, 2);
}

}  // namespace
}  // namespace traceloop::tools
