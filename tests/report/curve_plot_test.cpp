#include "report/curve_plot.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/remove_tree.h"

namespace negatron::report {
namespace {

namespace fs = std::filesystem;

uint32_t read_u32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8) | static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3]));
}

// An independent reader for what encode_png writes: checks the signature, every chunk's CRC, the
// IHDR fields and chunk order, inflates the IDAT data to exactly height * (1 + 3 * width) bytes
// and undoes the (None) row filters.
RgbImage decode_png(const std::string& png) {
  RgbImage image;
  EXPECT_GE(png.size(), 8u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  size_t at = 8;
  std::string idat;
  std::vector<std::string> order;
  while (at + 12 <= png.size()) {
    const uint32_t length = read_u32(png, at);
    EXPECT_LE(at + 12 + length, png.size());
    const std::string type = png.substr(at + 4, 4);
    const std::string data = png.substr(at + 8, length);
    const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(png.data() + at + 4), 4 + length);
    EXPECT_EQ(read_u32(png, at + 8 + length), static_cast<uint32_t>(crc)) << "bad CRC in chunk " << type;
    order.push_back(type);
    if (type == "IHDR") {
      EXPECT_EQ(length, 13u);
      image.width = static_cast<int>(read_u32(data, 0));
      image.height = static_cast<int>(read_u32(data, 4));
      EXPECT_EQ(data[8], 8);   // bit depth
      EXPECT_EQ(data[9], 2);   // RGB
      EXPECT_EQ(data[10], 0);  // deflate
      EXPECT_EQ(data[11], 0);  // adaptive filtering
      EXPECT_EQ(data[12], 0);  // no interlace
    } else if (type == "IDAT") {
      idat += data;
    }
    at += 12 + length;
  }
  EXPECT_EQ(at, png.size()) << "trailing bytes after the last chunk";
  EXPECT_GE(order.size(), 3u);
  EXPECT_EQ(order.front(), "IHDR");
  EXPECT_EQ(order.back(), "IEND");
  if (image.width <= 0 || image.height <= 0) return image;
  const size_t row = 1 + static_cast<size_t>(image.width) * 3;
  const size_t expected = row * image.height;
  std::string raw(expected + 16, '\0');  // room for more, to catch a stream that inflates too long
  uLongf raw_size = raw.size();
  EXPECT_EQ(uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_size, reinterpret_cast<const Bytef*>(idat.data()),
                       idat.size()),
            Z_OK);
  EXPECT_EQ(raw_size, expected);
  image.pixels.assign(expected - image.height, 0);
  for (int y = 0; y < image.height && (y + 1) * row <= raw_size; ++y) {
    EXPECT_EQ(raw[y * row], 0) << "row " << y << " filter";
    std::copy(raw.begin() + y * row + 1, raw.begin() + (y + 1) * row, image.pixels.begin() + y * (row - 1));
  }
  return image;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

size_t count_color(const RgbImage& image, uint8_t r, uint8_t g, uint8_t b) {
  size_t n = 0;
  for (size_t i = 0; i + 2 < image.pixels.size(); i += 3) {
    n += image.pixels[i] == r && image.pixels[i + 1] == g && image.pixels[i + 2] == b;
  }
  return n;
}

class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(fs::temp_directory_path() / ("negatron_plot_test_" + name + "_" + std::to_string(::getpid()))) {
    remove_tree(path_.string());
    fs::create_directories(path_);
  }
  ~TempDir() { remove_tree(path_.string()); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(Png, EncodesExactPixels) {
  RgbImage image(3, 2);
  const uint8_t values[] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 0, 0, 0, 200, 100, 50};
  image.pixels.assign(std::begin(values), std::end(values));
  const RgbImage decoded = decode_png(encode_png(image));
  EXPECT_EQ(decoded.width, 3);
  EXPECT_EQ(decoded.height, 2);
  EXPECT_EQ(decoded.pixels, image.pixels);
}

TEST(Png, RejectsMalformedImage) {
  RgbImage image(4, 4);
  image.pixels.pop_back();
  EXPECT_THROW(encode_png(image), std::exception);
}

std::vector<nlohmann::json> synthetic_records() {
  std::vector<nlohmann::json> records;
  records.push_back({{"type", "eval"}, {"step", 0}, {"sts-test_spearman_cosine", 0.80}, {"sts-test_pearson_cosine", 0.79}});
  for (int step = 10; step <= 120; step += 10) {
    records.push_back({{"type", "train"}, {"step", step}, {"loss", 8.0 - step * 0.02}, {"learning_rate", 2e-5},
                       {"samples_per_s", 30.0}, {"dataset", "snli-triplets"}});
    records.push_back({{"type", "train"}, {"step", step}, {"loss", 5.0 - step * 0.01}, {"learning_rate", 2e-5},
                       {"samples_per_s", 30.0}, {"dataset", "stsb-train"}});
    if (step % 60 == 0) {  // in the order the trainer writes them
      const double spearman = step == 60 ? 0.82 : 0.83;
      records.push_back({{"type", "eval"}, {"step", step}, {"sts-test_spearman_cosine", spearman},
                         {"sts-test_pearson_cosine", spearman - 0.01}});
    }
  }
  return records;
}

TEST(CurvePlot, WritesADecodablePngFromMetricsJsonl) {
  TempDir dir("write");
  const fs::path metrics = dir.path() / "metrics.jsonl";
  {
    std::ofstream out(metrics);
    for (const auto& record : synthetic_records()) out << record.dump() << "\n";
    out << "{\"type\": \"train\", \"step\": 13";  // a run killed mid-line leaves a partial record
  }
  const fs::path png = dir.path() / "training_curves.png";
  write_png(png.string(), render_training_curves(metrics.string(), {"sts-test_spearman_cosine"}));
  ASSERT_TRUE(fs::exists(png));
  EXPECT_FALSE(fs::exists(png.string() + ".tmp"));
  const RgbImage image = decode_png(read_file(png));
  EXPECT_EQ(image.width, 2 * 640);
  EXPECT_EQ(image.height, 440);
  ASSERT_EQ(image.pixels.size(), static_cast<size_t>(image.width) * image.height * 3);
  const size_t total = static_cast<size_t>(image.width) * image.height;
  EXPECT_GT(count_color(image, 255, 255, 255), total / 2);  // mostly background
  EXPECT_GT(count_color(image, 31, 119, 180), 300u);        // first series colour (both panels)
  EXPECT_GT(count_color(image, 255, 127, 14), 300u);        // second loss series
  EXPECT_GT(count_color(image, 30, 30, 30), 500u);          // text
}

TEST(CurvePlot, PanelsFollowTheRecords) {
  const auto panels = training_curve_panels(synthetic_records(), {"spearman"});
  ASSERT_EQ(panels.size(), 2u);
  ASSERT_EQ(panels[0].series.size(), 2u);
  EXPECT_EQ(panels[0].series[0].name, "snli-triplets");
  EXPECT_EQ(panels[0].series[1].name, "stsb-train");
  EXPECT_EQ(panels[0].series[0].points.size(), 12u);
  EXPECT_DOUBLE_EQ(panels[0].series[1].points.back().second, 5.0 - 1.2);
  ASSERT_EQ(panels[1].series.size(), 1u);  // only the selected metric
  EXPECT_EQ(panels[1].series[0].name, "sts-test_spearman_cosine");
  EXPECT_EQ(panels[1].series[0].points.size(), 3u);
  // Nothing selected matches: every evaluation metric is plotted.
  EXPECT_EQ(training_curve_panels(synthetic_records(), {"nope"})[1].series.size(), 2u);
}

TEST(CurvePlot, ResumedRunReplacesTheStaleTail) {
  std::vector<nlohmann::json> records;
  for (int step = 1; step <= 5; ++step) records.push_back({{"type", "train"}, {"step", step}, {"loss", 1.0}});
  // resumed from checkpoint-3: steps 4 and 5 are logged again with other values
  for (int step = 4; step <= 6; ++step) records.push_back({{"type", "train"}, {"step", step}, {"loss", 2.0}});
  const auto panels = training_curve_panels(records, {});
  ASSERT_EQ(panels[0].series.size(), 1u);
  const auto& points = panels[0].series[0].points;
  ASSERT_EQ(points.size(), 6u);
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_DOUBLE_EQ(points[i].first, i + 1.0);
    EXPECT_DOUBLE_EQ(points[i].second, i < 3 ? 1.0 : 2.0);
  }
  EXPECT_TRUE(panels[1].series.empty());
}

TEST(CurvePlot, RendersWithoutRecordsOrWithOnePoint) {
  EXPECT_NO_THROW(decode_png(encode_png(render_curve_panels(training_curve_panels({}, {})))));
  std::vector<nlohmann::json> one{{{"type", "train"}, {"step", 1}, {"loss", 0.0}},
                                  {{"type", "eval"}, {"step", 1}, {"x", NAN}}};
  const RgbImage image = render_curve_panels(training_curve_panels(one, {}), 300, 200);
  EXPECT_EQ(image.width, 600);
  EXPECT_EQ(image.height, 200);
}

}  // namespace
}  // namespace negatron::report
