// AtomicFile / AppendFile under a full disk (a file-size limit at several sizes): every failure
// names the file and the OS error, leaves the previous content byte for byte, and leaves no
// temporary file behind.
#include "common/atomic_file.h"

#include <gtest/gtest.h>

#include "support/error_of.h"
#include "support/file_limit.h"

namespace negatron {
namespace {

using testing::error_of;
using testing::FileSizeLimit;
using testing::folder_entries;
using testing::read_file;
using testing::ScratchFolder;
using testing::write_plain_file;

std::string payload(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + i % 26);
  return bytes;
}

TEST(AtomicFile, WritesTheFileAndLeavesNoTemporary) {
  ScratchFolder dir;
  write_file_atomically(dir / "out.bin", payload(10000));
  EXPECT_EQ(read_file(dir / "out.bin"), payload(10000));
  EXPECT_EQ(folder_entries(dir.path()), std::vector<std::string>{"out.bin"});
}

TEST(AtomicFile, FullDiskKeepsThePreviousFileAtEverySize) {
  ScratchFolder dir;
  const std::string previous = "the previous, intact content\n";
  for (rlim_t limit : {rlim_t{0}, rlim_t{1}, rlim_t{4095}, rlim_t{4096}, rlim_t{65536}, rlim_t{99999}}) {
    write_plain_file(dir / "out.bin", previous);
    std::string error;
    {
      FileSizeLimit full(limit);
      error = error_of([&] {
        AtomicFile file(dir / "out.bin");
        for (int i = 0; i < 10; ++i) file.write(payload(10000));
        file.commit();
      });
    }
    EXPECT_NE(error.find(dir / "out.bin"), std::string::npos) << "limit " << limit << ": " << error;
    EXPECT_NE(error.find("File too large"), std::string::npos) << "limit " << limit << ": " << error;
    EXPECT_EQ(read_file(dir / "out.bin"), previous) << "limit " << limit;
    EXPECT_EQ(folder_entries(dir.path()), std::vector<std::string>{"out.bin"}) << "limit " << limit;
  }
}

TEST(AtomicFile, SinkNeverThrowsAndCommitReportsItsError) {
  ScratchFolder dir;
  write_plain_file(dir / "state.pt", "old");
  std::string error;
  {
    FileSizeLimit full(5000);
    error = error_of([&] {
      AtomicFile file(dir / "state.pt");
      auto sink = file.sink();
      for (int i = 0; i < 4; ++i) EXPECT_EQ(sink(payload(3000).data(), 3000), 3000u);
      file.commit();
    });
  }
  EXPECT_NE(error.find(dir / "state.pt"), std::string::npos) << error;
  EXPECT_NE(error.find("File too large"), std::string::npos) << error;
  EXPECT_EQ(read_file(dir / "state.pt"), "old");
  EXPECT_EQ(folder_entries(dir.path()).size(), 1u);
}

TEST(AtomicFile, UncommittedFileIsDiscarded) {
  ScratchFolder dir;
  {
    AtomicFile file(dir / "never.bin");
    file.write("half");
  }
  EXPECT_TRUE(folder_entries(dir.path()).empty());
}

TEST(AtomicFile, MissingFolderAndFolderDestinationAreNamed) {
  ScratchFolder dir;
  const std::string missing = error_of([&] { write_file_atomically(dir / "no/such/out.bin", "x"); });
  EXPECT_NE(missing.find(dir / "no/such/out.bin"), std::string::npos) << missing;
  EXPECT_NE(missing.find("No such file or directory"), std::string::npos) << missing;
  ASSERT_EQ(::mkdir((dir / "folder").c_str(), 0777), 0);
  write_plain_file(dir / "folder/keep.txt", "keep");
  const std::string onto_folder = error_of([&] { write_file_atomically(dir / "folder", "x"); });
  EXPECT_NE(onto_folder.find(dir / "folder"), std::string::npos) << onto_folder;
  EXPECT_EQ(read_file(dir / "folder/keep.txt"), "keep");
  EXPECT_EQ(folder_entries(dir.path()), std::vector<std::string>{"folder"});
  EXPECT_NE(error_of([] { write_file_atomically("", "x"); }), "");
}

TEST(AppendFile, AFailedAppendLeavesOnlyWholeRecords) {
  ScratchFolder dir;
  const std::string record = "{\"step\": 1, \"loss\": 0.5, \"padding\": \"" + payload(100) + "\"}\n";
  std::string expected;
  {
    AppendFile log(dir / "metrics.jsonl");
    for (int i = 0; i < 3; ++i) log.append(record), expected += record;
  }
  for (rlim_t extra : {rlim_t{0}, rlim_t{1}, rlim_t{50}}) {
    FileSizeLimit full(expected.size() + extra);
    AppendFile log(dir / "metrics.jsonl");
    const std::string error = error_of([&] { log.append(record); });
    EXPECT_NE(error.find(dir / "metrics.jsonl"), std::string::npos) << error;
    EXPECT_NE(error.find("File too large"), std::string::npos) << error;
    EXPECT_EQ(read_file(dir / "metrics.jsonl"), expected) << "limit +" << extra;
  }
}

}  // namespace
}  // namespace negatron
