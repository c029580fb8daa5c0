#pragma once
// Structures read from user memory, described to a ValueSink field by field
// (strace's text abbreviates them: {st_mode=S_IFREG|0644, st_size=5, ...}).
// Layouts are those of the trace's architecture (x86_64 and aarch64 differ
// for stat and epoll_event). Every read is bounded by the captured bytes: a
// short or hostile capture describes what it can, never reads past the end.
// The decoder resolves each parameter's structure type to its StructDecoder
// once, when it builds its plan from the file's catalogue; describing an
// event compares no names.
// Internal to the decoder; exposed for its tests.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/catalogue.h"
#include "tools/lib/decoder/value.h"

namespace traceloop::tools {

struct StructContext {
  format::Arch arch = format::Arch::x86_64;
  size_t string_limit = 32;  // strings inside structures (sun_path, d_name, utsname)
  size_t array_limit = 64;   // elements of arrays (dirents, pollfds)
  // The trace's own syscall table (SIGSYS's si_syscall); nullptr: the
  // built-in one of the architecture.
  const format::Catalogue* catalogue = nullptr;
};

struct StructDecoder {
  std::string_view type;
  // One structure; false when `bytes` is too short for it (the caller shows
  // the pointer instead).
  bool (*describe)(ValueSink& sink, std::string_view bytes, const StructContext& ctx);
  // Types that also come in arrays (pollfd, iovec, ...): bytes of one element
  // on an architecture; nullptr for the others.
  size_t (*element_size)(format::Arch arch);
};

// nullptr when the type is unknown.
const StructDecoder* find_struct_decoder(std::string_view type);

// `count` structures, each `size` bytes (0: the type's own size), as an
// array bounded by the bytes and the array limit. False when the type has no
// array form.
bool describe_struct_array(ValueSink& sink, const StructDecoder& decoder, size_t size, size_t count,
                           std::string_view bytes, bool truncated, const StructContext& ctx);
// A run of variable-size directory records (getdents64 when `is64`, else
// getdents); with `count`, a counted array (strace abbreviates it unless -v).
void describe_dirents(ValueSink& sink, std::string_view bytes, bool is64, bool truncated, const StructContext& ctx,
                      const ArrayCount* count = nullptr);
// How many whole directory records `bytes` holds; `whole_bytes`, when given,
// receives how many bytes they take.
uint64_t count_dirents(std::string_view bytes, bool is64, format::Arch arch, size_t* whole_bytes = nullptr);
// A socket address of any family.
void describe_sockaddr(ValueSink& sink, std::string_view bytes, const StructContext& ctx);
// sendmsg's and recvmsg's message header with what it points to, as the
// recorder keeps it (bpf/traceloop_events.h, struct tl_msghdr_head), in
// strace's form; `moved`: the bytes the call moved (recvmsg's return value),
// -1 for every iovec whole (sendmsg). False when the bytes are not such a
// capture (the caller shows the pointer).
bool describe_msghdr(ValueSink& sink, std::string_view bytes, int64_t moved, const StructContext& ctx);

// The fds a message header's SCM_RIGHTS control messages carry, in order;
// `complete` false when the capture kept only part of the control data.
// nullopt when the bytes are not such a capture or the control data could
// not be read.
struct PassedFds {
  std::vector<int32_t> fds;
  bool complete = true;
};
std::optional<PassedFds> scm_rights_fds(std::string_view bytes, format::Arch arch);

// Text forms, for tests and for callers that want strace's text directly.
bool append_struct(std::string& out, std::string_view type, std::string_view bytes, const StructContext& ctx);
bool append_struct_array(std::string& out, std::string_view type, size_t size, size_t count,
                         std::string_view bytes, bool truncated, const StructContext& ctx);
void append_dirents(std::string& out, std::string_view bytes, bool is64, bool truncated, const StructContext& ctx);
void append_sockaddr(std::string& out, std::string_view bytes, const StructContext& ctx);
bool append_msghdr(std::string& out, std::string_view bytes, int64_t moved, const StructContext& ctx);
// wait(2) status: {WIFEXITED(s) && WEXITSTATUS(s) == 0}.
void append_wait_status(std::string& out, int status);

}  // namespace traceloop::tools
