#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <iostream>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <vector>
#include <thread>

#include "format/published_file.h"
#include "format/unique_fd.h"
#include "recorder/daemon/control_client.h"
#include "recorder/daemon/control_protocol.h"
#include "recorder/daemon/control_server.h"
#include "recorder/daemon_cli.h"
#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

TEST(ControlProtocol, ParsesKnownRequests) {
  auto list = parse_request("list");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->verb, Verb::list);
  auto snap = parse_request("snapshot abc");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->verb, Verb::snapshot);
  EXPECT_EQ(snap->id, "abc");
  EXPECT_EQ(parse_request("delete x")->verb, Verb::remove);
  EXPECT_EQ(parse_request("fetch x")->verb, Verb::fetch);
  EXPECT_EQ(parse_request("stop")->verb, Verb::stop);
  for (const char* bad : {"", "lst", "snapshot", "snapshot a b", "list x", "fetch  a", "delete \x01", "stop "})
    EXPECT_FALSE(parse_request(bad).ok()) << bad;
  EXPECT_FALSE(parse_request(std::string(5000, 'a')).ok());
  for (Verb v : {Verb::list, Verb::snapshot, Verb::fetch, Verb::remove, Verb::stop}) {
    Request r{v, v == Verb::list || v == Verb::stop ? "" : "id1"};
    auto formatted = format_request(r);
    ASSERT_TRUE(formatted.ok());
    const std::string& line = *formatted;
    auto back = parse_request(std::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(back.ok()) << line;
    EXPECT_EQ(back->verb, v);
    EXPECT_EQ(back->id, r.id);
  }
}

// `delete $'snap2\nlist'` used to send "delete snap2" and "list": no byte of
// an ID may end a request or start another one.
TEST(ControlProtocol, AnIdCannotCarryAnotherRequest) {
  for (const char* id : {"snap2\nlist", "snap2\rlist", "a b", "a\tb", "", "x\x7f"}) {
    auto formatted = format_request({Verb::remove, id});
    EXPECT_FALSE(formatted.ok()) << id;
  }
  EXPECT_TRUE(format_request({Verb::remove, "snap2"}).ok());
}

// Names come from containers: in `list` they must not drive the terminal.
// C1 controls (U+009B CSI, U+009D OSC) as UTF-8 or as raw 8-bit bytes, and
// invalid UTF-8, become '?'; valid UTF-8 text stays.
TEST(ControlProtocol, ListRowsCarryNoTerminalControls) {
  ListRow row{"node", "ns", "a\xC2\x9B" "31mb", "\x9D" "0;title\x07", "id", "running", 1, "/d/f.tl"};
  row.pod_namespace = "caf\xC3\xA9-\xFF\xFE-\xE2\x82";
  auto back = parse_list_row(std::string_view(format_list_row(row)).substr(0, format_list_row(row).size() - 1));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->pod, "a?31mb");
  EXPECT_EQ(back->container, "?0;title?");
  EXPECT_EQ(back->pod_namespace, "caf\xC3\xA9-?" "?-?" "?");  // (split: no trigraph)
}

TEST(ControlProtocol, RepliesAndListRowsRoundTrip) {
  auto ok = parse_reply(format_reply(ok_reply("a\nb\n")));
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->body, "a\nb\n");
  auto err = parse_reply(format_reply(error_reply("no such\ncontainer")));
  ASSERT_TRUE(err.ok());
  EXPECT_FALSE(err->ok);
  EXPECT_EQ(err->error, "no such container");
  EXPECT_FALSE(parse_reply("garbage").ok());
  EXPECT_FALSE(parse_reply("what\n").ok());

  // A hostile pod name cannot add columns or rows.
  ListRow row{"node1", "ns", "pod\twith\ttabs\nand newline", "", "c1", "running", 42, "/d/c1.tl"};
  std::string line = format_list_row(row);
  ASSERT_EQ(line.back(), '\n');
  auto back = parse_list_row(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->pod, "pod?with?tabs?and newline");
  EXPECT_EQ(back->container, "-");
  EXPECT_EQ(back->events, 42u);
  EXPECT_EQ(back->file, "/d/c1.tl");
  EXPECT_FALSE(parse_list_row("a\tb").ok());
}

// Every body says its length: a reply cut short (a list losing its last
// rows) is an error, not a shorter answer.
TEST(ControlProtocol, ARepliesLengthTellsAWholeReplyFromOneCutShort) {
  EXPECT_EQ(format_reply(ok_reply("row\n")), "ok 4\nrow\n");
  const std::string whole = format_reply(ok_reply("row1\nrow2\n"));
  auto cut = parse_reply(std::string_view(whole).substr(0, whole.size() - 5));
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().message.find("cut short: 5 of 10 bytes"), std::string::npos) << cut.error().message;
  EXPECT_FALSE(parse_reply(whole + "x").ok());
  for (const char* bad : {"ok\n", "ok \n", "ok -1\n", "ok 1x\n", "ok 99999999999999999999999\n"})
    EXPECT_FALSE(parse_reply(bad).ok()) << bad;
  auto header = parse_reply_header("ok 123");
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->body_bytes, 123u);
  // A file reply's header alone is formatted: its body comes from the file.
  EXPECT_EQ(format_reply(file_reply(UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)), 77)), "ok 77\n");
}

ControlServerOptions options_for(const std::filesystem::path& path) {
  ControlServerOptions o;
  o.socket_path = path;
  return o;
}

// Serves `server` with `handler` on a thread of its own, until destroyed,
// as the daemon's loop does: waits on fd() (or a short periodic wakeup), then
// process(). Measures how long the longest process() call took.
class ServingThread {
 public:
  ServingThread(ControlServer& server, std::function<Reply(const Request&)> handler)
      : thread_([this, &server, handler = std::move(handler)] {
          while (!stop_) {
            pollfd p{server.fd(), POLLIN, 0};
            ::poll(&p, 1, 20);
            const auto start = std::chrono::steady_clock::now();
            server.process(handler);
            const auto took = std::chrono::steady_clock::now() - start;
            longest_us_ = std::max<int64_t>(longest_us_,
                                            std::chrono::duration_cast<std::chrono::microseconds>(took).count());
          }
        }) {}
  ~ServingThread() {
    stop_ = true;
    thread_.join();
  }
  std::chrono::microseconds longest_process() const { return std::chrono::microseconds(longest_us_.load()); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> longest_us_{0};
  std::thread thread_;
};

// Sends `list` as uid/gid 65534 with `groups` as supplementary groups, from
// a child: 0 answered, 10 could not change user, 11 no reply, 12 refused.
int list_as_nobody(const std::filesystem::path& socket, std::vector<gid_t> groups = {}) {
  const pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) {
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(10);
    auto reply = send_request(socket, {Verb::list, ""});
    _exit(!reply.ok() ? 11 : reply->ok ? 0 : 12);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs a server on its own thread, answering `list` with a fixed body.
class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ControlServer::create(options_for(socket_path()));
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_.emplace(std::move(server.value()));
    serving_.emplace(*server_, [this](const Request& r) -> Reply {
      ++handled_;
      if (r.verb == Verb::list) return ok_reply("row\n");
      if (r.verb == Verb::snapshot) throw std::runtime_error("handler failed");
      return error_reply("unsupported");
    });
  }
  void TearDown() override { serving_.reset(); }
  std::filesystem::path socket_path() const { return dir_ / "control.sock"; }

  testing::TempDir dir_;
  std::optional<ControlServer> server_;
  std::atomic<int> handled_{0};
  std::optional<ServingThread> serving_;
};

TEST_F(ServerFixture, ARequestWithABadIdNeverReachesTheServer) {
  auto reply = send_request(socket_path(), {Verb::remove, "snap2\nlist"});
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.error().message.find("not a container id"), std::string::npos) << reply.error().message;
  EXPECT_EQ(handled_, 0);
}

TEST_F(ServerFixture, AnswersRequestsAndSocketIsPrivate) {
  auto reply = send_request(socket_path(), {Verb::list, ""});
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_TRUE(reply->ok);
  EXPECT_EQ(reply->body, "row\n");
  struct stat st {};
  ASSERT_EQ(::lstat(socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ServerFixture, MalformedAndOversizedRequestsGetErrorsServerCarriesOn) {
  auto bad = send_raw_request(socket_path(), "hello world\n");
  ASSERT_TRUE(bad.ok()) << bad.error().message;
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->error, "unknown command");

  auto binary = send_raw_request(socket_path(), std::string("\x00\xff\x01\n", 4));
  ASSERT_TRUE(binary.ok());
  EXPECT_FALSE(binary->ok);

  auto huge = send_raw_request(socket_path(), std::string(3000, 'x') + std::string(3000, 'y'));
  if (huge.ok()) {  // the server may reset the connection while the client still sends
    EXPECT_FALSE(huge->ok);
    EXPECT_EQ(huge->error, "request too long");
  }

  auto thrown = send_request(socket_path(), {Verb::snapshot, "x"});
  ASSERT_TRUE(thrown.ok());
  EXPECT_FALSE(thrown->ok);
  EXPECT_EQ(thrown->error, "handler failed");

  auto good = send_request(socket_path(), {Verb::list, ""});
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good->ok);
}

TEST_F(ServerFixture, SilentClientDoesNotBlockOthers) {
  UniqueFd silent(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, socket_path().c_str());
  ASSERT_EQ(::connect(silent.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::send(silent.get(), "li", 2, 0), 2);  // half a request, then nothing
  auto reply = send_request(socket_path(), {Verb::list, ""});
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_TRUE(reply->ok);
}

TEST_F(ServerFixture, NonRootPeerIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  ::chmod(dir_.path().c_str(), 0755);  // let the unprivileged child reach the socket
  ::chmod(socket_path().c_str(), 0666);  // and connect: SO_PEERCRED must be what refuses it
  int before = handled_;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(10);
    auto reply = send_request(socket_path(), {Verb::list, ""});
    if (!reply.ok()) _exit(11);
    if (reply->ok) _exit(12);
    _exit(reply->error.find("permission denied") != std::string::npos ? 0 : 13);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(handled_, before);
  EXPECT_EQ(server_->refused_peers(), 1u);
}

// --- clients that read their reply slowly, or never -------------------------

// A connected client that has sent `line` (and shut its sending side, as
// send_request does) and reads the reply itself.
UniqueFd send_line(const std::filesystem::path& socket, std::string_view line) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
  timeval tv{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return UniqueFd();
  if (::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) return UniqueFd();
  ::shutdown(fd.get(), SHUT_WR);
  return fd;
}

// Reads until the server closes, `chunk` bytes at a time with `pause` between
// reads (a pipe into a slow consumer, a client on a loaded machine).
std::string read_slowly(int fd, size_t chunk, std::chrono::milliseconds pause) {
  std::string all;
  std::vector<char> buf(chunk);
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_WAITALL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    all.append(buf.data(), static_cast<size_t>(n));
    std::this_thread::sleep_for(pause);
  }
  return all;
}

// A body of `bytes` bytes in list rows, each distinct: a reordered or
// truncated reply does not compare equal.
std::string big_body(size_t bytes) {
  std::string body;
  for (size_t row = 0; body.size() < bytes; ++row) {
    ListRow r{"node", "ns", "pod-" + std::to_string(row), "c", "id" + std::to_string(row), "exited", row,
              "/var/lib/traceloop/id" + std::to_string(row) + ".tl"};
    body += format_list_row(r);
  }
  return body;
}

class SlowClientTest : public ::testing::Test {
 protected:
  void start(ControlServerOptions options, size_t list_bytes) {
    options.socket_path = dir_ / "control.sock";
    body_ = big_body(list_bytes);
    auto server = ControlServer::create(options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_.emplace(std::move(server.value()));
  }
  void serve() {
    serving_.emplace(*server_, [this](const Request& r) -> Reply {
      if (r.verb == Verb::list) return ok_reply(body_);
      return ok_reply("small\n");
    });
  }
  void TearDown() override { serving_.reset(); }
  std::filesystem::path socket() const { return dir_ / "control.sock"; }
  std::string expected() const { return format_reply(ok_reply(body_)); }

  testing::TempDir dir_;
  std::string body_;
  std::optional<ControlServer> server_;
  std::optional<ServingThread> serving_;
};

// The daemon's loop serves the socket between drains of the BPF ring: a
// client reading a large reply slowly once held process() (and so the
// recording) for the whole reply. Each call now returns at once, other
// clients are answered meanwhile, and the slow one still gets all of it.
TEST_F(SlowClientTest, SlowReaderOfALargeReplyNeverMakesProcessWait) {
  start({}, 1u << 20);
  serve();
  UniqueFd slow = send_line(socket(), "list\n");
  ASSERT_TRUE(slow);
  std::string got;
  std::thread reader([&] { got = read_slowly(slow.get(), 16u << 10, std::chrono::milliseconds(25)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Another client, mid-way through the slow one's reply.
  const auto asked = std::chrono::steady_clock::now();
  auto other = send_request(socket(), {Verb::fetch, "x"});
  const auto answered_in = std::chrono::steady_clock::now() - asked;
  reader.join();
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_EQ(other->body, "small\n");
  EXPECT_LT(answered_in, std::chrono::milliseconds(500));
  EXPECT_EQ(got.size(), expected().size());
  EXPECT_TRUE(got == expected());
  std::cout << "longest process() call: " << serving_->longest_process().count() << " us\n";
  EXPECT_LT(serving_->longest_process(), std::chrono::milliseconds(250));
  serving_.reset();  // the server is read on this thread from here on
  EXPECT_EQ(server_->connection_count(), 0u);
  EXPECT_EQ(server_->pending_reply_bytes(), 0u);
}

// Progress is what the client consumes, not when the server's socket turns
// writable again (only once most of its buffer is free): a reader steadier
// than the stall timeout but slower than one buffer per timeout is served.
TEST_F(SlowClientTest, SlowButSteadyReaderGetsTheWholeReply) {
  ControlServerOptions options;
  options.reply_stall_timeout = std::chrono::milliseconds(500);
  start(options, 512u << 10);
  serve();
  UniqueFd slow = send_line(socket(), "list\n");
  ASSERT_TRUE(slow);
  const std::string got = read_slowly(slow.get(), 16u << 10, std::chrono::milliseconds(100));
  EXPECT_EQ(got.size(), expected().size());
  EXPECT_TRUE(got == expected());
  EXPECT_LT(serving_->longest_process(), std::chrono::milliseconds(250));
  serving_.reset();  // the server is read on this thread from here on
  EXPECT_EQ(server_->stalled_clients(), 0u);
}

TEST_F(SlowClientTest, ClientThatNeverReadsIsDroppedAfterTheStallTimeout) {
  ControlServerOptions options;
  options.reply_stall_timeout = std::chrono::milliseconds(300);
  start(options, 4u << 20);
  // Served from this thread: the counters are read between calls.
  const auto handler = [this](const Request&) { return ok_reply(body_); };
  UniqueFd silent = send_line(socket(), "list\n");
  ASSERT_TRUE(silent);
  const auto asked = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration longest{};
  bool answered = false;
  while (std::chrono::steady_clock::now() - asked < std::chrono::seconds(5)) {
    pollfd p{server_->fd(), POLLIN, 0};
    ::poll(&p, 1, 20);
    const auto start = std::chrono::steady_clock::now();
    server_->process(handler);
    longest = std::max(longest, std::chrono::steady_clock::now() - start);
    answered |= server_->pending_reply_bytes() > 0;
    if (answered && server_->connection_count() == 0) break;
  }
  const auto dropped_after = std::chrono::steady_clock::now() - asked;
  EXPECT_TRUE(answered);
  EXPECT_EQ(server_->connection_count(), 0u);
  EXPECT_EQ(server_->stalled_clients(), 1u);
  EXPECT_EQ(server_->pending_reply_bytes(), 0u);
  EXPECT_GE(dropped_after, std::chrono::milliseconds(300));
  EXPECT_LT(dropped_after, std::chrono::seconds(2));
  EXPECT_LT(longest, std::chrono::milliseconds(250));
  // The client finds a cut reply: what the kernel held, then the end.
  std::string got = read_slowly(silent.get(), 64u << 10, std::chrono::milliseconds(0));
  EXPECT_GT(got.size(), 0u);
  EXPECT_LT(got.size(), expected().size());
}

// Memory held for clients is bounded in total: replies that do not fit are
// a short "busy" error, and those that fit still arrive whole.
TEST_F(SlowClientTest, ManySlowClientsStayWithinTheTotalBound) {
  constexpr size_t kClients = 8;
  ControlServerOptions options;
  options.max_pending_reply_bytes = (7u << 20) / 2;  // three replies of a MiB fit, not four
  start(options, 1u << 20);
  const auto handler = [this](const Request&) { return ok_reply(body_); };
  const size_t bound = options.max_pending_reply_bytes + kClients * kShortReplyBytes;
  std::vector<UniqueFd> clients;
  for (size_t i = 0; i < kClients; ++i) {
    clients.push_back(send_line(socket(), "list\n"));
    ASSERT_TRUE(clients.back());
  }
  size_t most = 0;
  std::chrono::steady_clock::duration longest{};
  auto pass = [&] {
    pollfd p{server_->fd(), POLLIN, 0};
    ::poll(&p, 1, 5);
    const auto start = std::chrono::steady_clock::now();
    server_->process(handler);
    longest = std::max(longest, std::chrono::steady_clock::now() - start);
    most = std::max(most, server_->pending_reply_bytes());
  };
  // Every request is answered while no client reads.
  for (int i = 0; i < 40; ++i) pass();
  EXPECT_GT(most, 0u);
  EXPECT_LE(most, bound);
  // Then each reads at its pace, the server served between reads.
  std::vector<std::string> replies(kClients);
  std::vector<bool> done(kClients, false);
  size_t open = kClients;
  std::vector<char> buf(16u << 10);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (open > 0 && std::chrono::steady_clock::now() < deadline) {
    for (size_t i = 0; i < kClients; ++i) {
      if (done[i]) continue;
      ssize_t n = ::recv(clients[i].get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n > 0) replies[i].append(buf.data(), static_cast<size_t>(n));
      else if (n == 0 || (errno != EAGAIN && errno != EINTR)) done[i] = true, --open;
    }
    pass();
  }
  EXPECT_EQ(open, 0u);
  EXPECT_LE(most, bound);
  EXPECT_LT(longest, std::chrono::milliseconds(250));
  size_t whole = 0, busy = 0;
  for (const auto& r : replies) {
    if (r == expected()) ++whole;
    else if (r.rfind("error busy", 0) == 0 && r.size() <= kShortReplyBytes) ++busy;
  }
  EXPECT_EQ(whole, 3u);
  EXPECT_EQ(busy, kClients - 3);
  EXPECT_EQ(server_->pending_reply_bytes(), 0u);
}

// The client refuses replies over kMaxReplyBytes: the server says why
// instead of holding them.
TEST_F(SlowClientTest, AReplyOverTheLimitIsAnError) {
  start({}, kMaxReplyBytes + 1);
  serve();
  auto reply = send_request(socket(), {Verb::list, ""});
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_FALSE(reply->ok);
  EXPECT_EQ(reply->error.rfind("reply too large", 0), 0u) << reply->error;
}

TEST(ControlServer, ConfiguredGroupMayConnect) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  testing::TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  ControlServerOptions options = options_for(dir / "control.sock");
  options.group = 65534;  // --group: its members may use the socket besides root
  auto server = ControlServer::create(options);
  ASSERT_TRUE(server.ok()) << server.error().message;
  struct stat st {};
  ASSERT_EQ(::lstat((dir / "control.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, 65534u);
  {
    ServingThread serving(*server, [](const Request&) -> Reply { return ok_reply("row\n"); });
    EXPECT_EQ(list_as_nobody(dir / "control.sock"), 0);
  }
  EXPECT_EQ(server->refused_peers(), 0u);
}

// --group is about membership: a user whose primary group is another one,
// but who belongs to the daemon's group, may use the socket.
TEST(ControlServer, SupplementaryMemberOfTheGroupMayConnect) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  testing::TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  constexpr gid_t kDaemonGroup = 65533;
  ControlServerOptions options = options_for(dir / "control.sock");
  options.group = kDaemonGroup;
  auto server = ControlServer::create(options);
  ASSERT_TRUE(server.ok()) << server.error().message;
  {
    ServingThread serving(*server, [](const Request&) -> Reply { return ok_reply("row\n"); });
    EXPECT_EQ(list_as_nobody(dir / "control.sock", {kDaemonGroup}), 0);
  }
  EXPECT_EQ(server->refused_peers(), 0u);
}

// A member of the daemon's group reads a trace as root does: its bytes come
// through the socket, so the file's mode (0600, root's) in a directory the
// member cannot enter is no obstacle. `show` and `snapshot -o` used to take
// a path in DIR and failed there with "Permission denied".
TEST(ControlServer, AGroupMemberFetchesATraceItCannotOpen) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  testing::TempDir dir;
  ::chmod(dir.path().c_str(), 0711);  // the socket reachable, nothing listable
  const auto state = dir / "state";
  std::filesystem::create_directory(state);
  ::chmod(state.c_str(), 0700);
  const auto trace = state / "c1.tl";
  std::ofstream(trace) << "the trace's bytes";
  ::chmod(trace.c_str(), 0600);
  constexpr gid_t kDaemonGroup = 65533;
  ControlServerOptions options = options_for(dir / "control.sock");
  options.group = kDaemonGroup;
  auto server = ControlServer::create(options);
  ASSERT_TRUE(server.ok()) << server.error().message;
  ServingThread serving(*server, [&](const Request& r) -> Reply {
    if (r.verb != Verb::fetch) return error_reply("unexpected");
    UniqueFd file(::open(trace.c_str(), O_RDONLY | O_CLOEXEC));
    return file_reply(std::move(file), std::filesystem::file_size(trace));
  });
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    const gid_t groups[] = {kDaemonGroup};
    if (::setgroups(1, groups) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(10);
    if (::access(trace.c_str(), R_OK) == 0) _exit(13);  // the test would prove nothing
    auto reply = send_request_to(dir / "control.sock", {Verb::fetch, "c1"}, [&](std::string_view piece) {
      return format::write_all(pipe_fds[1], piece, "pipe");
    });
    _exit(!reply.ok() ? 11 : reply->ok ? 0 : 12);
  }
  ::close(pipe_fds[1]);
  std::string got;
  char buf[256];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0;) got.append(buf, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(got, "the trace's bytes");
}

TEST(ControlServer, RefusesToReplaceANonSocket) {
  testing::TempDir dir;
  std::ofstream(dir / "control.sock") << "not a socket";
  auto server = ControlServer::create(options_for(dir / "control.sock"));
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().message.find("not a socket"), std::string::npos);
}

TEST(ControlClient, NoDaemonIsAClearError) {
  testing::TempDir dir;
  auto reply = send_request(dir / "control.sock", {Verb::list, ""});
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.error().message.find("daemon running"), std::string::npos);
}


// `snapshot ID -o OUT` and `show ID` take the trace's bytes through the
// socket (`fetch`) and write them with the client's rights. The file goes
// through a name no one can plant beforehand: a symlink or a file another
// user made beside OUT is never written through or reused.
class SnapshotClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      std::ofstream(snapshot_file()) << "snapshot bytes";
    }
    auto server = ControlServer::create(options_for(dir_ / "control.sock"));
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_.emplace(std::move(server.value()));
    serving_.emplace(*server_, [this](const Request& r) -> Reply {
      if (r.verb != Verb::fetch) return ok_reply(snapshot_file().string() + "\n");
      // The daemon's DIR is out of the client's sight: only bytes reach it.
      UniqueFd file(::open(snapshot_file().c_str(), O_RDONLY | O_CLOEXEC));
      struct stat st {};
      if (!file || ::fstat(file.get(), &st) != 0) return error_reply("no snapshot");
      if (hide_after_open_) ::unlink(snapshot_file().c_str());
      return file_reply(std::move(file), static_cast<uint64_t>(st.st_size) + promised_extra_);
    });
  }
  void TearDown() override { serving_.reset(); }
  std::filesystem::path snapshot_file() const { return dir_ / "abc.snapshot.tl"; }

  int client(std::vector<std::string> args, std::string& out_text, std::string& err_text) {
    CLI::App app;
    DaemonCliState state;
    add_daemon_commands(app, state);
    const std::string socket = (dir_ / "control.sock").string();
    args.insert(args.begin(), "traceloop-record");
    args.insert(args.begin() + 3, {"--socket", socket});
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
    std::ostringstream out, err;
    const int status = run_daemon_commands(state, out, err).value_or(-1);
    out_text = out.str();
    err_text = err.str();
    return status;
  }
  int snapshot_to(const std::filesystem::path& out, std::string& err_text) {
    std::string out_text;
    return client({"snapshot", "abc", "-o", out.string()}, out_text, err_text);
  }

  testing::TempDir dir_;
  std::optional<ControlServer> server_;
  std::optional<ServingThread> serving_;
  bool hide_after_open_ = true;
  uint64_t promised_extra_ = 0;  // a header promising more than is sent
};

std::string contents(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST_F(SnapshotClientTest, CopyNeverGoesThroughAPlantedName) {
  testing::TempDir out_dir;
  const auto victim = out_dir / "victim";
  std::ofstream(victim) << "precious";
  const auto out = out_dir / "copy.tl";
  // the names an attacker could guess: the old fixed temporary name, as a
  // symlink to the victim
  std::filesystem::create_symlink(victim, out.string() + ".tmp-traceloop");
  std::string err;
  ASSERT_EQ(snapshot_to(out, err), 0) << err;
  EXPECT_EQ(contents(victim), "precious");
  EXPECT_EQ(contents(out), "snapshot bytes");
  struct stat st {};
  ASSERT_EQ(::lstat(out.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // nothing else left behind than the planted link, the victim and the copy
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(out_dir.path()), std::filesystem::directory_iterator()),
            3);
}

TEST_F(SnapshotClientTest, DashWritesTheTracesBytesToTheStandardOutput) {
  std::string out, err;
  ASSERT_EQ(client({"snapshot", "abc", "-o", "-"}, out, err), 0) << err;
  EXPECT_EQ(out, "snapshot bytes");
  EXPECT_FALSE(std::filesystem::exists(snapshot_file())) << "the test's daemon did not hide its file";
}

// Without -o the path in DIR is printed, as before: for a client beside the daemon.
TEST_F(SnapshotClientTest, WithoutOutputThePathInTheDaemonsDirIsPrinted) {
  std::string out, err;
  ASSERT_EQ(client({"snapshot", "abc"}, out, err), 0) << err;
  EXPECT_EQ(out, snapshot_file().string() + "\n");
}

// A reply whose length the bytes do not reach (a daemon killed mid-way) is
// an error, and -o FILE leaves no file holding a part of a trace.
TEST_F(SnapshotClientTest, AReplyCutShortIsAnErrorAndLeavesNoFile) {
  promised_extra_ = 100;
  hide_after_open_ = false;
  testing::TempDir out_dir;
  std::string err;
  EXPECT_EQ(snapshot_to(out_dir / "copy.tl", err), 2);
  EXPECT_NE(err.find("cut short: 14 of 114 bytes"), std::string::npos) << err;
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(out_dir.path()), std::filesystem::directory_iterator()),
            0);
  std::string out;
  EXPECT_EQ(client({"snapshot", "abc", "-o", "-"}, out, err), 2);
  EXPECT_NE(err.find("cut short"), std::string::npos) << err;
}

// A trace larger than any in-memory reply streams whole, from the file.
TEST_F(SnapshotClientTest, ATraceLargerThanTheReplyBoundStreamsWhole) {
  {
    std::ofstream big(snapshot_file(), std::ios::trunc);
    std::string block(1u << 20, 'x');
    for (size_t i = 0; i < kMaxReplyBytes / block.size() + 3; ++i) {
      block[0] = static_cast<char>('a' + i % 26);
      big << block;
    }
  }
  const auto size = std::filesystem::file_size(snapshot_file());
  ASSERT_GT(size, kMaxReplyBytes);
  testing::TempDir out_dir;
  std::string err;
  ASSERT_EQ(snapshot_to(out_dir / "big.tl", err), 0) << err;
  EXPECT_EQ(std::filesystem::file_size(out_dir / "big.tl"), size);
  std::ifstream in(out_dir / "big.tl");
  in.seekg(static_cast<std::streamoff>(5u << 20));
  EXPECT_EQ(in.get(), 'f');
}

// list -o json: one object per row, names escaped as JSON, "-" as "".
TEST(ListClient, JsonHasAnObjectPerRow) {
  testing::TempDir dir;
  auto server = ControlServer::create(options_for(dir / "control.sock"));
  ASSERT_TRUE(server.ok()) << server.error().message;
  ServingThread serving(*server, [](const Request&) -> Reply {
    return ok_reply(format_list_row({"node-1", "default", "web-0", "nginx", "c0ffee", "running", 12, "-"}) +
                    format_list_row({"node-1", "-", "-", "db \"x\"", "beef", "exited", 3, "/d/beef.tl"}));
  });
  CLI::App app;
  DaemonCliState state;
  add_daemon_commands(app, state);
  const std::string socket = (dir / "control.sock").string();
  std::vector<const char*> argv{"traceloop-record", "list", "--socket", socket.c_str(), "-o", "json"};
  app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  std::ostringstream out, err;
  ASSERT_EQ(run_daemon_commands(state, out, err).value_or(-1), 0) << err.str();
  EXPECT_EQ(out.str(),
            "[\n"
            "  {\"node\":\"node-1\",\"namespace\":\"default\",\"pod\":\"web-0\",\"container\":\"nginx\","
            "\"containerId\":\"c0ffee\",\"state\":\"running\",\"events\":12,\"file\":\"\"},\n"
            "  {\"node\":\"node-1\",\"namespace\":\"\",\"pod\":\"\",\"container\":\"db \\\"x\\\"\","
            "\"containerId\":\"beef\",\"state\":\"exited\",\"events\":3,\"file\":\"/d/beef.tl\"}\n"
            "]\n");

  // For scripts (the kubectl plugin): tab-separated, filtered by names.
  CLI::App app2;
  DaemonCliState state2;
  add_daemon_commands(app2, state2);
  std::vector<const char*> argv2{"traceloop-record", "list", "--socket", socket.c_str(), "-o", "tsv",
                                 "--no-headers", "-n", "default", "-p", "web-0,web-1"};
  app2.parse(static_cast<int>(argv2.size()), const_cast<char**>(argv2.data()));
  std::ostringstream out2, err2;
  ASSERT_EQ(run_daemon_commands(state2, out2, err2).value_or(-1), 0) << err2.str();
  EXPECT_EQ(out2.str(), "node-1\tdefault\tweb-0\tnginx\tc0ffee\trunning\t12\t-\n");
}

TEST_F(SnapshotClientTest, UnwritableDestinationIsAnErrorWithTheReason) {
  std::string err;
  EXPECT_EQ(snapshot_to("/nonexistent-dir/copy.tl", err), 2);
  EXPECT_NE(err.find("/nonexistent-dir/copy.tl"), std::string::npos) << err;
  EXPECT_NE(err.find("No such file or directory"), std::string::npos) << err;
}

}  // namespace
}  // namespace traceloop::daemon
