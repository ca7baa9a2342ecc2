#pragma once
// In-memory SamplerSources for the sampler tests: no files, every property checkable by brute force.
#include <cstdint>
#include <vector>

#include "data/batch_sampler.h"

namespace negatron::data::testing {

/// Rows with `width` text hashes; row r's texts are drawn from only `distinct` values, so
/// duplicates across rows are frequent.
inline SamplerSource duplicate_heavy_source(int64_t rows, int64_t width, uint64_t distinct) {
  auto table = std::make_shared<std::vector<uint64_t>>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < width; ++c) table->push_back((static_cast<uint64_t>(r) * 7919 + c * 104729) % distinct);
  }
  SamplerSource source;
  source.rows = rows;
  source.hash_width = width;
  source.hashes = [table, width](const std::vector<int64_t>& wanted) {
    std::vector<uint64_t> out;
    for (int64_t r : wanted) out.insert(out.end(), table->begin() + r * width, table->begin() + (r + 1) * width);
    return out;
  };
  return source;
}

/// Rows labelled with skewed class sizes (label of row r is (r * r) % classes).
inline SamplerSource labelled_source(int64_t rows, int64_t classes) {
  SamplerSource source;
  source.rows = rows;
  source.labels = [rows, classes] {
    std::vector<int64_t> labels;
    for (int64_t r = 0; r < rows; ++r) labels.push_back((r * r) % classes);
    return labels;
  };
  return source;
}

inline SamplerOptions options_for(BatchSamplerKind kind, int64_t batch, int rank, int world, uint64_t seed = 7) {
  SamplerOptions o;
  o.kind = kind;
  o.seed = seed;
  o.batch_size_global = batch;
  o.rank = rank;
  o.world_size = world;
  return o;
}

}  // namespace negatron::data::testing
