#include "format/event_batch.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "format/frame_codec.h"
#include "format/varint.h"
#include "format/zstd_codec.h"
#include "trace.capnp.h"

namespace traceloop::format {

using detail::put_varint;
using detail::unzigzag;
using detail::VarintReader;
using detail::zigzag;

namespace {

// Syscall numbers below this use a flat table for the previous-args lookup;
// larger (hostile or exotic) numbers use a map.
constexpr uint32_t kFlatSyscallTable = 1024;

}  // namespace

struct EventBatchBuilder::Columns {
  uint32_t count = 0;
  uint64_t base_enter_ns = 0;
  uint64_t prev_enter_ns = 0;
  uint32_t prev_tid = 0;
  std::string enter_delta, duration, tid, pid_delta, cpu, nr, args, arg_count, ret, state, comm_index,
      container_index, capture_count, capture_arg, capture_size, capture_len, capture_bytes;
  bool any_container = false;
  std::vector<std::string> comms;
  std::unordered_map<std::string, uint32_t> comm_ids;
  std::string last_comm;
  uint32_t last_comm_id = 0;
  std::vector<std::array<uint64_t, 6>> prev_args_flat = std::vector<std::array<uint64_t, 6>>(kFlatSyscallTable);
  std::unordered_map<uint32_t, std::array<uint64_t, 6>> prev_args_other;
  struct Loss {
    uint32_t before;
    LossMarker marker;
  };
  std::vector<Loss> losses;
  uint64_t first_ns = 0, last_ns = 0, lost = 0, overwritten = 0;

  size_t raw_bytes() const {
    return enter_delta.size() + duration.size() + tid.size() + pid_delta.size() + cpu.size() + nr.size() +
           args.size() + arg_count.size() + ret.size() + state.size() + comm_index.size() +
           container_index.size() + capture_count.size() + capture_arg.size() + capture_size.size() +
           capture_len.size() + capture_bytes.size() + comms.size() * 24 + losses.size() * 48;
  }

  std::array<uint64_t, 6>& prev_args(uint32_t syscall_nr) {
    return syscall_nr < kFlatSyscallTable ? prev_args_flat[syscall_nr] : prev_args_other[syscall_nr];
  }

  uint32_t comm_id(std::string_view comm) {
    if (!comms.empty() && comm == last_comm) return last_comm_id;
    auto [it, inserted] = comm_ids.try_emplace(std::string(comm), static_cast<uint32_t>(comms.size()));
    if (inserted) comms.emplace_back(comm);
    last_comm.assign(comm);
    last_comm_id = it->second;
    return it->second;
  }
};

EventBatchBuilder::EventBatchBuilder(uint32_t max_events, uint32_t max_raw_bytes)
    : columns_(std::make_unique<Columns>()), max_events_(max_events), max_raw_bytes_(max_raw_bytes) {}
EventBatchBuilder::~EventBatchBuilder() = default;
EventBatchBuilder::EventBatchBuilder(EventBatchBuilder&&) noexcept = default;
EventBatchBuilder& EventBatchBuilder::operator=(EventBatchBuilder&&) noexcept = default;

uint32_t EventBatchBuilder::event_count() const { return columns_->count; }
size_t EventBatchBuilder::raw_bytes() const { return columns_->raw_bytes(); }
bool EventBatchBuilder::empty() const { return columns_->count == 0 && columns_->losses.empty(); }
bool EventBatchBuilder::should_flush() const {
  return columns_->count >= max_events_ || columns_->raw_bytes() >= max_raw_bytes_;
}

void EventBatchBuilder::add(const Event& e) {
  Columns& c = *columns_;
  if (c.count == 0) {
    c.base_enter_ns = e.enter_ns;
    c.prev_enter_ns = e.enter_ns;
    c.first_ns = e.enter_ns;
  }
  c.last_ns = std::max(c.last_ns, e.enter_ns);
  put_varint(c.enter_delta, zigzag(static_cast<int64_t>(e.enter_ns - c.prev_enter_ns)));
  c.prev_enter_ns = e.enter_ns;
  put_varint(c.duration, e.duration_ns());
  put_varint(c.tid, zigzag(static_cast<int64_t>(e.tid) - static_cast<int64_t>(c.prev_tid)));
  c.prev_tid = e.tid;
  put_varint(c.pid_delta, zigzag(static_cast<int64_t>(e.tid) - static_cast<int64_t>(e.pid)));
  put_varint(c.cpu, e.cpu);
  put_varint(c.nr, e.nr);
  const uint8_t arg_count = std::min<uint8_t>(e.arg_count, 6);
  put_varint(c.arg_count, arg_count);
  auto& prev = c.prev_args(e.nr);
  for (unsigned i = 0; i < arg_count; ++i) {
    put_varint(c.args, zigzag(static_cast<int64_t>(e.args[i] - prev[i])));
    prev[i] = e.args[i];
  }
  put_varint(c.ret, zigzag(e.ret));
  put_varint(c.state, static_cast<uint8_t>(e.state));
  put_varint(c.comm_index, c.comm_id(e.comm));
  put_varint(c.container_index, e.container);
  c.any_container |= e.container != 0;
  put_varint(c.capture_count, e.captures.size());
  for (const auto& cap : e.captures) {
    put_varint(c.capture_arg, cap.arg);
    put_varint(c.capture_size, cap.size);
    put_varint(c.capture_len, cap.bytes.size());
    c.capture_bytes.append(cap.bytes);
  }
  ++c.count;
}

void EventBatchBuilder::add_loss(const LossMarker& loss) {
  Columns& c = *columns_;
  c.losses.push_back({c.count, loss});
  c.lost += loss.lost;
  c.overwritten += loss.overwritten;
}

EncodedFrame EventBatchBuilder::finish(ZstdCompressor& compressor) {
  Columns& c = *columns_;
  capnp::MallocMessageBuilder message(std::max<size_t>(1024, c.raw_bytes() / 8 + 64));
  auto batch = message.initRoot<schema::EventBatch>();
  auto data = [](const std::string& s) {
    return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
  };
  batch.setCount(c.count);
  batch.setBaseEnterNs(c.base_enter_ns);
  batch.setEnterDelta(data(c.enter_delta));
  batch.setDuration(data(c.duration));
  batch.setTid(data(c.tid));
  batch.setPidDelta(data(c.pid_delta));
  batch.setCpu(data(c.cpu));
  batch.setSyscallNr(data(c.nr));
  batch.setArgs(data(c.args));
  batch.setArgCount(data(c.arg_count));
  batch.setRet(data(c.ret));
  batch.setState(data(c.state));
  batch.setCommIndex(data(c.comm_index));
  auto comms = batch.initComms(static_cast<unsigned>(c.comms.size()));
  for (unsigned i = 0; i < c.comms.size(); ++i) comms.set(i, c.comms[i]);
  if (c.any_container) batch.setContainerIndex(data(c.container_index));
  batch.setCaptureCount(data(c.capture_count));
  batch.setCaptureArg(data(c.capture_arg));
  batch.setCaptureSize(data(c.capture_size));
  batch.setCaptureLen(data(c.capture_len));
  batch.setCaptureBytes(data(c.capture_bytes));
  auto losses = batch.initLosses(static_cast<unsigned>(c.losses.size()));
  for (unsigned i = 0; i < c.losses.size(); ++i) {
    auto l = losses[i];
    const auto& m = c.losses[i].marker;
    l.setBeforeEvent(c.losses[i].before);
    l.setLost(m.lost);
    l.setOverwritten(m.overwritten);
    l.setCpu(m.cpu);
    l.setContainerIndex(m.container);
    l.setAtNs(m.at_ns);
  }

  EncodedFrame frame;
  frame.type = FrameType::events;
  frame.event_count = c.count;
  frame.first_ns = c.first_ns;
  frame.last_ns = c.last_ns;
  frame.lost = c.lost;
  frame.overwritten = c.overwritten;
  detail::encode_frame(FrameType::events, message, c.count, compressor, frame);
  *columns_ = Columns();
  return frame;
}

// ------------------------------------------------------------------ decode --

void DecodedBatch::clear() {
  enter_ns_.clear();
  duration_ns_.clear();
  pid_.clear();
  tid_.clear();
  cpu_.clear();
  nr_.clear();
  ret_.clear();
  state_.clear();
  arg_count_.clear();
  args_.clear();
  comm_index_.clear();
  container_.clear();
  capture_begin_.clear();
  captures_.clear();
  capture_bytes_.clear();
  losses_.clear();
}

Event DecodedBatch::event(size_t i) const {
  Event e;
  e.enter_ns = enter_ns_[i];
  e.state = static_cast<CallState>(state_[i]);
  e.exit_ns = e.state == CallState::returned ? enter_ns_[i] + duration_ns_[i] : 0;
  e.pid = pid_[i];
  e.tid = tid_[i];
  e.cpu = cpu_[i];
  e.nr = nr_[i];
  e.container = container_.empty() ? 0 : container_[i];
  e.arg_count = arg_count_[i];
  e.ret = ret_[i];
  std::copy_n(&args_[i * 6], 6, e.args.begin());
  e.comm = comms_[comm_index_[i]];
  e.captures = std::span<const CaptureView>(captures_.data() + capture_begin_[i],
                                            capture_begin_[i + 1] - capture_begin_[i]);
  return e;
}

Result<void> decode_event_batch(std::string_view message_bytes, DecodedBatch& out, const ReaderLimits& limits) {
  out.clear();
  if (message_bytes.size() % sizeof(capnp::word) != 0) return Error{"corrupt frame (message size not word aligned)"};
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = limits.traversal_limit_words;
    options.nestingLimit = limits.nesting_limit;
    capnp::FlatArrayMessageReader reader(
        kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(message_bytes.data()),
                                        message_bytes.size() / sizeof(capnp::word)),
        options);
    auto batch = reader.getRoot<schema::EventBatch>();
    const uint32_t count = batch.getCount();
    auto text = [](capnp::Data::Reader d) { return std::string_view(reinterpret_cast<const char*>(d.begin()), d.size()); };
    // Every event takes at least one byte in each mandatory column, so a
    // count larger than the message is a lie: refuse before reserving memory.
    if (count > message_bytes.size()) return Error{"corrupt frame (event count exceeds frame size)"};

    auto comms = batch.getComms();
    out.comms_.resize(comms.size());
    for (unsigned i = 0; i < comms.size(); ++i) out.comms_[i].assign(comms[i].cStr(), comms[i].size());

    VarintReader enter(text(batch.getEnterDelta())), duration(text(batch.getDuration())), tid(text(batch.getTid())),
        pid_delta(text(batch.getPidDelta())), cpu(text(batch.getCpu())), nr(text(batch.getSyscallNr())),
        args(text(batch.getArgs())), arg_count(text(batch.getArgCount())), ret(text(batch.getRet())),
        state(text(batch.getState())), comm_index(text(batch.getCommIndex())),
        container(text(batch.getContainerIndex())), capture_count(text(batch.getCaptureCount())),
        capture_arg(text(batch.getCaptureArg())), capture_size(text(batch.getCaptureSize())),
        capture_len(text(batch.getCaptureLen()));
    const bool has_container = batch.hasContainerIndex() && batch.getContainerIndex().size() > 0;
    const auto bytes = text(batch.getCaptureBytes());
    out.capture_bytes_.assign(bytes);

    out.enter_ns_.resize(count);
    out.duration_ns_.resize(count);
    out.pid_.resize(count);
    out.tid_.resize(count);
    out.cpu_.resize(count);
    out.nr_.resize(count);
    out.ret_.resize(count);
    out.state_.resize(count);
    out.arg_count_.resize(count);
    out.args_.assign(static_cast<size_t>(count) * 6, 0);
    out.comm_index_.resize(count);
    if (has_container) out.container_.resize(count);
    out.capture_begin_.resize(static_cast<size_t>(count) + 1);

    std::vector<std::array<uint64_t, 6>> prev_flat(kFlatSyscallTable, std::array<uint64_t, 6>{});
    std::unordered_map<uint32_t, std::array<uint64_t, 6>> prev_other;
    uint64_t enter_ns = batch.getBaseEnterNs();
    uint32_t prev_tid = 0;
    size_t byte_offset = 0;
    for (uint32_t i = 0; i < count; ++i) {
      enter_ns += static_cast<uint64_t>(unzigzag(enter.next()));
      out.enter_ns_[i] = enter_ns;
      out.duration_ns_[i] = duration.next();
      prev_tid = static_cast<uint32_t>(static_cast<int64_t>(prev_tid) + unzigzag(tid.next()));
      out.tid_[i] = prev_tid;
      out.pid_[i] = static_cast<uint32_t>(static_cast<int64_t>(prev_tid) - unzigzag(pid_delta.next()));
      out.cpu_[i] = static_cast<uint32_t>(cpu.next());
      const auto syscall_nr = static_cast<uint32_t>(nr.next());
      out.nr_[i] = syscall_nr;
      const uint64_t n_args = arg_count.next();
      if (n_args > 6) return Error{"corrupt frame (argument count " + std::to_string(n_args) + ")"};
      out.arg_count_[i] = static_cast<uint8_t>(n_args);
      auto& prev = syscall_nr < kFlatSyscallTable ? prev_flat[syscall_nr] : prev_other[syscall_nr];
      for (unsigned a = 0; a < n_args; ++a) {
        prev[a] += static_cast<uint64_t>(unzigzag(args.next()));
        out.args_[i * 6 + a] = prev[a];
      }
      out.ret_[i] = unzigzag(ret.next());
      const uint64_t st = state.next();
      if (st > 2) return Error{"corrupt frame (call state " + std::to_string(st) + ")"};
      out.state_[i] = static_cast<uint8_t>(st);
      const uint64_t ci = comm_index.next();
      if (ci >= out.comms_.size()) return Error{"corrupt frame (comm index out of range)"};
      out.comm_index_[i] = static_cast<uint32_t>(ci);
      if (has_container) out.container_[i] = static_cast<uint32_t>(container.next());
      out.capture_begin_[i] = static_cast<uint32_t>(out.captures_.size());
      const uint64_t n_captures = capture_count.next();
      if (n_captures > 64) return Error{"corrupt frame (" + std::to_string(n_captures) + " captures in one event)"};
      for (uint64_t k = 0; k < n_captures; ++k) {
        CaptureView view;
        const uint64_t arg = capture_arg.next();
        const uint64_t size = capture_size.next();
        const uint64_t len = capture_len.next();
        if (arg > 5 || size > UINT32_MAX || len > out.capture_bytes_.size() - byte_offset)
          return Error{"corrupt frame (capture out of bounds)"};
        view.arg = static_cast<uint8_t>(arg);
        view.size = static_cast<uint32_t>(size);
        view.bytes = std::string_view(out.capture_bytes_).substr(byte_offset, len);
        byte_offset += len;
        out.captures_.push_back(view);
      }
    }
    out.capture_begin_[count] = static_cast<uint32_t>(out.captures_.size());
    for (auto* column : {&enter, &duration, &tid, &pid_delta, &cpu, &nr, &args, &arg_count, &ret, &state,
                         &comm_index, &capture_count, &capture_arg, &capture_size, &capture_len}) {
      if (column->failed() || !column->at_end()) return Error{"corrupt frame (column length mismatch)"};
    }
    if (has_container && (container.failed() || !container.at_end()))
      return Error{"corrupt frame (column length mismatch)"};

    for (auto loss : batch.getLosses()) {
      if (loss.getBeforeEvent() > count) return Error{"corrupt frame (loss marker out of range)"};
      LossMarker m;
      m.lost = loss.getLost();
      m.overwritten = loss.getOverwritten();
      m.cpu = loss.getCpu();
      m.container = loss.getContainerIndex();
      m.at_ns = loss.getAtNs();
      out.losses_.push_back({loss.getBeforeEvent(), m});
    }
    std::stable_sort(out.losses_.begin(), out.losses_.end(),
                     [](const auto& a, const auto& b) { return a.before_event < b.before_event; });
  } catch (const kj::Exception& e) {
    return Error{"corrupt frame (" + std::string(e.getDescription().cStr()) + ")"};
  }
  return {};
}

}  // namespace traceloop::format
