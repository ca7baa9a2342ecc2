#pragma once
// The message of the exception a call throws ("" if it throws none), for tests that assert on
// what an error says.
#include <exception>
#include <functional>
#include <string>

namespace negatron::testing {

inline std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const std::exception& error) {
    return error.what();
  }
  return "";
}

}  // namespace negatron::testing
