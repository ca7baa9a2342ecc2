#pragma once
// Folders negatron writes whole (a prepared dataset, a model folder, a checkpoint) are built under a
// temporary name beside the destination and swapped in when complete. No command deletes or replaces
// a folder it did not create: an existing folder is replaced only if it is empty, holds negatron's
// marker file (written into every folder negatron builds), or has negatron's own layout for that kind
// of folder (`layout`, for folders written before the marker existed). Anything else is refused with
// a message naming the folder, and nothing in it is touched.
#include <functional>
#include <string>

namespace negatron {

constexpr const char* kOwnerMarkerFile = ".negatron";

/// Recognises negatron's layout of a kind of folder (e.g. a dataset's manifest.json); may be empty.
using FolderLayout = std::function<bool(const std::string& dir)>;

/// True if `dir` does not exist, is an empty folder, holds the marker, or matches `layout`.
bool folder_is_replaceable(const std::string& dir, const FolderLayout& layout = {});

/// Throws unless folder_is_replaceable(dir): "<dir> exists and was not written by negatron (no
/// .negatron marker, not a <what>); refusing to replace it". Call it before long work, too.
void check_replaceable(const std::string& dir, const std::string& what, const FolderLayout& layout = {});

/// Creates `dir` (its parent must exist) with the marker in it, for a folder negatron is about to
/// fill. A leftover `dir` is removed first if it is replaceable (else: refused).
void create_owned_folder(const std::string& dir, const std::string& kind, const FolderLayout& layout = {});

/// "<dir>.tmp-<pid>": where a folder is built before publish_folder moves it to `dir`.
std::string building_folder_for(const std::string& dir);

/// Moves the finished folder `built` to `dir`: checks that `dir` is replaceable, swaps the two in one
/// rename (RENAME_EXCHANGE; two renames where the filesystem lacks it), deletes the old folder and
/// fsyncs the parent. A failure leaves the old folder in place.
void publish_folder(const std::string& built, const std::string& dir, const std::string& what,
                    const FolderLayout& layout = {});

/// Deletes `dir` if negatron made it (marker or layout); throws otherwise. Absent: nothing to do.
void remove_owned_folder(const std::string& dir, const std::string& what, const FolderLayout& layout = {});

}  // namespace negatron
