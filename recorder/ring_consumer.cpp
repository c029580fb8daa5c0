#include "recorder/ring_consumer.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace traceloop::recorder {

namespace {

// What on_sample returns once a drain's budget is spent: libbpf then stores
// the consumer position past that record and stops.
constexpr int kBudgetSpent = -EAGAIN;

}  // namespace

RingConsumer::RingConsumer(Callback callback) : sink_(std::make_unique<Sink>(Sink{std::move(callback), 0})) {}

RingConsumer::RingConsumer(RingConsumer&& other) noexcept
    : rb_(other.rb_), sink_(std::move(other.sink_)) {
  other.rb_ = nullptr;
}

RingConsumer::~RingConsumer() {
  if (rb_ != nullptr) ring_buffer__free(rb_);
}

Result<RingConsumer> RingConsumer::create(int ring_map_fd, Callback callback) {
  RingConsumer consumer(std::move(callback));
  consumer.rb_ = ring_buffer__new(ring_map_fd, &RingConsumer::on_sample, consumer.sink_.get(), nullptr);
  if (consumer.rb_ == nullptr) return Error{std::string("creating the ring buffer consumer: ") + std::strerror(errno)};
  return consumer;
}

int RingConsumer::on_sample(void* ctx, void* data, size_t size) {
  auto* sink = static_cast<Sink*>(ctx);
  sink->callback(std::span<const uint8_t>(static_cast<const uint8_t*>(data), size));
  return --sink->left == 0 ? kBudgetSpent : 0;
}

Result<void> RingConsumer::poll(int timeout_ms) {
  sink_->left = UINT64_MAX;
  int n = ring_buffer__poll(rb_, timeout_ms);
  if (n < 0 && n != -EINTR) return Error{std::string("reading the ring buffer: ") + std::strerror(-n)};
  // the producer only wakes us for large batches: take the rest too
  return drain();
}

Result<void> RingConsumer::drain(uint64_t max_records) {
  if (max_records == 0) return ok_result();
  sink_->left = max_records;
  int n = ring_buffer__consume(rb_);
  if (n < 0 && n != -EINTR && n != kBudgetSpent)
    return Error{std::string("reading the ring buffer: ") + std::strerror(-n)};
  return ok_result();
}

int RingConsumer::epoll_fd() const { return ring_buffer__epoll_fd(rb_); }

}  // namespace traceloop::recorder
