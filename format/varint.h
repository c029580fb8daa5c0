#pragma once
// LEB128 varints and zigzag mapping for the event columns. Internal to format/.

#include <cstdint>
#include <string>
#include <string_view>

namespace traceloop::format::detail {

inline uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

inline void put_varint(std::string& out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

// Reads varints from a column; any overrun or overlong encoding sets failed()
// and yields 0, so a corrupt column is detected once, after decoding.
class VarintReader {
 public:
  explicit VarintReader(std::string_view data)
      : p_(reinterpret_cast<const uint8_t*>(data.data())), end_(p_ + data.size()) {}
  uint64_t next() {
    if (p_ < end_ && *p_ < 0x80) return *p_++;  // the common one-byte case
    uint64_t result = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) {
        failed_ = true;
        return 0;
      }
      uint8_t byte = *p_++;
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
    failed_ = true;
    return 0;
  }
  bool failed() const { return failed_; }
  bool at_end() const { return p_ == end_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  bool failed_ = false;
};

}  // namespace traceloop::format::detail
