#include "tools/lib/analyses/diff_normalise.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/value.h"

namespace traceloop::tools {

namespace {

using format::ArgKind;

// Tags keep values of different kinds (and masked from kept ones) apart in the hash.
enum Tag : uint8_t {
  kSigned = 1, kUnsigned, kHex, kNetwork, kFlags, kConstant, kSignal, kSignalSet, kMode, kDevice, kWaitStatus,
  kIp, kString, kBinary, kBeginStruct, kField, kEndStruct, kBeginArray, kEndArray, kError, kNull, kAddress,
  kTime, kNoReturn, kUnfinished, kNeverReturned, kLength, kKept, kRenumbered, kSelf, kParam,
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

// How the strings of an argument are compared.
enum class Names { exact, suffixes, paths };

// Hashes `bytes` with generated numbers masked (see diff_normalise.h); true when one was.
bool hash_masking_generated_numbers(KeyHasher& h, std::string_view bytes, bool path) {
  bool masked = false;
  for (size_t i = 0; i < bytes.size();) {
    if (!is_digit(bytes[i])) {
      h.byte(static_cast<uint8_t>(bytes[i++]));
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
      h.byte('#');
      masked = true;
    } else {
      h.bytes(bytes.substr(i, j - i));
    }
    i = j;
  }
  return masked;
}

bool is_output_struct(ArgKind kind) {
  return kind == ArgKind::struct_out || kind == ArgKind::sockaddr_out || kind == ArgKind::struct_array_out;
}

// Output structures that describe behaviour, not the moment or the machine:
// a child's exit status, ids, signal masks and actions, limits, pipe fds. The
// others (stat, statx, rusage, times, utsname, ...) hold inode numbers, clocks
// and host names.
bool deterministic_output(std::string_view struct_type) {
  return struct_type == "wait_status" || struct_type == "uid" || struct_type == "gid" || struct_type == "sigset" ||
         struct_type == "sigaction" || struct_type == "rlimit" || struct_type == "sched_param" ||
         struct_type == "fd_pair";
}

// Below it, a hex argument is a small mask or constant rather than a place in memory.
constexpr uint64_t kLowestAddress = 0x10000;

// The sink that hashes one value (an argument or a return) as it is described.
class KeySink final : public ValueSink {
 public:
  KeySink(KeyHasher& h, EventNormaliser& normaliser, Names names, Meaning top_level = Meaning::none,
          bool high_hex_is_address = false)
      : h_(h), normaliser_(normaliser), names_(names), top_level_(top_level), high_hex_is_address_(high_hex_is_address) {}

  bool masked_a_name() const { return masked_name_; }

  void signed_integer(int64_t value, Meaning meaning) override { number(kSigned, static_cast<uint64_t>(value), meaning); }
  void unsigned_integer(uint64_t value, Meaning meaning) override { number(kUnsigned, value, meaning); }
  void hex_integer(uint64_t value, Meaning meaning) override {
    if (meaning == Meaning::none && depth_ == 0 && high_hex_is_address_ && value >= kLowestAddress) meaning = Meaning::address;
    number(kHex, value, meaning);
  }
  void network_integer(uint64_t host_value, unsigned bytes) override {
    h_.byte(kNetwork);
    h_.byte(static_cast<uint8_t>(bytes));
    h_.number(host_value);
  }
  // By name: some flags have other values on other architectures (O_DIRECTORY).
  void flags(const FlagSet& set, uint64_t raw) override { tagged(kFlags, normaliser_.flag_names(set, raw)); }
  void constant(std::string_view, int64_t raw) override { tagged(kConstant, static_cast<uint64_t>(raw)); }
  void signal(int64_t number) override { tagged(kSignal, static_cast<uint64_t>(number)); }
  void signal_set(uint64_t mask) override { tagged(kSignalSet, mask); }
  void mode(uint64_t mode) override { tagged(kMode, mode); }
  void device(uint64_t major, uint64_t minor) override {
    tagged(kDevice, major);
    h_.number(minor);
  }
  void wait_status(int status) override { tagged(kWaitStatus, static_cast<uint64_t>(status)); }
  void ip_address(int family, std::string_view address) override {
    tagged(kIp, static_cast<uint64_t>(family));
    h_.bytes(address);
  }
  void string(const StringValue& value) override {
    if (value.form == StringForm::binary) {
      h_.byte(kBinary);  // random by design: only that there were bytes
      return;
    }
    h_.byte(kString);
    h_.byte(static_cast<uint8_t>(value.form));
    h_.byte(value.truncated ? 1 : 0);
    if (names_ == Names::exact) {
      h_.bytes(value.bytes);
    } else if (hash_masking_generated_numbers(h_, value.bytes, names_ == Names::paths)) {
      masked_name_ = true;
    }
    h_.byte(0);  // ends the string: "ab","c" is not "a","bc"
  }
  void begin_struct() override { nest(kBeginStruct, +1); }
  void field(std::string_view name) override {
    h_.byte(kField);
    h_.bytes(name);
    h_.byte(0);
  }
  void end_struct(bool abbreviated) override {
    nest(kEndStruct, -1);
    h_.byte(abbreviated ? 1 : 0);
  }
  void begin_array() override { nest(kBeginArray, +1); }
  void end_array(bool cut) override {
    nest(kEndArray, -1);
    h_.byte(cut ? 1 : 0);
  }
  void error(int errno_number) override { tagged(kError, static_cast<uint64_t>(errno_number)); }

 private:
  void tagged(Tag tag, uint64_t value) {
    h_.byte(tag);
    h_.number(value);
  }
  void nest(Tag tag, int step) {
    h_.byte(tag);
    depth_ += step;
  }
  void number(Tag tag, uint64_t value, Meaning meaning) {
    if (meaning == Meaning::none && depth_ == 0) meaning = top_level_;
    switch (meaning) {
      case Meaning::address:
        h_.byte(value == 0 ? kNull : kAddress);
        return;
      case Meaning::time:
      case Meaning::clock_ticks:
        h_.byte(kTime);
        return;
      case Meaning::fd:
        tagged(kRenumbered, normaliser_.fd_token(static_cast<int64_t>(value)));
        return;
      case Meaning::pid:
        tagged(kRenumbered, normaliser_.pid_token(static_cast<int64_t>(value)));
        return;
      default:
        tagged(tag, value);
        return;
    }
  }

  KeyHasher& h_;
  EventNormaliser& normaliser_;
  Names names_;
  Meaning top_level_;
  bool high_hex_is_address_;
  int depth_ = 0;
  bool masked_name_ = false;
};

Names names_of(ArgKind kind) {
  switch (kind) {
    case ArgKind::path:
    case ArgKind::string:
    case ArgKind::string_array: return Names::paths;
    case ArgKind::buffer_in: return Names::suffixes;
    default: return Names::exact;
  }
}

// What a plain number returned stands for, by the catalogue's return kind.
Meaning return_meaning(const format::SyscallSpec* spec) {
  if (spec == nullptr) return Meaning::none;
  switch (spec->returns) {
    case format::ReturnKind::fd: return Meaning::fd;
    case format::ReturnKind::pid: return Meaning::pid;
    case format::ReturnKind::hex: return Meaning::address;
    default: return Meaning::none;
  }
}

}  // namespace

namespace {
constexpr size_t kUnmade = 7;  // a count no plan has (at most 6 arguments)
}  // namespace

KeyPlans::KeyPlans(const Decoder& decoder) : decoder_(decoder) {
  for (const auto& spec : decoder.catalogue().syscalls()) {
    if (spec.nr >= by_nr_.size() && spec.nr < 4096) by_nr_.resize(spec.nr + 1);
  }
  for (KeyPlan& p : by_nr_) p.count = kUnmade;
}

void KeyPlans::make(KeyPlan& plan, const format::Event& event) const {
  KeyHasher name;
  name.bytes(decoder_.syscall_name(event));
  plan.name = name.value();
  plan.count = std::min<size_t>(decoder_.param_count(event), 6);
  for (size_t i = 0; i < plan.count; ++i) {
    KeyHasher param;
    param.bytes(decoder_.param_name(event, i));
    plan.param_names[i] = param.value();
    plan.order[i] = static_cast<uint8_t>(i);
  }
  // By parameter name: a file from each architecture must still compare equal.
  std::sort(plan.order.begin(), plan.order.begin() + static_cast<std::ptrdiff_t>(plan.count),
            [&](uint8_t x, uint8_t y) { return decoder_.param_name(event, x) < decoder_.param_name(event, y); });
}

const KeyPlan& KeyPlans::plan(const format::Event& event) const {
  if (event.nr < by_nr_.size() && decoder_.spec(event) != nullptr) {
    KeyPlan& p = by_nr_[event.nr];
    if (p.count == kUnmade) make(p, event);
    return p;
  }
  make(scratch_, event);  // unknown numbers: as many arguments as the event says
  return scratch_;
}

uint64_t KeyPlans::flag_names(const FlagSet& set, uint64_t raw) const {
  KeyHasher slot_hash;
  slot_hash.number(reinterpret_cast<uintptr_t>(&set));
  slot_hash.number(raw);
  FlagNames& entry = flag_names_[slot_hash.value() % flag_names_.size()];
  if (entry.set != &set || entry.raw != raw) {
    scratch_text_.clear();
    append_flags(scratch_text_, set, raw);
    KeyHasher names;
    names.bytes(scratch_text_);
    entry = {&set, raw, names.value()};
  }
  return entry.hash;
}

EventNormaliser::EventNormaliser(const KeyPlans& plans, uint32_t self_pid)
    : plans_(plans), decoder_(plans.decoder()), self_pid_(self_pid) {}

uint64_t EventNormaliser::fd_token(int64_t fd) {
  // Kept numbers and ranks are told apart by the top bit (fds kept are <= 2).
  fd = static_cast<int32_t>(fd);
  if (fd <= 2) return static_cast<uint64_t>(fd) & ~(1ULL << 63);
  auto [it, inserted] = fds_.try_emplace(fd, static_cast<uint32_t>(fds_.size() + 1));
  return (1ULL << 63) | it->second;
}

uint64_t EventNormaliser::pid_token(int64_t pid) {
  pid = static_cast<int32_t>(pid);
  if (pid <= 0) return static_cast<uint64_t>(pid) & ~(3ULL << 62);
  if (pid == self_pid_) return 1ULL << 62;
  auto [it, inserted] = pids_.try_emplace(pid, static_cast<uint32_t>(pids_.size() + 1));
  return (1ULL << 63) | it->second;
}

uint64_t EventNormaliser::key(const format::Event& event) {
  const format::SyscallSpec* spec = decoder_.spec(event);
  const KeyPlan& plan = plans_.plan(event);
  const size_t count = plan.count;
  std::array<uint64_t, 6> values{};
  std::array<bool, 6> length_masked{};
  // Described in argument order: renumbering follows first appearance.
  for (size_t i = 0; i < count; ++i) {
    const ArgKind kind = spec != nullptr ? spec->params[i].kind : ArgKind::hex;
    KeyHasher h;
    // A hex argument the decoder does not know as an address (arch_prctl's,
    // prctl's, depending on the command) still is one when high enough.
    KeySink sink(h, *this, names_of(kind), Meaning::none, kind == ArgKind::hex);
    if (spec != nullptr && is_output_struct(kind) && !deterministic_output(spec->params[i].struct_type)) {
      sink.hex_integer(event.args[i], Meaning::address);
    } else {
      decoder_.describe_arg(sink, event, i);
    }
    values[i] = h.value();
    if (kind == ArgKind::buffer_in && sink.masked_a_name()) {
      const int8_t len = spec->params[i].len_arg;
      if (len >= 0 && len < 6) length_masked[static_cast<size_t>(len)] = true;
    }
  }
  KeyHasher key;
  key.number(plan.name);
  bool return_is_length = false;
  for (size_t n = 0; n < count; ++n) {
    const size_t i = plan.order[n];
    key.byte(kParam);
    key.number(plan.param_names[i]);
    if (length_masked[i]) {
      key.byte(kLength);
      if (event.state == format::CallState::returned && event.ret == static_cast<int64_t>(event.args[i]))
        return_is_length = true;
    } else {
      key.number(values[i]);
    }
  }
  key.byte(0);
  if (event.state == format::CallState::never_returned) {
    key.byte(kNeverReturned);
  } else if (event.state == format::CallState::unfinished) {
    key.byte(kUnfinished);
  } else if (return_is_length && !event.failed()) {
    key.byte(kLength);
  } else {
    KeySink sink(key, *this, Names::exact, return_meaning(spec));
    if (!decoder_.describe_return(sink, event)) key.byte(kNoReturn);
  }
  return key.value();
}

}  // namespace traceloop::tools
