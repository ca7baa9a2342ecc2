#include "common/check.h"

#include <cstring>

namespace negatron::detail {

void throw_error(const char* file, int line, const std::string& message) {
  const char* base = std::strrchr(file, '/');
  base = base ? base + 1 : file;
  throw Error(message + " [" + base + ":" + std::to_string(line) + "]");
}

}  // namespace negatron::detail
