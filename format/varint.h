#pragma once
// LEB128 varints and zigzag mapping for the event columns. Internal to format/.

#include <cstdint>
#include <string>
#include <string_view>

namespace traceloop::format::detail {

inline uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Writes the LEB128 bytes of `v` (at most 10) to `buf`; returns how many.
inline size_t encode_varint(uint64_t v, char* buf) {
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  return n;
}

inline void put_varint(std::string& out, uint64_t v) {
  char buf[10];
  out.append(buf, encode_varint(v, buf));
}

// How many varints `column` holds, without decoding them; -1 if the last is
// cut short or one is longer than 64 bits take (10 bytes).
inline int64_t count_varints(std::string_view column) {
  int64_t count = 0;
  unsigned run = 0;  // continuation bytes in a row
  for (const char c : column) {
    if (static_cast<uint8_t>(c) < 0x80) {
      ++count;
      run = 0;
    } else if (++run >= 10) {
      return -1;
    }
  }
  return run == 0 ? count : -1;
}

// Reads varints from a column; any overrun, overlong encoding or value beyond
// 64 bits sets failed() and yields 0, so a corrupt column is detected once,
// after decoding.
class VarintReader {
 public:
  explicit VarintReader(std::string_view data)
      : p_(reinterpret_cast<const uint8_t*>(data.data())), end_(p_ + data.size()) {}
  // The one-byte case inline everywhere; the rest out of line, so that the
  // decoder's loop (a dozen columns) keeps this small enough to inline.
  [[gnu::always_inline]] uint64_t next() {
    if (p_ < end_ && *p_ < 0x80) [[likely]] return *p_++;
    return next_long();
  }
  bool failed() const { return failed_; }
  bool at_end() const { return p_ == end_; }

 private:
  [[gnu::noinline]] uint64_t next_long() {
    uint64_t result = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) {
        failed_ = true;
        return 0;
      }
      uint8_t byte = *p_++;
      // The tenth byte carries bit 63 only.
      if (shift == 63 && byte > 1) break;
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
    failed_ = true;
    return 0;
  }

  const uint8_t* p_;
  const uint8_t* end_;
  bool failed_ = false;
};

}  // namespace traceloop::format::detail
