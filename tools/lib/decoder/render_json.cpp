// JSON Lines: one object per event (and per loss or setup marker) with raw and
// typed decoded values (value_json.h), for jq; schemas/tl-show.schema.json
// describes every line. Every string is valid JSON whatever the trace holds.

#include <fmt/format.h>

#include <iterator>
#include <memory>
#include <string_view>
#include <vector>

#include "tools/lib/decoder/flag_text_cache.h"
#include "tools/lib/decoder/json_buffer.h"
#include "tools/lib/decoder/json_string.h"
#include "tools/lib/decoder/notice_text.h"
#include "tools/lib/decoder/render.h"
#include "tools/lib/decoder/text_append.h"
#include "tools/lib/decoder/value_json.h"

namespace traceloop::tools {
namespace {

// The end of the arguments and the call's state.
std::string_view state_json(format::CallState s) {
  using namespace std::string_view_literals;
  switch (s) {
    case format::CallState::returned: return R"(],"state":"returned")"sv;
    case format::CallState::never_returned: return R"(],"state":"never_returned")"sv;
    case format::CallState::unfinished: return R"(],"state":"unfinished")"sv;
  }
  return R"(],"state":"unknown")"sv;
}

class JsonRenderer final : public Renderer {
 public:
  JsonRenderer(const RenderOptions& options, const Decoder& decoder, const format::TraceMetadata& metadata)
      : options_(options), decoder_(decoder), metadata_(metadata) {}

  void header(std::string&) override {}

  void event(std::string& out, const format::Event& e) override {
    using namespace std::string_view_literals;
    // The line is written into a buffer kept from one event to the next and
    // appended to `out` once: it is some fifty pieces of a few bytes.
    JsonBuffer& line = line_;
    line.clear();
    // A thread's name and its container change rarely: their JSON is kept.
    if (e.comm != comm_ || !comm_known_) {
      comm_known_ = true;
      comm_.assign(e.comm);
      comm_json_.assign(R"(,"comm":)"sv);
      append_json_bytes(comm_json_, e.comm, false);
    }
    if (e.container != container_ || !container_known_) {
      container_ = e.container;
      container_known_ = true;
      container_json_.clear();
      append_container(container_json_, e.container);
    }
    const SyscallJson& call = syscall_json(e);
    // Up to the arguments in one room(): the keys (some 70 bytes), five
    // numbers of at most 21 characters, the last one's 20 bytes of scratch
    // beyond (write_decimal), and the kept pieces.
    char* p = line.room(256 + comm_json_.size() + container_json_.size() + call.prefix.size());
    p = JsonBuffer::write(p, R"({"type":"event","enter_ns":)"sv);
    p = write_decimal(p, e.enter_ns);
    p = JsonBuffer::write(p, R"(,"wall_ns":)"sv);
    p = write_decimal(p, static_cast<int64_t>(e.enter_ns) + metadata_.boot_to_wall_ns);
    p = JsonBuffer::write(p, R"(,"pid":)"sv);
    p = write_decimal(p, uint64_t{e.pid});
    p = JsonBuffer::write(p, R"(,"tid":)"sv);
    p = write_decimal(p, uint64_t{e.tid});
    p = JsonBuffer::write(p, R"(,"cpu":)"sv);
    p = write_decimal(p, uint64_t{e.cpu});
    p = JsonBuffer::write(p, comm_json_);
    p = JsonBuffer::write(p, container_json_);
    p = JsonBuffer::write(p, call.prefix);
    line.commit(p);
    const size_t n = std::min<size_t>(call.arg_prefixes.size(), 6);
    const FdContext fds = decoder_.options().fds_of(e);
    for (size_t i = 0; i < n; ++i) {
      const std::string& prefix = call.arg_prefixes[i];
      p = line.room(prefix.size() + 64);  // the number and its scratch, the key
      p = JsonBuffer::write(p, prefix);
      p = write_decimal(p, e.args[i]);
      p = JsonBuffer::write(p, R"(,"value":)"sv);
      line.commit(p);
      JsonValueWriter value(line, fds, false, &flag_texts_);
      decoder_.describe_arg(value, e, i);
      line.put('}');
    }
    p = line.room(128);  // the state (at most 26 bytes), two numbers and their keys
    p = JsonBuffer::write(p, state_json(e.state));
    if (e.state == format::CallState::returned) {
      p = JsonBuffer::write(p, R"(,"ret":)"sv);
      p = write_decimal(p, e.ret);
      p = JsonBuffer::write(p, R"(,"duration_ns":)"sv);
      p = write_decimal(p, e.duration_ns());
      line.commit(p);
      const size_t mark = line.size();
      line.append(R"(,"return":)"sv);
      JsonValueWriter value(line, fds, true, &flag_texts_);
      if (!decoder_.describe_return(value, e)) line.truncate(mark);  // a call that never returns
    } else {
      line.commit(p);
    }
    line.append("}\n"sv);
    out.append(line.view());
  }

  void loss(std::string& out, const format::LossMarker& loss) override {
    fmt::format_to(std::back_inserter(out), "{{\"type\":\"loss\",\"at_ns\":{},\"lost\":{},\"overwritten\":{},\"cpu\":{}",
                   loss.at_ns, loss.lost, loss.overwritten, loss.cpu);
    append_container(out, loss.container);
    out.append("}\n");
  }

  // type "signal": signo, signal and the decoded siginfo; type "exit": the
  // wait status and what it says. Both name the thread like an event does.
  void notice(std::string& out, const format::TaskNotice& n) override {
    using namespace std::string_view_literals;
    const bool signal = n.kind == format::TaskNotice::Kind::signal;
    out.append(signal ? R"({"type":"signal","at_ns":)"sv : R"({"type":"exit","at_ns":)"sv);
    append_decimal(out, n.at_ns);
    out.append(R"(,"wall_ns":)"sv);
    append_decimal(out, static_cast<int64_t>(n.at_ns) + metadata_.boot_to_wall_ns);
    out.append(R"(,"pid":)"sv);
    append_decimal(out, uint64_t{n.pid});
    out.append(R"(,"tid":)"sv);
    append_decimal(out, uint64_t{n.tid});
    out.append(R"(,"cpu":)"sv);
    append_decimal(out, uint64_t{n.cpu});
    out.append(R"(,"comm":)"sv);
    append_json_bytes(out, n.comm, false);
    append_container(out, n.container);
    if (signal) {
      out.append(R"(,"signo":)"sv);
      append_decimal(out, int64_t{n.signo});
      out.append(R"(,"signal":)"sv);
      JsonValueWriter(out).signal(n.signo);
      out.append(R"(,"siginfo":)"sv);
      JsonValueWriter siginfo(out);
      describe_notice_siginfo(siginfo, n, decoder_.catalogue());
    } else {
      const ExitOutcome o = exit_outcome(n.exit_status);
      out.append(R"(,"status":)"sv);
      append_decimal(out, int64_t{n.exit_status});
      if (o.killed) {
        out.append(R"(,"killed_by":)"sv);
        JsonValueWriter(out).signal(o.code);
        out.append(o.core_dumped ? R"(,"core_dumped":true)"sv : R"(,"core_dumped":false)"sv);
      } else {
        out.append(R"(,"exit_code":)"sv);
        append_decimal(out, int64_t{o.code});
      }
      out.append(n.group_dead ? R"(,"process_ended":true)"sv : R"(,"process_ended":false)"sv);
    }
    out.append("}\n");
  }

  // The same fields whatever happened to the setup, so one jq filter reads all:
  // "action" says whether the calls are left out, "reason" why they are not.
  void setup(std::string& out, const SetupMarker& marker) override {
    auto it = std::back_inserter(out);
    std::string_view action = "hidden", reason;
    if (marker.kind == SetupMarker::Kind::shown_no_exec) action = "shown", reason = "no_exec";
    if (marker.kind == SetupMarker::Kind::shown_too_long) action = "shown", reason = "too_long";
    fmt::format_to(it, "{{\"type\":\"setup\",\"action\":\"{}\"", action);
    if (!reason.empty()) fmt::format_to(it, ",\"reason\":\"{}\"", reason);
    fmt::format_to(it, ",\"at_ns\":{},\"calls\":{},\"init_pid\":{}", marker.at_ns, marker.calls, marker.init_pid);
    append_container(out, marker.container);
    out.append("}\n");
  }

  void footer(std::string&) override {}

 private:
  // What an event's line holds that depends on its syscall number alone:
  // `,"nr":N,"syscall":"NAME","args":[` and each argument's `{"name":"P","raw":`
  // (after the first with its comma).
  struct SyscallJson {
    std::string prefix;
    std::vector<std::string> arg_prefixes;
  };

  const SyscallJson& syscall_json(const format::Event& e) {
    // Numbers beyond a real table (hostile files) are made each time.
    constexpr uint32_t kCached = 1u << 12;
    SyscallJson* entry = &scratch_call_;
    if (e.nr < kCached) {
      if (e.nr >= by_nr_.size()) by_nr_.resize(e.nr + 1);
      if (by_nr_[e.nr] && by_nr_[e.nr]->arg_prefixes.size() == std::min<size_t>(decoder_.param_count(e), 6))
        return *by_nr_[e.nr];
      by_nr_[e.nr] = std::make_unique<SyscallJson>();
      entry = by_nr_[e.nr].get();
    }
    entry->prefix.assign(R"(,"nr":)");
    append_decimal(entry->prefix, uint64_t{e.nr});
    entry->prefix.append(R"(,"syscall":)");
    append_json_string(entry->prefix, decoder_.syscall_name(e));
    entry->prefix.append(R"(,"args":[)");
    entry->arg_prefixes.clear();
    const size_t n = std::min<size_t>(decoder_.param_count(e), 6);
    for (size_t i = 0; i < n; ++i) {
      std::string& p = entry->arg_prefixes.emplace_back(i == 0 ? R"({"name":)" : R"(,{"name":)");
      append_json_string(p, decoder_.param_name(e, i));
      p.append(R"(,"raw":)");
    }
    return *entry;
  }

  // The container's id, as every line names it (none for a host-wide trace's
  // calls outside containers).
  void append_container(std::string& out, uint32_t index) const {
    if (index < metadata_.containers.size() && !metadata_.containers[index].id.empty()) {
      out.append(",\"container\":");
      append_json_string(out, metadata_.containers[index].id);
    }
  }

  RenderOptions options_;
  const Decoder& decoder_;
  const format::TraceMetadata& metadata_;
  std::vector<std::unique_ptr<SyscallJson>> by_nr_;
  SyscallJson scratch_call_;
  std::string comm_, comm_json_;
  bool comm_known_ = false;
  uint32_t container_ = 0;
  bool container_known_ = false;
  std::string container_json_;
  FlagTextCache flag_texts_;  // the flag values' JSON, made once per set and value
  JsonBuffer line_;            // the event's line being written
};

}  // namespace

std::unique_ptr<Renderer> make_json_renderer(const RenderOptions& options, const Decoder& decoder,
                                             const format::TraceMetadata& metadata) {
  return std::make_unique<JsonRenderer>(options, decoder, metadata);
}

}  // namespace traceloop::tools
