#pragma once
// HDF5 file of embeddings: dataset `embeddings` [N, d] float32, with attributes `model`
// (string), `dimension` (int64) and `normalized` (int8 0/1).
#include <cstdint>
#include <string>
#include <vector>

namespace negatron::data {

struct EmbeddingFile {
  std::string model;
  int64_t rows = 0;
  int64_t dimension = 0;
  bool normalized = false;
  std::vector<float> values;  // row-major rows * dimension
};

/// Built in memory and published atomically (data/hdf5_image.h).
void write_embedding_file(const std::string& path, const EmbeddingFile& file);
EmbeddingFile read_embedding_file(const std::string& path);

}  // namespace negatron::data
