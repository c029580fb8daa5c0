#include "tools/lib/analyses/diff_normalise.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

namespace traceloop::tools {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

using format::ArgKind;

bool is_output_struct(ArgKind kind) {
  return kind == ArgKind::struct_out || kind == ArgKind::sockaddr_out || kind == ArgKind::struct_array_out;
}
bool is_input_struct(ArgKind kind) {
  return kind == ArgKind::struct_in || kind == ArgKind::sockaddr_in || kind == ArgKind::struct_array_in;
}

// Output structures that describe behaviour, not the moment or the machine:
// a child's exit status, ids, signal masks and actions, limits. The others
// (stat, statx, rusage, times, utsname, ...) hold inode numbers, clocks and host names.
bool deterministic_output(std::string_view struct_type) {
  return struct_type == "wait_status" || struct_type == "uid" || struct_type == "gid" || struct_type == "sigset" ||
         struct_type == "sigaction" || struct_type == "rlimit" || struct_type == "sched_param";
}

}  // namespace

void append_normalised_text(std::string& out, std::string_view bytes, bool path) {
  for (size_t i = 0; i < bytes.size();) {
    if (!is_digit(bytes[i])) {
      out += bytes[i++];
      continue;
    }
    size_t j = i;
    while (j < bytes.size() && is_digit(bytes[j])) ++j;
    const char prev = i > 0 ? bytes[i - 1] : '\0';
    const char next = j < bytes.size() ? bytes[j] : '\0';
    const bool component = path && (i == 0 || prev == '/') && (next == '\0' || next == '/');
    const bool suffix = (prev == '-' || prev == '_' || prev == '.') && i >= 2 && is_alpha(bytes[i - 2]) &&
                        !is_alnum(next);
    if (component || suffix) {
      out += '#';
    } else {
      out.append(bytes.substr(i, j - i));
    }
    i = j;
  }
}

uint64_t key_hash(std::string_view key) {
  // FNV-1a, 64 bit: stable across runs and builds (std::hash is not required to be).
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

EventNormaliser::EventNormaliser(const format::Catalogue& catalogue, uint32_t self_pid)
    : catalogue_(catalogue), self_pid_(self_pid) {}

std::string EventNormaliser::fd_name(int64_t fd) {
  if (fd <= 2) return fmt::format("{}", fd);
  auto [it, inserted] = fds_.try_emplace(fd, static_cast<uint32_t>(fds_.size() + 1));
  return fmt::format("fd{}", it->second);
}

std::string EventNormaliser::pid_name(int64_t pid) {
  if (pid <= 0) return fmt::format("{}", pid);
  if (pid == self_pid_) return "self";
  auto [it, inserted] = pids_.try_emplace(pid, static_cast<uint32_t>(pids_.size() + 1));
  return fmt::format("pid{}", it->second);
}

bool EventNormaliser::ignored(const format::Event& event) const {
  const format::SyscallSpec* spec = catalogue_.find(event.nr);
  return spec != nullptr && (spec->name == "rt_sigreturn" || spec->name == "sigreturn");
}

std::string EventNormaliser::key(const format::Event& event) {
  const format::SyscallSpec* spec = catalogue_.find(event.nr);
  const bool random_output = spec != nullptr && spec->name == "getrandom";
  std::string out = spec != nullptr ? spec->name : fmt::format("syscall_{}", event.nr);
  const size_t count = std::min<size_t>(spec != nullptr ? spec->params.size() : event.arg_count, 6);
  std::array<bool, 6> length_normalised{};
  std::array<std::string, 6> parts;
  for (size_t i = 0; i < count; ++i) {
    const uint64_t raw = event.args[i];
    const auto as_int = static_cast<int64_t>(raw);
    const auto as_int32 = static_cast<int64_t>(static_cast<int32_t>(raw));
    const ArgKind kind = spec != nullptr ? spec->params[i].kind : ArgKind::integer;
    const format::CaptureView* capture = event.capture_for(static_cast<unsigned>(i));
    std::string& part = parts[i];
    switch (kind) {
      case ArgKind::fd:
      case ArgKind::dirfd:
        part = fd_name(as_int32);
        break;
      case ArgKind::pid:
        part = pid_name(as_int32);
        break;
      case ArgKind::hex:
        part = raw >= 0x10000 ? "0x#" : fmt::format("{:#x}", raw);
        break;
      case ArgKind::path:
      case ArgKind::string:
      case ArgKind::string_array:
        if (capture != nullptr) {
          part += '"';
          append_normalised_text(part, capture->bytes, true);
          part += capture->truncated() ? "\"..." : "\"";
        } else {
          part = raw == 0 ? "NULL" : "ptr";
        }
        break;
      case ArgKind::buffer_in:
        if (capture != nullptr) {
          part += '"';
          append_normalised_text(part, capture->bytes, false);
          part += '"';
          const int8_t len = spec->params[i].len_arg;
          if (len >= 0 && len < 6 && part.compare(1, part.size() - 2, capture->bytes) != 0)
            length_normalised[static_cast<size_t>(len)] = true;
        } else {
          part = raw == 0 ? "NULL" : "ptr";
        }
        break;
      case ArgKind::buffer_out:
        if (capture != nullptr && !random_output) {
          part += '"';
          part.append(capture->bytes);
          part += '"';
        } else {
          part = raw == 0 ? "NULL" : "ptr";
        }
        break;
      case ArgKind::pointer:
        part = raw == 0 ? "NULL" : "ptr";
        break;
      default:
        if (is_output_struct(kind) && capture != nullptr && deterministic_output(spec->params[i].struct_type)) {
          part = fmt::format("{{{:016x}}}", key_hash(capture->bytes));
        } else if (is_output_struct(kind) && capture != nullptr && spec->params[i].struct_type == "fd_pair" &&
                   capture->bytes.size() == 8) {
          int32_t fds[2];
          std::memcpy(fds, capture->bytes.data(), sizeof fds);
          part = "[" + fd_name(fds[0]) + "," + fd_name(fds[1]) + "]";
        } else if (is_output_struct(kind)) {
          part = raw == 0 ? "NULL" : "ptr";
        } else if (is_input_struct(kind)) {
          part = raw == 0 ? "NULL" : (capture != nullptr ? fmt::format("{{{:016x}}}", key_hash(capture->bytes)) : "ptr");
        } else {
          part = fmt::format("{}", as_int);
        }
        break;
    }
  }
  bool return_is_length = false;
  // Named and sorted by name: architectures order some parameters differently
  // (clone's child_tidptr and tls), and a file from each must still compare equal.
  std::array<size_t, 6> order{0, 1, 2, 3, 4, 5};
  if (spec != nullptr)
    std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(count),
              [&](size_t x, size_t y) { return spec->params[x].name < spec->params[y].name; });
  out += '(';
  for (size_t n = 0; n < count; ++n) {
    const size_t i = order[n];
    if (n > 0) out += ',';
    if (spec != nullptr) {
      out += spec->params[i].name;
      out += '=';
    }
    if (length_normalised[i]) {
      out += "len#";
      if (event.state == format::CallState::returned && event.ret == static_cast<int64_t>(event.args[i]))
        return_is_length = true;
    } else {
      out += parts[i];
    }
  }
  out += ")=";
  if (event.state == format::CallState::never_returned) {
    out += 'X';
  } else if (event.state == format::CallState::unfinished) {
    out += '?';
  } else if (event.failed()) {
    fmt::format_to(std::back_inserter(out), "-{}", -event.ret);
  } else if (return_is_length) {
    out += "len#";
  } else {
    const format::ReturnKind returns = spec != nullptr ? spec->returns : format::ReturnKind::integer;
    switch (returns) {
      case format::ReturnKind::fd: out += fd_name(event.ret); break;
      case format::ReturnKind::pid: out += pid_name(event.ret); break;
      case format::ReturnKind::hex:
        out += static_cast<uint64_t>(event.ret) >= 0x10000 ? "0x#" : fmt::format("{:#x}", event.ret);
        break;
      default: fmt::format_to(std::back_inserter(out), "{}", event.ret); break;
    }
  }
  return out;
}

}  // namespace traceloop::tools
