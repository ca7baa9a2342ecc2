#pragma once
// NEG_CHECK(cond, parts...): throws negatron::Error("file:line: parts...") when cond is false.
// Library code reports errors by throwing; only main() decides how a process ends.
#include <sstream>
#include <stdexcept>
#include <string>

namespace negatron {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
[[noreturn]] void throw_error(const char* file, int line, const std::string& message);
}  // namespace detail

/// Returns body(); an Error it throws is rethrown as Error("<context>: <its message>"), so that an
/// error deep in a reader says where it was reading ("datasets.0.loss: CoSENTLoss: ...").
template <class Body>
auto with_error_context(const std::string& context, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error& error) {
    throw Error(context + ": " + error.what());
  }
}

}  // namespace negatron

#define NEG_CHECK(cond, ...)                                                              \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      ::negatron::detail::throw_error(__FILE__, __LINE__, ::negatron::detail::concat(__VA_ARGS__)); \
    }                                                                                     \
  } while (0)

#define NEG_FAIL(...) ::negatron::detail::throw_error(__FILE__, __LINE__, ::negatron::detail::concat(__VA_ARGS__))
