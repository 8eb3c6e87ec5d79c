// SPDX-License-Identifier: MIT
// Errors as values: Result<T> holds either a value or a human-readable error (STYLE.md 6).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace holdfast {

struct Error {
  std::string message;
};

template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T &value() { return std::get<T>(v_); }
  const T &value() const { return std::get<T>(v_); }
  T &operator*() { return value(); }
  const T &operator*() const { return value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }
  const std::string &error() const { return std::get<Error>(v_).message; }

private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

inline Error fail(std::string message) {
  return Error{std::move(message)};
}

} // namespace holdfast
