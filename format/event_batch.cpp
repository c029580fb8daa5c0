#include "format/event_batch.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>
#include <unordered_map>

#include "format/event_batch_legacy.h"
#include "format/frame_codec.h"
#include "format/varint.h"
#include "format/zstd_codec.h"
#include "trace.capnp.h"

namespace traceloop::format {

using detail::unzigzag;
using detail::VarintReader;
using detail::zigzag;

namespace {

// Syscall numbers below this use a flat table for the per-syscall
// predictions; larger (hostile or exotic) numbers use a map.
constexpr uint32_t kFlatSyscallTable = 1024;
// A thread's name is at most 15 bytes on Linux; a longer one in a notice is a
// damaged or hostile file.
constexpr size_t kMaxNoticeComm = 64;

// The column encoding written (EventBatch.columnEncoding): predicted
// columns, captures seen before by reference, arguments coded, captured
// bytes grouped by syscall argument, times and results by syscall. Earlier
// encodings are read by event_batch_legacy.cpp.
using detail::kColumnsGrouped;
using detail::kColumnsParted;

// Which arguments an event captured. Events of one syscall nearly always
// capture the same arguments (given success or failure), so the encoder
// predicts the shape from the previous event with the same syscall number and
// outcome, and a correct prediction costs one zero byte.
struct CaptureShape {
  uint8_t count = 0;
  std::array<uint8_t, 6> args{};
  friend bool operator==(const CaptureShape&, const CaptureShape&) = default;
};

// Two's complement arithmetic without signed overflow: hostile columns may
// hold any value.
int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t wrapping_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

// Argument values are predicted from two memories:
// the last distinct values of the same argument of the same syscall number
// (fds, flags, buffers used again: a hit is the index alone), and the last
// address-like values of any argument or return value of the batch (a path
// stat'ed, then opened; an mmap'ed region, then mprotect'ed: a miss is the
// difference from the nearest of them).
constexpr uint32_t kRecentArgs = 4;
constexpr uint32_t kRecentAddresses = 16;
constexpr uint64_t kArgFromPrevious = kRecentArgs;             // code: difference from the last value
constexpr uint64_t kArgFromAddress = kRecentArgs + 1;          // + i: difference from recent address i
constexpr uint64_t kArgCodes = kArgFromAddress + kRecentAddresses;

// Values that look like user-space addresses (not small numbers, not -errno
// or AT_FDCWD sign-extended).
bool is_address_like(uint64_t v) { return v >= 0x10000 && v < (uint64_t{1} << 56); }

// Eight bytes of a column at `p`, byte k in bits 8k..8k+7.
uint64_t load_word(const char* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof word);
  if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
  return word;
}
constexpr uint64_t kByteTops = 0x8080808080808080ull;
constexpr uint64_t bytes_of(uint8_t b) { return 0x0101010101010101ull * b; }
// The top bit of each byte of `word` that is `bound` or more (bound < 0x80).
constexpr uint64_t bytes_at_least(uint64_t word, uint8_t bound) {
  // No byte borrows from the next: each is 0x80 or more before the subtraction.
  return (((word | kByteTops) - bytes_of(bound)) | word) & kByteTops;
}

// The argument codes column, one byte per argument: the largest code when
// one is kArgCodes or more, else 0.
uint8_t check_arg_codes(std::string_view codes) {
  uint64_t bad = 0;
  size_t at = 0;
  for (; codes.size() - at >= 8; at += 8) bad |= bytes_at_least(load_word(codes.data() + at), kArgCodes);
  for (; at < codes.size(); ++at) bad |= static_cast<uint8_t>(codes[at]) >= kArgCodes ? 1 : 0;
  if (bad == 0) return 0;
  uint8_t largest = 0;
  for (const char c : codes) largest = std::max(largest, static_cast<uint8_t>(c));
  return largest;
}
// How many of the (checked) codes take a value of the args column.
uint64_t count_arg_differences(std::string_view codes) {
  uint64_t count = 0;
  size_t at = 0;
  for (; codes.size() - at >= 8; at += 8)
    count += detail::count_top_bits(bytes_at_least(load_word(codes.data() + at), kArgFromPrevious));
  for (; at < codes.size(); ++at) count += static_cast<uint8_t>(codes[at]) >= kArgFromPrevious ? 1 : 0;
  return count;
}

class RecentAddresses {
 public:
  // i = 0 is the most recent.
  uint64_t get(uint64_t i) const { return values_[(head_ - 1 - i) % kRecentAddresses]; }
  void note(uint64_t v) {
    if (is_address_like(v)) values_[head_++ % kRecentAddresses] = v;
  }

 private:
  std::array<uint64_t, kRecentAddresses> values_{};
  uint32_t head_ = 0;
};

uint64_t distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

// Per syscall number, per argument, the last distinct values, most recent
// first. Apart from the
// other predictions: a reader decodes arguments only when asked for them.
using RecentValues = std::array<uint64_t, kRecentArgs>;
using SyscallArgs = std::array<RecentValues, 6>;

// What a batch remembers per syscall number. A batch uses a few dozen
// numbers: entries exist for those only, found from a table of 2-byte slots
// and the slots' pointers (indexing the deque itself costs more) rather
// than 1024 entries cleared per batch. The table stays small: a daemon
// keeps an open batch for every container it tracks, under budgets as small
// as 32 KiB, and a batch holds two of these.
// References stay valid as it grows (a deque).
template <typename T>
class PerSyscall {
 public:
  [[gnu::always_inline]] T& operator[](uint32_t nr) {
    if (nr >= kFlatSyscallTable) [[unlikely]] return other_[nr];  // hostile or exotic numbers
    const uint16_t slot = slot_[nr];
    if (slot == 0) [[unlikely]] return add(nr);
    return *entries_[slot - 1];
  }

  // Beyond sizeof: the entries (a deque allocates at least 512 bytes a block)
  // and their pointers.
  size_t memory_bytes() const {
    return used_.size() * std::max<size_t>(sizeof(T), 64) + 512 + entries_.capacity() * sizeof(T*) +
           other_.size() * (sizeof(T) + 32);
  }

 private:
  [[gnu::noinline]] T& add(uint32_t nr) {
    T* entry = &used_.emplace_back();
    entries_.push_back(entry);
    slot_[nr] = static_cast<uint16_t>(entries_.size());
    return *entry;
  }

  std::array<uint16_t, kFlatSyscallTable> slot_{};  // 1 + index into entries_; 0: none yet
  std::vector<T*> entries_;                          // into used_
  std::deque<T> used_;
  std::unordered_map<uint32_t, T> other_;
};
using RecentArgs = PerSyscall<SyscallArgs>;

// Where the first NUL of `s` is (npos: none). Paths are short: most end in
// the first word or two, found without a call to memchr.
size_t find_nul(std::string_view s) {
  size_t at = 0;
  for (int words = 0; words < 4 && s.size() - at >= 8; ++words, at += 8) {
    const uint64_t word = load_word(s.data() + at);
    if (const uint64_t zeros = (word - bytes_of(1)) & ~word & kByteTops; zeros != 0)
      return at + static_cast<size_t>(__builtin_ctzll(zeros)) / 8;
  }
  const size_t nul = s.substr(at).find('\0');
  return nul == std::string_view::npos ? nul : at + nul;
}

// What the encoder and the decoder remember about a syscall number within a
// batch; both update it identically, event by event.
struct SyscallPrediction {
  uint8_t arg_count = 6;
  std::array<CaptureShape, 2> shape{};  // [failed]
  int64_t last_ret = 0;
  // Per capture position: the previous event's capture there had the size
  // of its return value.
  std::array<bool, 6> size_is_ret{};
  // 1 + the index of this number among the batch's syscall
  // numbers by first event, whose part of the per-syscall columns is its own.
  uint32_t columns_part = 0;
  // Per argument: 1 + the capture group its bytes go to, 0 until
  // the batch's first capture of it. Like data sits together (statx results,
  // paths, read buffers): a compressor finds more in it.
  std::array<uint32_t, 6> capture_group{};

  // Addresses (mmap, brk) are predicted by the previous one; counts, fds and
  // errors are small by themselves.
  int64_t predict_ret() const { return last_ret >= -4095 && last_ret <= INT32_MAX ? 0 : last_ret; }

  // The size column of capture k. A read's data is as long as what it
  // returned and a write returns its count: when the previous capture at k
  // was so, the column holds the difference from the return value. Otherwise
  // 0 stands for a whole C string (a path), whose size is where its NUL is,
  // and anything else for zigzag(size) + 1. Deciding this never reads the
  // bytes of a capture that is not a string (structs a reader may skip).
  uint64_t encode_size(size_t k, const CaptureView& cap, int64_t ret) const {
    if (predicts_ret(k)) return zigzag(wrapping_sub(cap.size, ret));
    return is_whole_string(cap) ? 0 : zigzag(cap.size) + 1;
  }
  // `rest`: the capture bytes from this capture on. Nullopt: corrupt.
  std::optional<uint64_t> decode_size(size_t k, uint64_t value, int64_t ret, std::string_view rest) const {
    if (predicts_ret(k)) return static_cast<uint64_t>(wrapping_add(unzigzag(value), ret));
    if (value != 0) return static_cast<uint64_t>(unzigzag(value - 1));
    const size_t nul = find_nul(rest);
    if (nul == std::string_view::npos) return std::nullopt;
    return nul + 1;
  }
  void learn_size(size_t k, uint64_t size, int64_t ret) {
    if (k < size_is_ret.size()) size_is_ret[k] = static_cast<int64_t>(size) == ret;
  }
  // The size column's value says: a whole C string.
  bool is_string_code(size_t k, uint64_t value) const { return value == 0 && !predicts_ret(k); }

 private:
  bool predicts_ret(size_t k) const { return k < size_is_ret.size() && size_is_ret[k]; }
  // A C string kept whole: its only NUL ends it.
  static bool is_whole_string(const CaptureView& cap) {
    return !cap.bytes.empty() && cap.size == cap.bytes.size() && cap.bytes.find('\0') == cap.bytes.size() - 1;
  }
};

// What they remember about a thread: its last call's end time in time units
// (enter times are stored as the gap since then, the thread's time in user
// space) and CPU.
struct ThreadPrediction {
  uint64_t end = 0;
  uint32_t cpu = 0;
};

class Predictions {
 public:
  [[gnu::always_inline]] SyscallPrediction& syscall(uint32_t nr) { return syscalls_[nr]; }
  // Null when the thread has no earlier event in this batch.
  ThreadPrediction* thread(uint32_t tid) {
    if (tid == last_tid_ && last_thread_ != nullptr) return last_thread_;
    auto it = threads_.find(tid);
    if (it == threads_.end()) return nullptr;
    last_tid_ = tid;
    last_thread_ = &it->second;
    return last_thread_;
  }
  size_t memory_bytes() const {
    return syscalls_.memory_bytes() + threads_.size() * (sizeof(ThreadPrediction) + 32) +
           threads_.bucket_count() * sizeof(void*);
  }
  void update_thread(uint32_t tid, uint64_t end, uint32_t cpu) {
    if (tid != last_tid_ || last_thread_ == nullptr) {
      last_thread_ = &threads_[tid];  // references into the map stay valid
      last_tid_ = tid;
    }
    last_thread_->end = end;
    last_thread_->cpu = cpu;
  }

 private:
  PerSyscall<SyscallPrediction> syscalls_;
  std::unordered_map<uint32_t, ThreadPrediction> threads_;
  uint32_t last_tid_ = 0;
  ThreadPrediction* last_thread_ = nullptr;
};

// The last distinct captures of one kind in a batch (whole strings; other
// captures of at least kMinRepeatBytes), most recent first, as places in its
// captureBytes column. A path is often passed again soon (ls: statx,
// lgetxattr and getxattr of each file), and so are structures (the same
// sigaction, the stat of the same file): a repeat costs one byte instead of
// the bytes. Encoder and decoder update them identically.
constexpr size_t kMinRepeatBytes = 8;

class RecentCaptures {
 public:
  static constexpr uint32_t kSize = 8;
  // `group_bytes(g)`: the bytes of capture group g.
  // 1 + the index of `s` (moved to the front), or 0 when not there.
  template <typename GroupBytes>
  uint32_t find(const GroupBytes& group_bytes, std::string_view s) {
    for (uint32_t i = 0; i < count_; ++i) {
      const Entry& e = entries_[i];
      if (e.length == s.size() && group_bytes(e.group).compare(e.offset, s.size(), s) == 0) {
        promote(i);
        return i + 1;
      }
    }
    return 0;
  }
  // The entry `repeat` (1-based) names, moved to the front, into `found`;
  // false if none. (Not an optional: built on the stack and copied out, its
  // two halves were stored apart and loaded as one, which stalls the load.)
  template <typename GroupBytes>
  bool use(const GroupBytes& group_bytes, uint64_t repeat, std::string_view& found) {
    if (repeat == 0 || repeat > count_) return false;
    promote(static_cast<uint32_t>(repeat - 1));
    // Within the group: add() was given a place in it.
    found = std::string_view(group_bytes(entries_[0].group).data() + entries_[0].offset, entries_[0].length);
    return true;
  }
  void add(uint32_t group, size_t offset, size_t length) {
    count_ = std::min(count_ + 1, kSize);
    std::memmove(&entries_[1], &entries_[0], (kSize - 1) * sizeof(Entry));  // a constant size: a few moves
    entries_[0] = {group, static_cast<uint32_t>(offset), static_cast<uint32_t>(length)};
  }

 private:
  struct Entry {  // a frame is far below 4 GiB
    uint32_t group = 0;
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  void promote(uint32_t i) {
    const Entry e = entries_[i];
    for (; i > 0; --i) entries_[i] = entries_[i - 1];
    entries_[0] = e;
  }
  std::array<Entry, kSize> entries_{};
  uint32_t count_ = 0;
};

// Moves recent[i] to the front.
void promote(RecentValues& recent, uint64_t i) {
  const uint64_t v = recent[i];
  for (; i > 0; --i) recent[i] = recent[i - 1];
  recent[0] = v;
}
void push_front(RecentValues& recent, uint64_t v) {
  for (uint32_t i = kRecentArgs - 1; i > 0; --i) recent[i] = recent[i - 1];
  recent[0] = v;
}

// A column a decoder reads in parts: enterGap, duration and retChange hold a
// part per syscall number (perSyscallSizes).
class PartedColumn {
 public:
  explicit PartedColumn(std::string_view whole) : whole_(whole) {}
  // The next part is the next `size` bytes; false if the column is shorter.
  bool add_part(uint64_t size) {
    if (size > whole_.size() - used_) return false;
    parts_.emplace_back(whole_.substr(used_, size));
    used_ += size;
    return true;
  }
  bool whole_in_parts() const { return used_ == whole_.size(); }
  uint32_t parts() const { return static_cast<uint32_t>(parts_.size()); }
  // Each part is read a value at a time, in turn with the parts of other
  // syscalls: too many streams for the hardware to see, so each read asks
  // for the part's next cache line itself, which then comes in while the
  // events before its use are decoded.
  [[gnu::always_inline]] uint64_t next(uint32_t part) {
    VarintReader& reader = parts_[part];
    reader.prefetch_next_line();
    return reader.next();
  }
  bool all_read() const {
    return std::all_of(parts_.begin(), parts_.end(), [](const VarintReader& r) { return !r.failed() && r.at_end(); });
  }

 private:
  std::string_view whole_;
  size_t used_ = 0;
  std::vector<VarintReader> parts_;
};

// The values of the columns with one per event (but the per-syscall ones),
// for a block of events: small enough to stay in the L1 cache.
struct BlockColumns {
  static constexpr size_t kEvents = 128;
  static constexpr size_t kSize = kEvents + VarintReader::kSlack;
  uint64_t tid[kSize], pid_delta[kSize], nr[kSize], cpu[kSize], arg_count[kSize], state[kSize], comm_index[kSize],
      container[kSize], capture_count[kSize];
};

bool is_failure(uint8_t state, int64_t ret) { return state == 0 && ret < 0 && ret >= -4095; }

// An encoder column: bytes appended one varint at a time, twenty and more
// per event. std::string's appends are calls (its members are instantiated
// in the library, not inlined here); these are a compare and a store.
class ByteColumn {
 public:
  ByteColumn() = default;
  ByteColumn(ByteColumn&&) noexcept = default;
  ByteColumn& operator=(ByteColumn&&) noexcept = default;
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  std::string_view view() const { return {data_.get(), size_}; }
  [[gnu::always_inline]] void push(char c) {
    if (size_ == capacity_) [[unlikely]] grow(1);
    data_[size_++] = c;
  }
  void append(const char* bytes, size_t n) {
    if (capacity_ - size_ < n) grow(n);
    std::memcpy(data_.get() + size_, bytes, n);
    size_ += n;
  }

 private:
  [[gnu::noinline]] void grow(size_t more) {
    const size_t capacity = std::max<size_t>({64, capacity_ * 2, size_ + more});
    auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ != 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = capacity;
  }
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// detail::put_varint's bytes; most values of the columns are predicted well
// and fit one byte.
[[gnu::always_inline]] inline void put_varint(ByteColumn& out, uint64_t v) {
  if (v < 0x80) [[likely]] {
    out.push(static_cast<char>(v));
    return;
  }
  char buf[10];
  out.append(buf, detail::encode_varint(v, buf));
}
using detail::put_varint;

}  // namespace

struct EventBatchBuilder::Columns {
  uint32_t count = 0;
  uint64_t time_unit_ns = 1;
  uint64_t base_enter_ns = 0;
  uint64_t prev_enter = 0;  // in time units, as the thread predictions
  uint32_t prev_tid = 0;
  ByteColumn tid, pid_delta, cpu, nr, args, arg_count, state, comm_index, container_index, capture_shape,
      capture_arg, capture_size, capture_excess, capture_repeat, arg_code;
  std::vector<std::string> capture_groups;  // captured bytes, by group in order of first use
  size_t capture_bytes = 0;                 // their total
  // enterGap, duration and retChange: one part per syscall number, in order
  // of first use; times and results of one call are alike from call to call.
  struct SyscallColumns {
    ByteColumn enter_gap, duration, ret;
  };
  std::vector<SyscallColumns> per_syscall;
  size_t per_syscall_bytes = 0;  // their total
  bool any_container = false;
  std::vector<std::string> comms;
  std::unordered_map<std::string, uint32_t> comm_ids;
  std::string last_comm;
  uint32_t last_comm_id = 0;
  Predictions predictions;
  RecentCaptures recent_strings, recent_blobs;
  RecentArgs recent_args;
  RecentAddresses recent_addresses;
  struct Loss {
    uint32_t before;
    LossMarker marker;
  };
  std::vector<Loss> losses;
  // Notices wait here one after another, as calls do in their columns (see
  // put_notice): a workload of short processes brings two per process (an
  // exit, a SIGCHLD), and kept as objects they would outweigh its calls in
  // a small history's open batch.
  std::string notice_bytes;
  uint32_t notice_count = 0;
  uint64_t first_ns = 0, last_ns = 0, lost = 0, overwritten = 0;
  // Where end_capture_part() ended parts: after `events` events, with the
  // capture groups this large.
  struct PartEnd {
    uint32_t events;
    std::vector<size_t> group_sizes;
  };
  std::vector<PartEnd> part_ends;

  size_t raw_bytes() const {
    return per_syscall_bytes + tid.size() + pid_delta.size() + cpu.size() + nr.size() +
           args.size() + arg_count.size() + state.size() + comm_index.size() +
           container_index.size() + capture_shape.size() + capture_arg.size() + capture_size.size() +
           capture_excess.size() + capture_repeat.size() + capture_bytes + arg_code.size() + comms.size() * 24 +
           losses.size() * 48 + notice_bytes.size() + notice_count * 24;
  }

  size_t memory_bytes() const {
    auto heap = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
    size_t n = sizeof(Columns) + predictions.memory_bytes() + recent_args.memory_bytes() + heap(last_comm);
    for (const ByteColumn* s : {&tid, &pid_delta, &cpu, &nr, &args, &arg_count, &state, &comm_index, &container_index,
                                &capture_shape, &capture_arg, &capture_size, &capture_excess, &capture_repeat,
                                &arg_code})
      n += s->capacity();
    n += capture_groups.capacity() * sizeof(std::string);
    for (const auto& g : capture_groups) n += heap(g);
    n += per_syscall.capacity() * sizeof(SyscallColumns);
    for (const auto& p : per_syscall) n += p.enter_gap.capacity() + p.duration.capacity() + p.ret.capacity();
    n += comms.capacity() * sizeof(std::string) + comm_ids.size() * (sizeof(std::string) + 32);
    for (const auto& s : comms) n += 2 * heap(s);
    n += losses.capacity() * sizeof(Loss);
    n += heap(notice_bytes);
    return n;
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

EventBatchBuilder::EventBatchBuilder(uint32_t max_events, uint32_t max_raw_bytes, uint32_t time_unit_ns)
    : columns_(std::make_unique<Columns>()), max_events_(max_events), max_raw_bytes_(max_raw_bytes) {
  set_time_unit(time_unit_ns);
}

void EventBatchBuilder::set_time_unit(uint32_t time_unit_ns) {
  // Events already added were counted in the old unit.
  if (columns_->count == 0) columns_->time_unit_ns = std::clamp<uint32_t>(time_unit_ns, 1, kMaxTimeUnitNs);
}
uint32_t EventBatchBuilder::time_unit() const { return static_cast<uint32_t>(columns_->time_unit_ns); }
EventBatchBuilder::~EventBatchBuilder() = default;
EventBatchBuilder::EventBatchBuilder(EventBatchBuilder&&) noexcept = default;
EventBatchBuilder& EventBatchBuilder::operator=(EventBatchBuilder&&) noexcept = default;

uint32_t EventBatchBuilder::event_count() const { return columns_->count; }
size_t EventBatchBuilder::raw_bytes() const { return columns_->raw_bytes(); }
size_t EventBatchBuilder::memory_bytes() const { return columns_->memory_bytes(); }
bool EventBatchBuilder::empty() const {
  return columns_->count == 0 && columns_->losses.empty() && columns_->notice_count == 0;
}
bool EventBatchBuilder::should_flush() const {
  return columns_->count >= max_events_ || columns_->raw_bytes() >= max_raw_bytes_;
}

void EventBatchBuilder::add(const Event& e) {
  Columns& c = *columns_;
  // Times in units: enter and exit are floored on their own, so the duration
  // is the difference of the floored times and order is kept.
  const uint64_t unit = c.time_unit_ns;
  const uint64_t enter = e.enter_ns / unit;
  const uint64_t duration = e.state == CallState::returned ? e.exit_ns / unit - enter : 0;
  if (c.count == 0) {
    c.base_enter_ns = enter * unit;
    c.prev_enter = enter;
    c.first_ns = enter * unit;
  }
  c.last_ns = std::max(c.last_ns, enter * unit);
  SyscallPrediction& predicted = c.predictions.syscall(e.nr);
  if (predicted.columns_part == 0) {
    c.per_syscall.emplace_back();
    predicted.columns_part = static_cast<uint32_t>(c.per_syscall.size());
  }
  Columns::SyscallColumns& own = c.per_syscall[predicted.columns_part - 1];
  const size_t own_bytes = own.enter_gap.size() + own.duration.size() + own.ret.size();
  const ThreadPrediction* thread = c.predictions.thread(e.tid);
  const uint64_t since = thread != nullptr ? thread->end : c.prev_enter;
  put_varint(own.enter_gap, zigzag(static_cast<int64_t>(enter - since)));
  put_varint(c.cpu, thread != nullptr && thread->cpu == e.cpu ? 0 : uint64_t{e.cpu} + 1);
  c.prev_enter = enter;
  put_varint(own.duration, duration);
  put_varint(c.tid, zigzag(static_cast<int64_t>(e.tid) - static_cast<int64_t>(c.prev_tid)));
  c.prev_tid = e.tid;
  put_varint(c.pid_delta, zigzag(static_cast<int64_t>(e.tid) - static_cast<int64_t>(e.pid)));
  c.predictions.update_thread(e.tid, enter + duration, e.cpu);
  put_varint(c.nr, e.nr);
  const uint8_t arg_count = std::min<uint8_t>(e.arg_count, 6);
  put_varint(c.arg_count, arg_count == predicted.arg_count ? 0 : arg_count + 1);
  predicted.arg_count = arg_count;
  SyscallArgs& recent_args = c.recent_args[e.nr];
  for (unsigned i = 0; i < arg_count; ++i) {
    const uint64_t v = e.args[i];
    RecentValues& recent = recent_args[i];
    const auto hit = std::find(recent.begin(), recent.end(), v);
    if (hit != recent.end()) {
      put_varint(c.arg_code, static_cast<uint64_t>(hit - recent.begin()));
      promote(recent, static_cast<uint64_t>(hit - recent.begin()));
    } else {
      uint64_t code = kArgFromPrevious, base = recent[0], best = distance(v, base);
      for (uint64_t k = 0; k < kRecentAddresses && best != 0; ++k) {
        const uint64_t address = c.recent_addresses.get(k);
        if (distance(v, address) < best) {
          code = kArgFromAddress + k;
          base = address;
          best = distance(v, address);
        }
      }
      put_varint(c.arg_code, code);
      put_varint(c.args, zigzag(static_cast<int64_t>(v - base)));
      push_front(recent, v);
    }
    c.recent_addresses.note(v);
  }
  put_varint(own.ret, zigzag(wrapping_sub(e.ret, predicted.predict_ret())));
  c.per_syscall_bytes += own.enter_gap.size() + own.duration.size() + own.ret.size() - own_bytes;
  predicted.last_ret = e.ret;
  c.recent_addresses.note(static_cast<uint64_t>(e.ret));
  put_varint(c.state, static_cast<uint8_t>(e.state));
  put_varint(c.comm_index, c.comm_id(e.comm));
  put_varint(c.container_index, e.container);
  c.any_container |= e.container != 0;

  CaptureShape shape;
  const bool fits = e.captures.size() <= shape.args.size();
  if (fits) {
    shape.count = static_cast<uint8_t>(e.captures.size());
    for (size_t k = 0; k < e.captures.size(); ++k) shape.args[k] = e.captures[k].arg;
  }
  CaptureShape& expected = predicted.shape[is_failure(static_cast<uint8_t>(e.state), e.ret)];
  if (fits && shape == expected) {
    put_varint(c.capture_shape, 0);
  } else {
    put_varint(c.capture_shape, e.captures.size() + 1);
    for (const auto& cap : e.captures) put_varint(c.capture_arg, cap.arg);
    if (fits) expected = shape;
  }
  for (size_t k = 0; k < e.captures.size(); ++k) {
    const CaptureView& cap = e.captures[k];
    const uint64_t size_code = predicted.encode_size(k, cap, e.ret);
    put_varint(c.capture_size, size_code);
    const bool string = predicted.is_string_code(k, size_code);
    predicted.learn_size(k, cap.size, e.ret);
    put_varint(c.capture_excess, zigzag(static_cast<int64_t>(cap.size) - static_cast<int64_t>(cap.bytes.size())));
    uint32_t& group_slot = predicted.capture_group[std::min<uint8_t>(cap.arg, 5)];  // a reader refuses arg > 5
    if (group_slot == 0) {
      c.capture_groups.emplace_back();
      group_slot = static_cast<uint32_t>(c.capture_groups.size());
    }
    std::string& group = c.capture_groups[group_slot - 1];
    if (string || cap.bytes.size() >= kMinRepeatBytes) {
      RecentCaptures& recent = string ? c.recent_strings : c.recent_blobs;
      const uint32_t repeat =
          recent.find([&](uint32_t g) { return std::string_view(c.capture_groups[g]); }, cap.bytes);
      put_varint(c.capture_repeat, repeat);
      if (repeat != 0) continue;
      recent.add(group_slot - 1, group.size(), cap.bytes.size());
    }
    group.append(cap.bytes);
    c.capture_bytes += cap.bytes.size();
  }
  ++c.count;
}

void EventBatchBuilder::add_loss(const LossMarker& loss) {
  Columns& c = *columns_;
  c.losses.push_back({c.count, loss});
  c.lost += loss.lost;
  c.overwritten += loss.overwritten;
}

namespace {

// A notice as it waits in the open batch: its position and fields as
// varints, then its comm and siginfo as length and bytes.
void put_notice(std::string& out, uint32_t before, const TaskNotice& n) {
  for (const uint64_t v : {uint64_t{before}, uint64_t{n.kind == TaskNotice::Kind::signal}, n.at_ns, uint64_t{n.pid},
                           uint64_t{n.tid}, uint64_t{n.cpu}, uint64_t{n.container}, zigzag(n.signo),
                           zigzag(n.exit_status), uint64_t{n.group_dead}})
    put_varint(out, v);
  const std::string_view siginfo = n.siginfo.substr(0, TaskNotice::kSiginfoBytes);
  for (const std::string_view bytes : {n.comm, siginfo}) {
    put_varint(out, bytes.size());
    out.append(bytes);
  }
}

// Reads put_notice's bytes back (written by this process: no hostile input).
class NoticeBytesReader {
 public:
  explicit NoticeBytesReader(std::string_view bytes) : bytes_(bytes) {}
  uint64_t varint() {
    uint64_t v = 0;
    for (unsigned shift = 0; at_ < bytes_.size() && shift < 64; shift += 7) {
      const auto byte = static_cast<uint8_t>(bytes_[at_++]);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    return v;
  }
  std::string_view bytes() {
    const size_t n = std::min<size_t>(varint(), bytes_.size() - at_);
    const std::string_view out = bytes_.substr(at_, n);
    at_ += n;
    return out;
  }

 private:
  std::string_view bytes_;
  size_t at_ = 0;
};

}  // namespace

void EventBatchBuilder::add_notice(const TaskNotice& notice) {
  Columns& c = *columns_;
  put_notice(c.notice_bytes, c.count, notice);
  ++c.notice_count;
}

namespace {

capnp::Data::Reader as_data(std::string_view s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

}  // namespace

void EventBatchBuilder::to_message(capnp::MessageBuilder& message, const std::vector<CapturePart>* parts) const {
  const Columns& c = *columns_;
  auto batch = message.initRoot<schema::EventBatch>();
  batch.setCount(c.count);
  batch.setColumnEncoding(parts != nullptr ? kColumnsParted : kColumnsGrouped);
  batch.setBaseEnterNs(c.base_enter_ns);
  if (c.time_unit_ns != 1) batch.setTimeUnitNs(static_cast<uint32_t>(c.time_unit_ns));
  {
    std::string enter_gap, duration, ret, sizes;
    for (const auto& part : c.per_syscall) {
      enter_gap += part.enter_gap.view();
      duration += part.duration.view();
      ret += part.ret.view();
      for (const ByteColumn* column : {&part.enter_gap, &part.duration, &part.ret}) put_varint(sizes, column->size());
    }
    batch.setEnterGap(as_data(enter_gap));
    batch.setDuration(as_data(duration));
    batch.setRetChange(as_data(ret));
    batch.setPerSyscallSizes(as_data(sizes));
  }
  batch.setTid(as_data(c.tid.view()));
  batch.setPidDelta(as_data(c.pid_delta.view()));
  batch.setCpuChange(as_data(c.cpu.view()));
  batch.setSyscallNr(as_data(c.nr.view()));
  batch.setArgs(as_data(c.args.view()));
  batch.setArgCode(as_data(c.arg_code.view()));
  batch.setArgCountChange(as_data(c.arg_count.view()));
  batch.setState(as_data(c.state.view()));
  batch.setCommIndex(as_data(c.comm_index.view()));
  auto comms = batch.initComms(static_cast<unsigned>(c.comms.size()));
  for (unsigned i = 0; i < c.comms.size(); ++i) comms.set(i, c.comms[i]);
  if (c.any_container) batch.setContainerIndex(as_data(c.container_index.view()));
  batch.setCaptureShape(as_data(c.capture_shape.view()));
  batch.setCaptureArg(as_data(c.capture_arg.view()));
  batch.setCaptureSizeChange(as_data(c.capture_size.view()));
  batch.setCaptureExcess(as_data(c.capture_excess.view()));
  batch.setCaptureRepeat(as_data(c.capture_repeat.view()));
  if (parts != nullptr) {
    // Per part: its events, its groups, the bytes of each (see the schema).
    std::string column;
    for (const CapturePart& part : *parts) {
      put_varint(column, part.events);
      put_varint(column, part.pieces.size());
      for (const size_t piece : part.pieces) put_varint(column, piece);
    }
    batch.setCaptureParts(as_data(column));
  } else {
    std::string group_sizes;
    for (const auto& group : c.capture_groups) put_varint(group_sizes, group.size());
    batch.setCaptureGroupSizes(as_data(group_sizes));
    auto capture_bytes = batch.initCaptureBytes(static_cast<unsigned>(c.capture_bytes));
    size_t at = 0;
    for (const auto& group : c.capture_groups) {
      std::memcpy(capture_bytes.begin() + at, group.data(), group.size());
      at += group.size();
    }
  }
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
  if (c.notice_count != 0) {
    auto notices = batch.initNotices(c.notice_count);
    NoticeBytesReader in(c.notice_bytes);
    for (unsigned i = 0; i < c.notice_count; ++i) {
      auto out = notices[i];
      out.setBeforeEvent(static_cast<uint32_t>(in.varint()));
      const bool signal = in.varint() != 0;
      out.setAtNs(in.varint());
      out.setPid(static_cast<uint32_t>(in.varint()));
      out.setTid(static_cast<uint32_t>(in.varint()));
      out.setCpu(static_cast<uint32_t>(in.varint()));
      out.setContainerIndex(static_cast<uint32_t>(in.varint()));
      const auto signo = static_cast<int32_t>(unzigzag(in.varint()));
      const auto exit_status = static_cast<int32_t>(unzigzag(in.varint()));
      const bool group_dead = in.varint() != 0;
      const std::string comm(in.bytes());  // Cap'n Proto's text wants its NUL
      out.setComm(comm.c_str());
      const std::string_view siginfo = in.bytes();
      if (signal) {
        auto sig = out.initSignal();
        sig.setSigno(signo);
        sig.setSiginfo(as_data(siginfo));
      } else {
        auto exit = out.initExit();
        exit.setStatus(exit_status);
        exit.setGroupDead(group_dead);
      }
    }
  }
}

size_t EventBatchBuilder::capture_bytes() const { return columns_->capture_bytes; }
std::vector<std::string_view> EventBatchBuilder::capture_groups() const {
  return {columns_->capture_groups.begin(), columns_->capture_groups.end()};
}

void EventBatchBuilder::end_capture_part() {
  Columns& c = *columns_;
  if (c.count == (c.part_ends.empty() ? 0 : c.part_ends.back().events)) return;  // no events since the last
  Columns::PartEnd end{c.count, {}};
  for (const auto& group : c.capture_groups) end.group_sizes.push_back(group.size());
  c.part_ends.push_back(std::move(end));
}

std::vector<EventBatchBuilder::CapturePart> EventBatchBuilder::capture_parts(
    const std::vector<bool>& whole_groups) const {
  const Columns& c = *columns_;
  std::vector<Columns::PartEnd> ends = c.part_ends;
  if (ends.empty() || ends.back().events != c.count) {
    ends.push_back({c.count, {}});
    for (const auto& group : c.capture_groups) ends.back().group_sizes.push_back(group.size());
  }
  std::vector<CapturePart> parts;
  uint32_t events = 0;
  const std::vector<size_t>* before = nullptr;
  for (const auto& end : ends) {
    CapturePart& part = parts.emplace_back();
    part.events = end.events - events;
    for (size_t g = 0; g < end.group_sizes.size(); ++g) {
      const bool earlier = before != nullptr && g < before->size();
      // A small group is not worth a piece per part (each costs the
      // compressor a new context): all of it goes with its first capture.
      if (g < whole_groups.size() && whole_groups[g]) {
        part.pieces.push_back(earlier ? 0 : c.capture_groups[g].size());
        continue;
      }
      part.pieces.push_back(end.group_sizes[g] - (earlier ? (*before)[g] : 0));
    }
    events = end.events;
    before = &end.group_sizes;
  }
  return parts;
}

EventBatchBuilder::PartedMessages EventBatchBuilder::finish_parted(const std::vector<bool>& whole_groups) {
  const Columns& c = *columns_;
  const std::vector<CapturePart> parts = capture_parts(whole_groups);
  PartedMessages out;
  out.event_count = c.count;
  {
    capnp::MallocMessageBuilder message(std::max<size_t>(1024, (c.raw_bytes() - c.capture_bytes) / 8 + 64));
    to_message(message, &parts);
    const kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
    out.batch.assign(words.asChars().begin(), words.asChars().size());
  }
  std::vector<size_t> taken(c.capture_groups.size(), 0);  // of each group, by the parts before
  for (const CapturePart& part : parts) {
    size_t size = 0;
    for (const size_t piece : part.pieces) size += piece;
    capnp::MallocMessageBuilder message(size / 8 + 64);
    auto root = message.initRoot<schema::CaptureBytes>();
    root.setPart(static_cast<uint32_t>(out.parts.size()));
    auto bytes = root.initBytes(static_cast<unsigned>(size));
    size_t at = 0;
    for (size_t g = 0; g < part.pieces.size(); ++g) {
      std::memcpy(bytes.begin() + at, c.capture_groups[g].data() + taken[g], part.pieces[g]);
      taken[g] += part.pieces[g];
      at += part.pieces[g];
    }
    const kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
    out.parts.emplace_back(words.asChars().begin(), words.asChars().size());
  }
  reset();
  return out;
}

void EventBatchBuilder::reset() {
  const uint64_t unit = columns_->time_unit_ns;
  *columns_ = Columns();
  columns_->time_unit_ns = unit;
}

size_t EventBatchBuilder::message_words() const {
  const size_t raw = columns_->raw_bytes();
  return raw / 8 + raw / 64 + 1024;
}

EncodedFrame EventBatchBuilder::finish(ZstdCompressor& compressor) {
  const Columns& c = *columns_;
  detail::FrameMessage message(message_words());
  to_message(message.builder(), nullptr);
  EncodedFrame frame;
  frame.type = FrameType::events;
  frame.event_count = c.count;
  frame.first_ns = c.first_ns;
  frame.last_ns = c.last_ns;
  frame.lost = c.lost;
  frame.overwritten = c.overwritten;
  detail::encode_frame(FrameType::events, message, c.count, compressor, frame);
  reset();
  return frame;
}

// ------------------------------------------------------------------ decode --

void DecodedBatch::clear() {
  // The per-event columns are resized and every element rewritten by the
  // decoder: clearing them would only make resize() zero them first.
  container_.clear();
  // captures_ keeps its size: capture_begin_ says how much of it is this
  // batch's, and growing it again for every batch would rewrite it.
  losses_.clear();
  notices_.clear();
  arg_codes_ = arg_values_ = {};
  args_pending_ = false;
}

void DecodedBatch::decode_args() const {
  args_.resize(size() * 6);
  RecentArgs recent_args;
  RecentAddresses addresses;
  // decode_columns checked the codes: one byte per argument, each below
  // kArgCodes. They are read as the bytes they are, no varint decoding.
  const auto* code_bytes = reinterpret_cast<const uint8_t*>(arg_codes_.data());
  VarintReader values(arg_values_);
  uint64_t* out = args_.data();
  const size_t n_events = size();
  for (size_t i = 0; i < n_events; ++i, out += 6) {
    SyscallArgs& recent = recent_args[nr_[i]];
    const unsigned n = arg_count_[i];
    std::memset(out, 0, 6 * sizeof *out);  // beyond n: 0
    for (unsigned a = 0; a < n; ++a) {
      RecentValues& r = recent[a];
      const uint64_t code = *code_bytes++;
      if (code < kRecentArgs) {
        if (code != 0) promote(r, code);  // 0, the last value again: the most common
      } else {
        const uint64_t base = code == kArgFromPrevious ? r[0] : addresses.get(code - kArgFromAddress);
        push_front(r, base + static_cast<uint64_t>(unzigzag(values.next())));
      }
      out[a] = r[0];
      addresses.note(r[0]);
    }
    addresses.note(static_cast<uint64_t>(ret_[i]));
  }
  args_pending_ = false;
}

namespace detail {

// The columns of the encoding written today (kColumnsGrouped); comms and
// losses are decode_event_batch's.
class BatchDecoder {
 public:
  // Where a parted batch's (kColumnsParted) captured bytes are, once
  // gathered: the captureBytes and captureGroupSizes of the events before
  // `events_with_data`; the events after have none.
  struct Gathered {
    std::string_view bytes, group_sizes;
    uint32_t events_with_data = 0;
  };
  static Result<void> decode_columns(schema::EventBatch::Reader batch, uint32_t count, DecodedBatch& out,
                                     const Gathered* gathered = nullptr);
  static Result<Gathered> gather_parts(schema::EventBatch::Reader batch, uint32_t count, const CaptureFrames& frames,
                                       const ReaderLimits& limits, DecodedBatch& out);
};

Result<void> BatchDecoder::decode_columns(schema::EventBatch::Reader batch, uint32_t count, DecodedBatch& out,
                                          const Gathered* gathered) {
  auto text = [](capnp::Data::Reader d) { return std::string_view(reinterpret_cast<const char*>(d.begin()), d.size()); };
  VarintReader tid(text(batch.getTid())), pid_delta(text(batch.getPidDelta())),
      cpu(text(batch.getCpuChange())), nr(text(batch.getSyscallNr())),
      arg_count(text(batch.getArgCountChange())),
      state(text(batch.getState())), comm_index(text(batch.getCommIndex())),
      container(text(batch.getContainerIndex())),
      capture_count(text(batch.getCaptureShape())),
      capture_arg(text(batch.getCaptureArg())),
      capture_size(text(batch.getCaptureSizeChange())),
      capture_len(text(batch.getCaptureExcess())),
      capture_repeat(text(batch.getCaptureRepeat()));
  // Times and results: a part per syscall number.
  PartedColumn enter_column(text(batch.getEnterGap())), duration(text(batch.getDuration())),
      ret(text(batch.getRetChange()));
  uint32_t parts_used = 0;
  {
    VarintReader sizes(text(batch.getPerSyscallSizes()));
    while (!sizes.at_end()) {
      for (PartedColumn* column : {&enter_column, &duration, &ret})
        if (!column->add_part(sizes.next())) return Error{"corrupt frame (per-syscall sizes)"};
      if (sizes.failed()) return Error{"corrupt frame (per-syscall sizes)"};
    }
    for (const PartedColumn* column : {&enter_column, &duration, &ret})
      if (!column->whole_in_parts()) return Error{"corrupt frame (per-syscall sizes)"};
  }
  const bool has_container = batch.hasContainerIndex() && batch.getContainerIndex().size() > 0;
  const auto bytes = gathered != nullptr ? gathered->bytes : text(batch.getCaptureBytes());
  const uint32_t captures_until = gathered != nullptr ? gathered->events_with_data : count;
  out.captures_cut_from_ = captures_until;
  // Captures are views into it: the message outlives the batch's use (see event_batch.h).
  // Where each capture group's bytes are.
  auto& groups = out.capture_groups_;
  groups.clear();
  {
    VarintReader sizes(gathered != nullptr ? gathered->group_sizes : text(batch.getCaptureGroupSizes()));
    size_t begin = 0;
    while (!sizes.at_end()) {
      const uint64_t size = sizes.next();
      if (sizes.failed() || size > bytes.size() - begin) return Error{"corrupt frame (capture group sizes)"};
      groups.push_back({begin, static_cast<size_t>(size), 0});
      begin += size;
    }
    if (begin != bytes.size()) return Error{"corrupt frame (capture group sizes)"};
  }
  size_t groups_used = 0;
  const auto group_bytes = [&](uint32_t g) { return std::string_view(bytes.data() + groups[g].begin, groups[g].size); };

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

  const uint64_t unit = std::max<uint32_t>(batch.getTimeUnitNs(), 1);
  if (unit > kMaxTimeUnitNs) return Error{"corrupt frame (time unit of " + std::to_string(unit) + " ns)"};
  out.time_unit_ns_ = static_cast<uint32_t>(unit);
  Predictions predictions;
  RecentCaptures recent_strings, recent_blobs;
  uint64_t enter = batch.getBaseEnterNs() / unit;
  uint64_t arg_total = 0;
  uint32_t prev_tid = 0;
  size_t n_captures_total = 0;
  // Written through plain pointers: the vectors' own would be loaded again
  // after every byte stored (a uint8_t store may alias anything).
  uint64_t* const enter_out = out.enter_ns_.data();
  uint64_t* const duration_out = out.duration_ns_.data();
  uint32_t* const pid_out = out.pid_.data();
  uint32_t* const tid_out = out.tid_.data();
  uint32_t* const cpu_out = out.cpu_.data();
  uint32_t* const nr_out = out.nr_.data();
  int64_t* const ret_out = out.ret_.data();
  uint8_t* const state_out = out.state_.data();
  uint8_t* const arg_count_out = out.arg_count_.data();
  uint32_t* const comm_index_out = out.comm_index_.data();
  uint32_t* const container_out = out.container_.data();
  uint32_t* const capture_begin_out = out.capture_begin_.data();
  const size_t n_comms = out.comms_.size();
  CaptureView* captures_out = out.captures_.data();
  size_t captures_room = out.captures_.size();
  // The columns with a value per event are decoded a block of events ahead
  // (BlockColumns), where runs of one-byte values cost little; the checks
  // below still see every value in event order.
  BlockColumns block;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t j = i % BlockColumns::kEvents;
    if (j == 0) {
      const size_t n = std::min<size_t>(BlockColumns::kEvents, count - i);
      tid.next_n(block.tid, n);
      pid_delta.next_n(block.pid_delta, n);
      nr.next_n(block.nr, n);
      cpu.next_n(block.cpu, n);
      arg_count.next_n(block.arg_count, n);
      state.next_n(block.state, n);
      comm_index.next_n(block.comm_index, n);
      if (has_container) container.next_n(block.container, n);
      // Events without their captured bytes read nothing of the capture columns.
      capture_count.next_n(block.capture_count, i < captures_until ? std::min<size_t>(n, captures_until - i) : 0);
    }
    prev_tid = static_cast<uint32_t>(static_cast<int64_t>(prev_tid) + unzigzag(block.tid[j]));
    tid_out[i] = prev_tid;
    pid_out[i] = static_cast<uint32_t>(static_cast<int64_t>(prev_tid) - unzigzag(block.pid_delta[j]));
    const auto syscall_nr = static_cast<uint32_t>(block.nr[j]);
    nr_out[i] = syscall_nr;
    SyscallPrediction& expected = predictions.syscall(syscall_nr);
    if (expected.columns_part == 0) {
      if (parts_used == enter_column.parts()) return Error{"corrupt frame (per-syscall sizes)"};
      expected.columns_part = ++parts_used;
    }
    const uint32_t part = expected.columns_part - 1;
    const uint64_t duration_units = duration.next(part);
    duration_out[i] = duration_units * unit;
    const ThreadPrediction* thread = predictions.thread(prev_tid);
    enter = (thread != nullptr ? thread->end : enter) + static_cast<uint64_t>(unzigzag(enter_column.next(part)));
    const uint64_t cpu_change = block.cpu[j];
    if (cpu_change == 0 && thread == nullptr) return Error{"corrupt frame (cpu of an unseen thread)"};
    const uint32_t event_cpu = cpu_change == 0 ? thread->cpu : static_cast<uint32_t>(cpu_change - 1);
    cpu_out[i] = event_cpu;
    predictions.update_thread(prev_tid, enter + duration_units, event_cpu);
    enter_out[i] = enter * unit;
    uint64_t n_args = block.arg_count[j];
    n_args = n_args == 0 ? expected.arg_count : n_args - 1;
    if (n_args > 6) return Error{"corrupt frame (argument count " + std::to_string(n_args) + ")"};
    expected.arg_count = static_cast<uint8_t>(n_args);
    arg_total += n_args;
    const int64_t event_ret = wrapping_add(unzigzag(ret.next(part)), expected.predict_ret());
    ret_out[i] = event_ret;
    expected.last_ret = event_ret;
    const uint64_t st = block.state[j];
    if (st > 2) return Error{"corrupt frame (call state " + std::to_string(st) + ")"};
    const uint64_t ci = block.comm_index[j];
    if (ci >= n_comms) return Error{"corrupt frame (comm index out of range)"};
    comm_index_out[i] = static_cast<uint32_t>(ci);
    if (has_container) container_out[i] = static_cast<uint32_t>(block.container[j]);
    capture_begin_out[i] = static_cast<uint32_t>(n_captures_total);
    // The byte columns last: after a uint8_t store everything in memory is
    // loaded again.
    state_out[i] = static_cast<uint8_t>(st);
    arg_count_out[i] = static_cast<uint8_t>(n_args);
    if (i >= captures_until) continue;  // its captures frame is missing

    // The capture arguments: explicit, or (shape 0) those of the previous
    // event with the same syscall and outcome.
    uint64_t n_captures = block.capture_count[j];
    CaptureShape* shape = &expected.shape[is_failure(static_cast<uint8_t>(st), event_ret)];
    bool from_shape = false;
    if (n_captures == 0) {
      from_shape = true;
      n_captures = shape->count;
    } else {
      --n_captures;
      if (n_captures > shape->args.size()) shape = nullptr;  // too many to remember
      else shape->count = static_cast<uint8_t>(n_captures);
    }
    if (n_captures > 64) return Error{"corrupt frame (" + std::to_string(n_captures) + " captures in one event)"};
    if (n_captures > captures_room - n_captures_total) [[unlikely]] {
      captures_out = out.grow_captures(n_captures_total + n_captures);
      captures_room = out.captures_.size();
    }
    for (uint64_t k = 0; k < n_captures; ++k) {
      CaptureView& view = captures_out[n_captures_total++];
      uint64_t arg = 0;
      if (from_shape) {
        arg = shape->args[k];
      } else {
        arg = capture_arg.next();
        if (shape != nullptr) shape->args[k] = static_cast<uint8_t>(arg);
      }
      if (arg > 5) return Error{"corrupt frame (capture out of bounds)"};
      view.arg = static_cast<uint8_t>(arg);
      uint32_t& slot = expected.capture_group[arg];
      if (slot == 0) {
        if (groups_used == groups.size()) return Error{"corrupt frame (capture group sizes)"};
        slot = static_cast<uint32_t>(++groups_used);
      }
      const uint32_t group_index = slot - 1;
      auto& group = groups[group_index];
      // The size is predicted and the kept length follows from it.
      uint64_t size = capture_size.next(), len = capture_len.next();
      const bool string = expected.is_string_code(k, size);
      if (string) {
        if (const uint64_t repeat = capture_repeat.next(); repeat != 0) {
          if (!recent_strings.use(group_bytes, repeat, view.bytes) || len != 0)
            return Error{"corrupt frame (bad string repeat)"};
          expected.learn_size(k, view.bytes.size(), event_ret);
          view.size = static_cast<uint32_t>(view.bytes.size());
          continue;
        }
      }
      // The group's bytes from here on: begin + used stays within the column.
      const std::string_view rest(bytes.data() + group.begin + group.used, group.size - group.used);
      const auto decoded = expected.decode_size(k, size, event_ret, rest);
      if (!decoded) return Error{"corrupt frame (string capture without its NUL)"};
      size = *decoded;
      len = size - static_cast<uint64_t>(unzigzag(len));
      expected.learn_size(k, size, event_ret);
      if (size > UINT32_MAX) return Error{"corrupt frame (capture out of bounds)"};
      view.size = static_cast<uint32_t>(size);
      const bool blob = !string && len >= kMinRepeatBytes;
      if (blob) {
        if (const uint64_t repeat = capture_repeat.next(); repeat != 0) {
          if (!recent_blobs.use(group_bytes, repeat, view.bytes) || view.bytes.size() != len)
            return Error{"corrupt frame (bad capture repeat)"};
          continue;
        }
      }
      if (len > rest.size()) return Error{"corrupt frame (capture out of bounds)"};
      view.bytes = std::string_view(rest.data(), len);
      if (string) recent_strings.add(group_index, group.used, len);
      if (blob) recent_blobs.add(group_index, group.used, len);
      group.used += len;
    }
  }
  out.capture_begin_[count] = static_cast<uint32_t>(n_captures_total);
  for (auto* column : {&tid, &pid_delta, &cpu, &nr, &arg_count, &state, &comm_index}) {
    if (column->failed() || !column->at_end()) return Error{"corrupt frame (column length mismatch)"};
  }
  // The capture columns of events without their captured bytes stay unread.
  for (auto* column : {&capture_count, &capture_arg, &capture_size, &capture_len, &capture_repeat}) {
    if (column->failed() || (captures_until == count && !column->at_end()))
      return Error{"corrupt frame (column length mismatch)"};
  }
  for (const PartedColumn* column : {&enter_column, &duration, &ret})
    if (!column->all_read()) return Error{"corrupt frame (column length mismatch)"};
  if (parts_used != enter_column.parts()) return Error{"corrupt frame (per-syscall sizes)"};
  if (has_container && (container.failed() || !container.at_end()))
    return Error{"corrupt frame (column length mismatch)"};
  if (groups_used != groups.size()) return Error{"corrupt frame (capture group sizes)"};
  // (A cut batch's groups may hold bytes of the events after: see captureParts.)
  for (const auto& group : groups)
    if (group.used != group.size && captures_until == count) return Error{"corrupt frame (column length mismatch)"};

  // Arguments are decoded on first use (decode_args): checked here, so that
  // decoding them then cannot fail. Every code is below 0x80, a one-byte
  // varint: a byte per argument.
  const auto codes = text(batch.getArgCode());
  if (codes.size() != arg_total) return Error{"corrupt frame (column length mismatch)"};
  if (const auto largest = check_arg_codes(codes); largest >= kArgCodes)
    return Error{"corrupt frame (argument code " + std::to_string(largest) + ")"};
  const uint64_t differences = count_arg_differences(codes);
  out.arg_codes_ = codes;
  const auto values = text(batch.getArgs());
  if (detail::count_varints(values) != static_cast<int64_t>(differences))
    return Error{"corrupt frame (column length mismatch)"};
  out.arg_values_ = values;
  out.args_pending_ = true;

  return {};
}

Result<BatchDecoder::Gathered> BatchDecoder::gather_parts(schema::EventBatch::Reader batch, uint32_t count,
                                                          const CaptureFrames& frames, const ReaderLimits& limits,
                                                          DecodedBatch& out) {
  const auto column = batch.getCaptureParts();
  VarintReader in(std::string_view(reinterpret_cast<const char*>(column.begin()), column.size()));
  // The parts as the batch declares them; their pieces' sizes in `pieces`.
  struct Part {
    uint64_t events = 0;
    uint64_t groups = 0;
    size_t first_piece = 0;
    uint64_t bytes = 0;
  };
  std::vector<Part> parts;
  std::vector<uint64_t> pieces;
  const Error bad{"corrupt frame (capture parts)"};
  uint64_t events = 0;
  while (!in.at_end()) {
    Part part;
    part.events = in.next();
    part.groups = in.next();
    part.first_piece = pieces.size();
    if (in.failed() || part.events > count - events || (!parts.empty() && part.groups < parts.back().groups))
      return bad;
    // Every piece takes a byte of the column at least: reading stops at its end.
    for (uint64_t g = 0; g < part.groups; ++g) {
      const uint64_t size = in.next();
      if (in.failed() || size > limits.max_frame_raw_bytes) return bad;
      pieces.push_back(size);
      part.bytes += size;
    }
    events += part.events;
    parts.push_back(part);
  }
  if (events != count || parts.empty()) return bad;
  // A cut file may have lost the last parts; anything else is damage.
  const size_t available = frames.messages.size();
  if (available > parts.size() || (available < parts.size() && !frames.file_ended))
    return Error{"corrupt frame (" + std::to_string(available) + " captures frames after an events frame of " +
                 std::to_string(parts.size()) + ")"};

  std::vector<std::string_view> part_bytes;
  capnp::ReaderOptions options;
  options.traversalLimitInWords = limits.traversal_limit_words;
  options.nestingLimit = limits.nesting_limit;
  for (size_t k = 0; k < available; ++k) {
    const std::string_view message = frames.messages[k];
    if (message.size() % sizeof(capnp::word) != 0) return Error{"corrupt frame (message size not word aligned)"};
    capnp::FlatArrayMessageReader reader(
        kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(message.data()),
                                        message.size() / sizeof(capnp::word)),
        options);
    const auto root = reader.getRoot<schema::CaptureBytes>();
    if (root.getPart() != k)
      return Error{"corrupt frame (captures frame of part " + std::to_string(root.getPart()) + " where part " +
                   std::to_string(k) + " belongs)"};
    const auto bytes = root.getBytes();
    if (bytes.size() != parts[k].bytes)
      return Error{"corrupt frame (captures frame of part " + std::to_string(k) + " holds " +
                   std::to_string(bytes.size()) + " bytes, its events frame declares " +
                   std::to_string(parts[k].bytes) + ")"};
    part_bytes.emplace_back(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
  }

  // Each group's pieces one after the other, as in captureBytes. Their total
  // is that of the frames' bytes, which the caller bounded.
  const uint64_t groups = available == 0 ? 0 : parts[available - 1].groups;
  std::vector<size_t> group_begin(groups + 1, 0);
  for (size_t k = 0; k < available; ++k)
    for (uint64_t g = 0; g < parts[k].groups; ++g) group_begin[g + 1] += pieces[parts[k].first_piece + g];
  out.gathered_group_sizes_.clear();
  for (uint64_t g = 0; g < groups; ++g) {
    detail::put_varint(out.gathered_group_sizes_, group_begin[g + 1]);
    group_begin[g + 1] += group_begin[g];
  }
  out.gathered_bytes_.resize(group_begin[groups]);
  Gathered gathered;
  for (size_t k = 0; k < available; ++k) {
    size_t at = 0;
    for (uint64_t g = 0; g < parts[k].groups; ++g) {
      const uint64_t size = pieces[parts[k].first_piece + g];
      std::memcpy(out.gathered_bytes_.data() + group_begin[g], part_bytes[k].data() + at, size);
      group_begin[g] += size;
      at += size;
    }
    gathered.events_with_data += static_cast<uint32_t>(parts[k].events);
  }
  gathered.bytes = out.gathered_bytes_;
  gathered.group_sizes = out.gathered_group_sizes_;
  return gathered;
}

}  // namespace detail

Result<void> decode_event_batch(std::string_view message_bytes, DecodedBatch& out, const ReaderLimits& limits,
                                const CaptureFrames& captures) {
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
    // Every event takes at least one byte in each mandatory column, so a
    // count larger than the message is a lie: refuse before reserving memory.
    if (count > message_bytes.size()) return Error{"corrupt frame (event count exceeds frame size)"};

    auto comms = batch.getComms();
    out.comms_.resize(comms.size());
    for (unsigned i = 0; i < comms.size(); ++i) out.comms_[i].assign(comms[i].cStr(), comms[i].size());

    const uint8_t encoding = batch.getColumnEncoding();
    if (encoding > kColumnsParted)
      return Error{"corrupt frame (unknown column encoding " + std::to_string(encoding) + ")"};
    if (encoding != kColumnsParted && !captures.messages.empty())
      return Error{"corrupt frame (captures frames after an events frame that holds its captured bytes)"};
    out.captures_cut_from_ = count;
    if (encoding < kColumnsGrouped) {
      if (auto r = detail::LegacyBatchDecoder::decode(batch, encoding, message_bytes.size(), out); !r) return r;
    } else if (encoding == kColumnsParted) {
      auto gathered = detail::BatchDecoder::gather_parts(batch, count, captures, limits, out);
      if (!gathered) return gathered.error();
      if (auto r = detail::BatchDecoder::decode_columns(batch, count, out, &*gathered); !r) return r;
    } else if (auto r = detail::BatchDecoder::decode_columns(batch, count, out); !r) {
      return r;
    }

    // A list of zero-sized structs claims any number of elements in one word
    // (Cap'n Proto charges each a word of the traversal budget only); every
    // marker a writer makes takes words of its own.
    const auto losses = batch.getLosses();
    if (losses.size() > message_bytes.size() / sizeof(capnp::word))
      return Error{"corrupt frame (more loss markers than the frame holds)"};
    for (auto loss : losses) {
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

    for (auto notice : batch.getNotices()) {
      if (notice.getBeforeEvent() > count) return Error{"corrupt frame (task notice out of range)"};
      TaskNotice n;
      n.at_ns = notice.getAtNs();
      n.pid = notice.getPid();
      n.tid = notice.getTid();
      n.cpu = notice.getCpu();
      n.container = notice.getContainerIndex();
      const auto comm = notice.getComm();
      if (comm.size() > kMaxNoticeComm) return Error{"corrupt frame (task notice name too long)"};
      n.comm = std::string_view(comm.cStr(), comm.size());
      switch (notice.which()) {
        case schema::TaskNotice::SIGNAL: {
          const auto signal = notice.getSignal();
          const auto siginfo = signal.getSiginfo();
          if (siginfo.size() > TaskNotice::kSiginfoBytes) return Error{"corrupt frame (siginfo too long)"};
          n.kind = TaskNotice::Kind::signal;
          n.signo = signal.getSigno();
          n.siginfo = std::string_view(reinterpret_cast<const char*>(siginfo.begin()), siginfo.size());
          break;
        }
        case schema::TaskNotice::EXIT: {
          const auto exit = notice.getExit();
          n.kind = TaskNotice::Kind::exit;
          n.exit_status = exit.getStatus();
          n.group_dead = exit.getGroupDead();
          break;
        }
        default:
          continue;  // a kind from a newer minor: it only adds information
      }
      out.notices_.push_back({notice.getBeforeEvent(), n});
    }
    std::stable_sort(out.notices_.begin(), out.notices_.end(),
                     [](const auto& a, const auto& b) { return a.before_event < b.before_event; });
  } catch (const kj::Exception& e) {
    return Error{"corrupt frame (" + std::string(e.getDescription().cStr()) + ")"};
  }
  return {};
}

}  // namespace traceloop::format
