// Signal names coloured in rendered arguments: only real signal names, only
// outside quoted strings, and the count of escape bytes the columns skip.

#include <gtest/gtest.h>

#include <string>

#include "tools/lib/decoder/render.h"

namespace traceloop::tools {
namespace {

std::string colored(std::string text, size_t from = 0, size_t* added = nullptr) {
  const size_t n = color_signal_names(text, from);
  if (added != nullptr) *added = n;
  return text;
}

const std::string M = "\x1b[35m";
const std::string R = "\x1b[0m";

TEST(ColorSignalNames, ColoursSignalNames) {
  size_t added = 0;
  EXPECT_EQ(colored("sig=SIGCHLD, act=NULL", 0, &added), "sig=" + M + "SIGCHLD" + R + ", act=NULL");
  EXPECT_EQ(added, M.size() + R.size());
  EXPECT_EQ(colored("1234, SIGRT_3"), "1234, " + M + "SIGRT_3" + R);
  EXPECT_EQ(colored("[SIGINT SIGTERM]", 0, &added), "[" + M + "SIGINT" + R + " " + M + "SIGTERM" + R + "]");
  EXPECT_EQ(added, 2 * (M.size() + R.size()));
  EXPECT_EQ(colored("SIGRTMIN"), M + "SIGRTMIN" + R);
}

TEST(ColorSignalNames, LeavesWhatIsNotASignalName) {
  size_t added = 1;
  for (const std::string text :
       {"sa_handler=SIG_DFL", "sigev_notify=SIGEV_SIGNAL", "XSIGINT", "SIGINTx", "SIGnal", "SIG", "fd=3"}) {
    EXPECT_EQ(colored(text, 0, &added), text);
    EXPECT_EQ(added, 0u) << text;
  }
}

TEST(ColorSignalNames, NotInsideStrings) {
  EXPECT_EQ(colored(R"(fd=1, buf="kill -SIGKILL 1\n", count=16)"), R"(fd=1, buf="kill -SIGKILL 1\n", count=16)");
  EXPECT_EQ(colored(R"(buf="a \"SIGHUP\" b", sig=SIGHUP)"), R"(buf="a \"SIGHUP\" b", sig=)" + M + "SIGHUP" + R);
}

TEST(ColorSignalNames, OnlyFromWhereTheArgumentsStart) {
  EXPECT_EQ(colored("SIGINT(SIGINT)", 7), "SIGINT(" + M + "SIGINT" + R + ")");
}

}  // namespace
}  // namespace traceloop::tools
