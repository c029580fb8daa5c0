#include "tools/lib/decoder/setup_hiding.h"

#include <algorithm>
#include <limits>

namespace traceloop::tools {

namespace {

constexpr uint32_t kNoSyscall = std::numeric_limits<uint32_t>::max();

uint32_t syscall_nr(const format::TraceMetadata& metadata, std::string_view name) {
  // A trace's catalogue may list only the syscalls it recorded.
  const auto* spec = metadata.catalogue.find(name);
  if (!spec) spec = format::builtin_catalogue(metadata.catalogue.arch()).find(name);
  return spec ? spec->nr : kNoSyscall;
}

// False when the recorder's syscall filter left execve and execveat out: the
// handover cannot be in the trace, and all of it is to be shown.
bool exec_recorded(const format::CaptureSettings& capture) {
  if (capture.syscall_filters.empty()) return true;
  return std::any_of(capture.syscall_filters.begin(), capture.syscall_filters.end(),
                     [](const std::string& name) { return name == "execve" || name == "execveat"; });
}

}  // namespace

std::unique_ptr<SetupHider> SetupHider::create(const format::TraceMetadata& metadata, Renderer& renderer,
                                               std::string& out, size_t hold_bytes) {
  if (!exec_recorded(metadata.capture)) return nullptr;
  const uint32_t execve_nr = syscall_nr(metadata, "execve");
  const uint32_t execveat_nr = syscall_nr(metadata, "execveat");
  if (execve_nr == kNoSyscall && execveat_nr == kNoSyscall) return nullptr;
  std::vector<Container> containers(metadata.containers.size());
  bool any = false;
  for (size_t i = 0; i < containers.size(); ++i) {
    if (metadata.containers[i].init_pid == 0) continue;
    containers[i].state = Container::State::waiting;
    containers[i].init_pid = metadata.containers[i].init_pid;
    any = true;
  }
  if (!any) return nullptr;
  return std::unique_ptr<SetupHider>(
      new SetupHider(std::move(containers), execve_nr, execveat_nr, renderer, out, hold_bytes));
}

SetupHider::SetupHider(std::vector<Container> containers, uint32_t execve_nr, uint32_t execveat_nr,
                       Renderer& renderer, std::string& out, size_t hold_bytes)
    : containers_(std::move(containers)),
      execve_nr_(execve_nr),
      execveat_nr_(execveat_nr),
      renderer_(renderer),
      out_(out),
      hold_bytes_(hold_bytes) {
  waiting_ = static_cast<size_t>(std::count_if(containers_.begin(), containers_.end(), [](const Container& c) {
    return c.state == Container::State::waiting;
  }));
}

bool SetupHider::is_handover(const format::Event& e, const Container& c) const {
  if (e.pid != c.init_pid || (e.nr != execve_nr_ && e.nr != execveat_nr_)) return false;
  // A failed execve (ENOENT along PATH) leaves the runtime in charge.
  return e.state == format::CallState::never_returned || (e.state == format::CallState::returned && e.ret == 0);
}

void SetupHider::observe(const format::Event& e) {
  if (e.container >= containers_.size()) return;
  const Container& c = containers_[e.container];
  if (c.state == Container::State::waiting && is_handover(e, c)) hand_over(e.container);
}

std::string& SetupHider::free_text() {
  if (queue_.empty()) return out_;
  if (queue_.back().held) queue_.push_back(Segment{queue_.back().container, false, {}});
  return queue_.back().text;
}

void SetupHider::event(const format::Event& e) {
  if (e.container < containers_.size() && containers_[e.container].state == Container::State::waiting) {
    Container& c = containers_[e.container];
    if (queue_.empty() || !queue_.back().held || queue_.back().container != e.container)
      queue_.push_back(Segment{e.container, true, {}});
    std::string& text = queue_.back().text;
    const size_t before = text.size();
    renderer_.event(text, e);
    queued_bytes_ += text.size() - before;
    if (c.held_calls++ == 0) c.first_ns = e.enter_ns;
    if (queued_bytes_ > hold_bytes_) enforce_bound();
    return;
  }
  std::string& text = free_text();
  if (&text == &out_) {
    renderer_.event(text, e);
    return;
  }
  const size_t before = text.size();
  renderer_.event(text, e);
  queued_bytes_ += text.size() - before;
  if (queued_bytes_ > hold_bytes_) enforce_bound();
}

void SetupHider::loss(const format::LossMarker& loss) {
  std::string& text = free_text();
  const size_t before = text.size();
  renderer_.loss(text, loss);
  if (&text == &out_) return;
  queued_bytes_ += text.size() - before;
  if (queued_bytes_ > hold_bytes_) enforce_bound();
}

void SetupHider::notice(const format::TaskNotice& n) {
  // Only among held calls: a setup's marker stands for its calls, and a
  // container with none held has nothing the notice could be dropped with.
  if (n.container < containers_.size() && containers_[n.container].state == Container::State::waiting &&
      containers_[n.container].held_calls > 0) {
    if (queue_.empty() || !queue_.back().held || queue_.back().container != n.container)
      queue_.push_back(Segment{n.container, true, {}});
    std::string& text = queue_.back().text;
    const size_t before = text.size();
    renderer_.notice(text, n);
    queued_bytes_ += text.size() - before;
    if (queued_bytes_ > hold_bytes_) enforce_bound();
    return;
  }
  std::string& text = free_text();
  const size_t before = text.size();
  renderer_.notice(text, n);
  if (&text == &out_) return;
  queued_bytes_ += text.size() - before;
  if (queued_bytes_ > hold_bytes_) enforce_bound();
}

void SetupHider::hand_over(uint32_t container) {
  Container& c = containers_[container];
  c.state = Container::State::done;
  --waiting_;
  if (c.held_calls == 0) return;
  bool marked = false;
  for (Segment& s : queue_) {
    if (!s.held || s.container != container) continue;
    queued_bytes_ -= s.text.size();
    s.text.clear();
    s.held = false;
    if (marked) continue;
    renderer_.setup(s.text, SetupMarker{SetupMarker::Kind::hidden, container, c.init_pid, c.held_calls, c.first_ns});
    queued_bytes_ += s.text.size();
    marked = true;
  }
  flush_free_prefix();
}

void SetupHider::release(uint32_t container, SetupMarker::Kind why) {
  Container& c = containers_[container];
  if (c.state == Container::State::waiting) --waiting_;
  c.state = Container::State::done;
  bool noted = false;
  for (Segment& s : queue_) {
    if (!s.held || s.container != container) continue;
    s.held = false;
    if (noted) continue;
    std::string note;
    renderer_.setup(note, SetupMarker{why, container, c.init_pid, c.held_calls, c.first_ns});
    s.text.insert(0, note);
    queued_bytes_ += note.size();
    noted = true;
  }
  flush_free_prefix();
}

void SetupHider::flush_free_prefix() {
  while (!queue_.empty() && !queue_.front().held) {
    out_.append(queue_.front().text);
    queued_bytes_ -= queue_.front().text.size();
    queue_.pop_front();
  }
}

void SetupHider::enforce_bound() {
  // The front is held text (free text before it has been written out), so
  // this releases the container that has waited longest.
  while (queued_bytes_ > hold_bytes_ && !queue_.empty())
    release(queue_.front().container, SetupMarker::Kind::shown_too_long);
}

void SetupHider::finish() {
  while (!queue_.empty()) release(queue_.front().container, SetupMarker::Kind::shown_no_exec);
  waiting_ = 0;
}

}  // namespace traceloop::tools
