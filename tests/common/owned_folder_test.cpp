// The folder-ownership rule: an existing folder is replaced or deleted only when it is empty, holds
// negatron's marker or matches negatron's layout; anything else is refused and left untouched.
#include "common/owned_folder.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/atomic_file.h"
#include "support/error_of.h"
#include "support/file_limit.h"

namespace negatron {
namespace {

using testing::error_of;
using testing::folder_entries;
using testing::read_file;
using testing::ScratchFolder;
using testing::write_plain_file;

void make_folder(const std::string& path) { ASSERT_EQ(::mkdir(path.c_str(), 0777), 0) << path; }

/// A finished folder negatron built, holding `content` in result.txt.
std::string built_folder(const std::string& dest, const std::string& content) {
  const std::string built = building_folder_for(dest);
  create_owned_folder(built, "model");
  write_file_atomically(built + "/result.txt", content);
  return built;
}

TEST(OwnedFolder, RefusesToReplaceSomeoneElsesFolder) {
  ScratchFolder root;
  make_folder(root / "theirs");
  write_plain_file(root / "theirs/thesis.tex", "years of work");
  const std::string built = built_folder(root / "theirs", "new");
  const std::string error = error_of([&] { publish_folder(built, root / "theirs", "model folder"); });
  EXPECT_NE(error.find(root / "theirs"), std::string::npos) << error;
  EXPECT_NE(error.find("refusing to replace"), std::string::npos) << error;
  EXPECT_EQ(read_file(root / "theirs/thesis.tex"), "years of work");
  EXPECT_EQ(folder_entries(root / "theirs"), std::vector<std::string>{"thesis.tex"});
  EXPECT_NE(error_of([&] { check_replaceable(root / "theirs/", "model folder"); }), "");
}

TEST(OwnedFolder, ReplacesOwnEmptyOrMissingFolders) {
  ScratchFolder root;
  publish_folder(built_folder(root / "model", "first"), root / "model", "model folder");  // missing
  EXPECT_EQ(read_file(root / "model/result.txt"), "first");
  publish_folder(built_folder(root / "model", "second"), root / "model", "model folder");  // marker
  EXPECT_EQ(read_file(root / "model/result.txt"), "second");
  make_folder(root / "empty");
  publish_folder(built_folder(root / "empty", "third"), root / "empty", "model folder");
  EXPECT_EQ(read_file(root / "empty/result.txt"), "third");
  std::vector<std::string> entries = folder_entries(root.path());
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries, (std::vector<std::string>{"empty", "model"}));  // no temporary or old folders left
}

TEST(OwnedFolder, LayoutRecognisesFoldersWrittenBeforeTheMarker) {
  ScratchFolder root;
  make_folder(root / "dataset");
  write_plain_file(root / "dataset/manifest.json", "{}");
  const FolderLayout dataset = [](const std::string& dir) { return read_file(dir + "/manifest.json") == "{}"; };
  EXPECT_FALSE(folder_is_replaceable(root / "dataset"));
  EXPECT_TRUE(folder_is_replaceable(root / "dataset", dataset));
  publish_folder(built_folder(root / "dataset", "new"), root / "dataset", "dataset", dataset);
  EXPECT_EQ(read_file(root / "dataset/result.txt"), "new");
}

TEST(OwnedFolder, AFileIsNeverReplacedByAFolder) {
  ScratchFolder root;
  write_plain_file(root / "notes.txt", "keep");
  const std::string error = error_of([&] { check_replaceable(root / "notes.txt", "model folder"); });
  EXPECT_NE(error.find("is not a folder"), std::string::npos) << error;
  EXPECT_EQ(read_file(root / "notes.txt"), "keep");
  EXPECT_NE(error_of([] { check_replaceable("", "model folder"); }).find("empty"), std::string::npos);
}

TEST(OwnedFolder, RemovesOnlyOwnFolders) {
  ScratchFolder root;
  make_folder(root / "checkpoint-7");
  write_plain_file(root / "checkpoint-7/data.bin", "user data");
  EXPECT_NE(error_of([&] { remove_owned_folder(root / "checkpoint-7", "checkpoint"); }), "");
  EXPECT_EQ(read_file(root / "checkpoint-7/data.bin"), "user data");
  create_owned_folder(root / "checkpoint-8", "checkpoint");
  remove_owned_folder(root / "checkpoint-8", "checkpoint");
  remove_owned_folder(root / "checkpoint-9", "checkpoint");  // absent: nothing to do
  EXPECT_EQ(folder_entries(root.path()), std::vector<std::string>{"checkpoint-7"});
}

}  // namespace
}  // namespace negatron
