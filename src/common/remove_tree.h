#pragma once
// Removing a directory tree without std::filesystem::remove_all: the pip libtorch.so exports its
// own std::filesystem::remove_all, which wins symbol resolution and crashes on non-empty trees.
#include <string>

namespace negatron {

/// Removes `path` (file or directory tree) if it exists; throws naming the entry that resists.
void remove_tree(const std::string& path);

}  // namespace negatron
