// Result<T>: a value or an error message, for operations that can fail on user input.
// g++ 12 has no std::expected; this is the small subset the project needs.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "pathfinder/core/check.h"

namespace pf {

struct Error {
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}      // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    PF_CHECK(ok(), "Result::value() on an error: {}", std::get<1>(v_).message);
    return std::get<0>(v_);
  }
  T& value() & {
    PF_CHECK(ok(), "Result::value() on an error: {}", std::get<1>(v_).message);
    return std::get<0>(v_);
  }
  T&& value() && {
    PF_CHECK(ok(), "Result::value() on an error: {}", std::get<1>(v_).message);
    return std::get<0>(std::move(v_));
  }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  const std::string& error() const {
    PF_CHECK(!ok(), "Result::error() on a value");
    return std::get<1>(v_).message;
  }

 private:
  std::variant<T, Error> v_;
};

}  // namespace pf
