#include "common/allocator.h"

#include <dlfcn.h>

namespace negatron {

std::string malloc_name() {
  // tc_malloc is exported by every gperftools tcmalloc build, minimal included.
  return dlsym(RTLD_DEFAULT, "tc_malloc") != nullptr ? "tcmalloc" : "glibc";
}

}  // namespace negatron
