// EventFilter: strace's -e trace=/status=/signal=, -z, -Z, -P (with an fd
// lookup), --duration, and errors that name the bad token.
#include "tools/lib/decoder/filter.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <utility>

#include "tests/tools/show_fixtures.h"

namespace traceloop::tools {
namespace {

using testing::EventBuilder;

EventFilter make(const FilterOptions& options, const FdPathLookup* fds = nullptr) {
  static const format::TraceMetadata metadata = testing::test_metadata();
  auto filter = EventFilter::create(options, metadata, fds);
  EXPECT_TRUE(filter.ok()) << (filter.ok() ? "" : filter.error().message);
  return filter.ok() ? std::move(filter).value() : value_or_throw(EventFilter::create({}, metadata));
}

std::string error_of(const FilterOptions& options) {
  const format::TraceMetadata metadata = testing::test_metadata();
  auto filter = EventFilter::create(options, metadata);
  EXPECT_FALSE(filter.ok());
  return filter.ok() ? "" : filter.error().message;
}

FilterOptions with_e(std::initializer_list<std::string> qualifiers) {
  FilterOptions o;
  o.qualifiers = qualifiers;
  return o;
}

// A few calls of several kinds and outcomes.
struct Calls {
  format::TraceMetadata metadata = testing::test_metadata();
  EventBuilder b{metadata.catalogue};
  Calls() {
    b.call("openat", {static_cast<uint64_t>(-100), 0x1000, 0}, 3).str(1, "/etc/passwd");    // 0
    b.call("read", {3, 0x2000, 10}, 10);                                                   // 1
    b.call("openat", {static_cast<uint64_t>(-100), 0x1000, 0}, -2).str(1, "/nonexistent");  // 2
    b.call("close", {3}, 0);                                                               // 3
    b.call("getpid", {}, 100);                                                             // 4
    b.call("read", {4, 0x2000, 10}, 0).state(format::CallState::unfinished);              // 5
    b.call("exit_group", {0}, 0);                                                          // 6 (never returns)
  }
  std::vector<size_t> matching(EventFilter filter) const {
    std::vector<size_t> out;
    for (size_t i = 0; i < b.events().size(); ++i)
      if (filter.matches(b.events()[i].view())) out.push_back(i);
    return out;
  }
};

using Indices = std::vector<size_t>;

TEST(EventFilter, TraceSetByName) {
  Calls c;
  EXPECT_EQ(c.matching(make(with_e({"trace=openat"}))), (Indices{0, 2}));
  EXPECT_EQ(c.matching(make(with_e({"openat,close"}))), (Indices{0, 2, 3}));  // -e SET is trace=SET
  EXPECT_EQ(c.matching(make(with_e({"t=close"}))), (Indices{3}));
}

TEST(EventFilter, TraceSetClassesNegationRegex) {
  Calls c;
  EXPECT_EQ(c.matching(make(with_e({"trace=%file"}))), (Indices{0, 2}));
  EXPECT_EQ(c.matching(make(with_e({"trace=%desc"}))), (Indices{0, 1, 2, 3, 5}));
  EXPECT_EQ(c.matching(make(with_e({"trace=!%desc"}))), (Indices{4, 6}));
  EXPECT_EQ(c.matching(make(with_e({"trace=/^(get|exit)"}))), (Indices{4, 6}));
  EXPECT_EQ(c.matching(make(with_e({"trace=%pure"}))), (Indices{4}));
}

TEST(EventFilter, LastTraceSetWinsAsInStrace) {
  Calls c;
  EXPECT_EQ(c.matching(make(with_e({"trace=openat", "trace=close"}))), (Indices{3}));
  FilterOptions o = with_e({"trace=close"});
  o.syscalls = {"openat"};  // --syscall (deprecated) counts as an earlier -e trace=
  EXPECT_EQ(c.matching(make(o)), (Indices{3}));
  FilterOptions only_old;
  only_old.syscalls = {"openat", "close"};
  EXPECT_EQ(c.matching(make(only_old)), (Indices{0, 2, 3}));
}

TEST(EventFilter, Status) {
  Calls c;
  EXPECT_EQ(c.matching(make(with_e({"status=successful"}))), (Indices{0, 1, 3, 4}));
  EXPECT_EQ(c.matching(make(with_e({"status=failed"}))), (Indices{2}));
  // strace counts exit_group (`= ?`) as unfinished, like a call cut by the end.
  EXPECT_EQ(c.matching(make(with_e({"status=unfinished"}))), (Indices{5, 6}));
  EXPECT_EQ(c.matching(make(with_e({"status=!failed"}))), (Indices{0, 1, 3, 4, 5, 6}));
  EXPECT_EQ(c.matching(make(with_e({"status=unavailable,detached"}))), (Indices{}));
  EXPECT_EQ(c.matching(make(with_e({"status=none"}))), (Indices{}));
  EXPECT_EQ(c.matching(make(with_e({"status=all"}))).size(), 7u);
  EXPECT_EQ(c.matching(make(with_e({"trace=openat", "status=failed"}))), (Indices{2}));
}

TEST(EventFilter, ZAndBigZ) {
  Calls c;
  FilterOptions z;
  z.successful = true;
  EXPECT_EQ(c.matching(make(z)), (Indices{0, 1, 3, 4}));
  FilterOptions big_z;
  big_z.failed = true;
  EXPECT_EQ(c.matching(make(big_z)), (Indices{2}));
  FilterOptions both;
  both.successful = both.failed = true;
  EXPECT_EQ(c.matching(make(both)), (Indices{0, 1, 2, 3, 4}));
  // A later -e status= replaces them.
  big_z.qualifiers = {"status=unfinished"};
  EXPECT_EQ(c.matching(make(big_z)), (Indices{5, 6}));
}

TEST(EventFilter, SignalSet) {
  const auto all = make({});
  EXPECT_TRUE(all.matches_signal(9));
  EXPECT_TRUE(all.matches_signal(17));
  const auto some = make(with_e({"signal=SIGCHLD,usr1,9"}));
  EXPECT_TRUE(some.matches_signal(17));
  EXPECT_TRUE(some.matches_signal(10));
  EXPECT_TRUE(some.matches_signal(9));
  EXPECT_FALSE(some.matches_signal(15));
  const auto negated = make(with_e({"signal=!chld"}));
  EXPECT_FALSE(negated.matches_signal(17));
  EXPECT_TRUE(negated.matches_signal(2));
  EXPECT_FALSE(make(with_e({"signal=none"})).matches_signal(2));
  EXPECT_TRUE(make(with_e({"signal=all"})).matches_signal(64));
  EXPECT_TRUE(make(with_e({"signal=SIGRTMIN"})).matches_signal(32));
  EXPECT_TRUE(make(with_e({"signal=RT_1"})).matches_signal(33));
  // A signal set alone selects every call still.
  Calls c;
  EXPECT_EQ(c.matching(make(with_e({"signal=SIGCHLD"}))).size(), 7u);
}

TEST(EventFilter, Duration) {
  Calls c;  // every returned call of the builder takes 2.5 us
  FilterOptions o;
  o.duration = "2us";
  EXPECT_EQ(c.matching(make(o)), (Indices{0, 1, 2, 3, 4}));  // calls with no end have no duration
  o.duration = "3us";
  EXPECT_EQ(c.matching(make(o)), (Indices{}));
  auto slow = c.b.events()[1];
  slow.fields.exit_ns = slow.fields.enter_ns + 15'000'000;
  o.duration = "10ms";
  auto filter = make(o);
  EXPECT_TRUE(filter.matches(slow.view()));
  EXPECT_FALSE(filter.matches(c.b.events()[0].view()));
}

TEST(EventFilter, ParseDuration) {
  EXPECT_EQ(*parse_duration("10ms"), 10'000'000u);
  EXPECT_EQ(*parse_duration("1.5s"), 1'500'000'000u);
  EXPECT_EQ(*parse_duration("250us"), 250'000u);
  EXPECT_EQ(*parse_duration("100ns"), 100u);
  EXPECT_EQ(*parse_duration("2"), 2'000'000u);  // perf trace: milliseconds
  EXPECT_EQ(*parse_duration("0.5"), 500'000u);
  EXPECT_EQ(parse_duration("ten").error().message,
            "invalid duration 'ten': use 10ms, 1.5s, 250us or 100ns");
  EXPECT_FALSE(parse_duration("").ok());
  EXPECT_FALSE(parse_duration("-1ms").ok());
}

// What fds named, as the fd tracker would answer.
class TestFdPaths final : public FdPathLookup {
 public:
  std::map<std::pair<uint32_t, int64_t>, std::string> paths;
  std::optional<std::string_view> path_of(uint32_t pid, int64_t fd, bool) const override {
    auto it = paths.find({pid, fd});
    if (it == paths.end()) return std::nullopt;
    return std::string_view(it->second);
  }
};

TEST(EventFilter, PathMatchesPathArguments) {
  Calls c;
  FilterOptions o;
  o.paths = {"/etc/passwd"};
  // No fd lookup: only the path argument of openat.
  EXPECT_EQ(c.matching(make(o)), (Indices{0}));
  o.paths = {"/etc/passwd", "/nonexistent"};
  EXPECT_EQ(c.matching(make(o)), (Indices{0, 2}));
  o.paths = {"/etc"};  // equal, not a prefix
  EXPECT_EQ(c.matching(make(o)), (Indices{}));
}

// strace resolves -P's path (realpath) and matches both names: a symbolic
// link given finds the calls on its target. A path that does not resolve
// here is kept as given.
TEST(EventFilter, PathGivenThroughASymbolicLinkMatchesItsTarget) {
  Calls c;
  const auto dir = std::filesystem::temp_directory_path() / ("tl_filter_link_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::create_symlink("/etc/passwd", dir / "link");
  FilterOptions o;
  o.paths = {(dir / "link").string()};
  EXPECT_EQ(c.matching(make(o)), (Indices{0}));
  o.paths = {(dir / ".." / dir.filename() / "link").string()};
  EXPECT_EQ(c.matching(make(o)), (Indices{0}));
  std::filesystem::remove_all(dir);
  o.paths = {(dir / "link").string()};  // gone: matched as given only
  EXPECT_EQ(c.matching(make(o)), (Indices{}));
}

TEST(EventFilter, PathMatchesFdsThroughTheLookup) {
  Calls c;
  TestFdPaths fds;
  fds.paths[{100, 3}] = "/etc/passwd";
  fds.paths[{100, 4}] = "/tmp/other";
  FilterOptions o;
  o.paths = {"/etc/passwd"};
  EXPECT_EQ(c.matching(make(o, &fds)), (Indices{0, 1, 3}));  // openat by path, read and close by fd 3
  // Another process's fd 3 is another file.
  format::TraceMetadata metadata = testing::test_metadata();
  EventBuilder other(metadata.catalogue);
  other.as(200, "cat").call("read", {3, 0x2000, 10}, 10);
  auto filter = make(o, &fds);
  EXPECT_FALSE(filter.matches(other.last()));
  // AT_FDCWD is no fd; getpid has none (strace looks at %file, %desc, %network calls only).
  fds.paths[{100, -100}] = "/etc/passwd";
  EXPECT_EQ(c.matching(make(o, &fds)), (Indices{0, 1, 3}));
}

TEST(EventFilter, ErrorsNameTheBadToken) {
  EXPECT_EQ(error_of(with_e({"trace=openat,nosuch"})), "-e trace: unknown syscall 'nosuch'");
  EXPECT_EQ(error_of(with_e({"trace=%nosuch"})), "-e trace: unknown syscall class '%nosuch'");
  EXPECT_EQ(error_of(with_e({"status=failed,bogus"})),
            "-e status: invalid status 'bogus': use successful, failed, unfinished, unavailable or detached");
  EXPECT_EQ(error_of(with_e({"signal=SIGFOO"})), "-e signal: invalid signal 'SIGFOO'");
  EXPECT_EQ(error_of(with_e({"signal=300"})), "-e signal: invalid signal '300'");
  EXPECT_EQ(error_of(with_e({"inject=openat:error=ENOENT"})),
            "-e inject=: not a filter traceloop knows (trace=, status=, signal=)");
  FilterOptions d;
  d.duration = "fast";
  EXPECT_EQ(error_of(d), "--duration: invalid duration 'fast': use 10ms, 1.5s, 250us or 100ns");
  FilterOptions old;
  old.syscalls = {"nosuch"};
  EXPECT_EQ(error_of(old), "-e trace: unknown syscall 'nosuch'");
}

TEST(EventFilter, AcceptsAllOnlyWithoutFilters) {
  EXPECT_TRUE(make({}).accepts_all());
  EXPECT_TRUE(make(with_e({"trace=all"})).accepts_all());
  EXPECT_TRUE(make(with_e({"signal=none"})).accepts_all());
  EXPECT_FALSE(make(with_e({"trace=%file"})).accepts_all());
  EXPECT_FALSE(make(with_e({"status=failed"})).accepts_all());
}

}  // namespace
}  // namespace traceloop::tools
