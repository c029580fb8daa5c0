#pragma once
// A container's history starts when its cgroup appears, so it starts with
// the OCI runtime setting the container up (runc's init process: mounts,
// capabilities, seccomp…), often the great majority of its calls, before the
// container's init process executes the entrypoint. Someone reading the
// history of a dead container wants the container's own program first:
// SetupHider leaves out, per container, the calls before that handover (the
// first successful execve/execveat of the container's init pid) and puts one
// marker where they were.
//
// Readers stream, so whether the handover comes is not known while the setup
// goes by. Until it comes, the rendered text of a container's setup is held
// back, in trace order with everything rendered after it (other containers'
// events, loss markers): at the handover the setup is dropped for its marker;
// at the end of the trace without a handover (the entrypoint could not be
// executed, the runtime failed) the setup is what the reader needs and is
// shown in full, in place. The text held is bounded: past the bound the
// oldest container still waiting is shown in full. Text is rendered once, in
// trace order, so -r measures from the previous call rendered, a hidden one
// included (the marker stands for it).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "format/event.h"
#include "format/metadata.h"
#include "tools/lib/decoder/render.h"

namespace traceloop::tools {

class SetupHider {
 public:
  static constexpr size_t kDefaultHoldBytes = 4u << 20;

  // Null when no container of the trace has a setup to hide (no init pid
  // known, or execve was not recorded), so readers pay nothing then.
  // `renderer` and `out` (where released text goes) must outlive the hider.
  static std::unique_ptr<SetupHider> create(const format::TraceMetadata& metadata, Renderer& renderer,
                                            std::string& out, size_t hold_bytes = kDefaultHoldBytes);

  // True while some container has not reached its handover: events must go
  // through observe() and event().
  bool pending() const { return waiting_ != 0; }

  // Every event, in trace order and before any filter (the handover counts
  // even when the filters leave the execve out).
  void observe(const format::Event& event);
  // Renders an event the filters let through, held back when it is setup.
  void event(const format::Event& event);
  // Renders a loss marker: always shown, where it happened.
  void loss(const format::LossMarker& loss);
  // Renders a task notice the filters let through, held back with its
  // container's setup when it comes among held calls.
  void notice(const format::TaskNotice& notice);
  // End of the trace: the setups still waiting are shown in full.
  void finish();

  SetupHider(const SetupHider&) = delete;
  SetupHider& operator=(const SetupHider&) = delete;

 private:
  struct Container {
    enum class State { nothing_to_hide, waiting, done } state = State::nothing_to_hide;
    uint32_t init_pid = 0;
    uint64_t held_calls = 0;
    uint64_t first_ns = 0;
  };
  // A run of consecutive text of one container's setup (held), or of
  // anything else rendered after held text (free).
  struct Segment {
    uint32_t container = 0;
    bool held = false;
    std::string text;
  };

  SetupHider(std::vector<Container> containers, uint32_t execve_nr, uint32_t execveat_nr, Renderer& renderer,
             std::string& out, size_t hold_bytes);
  bool is_handover(const format::Event& event, const Container& c) const;
  std::string& free_text();
  void hand_over(uint32_t container);
  void release(uint32_t container, SetupMarker::Kind why);
  void flush_free_prefix();
  void enforce_bound();

  std::vector<Container> containers_;
  uint32_t execve_nr_;
  uint32_t execveat_nr_;
  Renderer& renderer_;
  std::string& out_;
  size_t hold_bytes_;
  size_t queued_bytes_ = 0;
  size_t waiting_ = 0;  // containers before their handover
  std::deque<Segment> queue_;  // empty, or starts with held text
};

}  // namespace traceloop::tools
