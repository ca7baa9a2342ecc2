#pragma once
// A minimal PNG encoder (8-bit RGB, no interlace) on top of zlib: enough to write the training-curve
// plots without an image library.
#include <cstdint>
#include <string>
#include <vector>

namespace negatron::report {

/// An 8-bit RGB raster, rows top to bottom, 3 bytes per pixel.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height * 3

  RgbImage() = default;
  RgbImage(int w, int h, uint8_t r = 255, uint8_t g = 255, uint8_t b = 255);
  uint8_t* at(int x, int y) { return pixels.data() + (static_cast<size_t>(y) * width + x) * 3; }
  const uint8_t* at(int x, int y) const { return pixels.data() + (static_cast<size_t>(y) * width + x) * 3; }
};

/// The PNG file bytes of `image` (signature, IHDR, one IDAT, IEND).
std::string encode_png(const RgbImage& image);

/// Writes encode_png(image) to `path` (through a temporary file renamed into place).
void write_png(const std::string& path, const RgbImage& image);

}  // namespace negatron::report
