#pragma once
// Result<T>: a value or an Error, for failures the caller can handle (a file
// that is not a trace, an unwritable path). FatalError: the one exception type
// for errors that end a tool; each main catches it once and exits with 2.

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace traceloop {

struct Error {
  std::string message;  // one line, meant for the user
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

inline Result<void> ok_result() { return {}; }

// "WHAT: <strerror(errno)>", for a system call that just failed.
inline Error errno_error(const std::string& what) { return Error{what + ": " + std::strerror(errno)}; }

class FatalError : public std::runtime_error {
 public:
  explicit FatalError(const std::string& message) : std::runtime_error(message) {}
  explicit FatalError(const Error& error) : std::runtime_error(error.message) {}
};

// Unwraps a Result or throws FatalError: for tools whose only answer to the
// failure is to stop.
template <typename T>
T value_or_throw(Result<T>&& result) {
  if (!result.ok()) throw FatalError(result.error());
  return std::move(result).value();
}
inline void value_or_throw(Result<void>&& result) {
  if (!result.ok()) throw FatalError(result.error());
}

}  // namespace traceloop
