#pragma once
// The bytes of one JSON line as it is written: a growable buffer written
// through a pointer, appended to the output once the line is complete.
// A typed JSON line is some fifty pieces of a few bytes each (keys,
// numbers, names); as std::string appends each is an out-of-line call, a
// capacity check and a memcpy call, which cost more than the bytes. Here a
// piece is a capacity compare and a couple of moves, and a line can still be
// cut back (a value that turns out not to be UTF-8) or have a prefix
// inserted (an array that turns out cut) before anything reaches the output.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "tools/lib/decoder/text_append.h"

namespace traceloop::tools {

class JsonBuffer {
 public:
  JsonBuffer() = default;
  JsonBuffer(const JsonBuffer&) = delete;
  JsonBuffer& operator=(const JsonBuffer&) = delete;

  // Room for `n` bytes at the returned pointer; commit() says where the writing ended.
  [[gnu::always_inline]] char* room(size_t n) {
    if (capacity_ - size_ < n) [[unlikely]]
      grow(n);
    return data_.get() + size_;
  }
  void commit(char* end) { size_ = static_cast<size_t>(end - data_.get()); }
  [[gnu::always_inline]] void put(char c) {
    *room(1) = c;
    ++size_;
  }
  [[gnu::always_inline]] void append(std::string_view s) {
    detail::copy_short(room(s.size()), s.data(), s.size());
    size_ += s.size();
  }
  // `s` at `to` (in room asked for before); returns its end. Pieces of known
  // total size are written so, one room() for them all.
  [[gnu::always_inline]] static char* write(char* to, std::string_view s) {
    detail::copy_short(to, s.data(), s.size());
    return to + s.size();
  }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_.get(), size_}; }
  void clear() { size_ = 0; }
  // Drops what was written from `size` on.
  void truncate(size_t size) {
    if (size < size_) size_ = size;
  }
  void pop_back() {
    if (size_ > 0) --size_;
  }
  // `text` inserted at `at` (<= size()), what followed moved after it.
  void insert(size_t at, std::string_view text) {
    if (at > size_) at = size_;
    room(text.size());
    char* base = data_.get();
    std::memmove(base + at + text.size(), base + at, size_ - at);
    std::memcpy(base + at, text.data(), text.size());
    size_ += text.size();
  }

 private:
  [[gnu::noinline]] void grow(size_t n) {
    size_t capacity = capacity_ == 0 ? 4096 : capacity_ * 2;
    while (capacity - size_ < n) capacity *= 2;
    auto data = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ > 0) std::memcpy(data.get(), data_.get(), size_);
    data_ = std::move(data);
    capacity_ = capacity;
  }

  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Straight into the buffer: no copy from a temporary (write_decimal writes
// at most 21 bytes, some beyond the digits as scratch).
inline void append_decimal(JsonBuffer& out, int64_t v) { out.commit(write_decimal(out.room(24), v)); }
inline void append_decimal(JsonBuffer& out, uint64_t v) { out.commit(write_decimal(out.room(24), v)); }

}  // namespace traceloop::tools
