#include "common/owned_folder.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/atomic_file.h"
#include "common/check.h"
#include "common/log.h"
#include "common/remove_tree.h"

namespace negatron {
namespace {

// POSIX rather than std::filesystem: libtorch.so exports its own, partly broken, copies of
// std::filesystem functions, which win symbol resolution in processes that load it.
bool exists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

bool is_folder(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

bool is_empty_folder(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (!dir) return false;
  bool empty = true;
  while (const dirent* entry = ::readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  ::closedir(dir);
  return empty;
}

std::string without_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool made_by_negatron(const std::string& dir, const FolderLayout& layout) {
  return exists(dir + "/" + kOwnerMarkerFile) || (layout && layout(dir));
}

[[noreturn]] void refuse(const std::string& dir, const std::string& what, const char* action) {
  if (!is_folder(dir)) NEG_FAIL(dir, " exists and is not a folder; refusing to ", action, " it (expected a ", what, ")");
  NEG_FAIL(dir, " exists and was not written by negatron (it is not empty, has no ", kOwnerMarkerFile,
           " marker and is not a ", what, "); refusing to ", action, " it: choose another output folder");
}

void remove_old(const std::string& old) {
  try {
    remove_tree(old);
  } catch (const std::exception& e) {  // the new folder is in place; the old copy is only clutter
    log::warn("could not remove the replaced folder ", old, ": ", e.what());
  }
}

}  // namespace

bool folder_is_replaceable(const std::string& dir_in, const FolderLayout& layout) {
  const std::string dir = without_trailing_slashes(dir_in);
  if (!exists(dir)) return true;
  return is_folder(dir) && (is_empty_folder(dir) || made_by_negatron(dir, layout));
}

void check_replaceable(const std::string& dir_in, const std::string& what, const FolderLayout& layout) {
  NEG_CHECK(!dir_in.empty(), "the output folder for the ", what, " is empty ('')");
  const std::string dir = without_trailing_slashes(dir_in);
  if (!folder_is_replaceable(dir, layout)) refuse(dir, what, "replace");
}

void create_owned_folder(const std::string& dir_in, const std::string& kind, const FolderLayout& layout) {
  const std::string dir = without_trailing_slashes(dir_in);
  check_replaceable(dir, kind, layout);
  remove_tree(dir);
  if (::mkdir(dir.c_str(), 0777) != 0) {
    const int error = errno;
    NEG_FAIL("cannot create the folder ", dir, " (", std::strerror(error), ")");
  }
  try {
    write_file_atomically(dir + "/" + kOwnerMarkerFile, "{\"created_by\": \"negatron\", \"kind\": \"" + kind + "\"}\n");
  } catch (...) {
    ::rmdir(dir.c_str());  // empty: the marker's temporary file is gone already
    throw;
  }
}

std::string building_folder_for(const std::string& dir) {
  return without_trailing_slashes(dir) + ".tmp-" + std::to_string(::getpid());
}

void publish_folder(const std::string& built, const std::string& dir_in, const std::string& what,
                    const FolderLayout& layout) {
  const std::string dir = without_trailing_slashes(dir_in);
  check_replaceable(dir, what, layout);
  fsync_path(built);
  if (!exists(dir)) {
    if (::rename(built.c_str(), dir.c_str()) != 0) {
      const int error = errno;
      NEG_FAIL("cannot move ", built, " to ", dir, " (", std::strerror(error), ")");
    }
  } else if (::renameat2(AT_FDCWD, built.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
    remove_old(built);  // `built` now names the old folder
  } else {
    // No RENAME_EXCHANGE on this filesystem: old aside, new in, old removed.
    const std::string old = dir + ".old-" + std::to_string(::getpid());
    if (::rename(dir.c_str(), old.c_str()) != 0) {
      const int error = errno;
      NEG_FAIL("cannot move the old ", dir, " aside (", std::strerror(error), ")");
    }
    if (::rename(built.c_str(), dir.c_str()) != 0) {
      const int error = errno;
      ::rename(old.c_str(), dir.c_str());
      NEG_FAIL("cannot move ", built, " to ", dir, " (", std::strerror(error), "); the old folder is back in place");
    }
    remove_old(old);
  }
  fsync_path(parent_of(dir));
}

void remove_owned_folder(const std::string& dir_in, const std::string& what, const FolderLayout& layout) {
  const std::string dir = without_trailing_slashes(dir_in);
  if (!exists(dir)) return;
  if (!folder_is_replaceable(dir, layout)) refuse(dir, what, "delete");
  remove_tree(dir);
}

}  // namespace negatron
