// The training-curve plot under a full disk: the write fails naming the file and the OS error, and
// the previous plot stays as it was.
#include "report/png_writer.h"

#include <gtest/gtest.h>

#include "support/error_of.h"
#include "support/file_limit.h"

namespace negatron::report {
namespace {

TEST(PngWriter, FullDiskKeepsThePreviousPlot) {
  testing::ScratchFolder dir;
  const std::string path = dir / "training_curves.png";
  write_png(path, RgbImage(64, 48, 255, 255, 255));
  const std::string previous = testing::read_file(path);
  for (rlim_t limit : {rlim_t{0}, rlim_t{100}, rlim_t{previous.size() / 2}}) {
    std::string error;
    {
      testing::FileSizeLimit full(limit);
      error = testing::error_of([&] { write_png(path, RgbImage(640, 480, 10, 200, 30)); });
    }
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find("File too large"), std::string::npos) << error;
    EXPECT_EQ(testing::read_file(path), previous);
    EXPECT_EQ(testing::folder_entries(dir.path()), std::vector<std::string>{"training_curves.png"});
  }
}

}  // namespace
}  // namespace negatron::report
