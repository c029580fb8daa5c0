#include "tools/lib/decoder/fd_tracker.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>

#include "format/syscalls/uapi_constants.h"
#include "tools/lib/decoder/struct_decode.h"

namespace traceloop::tools {

namespace {
// The kernel's values, the same on x86_64 and aarch64 (generated from the uapi headers).
using uapi::kAfInet, uapi::kAfInet6, uapi::kAfUnix, uapi::kAtFdcwd, uapi::kCloneFiles, uapi::kCloneThread,
    uapi::kCloseRangeCloexec, uapi::kCloseRangeUnshare, uapi::kFDupfd, uapi::kFDupfdCloexec, uapi::kFSetfd,
    uapi::kMfdCloexec, uapi::kOCloexec, uapi::kSockCloexec, uapi::kSockDgram, uapi::kSockSeqpacket,
    uapi::kSockStream;
}  // namespace

enum class FdTracker::Op : uint8_t {
  none,
  open,         // open(path, flags)
  openat,       // openat(dirfd, path, flags)
  openat2,      // openat2(dirfd, path, how)
  creat,        // creat(path)
  socket,       // socket(family, type)
  socketpair,   // socketpair(family, type, proto, sv[2])
  accept,       // accept(fd, addr)
  accept4,      // accept4(fd, addr, len, flags)
  connect,      // connect(fd, addr)
  bind,         // bind(fd, addr)
  pipe,         // pipe(fds[2])
  pipe2,        // pipe2(fds[2], flags)
  anon,         // a new fd with no name of its own (see anon_name)
  memfd,        // memfd_create(name, flags)
  dup,          // dup(old)
  dup2,         // dup2(old, new)
  dup3,         // dup3(old, new, flags)
  fcntl,        // F_DUPFD, F_DUPFD_CLOEXEC, F_SETFD
  close,
  close_range,
  exec,         // execve, execveat: close-on-exec fds go
  fork,         // fork, vfork: a copy of the table
  clone,        // clone(flags, ...)
  clone3,       // clone3(clone_args)
  unshare,      // unshare(flags)
  chdir,
  fchdir,
  pidfd_getfd,  // a copy of another process's fd: which one is not in this trace's terms
  sendmsg,      // sendmsg(fd, msg): fds passed with SCM_RIGHTS
  recvmsg,      // recvmsg(fd, msg, flags): fds received with SCM_RIGHTS
  other_fd,     // another call returning a new fd: that number's old meaning is gone
};

struct FdTracker::Object {
  std::string path;    // -y
  std::string detail;  // -yy, when it says more than path
  bool is_file = false;  // a path usable as a directory base
  // Sockets made by recorded calls: what their addresses say so far.
  bool socket = false;
  int family = 0;
  int type = 0;
  std::string local;  // "127.0.0.1:80", a unix path in quotes; empty: unknown
  std::string peer;
  bool connected = false;
  // The other end of a socketpair, where what is sent on this one arrives.
  std::weak_ptr<Object> other_end;
  // Fds passed to this end (SCM_RIGHTS) and not received yet: per message,
  // what each fd referred to in its sender (null: not known).
  std::deque<std::vector<std::shared_ptr<Object>>> inbox;
  // Receives that returned before their message's send was seen (a receiver
  // blocked in recvmsg began before the send): the fds are set when it is.
  struct Waiting {
    std::weak_ptr<Table> table;  // the receiver's
    std::vector<int32_t> fds;
    bool cloexec = false;
  };
  std::deque<Waiting> waiting;
  // A message of this end's was sent or received unseen (its data not
  // captured): which message a receive takes is no longer known.
  bool inbox_unknown = false;

  std::string_view text(bool detailed) const { return detailed && !detail.empty() ? detail : path; }

  void describe_socket() {
    path = "socket:[?]";
    std::string kind;
    if (family == kAfUnix) {
      kind = type == kSockDgram ? "UNIX-DGRAM" : type == kSockSeqpacket ? "UNIX-SEQPACKET" : "UNIX-STREAM";
      detail = kind + ":[?";
      if (connected) detail += "->?";
      if (!local.empty()) detail += "," + local;
      detail += "]";
      return;
    }
    if (family == kAfInet || family == kAfInet6) {
      kind = type == kSockStream ? "TCP" : type == kSockDgram ? "UDP" : "";
      if (kind.empty()) {
        detail.clear();
        return;
      }
      if (family == kAfInet6) kind += "v6";
      if (local.empty() && !connected) {
        detail = kind + ":[?]";
      } else {
        detail = kind + ":[" + (local.empty() ? "?" : local);
        if (connected) detail += "->" + (peer.empty() ? "?" : peer);
        detail += "]";
      }
      return;
    }
    detail.clear();
  }
};

namespace {

std::shared_ptr<FdTracker::Object> named(std::string path, std::string detail = {}, bool is_file = false) {
  auto o = std::make_shared<FdTracker::Object>();
  o->path = std::move(path);
  o->detail = std::move(detail);
  o->is_file = is_file;
  return o;
}

// A capture's bytes, when the capture holds the whole thing.
std::optional<std::string_view> whole(const format::Event& e, unsigned arg) {
  const auto* c = e.capture_for(arg);
  if (c == nullptr || c->truncated()) return std::nullopt;
  return c->bytes;
}

std::optional<std::string_view> c_string(const format::Event& e, unsigned arg) {
  auto bytes = whole(e, arg);
  if (!bytes) return std::nullopt;
  const size_t nul = bytes->find('\0');
  return bytes->substr(0, nul);
}

template <typename T>
std::optional<T> read_at(std::string_view bytes, size_t offset) {
  if (bytes.size() < offset + sizeof(T)) return std::nullopt;
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof(T));
  return v;
}

// "/a/./b//c/../d" -> "/a/b/d": the lexical clean-up of an absolute path.
std::string clean(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    const auto part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& p : parts) {
    out.push_back('/');
    out.append(p);
  }
  return out.empty() ? "/" : out;
}

// A socket address as strace -yy writes an endpoint; nullopt when the bytes
// do not hold one of the families it names.
std::optional<std::string> endpoint(std::string_view addr, int family) {
  const auto fam = read_at<uint16_t>(addr, 0);
  if (!fam || *fam != family) return std::nullopt;
  if (family == kAfUnix) {
    std::string_view path = addr.substr(2);
    if (path.empty()) return std::nullopt;  // unnamed
    std::string out;
    if (path.front() == '\0') {
      out = "@";
      path.remove_prefix(1);
    }
    path = path.substr(0, path.find('\0'));
    out += "\"";
    out.append(path);
    out += "\"";
    return out;
  }
  const auto port_be = read_at<uint16_t>(addr, 2);
  if (!port_be) return std::nullopt;
  const unsigned port = static_cast<unsigned>((*port_be >> 8) | ((*port_be & 0xff) << 8));
  char text[64];
  if (family == kAfInet) {
    if (addr.size() < 8) return std::nullopt;
    const auto* b = reinterpret_cast<const unsigned char*>(addr.data() + 4);
    std::snprintf(text, sizeof(text), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    return std::string(text) + ":" + std::to_string(port);
  }
  if (addr.size() < 24) return std::nullopt;
  const auto* b = reinterpret_cast<const unsigned char*>(addr.data() + 8);
  // Shortest form: the longest run of zero groups becomes "::".
  std::array<unsigned, 8> g{};
  for (size_t k = 0; k < 8; ++k) g[k] = static_cast<unsigned>(b[2 * k] << 8 | b[2 * k + 1]);
  size_t best = 8, best_len = 0;
  for (size_t k = 0; k < 8;) {
    size_t n = 0;
    while (k + n < 8 && g[k + n] == 0) ++n;
    if (n > best_len && n > 1) best = k, best_len = n;
    k += n ? n : 1;
  }
  std::string out;
  for (size_t k = 0; k < 8; ++k) {
    if (k == best) {
      out += "::";
      k += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(text, sizeof(text), "%x", g[k]);
    out += text;
  }
  return "[" + out + "]:" + std::to_string(port);
}

// Port 0 asks the kernel for a free port, which no call here reveals.
std::string without_unknown_port(std::string ep) {
  if (ep.size() > 2 && ep.ends_with(":0")) ep.replace(ep.size() - 1, 1, "?");
  return ep;
}

// A wildcard local address (bind to 0.0.0.0 or ::) says nothing of the
// address a connection arrives on.
std::string connection_local(const std::string& listening) {
  for (std::string_view wildcard : {"0.0.0.0:", "[::]:"})
    if (listening.starts_with(wildcard)) return "?" + listening.substr(wildcard.size() - 1);
  return listening;
}

}  // namespace

FdTracker::FdTracker(const format::TraceMetadata& metadata) : arch_(metadata.catalogue.arch()) {
  static constexpr std::pair<std::string_view, Op> kOps[] = {
      {"open", Op::open},
      {"openat", Op::openat},
      {"openat2", Op::openat2},
      {"creat", Op::creat},
      {"socket", Op::socket},
      {"socketpair", Op::socketpair},
      {"accept", Op::accept},
      {"accept4", Op::accept4},
      {"connect", Op::connect},
      {"bind", Op::bind},
      {"pipe", Op::pipe},
      {"pipe2", Op::pipe2},
      {"eventfd", Op::anon},
      {"eventfd2", Op::anon},
      {"epoll_create", Op::anon},
      {"epoll_create1", Op::anon},
      {"signalfd", Op::anon},
      {"signalfd4", Op::anon},
      {"timerfd_create", Op::anon},
      {"inotify_init", Op::anon},
      {"inotify_init1", Op::anon},
      {"pidfd_open", Op::anon},
      {"userfaultfd", Op::anon},
      {"memfd_create", Op::memfd},
      {"dup", Op::dup},
      {"dup2", Op::dup2},
      {"dup3", Op::dup3},
      {"fcntl", Op::fcntl},
      {"close", Op::close},
      {"close_range", Op::close_range},
      {"execve", Op::exec},
      {"execveat", Op::exec},
      {"fork", Op::fork},
      {"vfork", Op::fork},
      {"clone", Op::clone},
      {"clone3", Op::clone3},
      {"unshare", Op::unshare},
      {"chdir", Op::chdir},
      {"fchdir", Op::fchdir},
      {"pidfd_getfd", Op::pidfd_getfd},
      {"sendmsg", Op::sendmsg},
      {"recvmsg", Op::recvmsg},
  };
  for (const auto& spec : metadata.catalogue.syscalls()) {
    Op op = spec.returns == format::ReturnKind::fd ? Op::other_fd : Op::none;
    for (const auto& [name, named_op] : kOps)
      if (spec.name == name) op = named_op;
    if (op == Op::none) continue;
    if (spec.nr >= ops_.size()) ops_.resize(spec.nr + 1, Op::none);
    ops_[spec.nr] = op;
  }
  // Each call's own close-on-exec flag (userfaultfd takes O_CLOEXEC itself).
  static constexpr std::pair<std::string_view, AnonKind> kAnon[] = {
      {"eventfd", {"anon_inode:[eventfd]", -1, 0, -1, false}},
      {"eventfd2", {"anon_inode:[eventfd]", 1, uapi::kEfdCloexec, -1, false}},
      {"epoll_create", {"anon_inode:[eventpoll]", -1, 0, -1, false}},
      {"epoll_create1", {"anon_inode:[eventpoll]", 0, uapi::kEpollCloexec, -1, false}},
      {"signalfd", {"anon_inode:[signalfd]", -1, 0, 0, false}},
      {"signalfd4", {"anon_inode:[signalfd]", 3, uapi::kSfdCloexec, 0, false}},
      {"timerfd_create", {"anon_inode:[timerfd]", 1, uapi::kTfdCloexec, -1, false}},
      {"inotify_init", {"anon_inode:inotify", -1, 0, -1, false}},
      {"inotify_init1", {"anon_inode:inotify", 0, uapi::kInCloexec, -1, false}},
      {"pidfd_open", {"anon_inode:[pidfd]", -1, 0, -1, true}},
      {"userfaultfd", {"anon_inode:[userfaultfd]", 0, uapi::kOCloexec, -1, false}},
  };
  anon_.resize(ops_.size());
  for (const auto& [name, kind] : kAnon)
    if (const auto* spec = metadata.catalogue.find(name); spec != nullptr && spec->nr < anon_.size())
      anon_[spec->nr] = kind;
  for (const auto& snapshot : metadata.fd_snapshots) {
    Process& p = processes_[snapshot.pid];
    p.table = std::make_shared<Table>();
    if (!snapshot.cwd.empty()) p.cwd = std::make_shared<std::string>(snapshot.cwd);
    for (const auto& f : snapshot.fds) {
      // Only a path names a directory usable as a base ("socket:[1]" does not).
      const bool is_file = !f.target.empty() && f.target.front() == '/' && !f.target.ends_with(" (deleted)");
      p.table->fds[f.fd] = Slot{named(f.target, f.detail, is_file), f.cloexec};
    }
  }
}

FdTracker::~FdTracker() = default;

size_t FdTracker::processes() const { return processes_.size(); }

size_t FdTracker::known_fds() const {
  std::vector<const Table*> seen;
  size_t n = 0;
  for (const auto& [pid, p] : processes_) {
    if (!p.table || std::find(seen.begin(), seen.end(), p.table.get()) != seen.end()) continue;
    seen.push_back(p.table.get());
    n += p.table->fds.size();
  }
  return n;
}

FdTracker::Process& FdTracker::process_for(const format::Event& e) {
  auto it = processes_.find(e.pid);
  if (it != processes_.end()) return it->second;
  Process p;
  // A child whose fork the trace showed starts with its parent's table as it
  // was then; any other process with nothing known.
  if (auto child = children_.find(e.pid); child != children_.end()) {
    if (child->second.container == e.container) p = std::move(child->second.process);
    children_.erase(child);
  }
  if (!p.table) p.table = std::make_shared<Table>();
  return processes_.emplace(e.pid, std::move(p)).first->second;
}

const FdTracker::Slot* FdTracker::slot(uint32_t pid, int64_t fd) const {
  auto it = processes_.find(pid);
  if (it == processes_.end() || !it->second.table || fd < 0 || fd > INT32_MAX) return nullptr;
  auto s = it->second.table->fds.find(static_cast<int32_t>(fd));
  return s == it->second.table->fds.end() ? nullptr : &s->second;
}

std::optional<std::string_view> FdTracker::path_of(uint32_t pid, int64_t fd, bool detailed) const {
  if (fd == kAtFdcwd) {
    auto it = processes_.find(pid);
    if (it == processes_.end() || !it->second.cwd) return std::nullopt;
    return std::string_view(*it->second.cwd);
  }
  // pipe's and socketpair's fds are the call's output, free before it:
  // strace shows them as the call made them.
  if (pending_ && pid == current_.pid && (fd == pair_[0] || fd == pair_[1]) && fd >= 0 && result_)
    return (fd == pair_[0] ? result_ : second_)->text(detailed);
  // The fds a recvmsg received: free before it, shown as it made them.
  if (pending_ && pid == current_.pid && current_op_ == Op::recvmsg)
    for (const auto& [number, object] : received_)
      if (number == fd) return object ? std::optional(object->text(detailed)) : std::nullopt;
  const Slot* s = slot(pid, fd);
  if (s == nullptr) return std::nullopt;
  return s->object->text(detailed);
}

std::optional<std::string_view> FdTracker::path_of_result(uint32_t pid, int64_t fd, bool detailed) const {
  if (!pending_ || pid != current_.pid || current_.state != format::CallState::returned || current_.failed())
    return std::nullopt;
  if (result_ && pair_[0] < 0 && fd == current_.ret) return result_->text(detailed);
  return std::nullopt;
}

std::optional<std::string> FdTracker::resolve(const Process& p, int64_t dirfd, std::string_view path) const {
  if (path.empty()) return std::nullopt;
  if (path.front() == '/') return clean(path);
  std::string base;
  if (dirfd == kAtFdcwd) {
    if (!p.cwd) return std::nullopt;
    base = *p.cwd;
  } else {
    if (!p.table || dirfd < 0 || dirfd > INT32_MAX) return std::nullopt;
    auto it = p.table->fds.find(static_cast<int32_t>(dirfd));
    if (it == p.table->fds.end() || !it->second.object->is_file) return std::nullopt;
    base = it->second.object->path;
  }
  return clean(base + "/" + std::string(path));
}

void FdTracker::set(Process& p, int64_t fd, std::shared_ptr<Object> object, bool cloexec) {
  if (fd < 0 || fd > INT32_MAX) return;
  if (!object) {
    p.table->fds.erase(static_cast<int32_t>(fd));
    return;
  }
  p.table->fds[static_cast<int32_t>(fd)] = Slot{std::move(object), cloexec};
}

void FdTracker::forget(Process& p, int64_t fd) {
  if (fd >= 0 && fd <= INT32_MAX) p.table->fds.erase(static_cast<int32_t>(fd));
}

void FdTracker::loss() {
  apply();
  processes_.clear();
  children_.clear();
}

void FdTracker::look_at(const format::Event& event) {
  apply();
  prepare(event);
}

// What the event's returned fd (or pair) will refer to: computed before the
// event is rendered, set in the table by apply().
void FdTracker::prepare(const format::Event& e) {
  pending_ = true;
  current_ = e;
  current_.captures = {};  // the captures live in the batch; prepare reads them now
  current_op_ = e.nr < ops_.size() ? ops_[e.nr] : Op::none;
  result_.reset();
  second_.reset();
  message_end_.reset();
  passed_.clear();
  received_.clear();
  received_cloexec_ = false;
  result_cloexec_ = false;
  pair_[0] = pair_[1] = -1;
  address_.reset();
  new_cwd_.reset();
  clone_flags_.reset();
  if (current_op_ == Op::none) return;
  Process& p = process_for(e);
  const bool ok = e.state == format::CallState::returned && !e.failed();
  if (!ok) return;
  const auto a = e.args;
  auto open_result = [&](int64_t dirfd, unsigned path_arg, uint64_t flags) {
    result_cloexec_ = (flags & kOCloexec) != 0;
    if (auto path = c_string(e, path_arg))
      if (auto full = resolve(p, dirfd, *path)) result_ = named(*full, {}, true);
  };
  auto new_socket = [&](int family, int type) {
    auto o = std::make_shared<Object>();
    o->socket = true;
    o->family = family;
    o->type = type & 0xf;
    o->describe_socket();
    return o;
  };
  auto copy_of = [&](int64_t fd) -> std::shared_ptr<Object> {
    if (fd < 0 || fd > INT32_MAX) return nullptr;
    auto it = p.table->fds.find(static_cast<int32_t>(fd));
    return it == p.table->fds.end() ? nullptr : it->second.object;
  };
  switch (current_op_) {
    case Op::open: open_result(kAtFdcwd, 0, a[1]); break;
    case Op::openat: open_result(static_cast<int32_t>(a[0]), 1, a[2]); break;
    case Op::openat2: {
      const auto how = whole(e, 2);
      if (!how) break;  // flags unknown: the fd's close-on-exec would be a guess
      if (auto flags = read_at<uint64_t>(*how, 0)) open_result(static_cast<int32_t>(a[0]), 1, *flags);
      break;
    }
    case Op::creat: open_result(kAtFdcwd, 0, 0); break;
    case Op::socket:
      result_ = new_socket(static_cast<int>(a[0]), static_cast<int>(a[1]));
      result_cloexec_ = (a[1] & kSockCloexec) != 0;
      break;
    case Op::socketpair:
      if (auto sv = whole(e, 3); sv && sv->size() >= 8) {
        pair_[0] = *read_at<int32_t>(*sv, 0);
        pair_[1] = *read_at<int32_t>(*sv, 4);
        result_ = new_socket(static_cast<int>(a[0]), static_cast<int>(a[1]));
        second_ = new_socket(static_cast<int>(a[0]), static_cast<int>(a[1]));
        for (auto* o : {result_.get(), second_.get()}) {
          o->connected = true;
          o->describe_socket();
        }
        result_->other_end = second_;
        second_->other_end = result_;
        result_cloexec_ = (a[1] & kSockCloexec) != 0;
      }
      break;
    case Op::accept:
    case Op::accept4: {
      result_cloexec_ = current_op_ == Op::accept4 && (a[3] & kSockCloexec) != 0;
      auto listener = copy_of(static_cast<int32_t>(a[0]));
      if (!listener || !listener->socket) break;
      auto o = std::make_shared<Object>();
      o->socket = true;
      o->family = listener->family;
      o->type = listener->type;
      o->connected = true;
      o->local = o->family == kAfUnix ? listener->local : connection_local(listener->local);
      if (o->family != kAfUnix)
        if (auto peer = whole(e, 1))
          if (auto ep = endpoint(*peer, o->family)) o->peer = *ep;
      o->describe_socket();
      result_ = o;
      break;
    }
    case Op::pipe:
    case Op::pipe2:
      if (auto fds = whole(e, 0); fds && fds->size() >= 8) {
        pair_[0] = *read_at<int32_t>(*fds, 0);
        pair_[1] = *read_at<int32_t>(*fds, 4);
        result_ = named("pipe:[?]");
        second_ = result_;
        result_cloexec_ = current_op_ == Op::pipe2 && (a[1] & kOCloexec) != 0;
      }
      break;
    case Op::anon: {
      const AnonKind& kind = anon_[e.nr];
      // signalfd on an existing fd changes its mask and returns that fd.
      if (kind.reuses_fd_arg >= 0 && static_cast<int32_t>(a[static_cast<size_t>(kind.reuses_fd_arg)]) != -1) {
        current_op_ = Op::none;
        break;
      }
      result_ = named(std::string(kind.name));
      result_cloexec_ = kind.always_cloexec ||
                        (kind.flags_arg >= 0 && (a[static_cast<size_t>(kind.flags_arg)] & kind.cloexec_flag) != 0);
      break;
    }
    case Op::memfd:
      if (auto name = c_string(e, 0)) result_ = named("/memfd:" + std::string(*name) + " (deleted)");
      result_cloexec_ = (a[1] & kMfdCloexec) != 0;
      break;
    case Op::connect:
    case Op::bind:
      if (const Slot* sl = slot(e.pid, static_cast<int32_t>(a[0])); sl != nullptr && sl->object->socket)
        if (auto addr = whole(e, 1)) address_ = endpoint(*addr, sl->object->family);
      break;
    case Op::sendmsg: {
      // Where the fds go: the other end of a socketpair (another kind of
      // connection does not say which socket receives).
      const Slot* sl = slot(e.pid, static_cast<int32_t>(a[0]));
      if (sl == nullptr || !sl->object->socket) break;
      auto other = sl->object->other_end.lock();
      if (!other) break;
      const auto* cap = e.capture_for(1);
      const auto passed = cap ? scm_rights_fds(cap->bytes, arch_) : std::nullopt;
      if (!passed) {
        other->inbox_unknown = true;
        break;
      }
      if (passed->fds.empty()) break;
      message_end_ = std::move(other);
      // What each fd refers to in the sender now (null: not known).
      for (const int32_t fd : passed->fds) passed_.push_back(copy_of(fd));
      break;
    }
    case Op::recvmsg: {
      const Slot* sl = slot(e.pid, static_cast<int32_t>(a[0]));
      const auto* cap = e.capture_for(1);
      const auto got = cap ? scm_rights_fds(cap->bytes, arch_) : std::nullopt;
      if (!got) {
        if (sl != nullptr && sl->object->socket) sl->object->inbox_unknown = true;
        break;
      }
      if (got->fds.empty()) break;
      received_cloexec_ = (a[2] & uapi::kMsgCmsgCloexec) != 0;
      std::vector<std::shared_ptr<Object>> objects;
      if (sl != nullptr && sl->object->socket && !sl->object->inbox_unknown) {
        Object& end = *sl->object;
        if (!end.inbox.empty()) {
          objects = end.inbox.front();
          // a peek installs the fds and leaves the message for the next receive
          if ((a[2] & uapi::kMsgPeek) == 0) end.inbox.pop_front();
        } else if (!end.other_end.expired()) {
          message_end_ = sl->object;  // the send is still to come: apply() waits for it
        }
      }
      for (size_t i = 0; i < got->fds.size(); ++i)
        received_.emplace_back(got->fds[i], i < objects.size() ? objects[i] : nullptr);
      break;
    }
    case Op::clone: clone_flags_ = a[0]; break;
    case Op::clone3:
      if (auto args = whole(e, 0))
        if (auto flags = read_at<uint64_t>(*args, 0)) clone_flags_ = *flags;
      break;
    case Op::chdir:
      if (auto path = c_string(e, 0))
        if (auto full = resolve(p, kAtFdcwd, *path)) new_cwd_ = std::move(*full);
      break;
    case Op::dup: result_ = copy_of(static_cast<int32_t>(a[0])); break;
    case Op::dup2: result_ = copy_of(static_cast<int32_t>(a[0])); break;
    case Op::dup3:
      result_ = copy_of(static_cast<int32_t>(a[0]));
      result_cloexec_ = (a[2] & kOCloexec) != 0;
      break;
    case Op::fcntl:
      if (a[1] == kFDupfd || a[1] == kFDupfdCloexec) {
        result_ = copy_of(static_cast<int32_t>(a[0]));
        result_cloexec_ = a[1] == kFDupfdCloexec;
      }
      break;
    default: break;
  }
}

void FdTracker::apply() {
  if (!pending_) return;
  pending_ = false;
  const format::Event& e = current_;
  if (current_op_ == Op::none) return;
  Process& p = process_for(e);
  const auto a = e.args;
  // A close or close_range interrupted, or still in flight: the fds may be
  // gone, so they are no longer known.
  if (e.state != format::CallState::returned || e.failed()) {
    if (current_op_ == Op::close && e.state == format::CallState::unfinished) forget(p, static_cast<int32_t>(a[0]));
    if (current_op_ == Op::exec && e.state == format::CallState::never_returned) {
      // The image was replaced (another thread's exec, or this one's): as a success.
      std::erase_if(p.table->fds, [](const auto& entry) { return entry.second.cloexec; });
    }
    return;
  }
  const int64_t ret = e.ret;
  switch (current_op_) {
    case Op::open:
    case Op::openat:
    case Op::openat2:
    case Op::creat:
    case Op::socket:
    case Op::accept:
    case Op::accept4:
    case Op::memfd:
    case Op::dup:
    case Op::anon:
      set(p, ret, result_, result_cloexec_);
      break;
    case Op::dup2:
    case Op::dup3:
      if (static_cast<int32_t>(a[0]) != static_cast<int32_t>(a[1]) || current_op_ == Op::dup3)
        set(p, ret, result_, result_cloexec_);
      break;
    case Op::other_fd:
    case Op::pidfd_getfd:
      // A new fd of a kind not named here: whatever that number was is gone.
      forget(p, ret);
      break;
    case Op::socketpair:
    case Op::pipe:
    case Op::pipe2:
      if (pair_[0] >= 0) set(p, pair_[0], result_, result_cloexec_);
      if (pair_[1] >= 0) set(p, pair_[1], second_, result_cloexec_);
      break;
    case Op::connect:
    case Op::bind: {
      const Slot* s = slot(e.pid, static_cast<int32_t>(a[0]));
      if (s == nullptr || !s->object->socket) break;
      Object& o = *s->object;
      const std::optional<std::string>& ep = address_;
      if (current_op_ == Op::bind) {
        o.local = ep ? without_unknown_port(*ep) : std::string();
      } else if (o.type != kSockDgram || ep) {
        o.connected = true;
        o.peer = o.family == kAfUnix ? std::string() : ep.value_or(std::string());
      }
      o.describe_socket();
      break;
    }
    case Op::fcntl:
      if (a[1] == kFDupfd || a[1] == kFDupfdCloexec) {
        set(p, ret, result_, result_cloexec_);
      } else if (a[1] == kFSetfd) {
        if (auto it = p.table->fds.find(static_cast<int32_t>(a[0])); it != p.table->fds.end())
          it->second.cloexec = (a[2] & 1) != 0;
      }
      break;
    case Op::sendmsg:
      if (!message_end_) break;
      if (!message_end_->waiting.empty()) {
        // a receive returned already: its fds are these, unless the number
        // was reused since
        const Object::Waiting w = std::move(message_end_->waiting.front());
        message_end_->waiting.pop_front();
        if (auto table = w.table.lock())
          for (size_t i = 0; i < w.fds.size() && i < passed_.size(); ++i)
            if (passed_[i] && !table->fds.contains(w.fds[i])) table->fds[w.fds[i]] = Slot{passed_[i], w.cloexec};
      } else {
        message_end_->inbox.push_back(std::move(passed_));
      }
      break;
    case Op::recvmsg: {
      // New numbers: whatever they meant before is gone.
      std::vector<int32_t> fds;
      for (const auto& [fd, object] : received_) {
        set(p, fd, object, received_cloexec_);
        fds.push_back(fd);
      }
      if (message_end_) message_end_->waiting.push_back({p.table, std::move(fds), received_cloexec_});
      break;
    }
    case Op::close: forget(p, static_cast<int32_t>(a[0])); break;
    case Op::close_range: {
      const uint32_t first = static_cast<uint32_t>(a[0]), last = static_cast<uint32_t>(a[1]);
      if ((a[2] & kCloseRangeUnshare) != 0) p.table = std::make_shared<Table>(*p.table);
      for (auto it = p.table->fds.begin(); it != p.table->fds.end();) {
        const auto fd = static_cast<uint32_t>(it->first);
        if (fd < first || fd > last) {
          ++it;
        } else if ((a[2] & kCloseRangeCloexec) != 0) {
          it->second.cloexec = true;
          ++it;
        } else {
          it = p.table->fds.erase(it);
        }
      }
      break;
    }
    case Op::exec:
      // The kernel unshares the table at exec, then closes the close-on-exec fds.
      p.table = std::make_shared<Table>(*p.table);
      std::erase_if(p.table->fds, [](const auto& entry) { return entry.second.cloexec; });
      break;
    case Op::fork:
    case Op::clone:
    case Op::clone3: {
      // clone3's flags were in its captured struct: without them, the
      // child's table (shared or copied) is not known.
      if (current_op_ != Op::fork && !clone_flags_) break;
      const uint64_t flags = clone_flags_.value_or(0);
      if ((flags & kCloneThread) != 0 || ret <= 0) break;
      Child child;
      child.container = e.container;
      child.process.cwd = p.cwd ? std::make_shared<std::string>(*p.cwd) : nullptr;
      child.process.table = (flags & kCloneFiles) != 0 ? p.table : std::make_shared<Table>(*p.table);
      children_[static_cast<uint32_t>(ret)] = std::move(child);
      break;
    }
    case Op::unshare:
      if ((a[0] & kCloneFiles) != 0) p.table = std::make_shared<Table>(*p.table);
      break;
    case Op::chdir:
      p.cwd = new_cwd_ ? std::make_shared<std::string>(*new_cwd_) : nullptr;
      break;
    case Op::fchdir: {
      const Slot* s = slot(e.pid, static_cast<int32_t>(a[0]));
      if (s != nullptr && s->object->is_file)
        p.cwd = std::make_shared<std::string>(s->object->path);
      else
        p.cwd.reset();
      break;
    }
    case Op::none: break;
  }
}

void append_fd_path(std::string& out, std::string_view path) {
  // A path is the program's bytes, where `>` would end the annotation; the
  // descriptions of sockets ("UNIX-STREAM:[?->?]") keep their arrows.
  const bool is_path = !path.empty() && path.front() == '/';
  for (size_t i = 0; i < path.size(); ++i) {
    const auto c = static_cast<unsigned char>(path[i]);
    switch (c) {
      case '\t': out.append("\\t"); continue;
      case '\n': out.append("\\n"); continue;
      case '\v': out.append("\\v"); continue;
      case '\f': out.append("\\f"); continue;
      case '\r': out.append("\\r"); continue;
      case '\\': out.append("\\\\"); continue;
      default: break;
    }
    if (c >= 0x20 && c < 0x7f && !(is_path && (c == '<' || c == '>' || c == '"'))) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    // Octal, three digits when a digit follows (else it would read as part of it).
    const bool digit_next = i + 1 < path.size() && path[i + 1] >= '0' && path[i + 1] <= '7';
    out.push_back('\\');
    if (digit_next || c >= 0100) out.push_back(static_cast<char>('0' + (c >> 6)));
    if (digit_next || c >= 010) out.push_back(static_cast<char>('0' + ((c >> 3) & 7)));
    out.push_back(static_cast<char>('0' + (c & 7)));
  }
}

}  // namespace traceloop::tools
