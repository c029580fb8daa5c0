#pragma once
// Structures read from user memory, printed in strace's abbreviated form
// ({st_mode=S_IFREG|0644, st_size=5, ...}). Layouts are those of the trace's
// architecture (x86_64 and aarch64 differ for stat and epoll_event). All
// functions bound every read by the captured bytes: a short or hostile
// capture prints what it can, never reads past the end.
// Internal to the decoder; exposed for its tests.

#include <cstddef>
#include <string>
#include <string_view>

#include "format/catalogue.h"

namespace traceloop::tools {

struct StructContext {
  format::Arch arch = format::Arch::x86_64;
  size_t string_limit = 32;  // strings inside structures (sun_path, d_name, utsname)
  size_t array_limit = 64;   // elements of arrays (dirents, pollfds)
};

// One structure of `type`. False when the type is unknown or `bytes` is too
// short for it: the caller prints the pointer instead.
bool append_struct(std::string& out, std::string_view type, std::string_view bytes, const StructContext& ctx);

// `count` structures of `type`, each `size` bytes, as [{...}, {...}] (count
// is bounded by the bytes). False when the type is unknown.
bool append_struct_array(std::string& out, std::string_view type, size_t size, size_t count,
                         std::string_view bytes, bool truncated, const StructContext& ctx);

// A run of variable-size directory records (getdents64 when `is64`, else getdents).
void append_dirents(std::string& out, std::string_view bytes, bool is64, bool truncated, const StructContext& ctx);

// sockaddr of any family: {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")}.
void append_sockaddr(std::string& out, std::string_view bytes, const StructContext& ctx);

// wait(2) status: [{WIFEXITED(s) && WEXITSTATUS(s) == 0}] without the brackets.
void append_wait_status(std::string& out, int status);

}  // namespace traceloop::tools
