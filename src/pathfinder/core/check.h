// PF_CHECK: programmer-bug assertions. A failed check prints the message with its source
// location and aborts. Never used for bad user input (that goes to Diagnostics).
#pragma once

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>

namespace pf::detail {
[[noreturn]] inline void CheckFailed(const char* file, int line, const char* cond, const std::string& msg) {
  std::fprintf(stderr, "%s:%d: PF_CHECK(%s) failed: %s\n", file, line, cond, msg.c_str());
  std::abort();
}
}  // namespace pf::detail

#define PF_CHECK(cond, ...)                                                          \
  do {                                                                               \
    if (!(cond)) [[unlikely]] {                                                      \
      ::pf::detail::CheckFailed(__FILE__, __LINE__, #cond, ::fmt::format(__VA_ARGS__)); \
    }                                                                                \
  } while (0)
