#include "common/remove_tree.h"

#include <ftw.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

#include "common/check.h"

namespace negatron {
namespace {

thread_local std::string failed_entry;

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  if (std::remove(path) != 0) {
    failed_entry = std::string(path) + " (" + std::strerror(errno) + ")";
    return 1;
  }
  return 0;
}

}  // namespace

void remove_tree(const std::string& path) {
  struct stat info;
  if (::lstat(path.c_str(), &info) != 0) return;
  failed_entry.clear();
  const int status = ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  NEG_CHECK(status == 0, "cannot remove ", failed_entry.empty() ? path : failed_entry);
}

}  // namespace negatron
