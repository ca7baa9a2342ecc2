#pragma once
// Which malloc this process runs on: "tcmalloc" when gperftools' tcmalloc is loaded (the negatron
// executable links it, cmake/Dependencies.cmake), else "glibc". Shown by --version and in the
// train log, because peak memory and step time depend on it (benchmarks/RESULTS.md).
#include <string>

namespace negatron {

std::string malloc_name();

}  // namespace negatron
