#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <vector>
#include <thread>

#include "format/unique_fd.h"
#include "recorder/daemon/control_client.h"
#include "recorder/daemon/control_protocol.h"
#include "recorder/daemon/control_server.h"
#include "recorder/daemon/daemon_cli.h"
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
  EXPECT_EQ(parse_request("show x")->verb, Verb::show);
  EXPECT_EQ(parse_request("stop")->verb, Verb::stop);
  for (const char* bad : {"", "lst", "snapshot", "snapshot a b", "list x", "show  a", "delete \x01", "stop "})
    EXPECT_FALSE(parse_request(bad).ok()) << bad;
  EXPECT_FALSE(parse_request(std::string(5000, 'a')).ok());
  for (Verb v : {Verb::list, Verb::snapshot, Verb::show, Verb::remove, Verb::stop}) {
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

ControlServerOptions options_for(const std::filesystem::path& path) {
  ControlServerOptions o;
  o.socket_path = path;
  return o;
}

// Serves `server` with `handler` on a thread of its own, until destroyed.
class ServingThread {
 public:
  ServingThread(ControlServer& server, std::function<Reply(const Request&)> handler)
      : thread_([this, &server, handler = std::move(handler)] {
          while (!stop_) {
            pollfd p{server.fd(), POLLIN, 0};
            ::poll(&p, 1, 20);
            server.process(handler);
          }
        }) {}
  ~ServingThread() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
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


// `snapshot ID -o OUT` copies the daemon's snapshot with the client's rights.
// The copy goes through a name no one can plant beforehand: a symlink or a
// file another user made beside OUT is never written through or reused.
class SnapshotClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      std::ofstream(snapshot_file()) << "snapshot bytes";
    }
    auto server = ControlServer::create(options_for(dir_ / "control.sock"));
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_.emplace(std::move(server.value()));
    serving_.emplace(*server_, [this](const Request&) -> Reply { return ok_reply(snapshot_file().string() + "\n"); });
  }
  void TearDown() override { serving_.reset(); }
  std::filesystem::path snapshot_file() const { return dir_ / "abc.snapshot.tl"; }

  int snapshot_to(const std::filesystem::path& out, std::string& err_text) {
    CLI::App app;
    DaemonCliState state;
    add_daemon_commands(app, state);
    const std::string socket = (dir_ / "control.sock").string();
    const std::string output = out.string();
    std::vector<const char*> argv{"traceloop-record", "snapshot", "abc", "--socket", socket.c_str(), "-o",
                                  output.c_str()};
    app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
    std::ostringstream out_text, err;
    const int status = run_daemon_commands(state, out_text, err).value_or(-1);
    err_text = err.str();
    return status;
  }

  testing::TempDir dir_;
  std::optional<ControlServer> server_;
  std::optional<ServingThread> serving_;
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

TEST_F(SnapshotClientTest, UnwritableDestinationIsAnErrorWithTheReason) {
  std::string err;
  EXPECT_EQ(snapshot_to("/nonexistent-dir/copy.tl", err), 2);
  EXPECT_NE(err.find("/nonexistent-dir/copy.tl"), std::string::npos) << err;
  EXPECT_NE(err.find("No such file or directory"), std::string::npos) << err;
}

}  // namespace
}  // namespace traceloop::daemon
