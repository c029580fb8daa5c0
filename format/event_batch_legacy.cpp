#include "format/event_batch_legacy.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "format/varint.h"

namespace traceloop::format::detail {

namespace {

// The predictions of the encodings 1 and 2 as they were written: a copy, not
// shared with event_batch.cpp, so that the current encoding may change its
// own without changing how these files read.

int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

bool is_failure(uint8_t state, int64_t ret) { return state == 0 && ret < 0 && ret >= -4095; }

struct CaptureShape {
  uint8_t count = 0;
  std::array<uint8_t, 6> args{};
};

struct SyscallPrediction {
  uint8_t arg_count = 6;
  std::array<CaptureShape, 2> shape{};  // [failed]
  int64_t last_ret = 0;
  std::array<bool, 6> size_is_ret{};  // per capture position

  int64_t predict_ret() const { return last_ret >= -4095 && last_ret <= INT32_MAX ? 0 : last_ret; }
  std::optional<uint64_t> decode_size(size_t k, uint64_t value, int64_t ret, std::string_view rest) const {
    if (predicts_ret(k)) return static_cast<uint64_t>(wrapping_add(unzigzag(value), ret));
    if (value != 0) return static_cast<uint64_t>(unzigzag(value - 1));
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) return std::nullopt;
    return nul + 1;
  }
  void learn_size(size_t k, uint64_t size, int64_t ret) {
    if (k < size_is_ret.size()) size_is_ret[k] = static_cast<int64_t>(size) == ret;
  }
  bool is_string_code(size_t k, uint64_t value) const { return value == 0 && !predicts_ret(k); }

 private:
  bool predicts_ret(size_t k) const { return k < size_is_ret.size() && size_is_ret[k]; }
};

struct ThreadPrediction {
  uint64_t end = 0;  // the thread's last call's end, in time units
  uint32_t cpu = 0;
};

struct Predictions {
  std::unordered_map<uint32_t, SyscallPrediction> syscalls;
  std::unordered_map<uint32_t, ThreadPrediction> threads;
};

// The last distinct captures of one kind (encoding 2), most recent first, as
// places in the captureBytes column.
constexpr size_t kMinRepeatBytes = 8;

class RecentCaptures {
 public:
  static constexpr uint32_t kSize = 8;
  std::optional<std::string_view> use(std::string_view bytes, uint64_t repeat) {
    if (repeat == 0 || repeat > count_) return std::nullopt;
    const Entry e = entries_[repeat - 1];
    for (uint64_t i = repeat - 1; i > 0; --i) entries_[i] = entries_[i - 1];
    entries_[0] = e;
    return bytes.substr(e.offset, e.length);
  }
  void add(size_t offset, size_t length) {
    count_ = std::min(count_ + 1, kSize);
    for (uint32_t i = kSize - 1; i > 0; --i) entries_[i] = entries_[i - 1];
    entries_[0] = {offset, length};
  }

 private:
  struct Entry {
    size_t offset = 0;
    size_t length = 0;
  };
  std::array<Entry, kSize> entries_{};
  uint32_t count_ = 0;
};

// Arguments of encoding 2: a code per argument, a hit among the last
// distinct values of that argument of that syscall, or a difference from the
// previous value or from one of the batch's recent address-like values.
constexpr uint32_t kRecentArgs = 4;
constexpr uint32_t kRecentAddresses = 16;
constexpr uint64_t kArgFromPrevious = kRecentArgs;
constexpr uint64_t kArgFromAddress = kRecentArgs + 1;
constexpr uint64_t kArgCodes = kArgFromAddress + kRecentAddresses;

using RecentValues = std::array<uint64_t, kRecentArgs>;
using SyscallArgs = std::array<RecentValues, 6>;

bool is_address_like(uint64_t v) { return v >= 0x10000 && v < (uint64_t{1} << 56); }

class RecentAddresses {
 public:
  uint64_t get(uint64_t i) const { return values_[(head_ - 1 - i) % kRecentAddresses]; }
  void note(uint64_t v) {
    if (is_address_like(v)) values_[head_++ % kRecentAddresses] = v;
  }

 private:
  std::array<uint64_t, kRecentAddresses> values_{};
  uint32_t head_ = 0;
};

void promote(RecentValues& recent, uint64_t i) {
  const uint64_t v = recent[i];
  for (; i > 0; --i) recent[i] = recent[i - 1];
  recent[0] = v;
}
void push_front(RecentValues& recent, uint64_t v) {
  for (uint32_t i = kRecentArgs - 1; i > 0; --i) recent[i] = recent[i - 1];
  recent[0] = v;
}

std::string_view text(capnp::Data::Reader d) { return {reinterpret_cast<const char*>(d.begin()), d.size()}; }

}  // namespace

Result<void> LegacyBatchDecoder::decode(schema::EventBatch::Reader batch, uint8_t encoding, size_t message_bytes,
                                        DecodedBatch& out) {
  const uint32_t count = batch.getCount();
  if (count > message_bytes) return Error{"corrupt frame (event count exceeds frame size)"};
  const bool predicted = encoding != kColumnsV1;
  const bool repeats = encoding == kColumnsRepeats;
  VarintReader tid(text(batch.getTid())), pid_delta(text(batch.getPidDelta())),
      cpu(text(predicted ? batch.getCpuChange() : batch.getCpu())), nr(text(batch.getSyscallNr())),
      arg_count(text(predicted ? batch.getArgCountChange() : batch.getArgCount())), state(text(batch.getState())),
      comm_index(text(batch.getCommIndex())), container(text(batch.getContainerIndex())),
      capture_count(text(predicted ? batch.getCaptureShape() : batch.getCaptureCount())),
      capture_arg(text(batch.getCaptureArg())),
      capture_size(text(predicted ? batch.getCaptureSizeChange() : batch.getCaptureSize())),
      capture_len(text(predicted ? batch.getCaptureExcess() : batch.getCaptureLen())),
      capture_repeat(text(batch.getCaptureRepeat())),
      enter_column(text(predicted ? batch.getEnterGap() : batch.getEnterDelta())), duration(text(batch.getDuration())),
      ret(text(predicted ? batch.getRetChange() : batch.getRet()));
  const bool has_container = batch.hasContainerIndex() && batch.getContainerIndex().size() > 0;
  const auto bytes = text(batch.getCaptureBytes());
  size_t bytes_used = 0;

  out.enter_ns_.resize(count);
  out.duration_ns_.resize(count);
  out.pid_.resize(count);
  out.tid_.resize(count);
  out.cpu_.resize(count);
  out.nr_.resize(count);
  out.ret_.resize(count);
  out.state_.resize(count);
  out.arg_count_.resize(count);
  out.comm_index_.resize(count);
  if (has_container) out.container_.resize(count);
  out.capture_begin_.resize(static_cast<size_t>(count) + 1);

  // Format 1 counts in ns; format 3 may count in a coarser unit.
  const uint64_t unit = predicted ? std::max<uint32_t>(batch.getTimeUnitNs(), 1) : 1;
  if (unit > kMaxTimeUnitNs) return Error{"corrupt frame (time unit of " + std::to_string(unit) + " ns)"};
  out.time_unit_ns_ = static_cast<uint32_t>(unit);
  Predictions predictions;
  RecentCaptures recent_strings, recent_blobs;
  uint64_t enter = batch.getBaseEnterNs() / unit;
  uint64_t arg_total = 0;
  uint32_t prev_tid = 0;
  size_t n_captures_total = 0;
  for (uint32_t i = 0; i < count; ++i) {
    prev_tid = static_cast<uint32_t>(static_cast<int64_t>(prev_tid) + unzigzag(tid.next()));
    out.tid_[i] = prev_tid;
    out.pid_[i] = static_cast<uint32_t>(static_cast<int64_t>(prev_tid) - unzigzag(pid_delta.next()));
    const auto syscall_nr = static_cast<uint32_t>(nr.next());
    out.nr_[i] = syscall_nr;
    SyscallPrediction& expected = predictions.syscalls[syscall_nr];
    const uint64_t duration_units = duration.next();
    out.duration_ns_[i] = duration_units * unit;
    if (predicted) {
      auto thread = predictions.threads.find(prev_tid);
      const bool seen = thread != predictions.threads.end();
      enter = (seen ? thread->second.end : enter) + static_cast<uint64_t>(unzigzag(enter_column.next()));
      const uint64_t cpu_change = cpu.next();
      if (cpu_change == 0 && !seen) return Error{"corrupt frame (cpu of an unseen thread)"};
      out.cpu_[i] = cpu_change == 0 ? thread->second.cpu : static_cast<uint32_t>(cpu_change - 1);
      predictions.threads[prev_tid] = {enter + duration_units, out.cpu_[i]};
    } else {
      enter += static_cast<uint64_t>(unzigzag(enter_column.next()));
      out.cpu_[i] = static_cast<uint32_t>(cpu.next());
    }
    out.enter_ns_[i] = enter * unit;
    uint64_t n_args = arg_count.next();
    if (predicted) n_args = n_args == 0 ? expected.arg_count : n_args - 1;
    if (n_args > 6) return Error{"corrupt frame (argument count " + std::to_string(n_args) + ")"};
    expected.arg_count = static_cast<uint8_t>(n_args);
    out.arg_count_[i] = static_cast<uint8_t>(n_args);
    arg_total += n_args;
    if (predicted) {
      out.ret_[i] = wrapping_add(unzigzag(ret.next()), expected.predict_ret());
      expected.last_ret = out.ret_[i];
    } else {
      out.ret_[i] = unzigzag(ret.next());
    }
    const uint64_t st = state.next();
    if (st > 2) return Error{"corrupt frame (call state " + std::to_string(st) + ")"};
    out.state_[i] = static_cast<uint8_t>(st);
    const uint64_t ci = comm_index.next();
    if (ci >= out.comms_.size()) return Error{"corrupt frame (comm index out of range)"};
    out.comm_index_[i] = static_cast<uint32_t>(ci);
    if (has_container) out.container_[i] = static_cast<uint32_t>(container.next());
    out.capture_begin_[i] = static_cast<uint32_t>(n_captures_total);

    // The capture arguments: explicit, or (predicted columns, shape 0) those
    // of the previous event with the same syscall and outcome.
    uint64_t n_captures = capture_count.next();
    CaptureShape* shape = nullptr;
    bool from_shape = false;
    if (predicted) {
      shape = &expected.shape[is_failure(out.state_[i], out.ret_[i])];
      if (n_captures == 0) {
        from_shape = true;
        n_captures = shape->count;
      } else {
        --n_captures;
        if (n_captures > shape->args.size()) shape = nullptr;  // too many to remember
        else shape->count = static_cast<uint8_t>(n_captures);
      }
    }
    if (n_captures > 64) return Error{"corrupt frame (" + std::to_string(n_captures) + " captures in one event)"};
    for (uint64_t k = 0; k < n_captures; ++k) {
      CaptureView view;
      uint64_t arg = 0;
      if (from_shape) {
        arg = shape->args[k];
      } else {
        arg = capture_arg.next();
        if (shape != nullptr) shape->args[k] = static_cast<uint8_t>(arg);
      }
      if (arg > 5) return Error{"corrupt frame (capture out of bounds)"};
      view.arg = static_cast<uint8_t>(arg);
      // The size is predicted and the kept length follows from it (1, 2); both stored (0).
      uint64_t size = capture_size.next(), len = capture_len.next();
      const bool string = repeats && expected.is_string_code(k, size);
      if (string) {
        if (const uint64_t repeat = capture_repeat.next(); repeat != 0) {
          const auto earlier = recent_strings.use(bytes, repeat);
          if (!earlier || len != 0) return Error{"corrupt frame (bad string repeat)"};
          expected.learn_size(k, earlier->size(), out.ret_[i]);
          view.size = static_cast<uint32_t>(earlier->size());
          view.bytes = *earlier;
          out.add_capture(n_captures_total++, view);
          continue;
        }
      }
      const std::string_view rest = bytes.substr(bytes_used);
      if (predicted) {
        const auto decoded = expected.decode_size(k, size, out.ret_[i], rest);
        if (!decoded) return Error{"corrupt frame (string capture without its NUL)"};
        size = *decoded;
        len = size - static_cast<uint64_t>(unzigzag(len));
        expected.learn_size(k, size, out.ret_[i]);
      }
      if (size > UINT32_MAX) return Error{"corrupt frame (capture out of bounds)"};
      view.size = static_cast<uint32_t>(size);
      const bool blob = repeats && !string && len >= kMinRepeatBytes;
      if (blob) {
        if (const uint64_t repeat = capture_repeat.next(); repeat != 0) {
          const auto earlier = recent_blobs.use(bytes, repeat);
          if (!earlier || earlier->size() != len) return Error{"corrupt frame (bad capture repeat)"};
          view.bytes = *earlier;
          out.add_capture(n_captures_total++, view);
          continue;
        }
      }
      if (len > rest.size()) return Error{"corrupt frame (capture out of bounds)"};
      view.bytes = rest.substr(0, len);
      if (string) recent_strings.add(bytes_used, len);
      if (blob) recent_blobs.add(bytes_used, len);
      bytes_used += len;
      out.add_capture(n_captures_total++, view);
    }
  }
  out.capture_begin_[count] = static_cast<uint32_t>(n_captures_total);
  for (auto* column : {&tid, &pid_delta, &cpu, &nr, &arg_count, &state, &comm_index, &capture_count, &capture_arg,
                       &capture_size, &capture_len, &capture_repeat, &enter_column, &duration, &ret}) {
    if (column->failed() || !column->at_end()) return Error{"corrupt frame (column length mismatch)"};
  }
  if (has_container && (container.failed() || !container.at_end()))
    return Error{"corrupt frame (column length mismatch)"};
  if (bytes_used != bytes.size()) return Error{"corrupt frame (column length mismatch)"};

  // Arguments, all decoded now (old files are read rarely, and never in bulk
  // by the aggregations that skip arguments).
  const auto codes = text(batch.getArgCode());
  uint64_t differences = arg_total;  // encodings 0 and 1: one per argument
  if (repeats) {
    // Every code is below 0x80, a one-byte varint: a byte per argument.
    if (codes.size() != arg_total) return Error{"corrupt frame (column length mismatch)"};
    differences = 0;
    for (const char c : codes) {
      if (static_cast<uint8_t>(c) >= kArgCodes)
        return Error{"corrupt frame (argument code " + std::to_string(static_cast<uint8_t>(c)) + ")"};
      differences += static_cast<uint8_t>(c) >= kArgFromPrevious ? 1 : 0;
    }
  }
  const auto values = text(batch.getArgs());
  if (count_varints(values) != static_cast<int64_t>(differences)) return Error{"corrupt frame (column length mismatch)"};

  out.args_.resize(static_cast<size_t>(count) * 6);
  std::unordered_map<uint32_t, SyscallArgs> recent_args;
  RecentAddresses addresses;
  VarintReader code_reader(codes), value_reader(values);
  for (size_t i = 0; i < count; ++i) {
    SyscallArgs& recent = recent_args[out.nr_[i]];
    uint64_t* args = &out.args_[i * 6];
    const unsigned n = out.arg_count_[i];
    for (unsigned a = 0; a < n; ++a) {
      RecentValues& r = recent[a];
      if (!repeats) {
        r[0] += static_cast<uint64_t>(unzigzag(value_reader.next()));
        args[a] = r[0];
        continue;
      }
      const uint64_t code = code_reader.next();
      if (code < kRecentArgs) {
        promote(r, code);
      } else {
        const uint64_t base = code == kArgFromPrevious ? r[0] : addresses.get(code - kArgFromAddress);
        push_front(r, base + static_cast<uint64_t>(unzigzag(value_reader.next())));
      }
      args[a] = r[0];
      addresses.note(r[0]);
    }
    std::fill(args + n, args + 6, uint64_t{0});
    if (repeats) addresses.note(static_cast<uint64_t>(out.ret_[i]));
  }
  out.args_pending_ = false;
  return {};
}

}  // namespace traceloop::format::detail
