#pragma once
// RAII over a libbpf ring_buffer: hands every sample, as bytes, to a callback.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "format/result.h"

struct ring_buffer;

namespace traceloop::recorder {

class RingConsumer {
 public:
  using Callback = std::function<void(std::span<const uint8_t>)>;
  static Result<RingConsumer> create(int ring_map_fd, Callback callback);
  RingConsumer(RingConsumer&& other) noexcept;
  RingConsumer& operator=(RingConsumer&&) = delete;
  RingConsumer(const RingConsumer&) = delete;
  ~RingConsumer();

  // Waits up to timeout_ms for data, then consumes what is there.
  Result<void> poll(int timeout_ms);
  // Consumes everything available without waiting. Against a producer
  // faster than the callback this never ends: a loop with other work to do
  // passes `max_records` and comes back for the rest.
  Result<void> drain(uint64_t max_records = UINT64_MAX);
  // Readable when the producer woke the consumer; for a caller's own epoll.
  int epoll_fd() const;

 private:
  explicit RingConsumer(Callback callback);
  static int on_sample(void* ctx, void* data, size_t size);
  struct Sink {
    Callback callback;
    uint64_t left = 0;  // records this drain may still hand out
  };
  struct ring_buffer* rb_ = nullptr;
  std::unique_ptr<Sink> sink_;  // stable address for libbpf's ctx
};

}  // namespace traceloop::recorder
