#pragma once
// One shard file (HDF5) of a prepared dataset: rows of pre-tokenized text columns, their 64-bit
// text hashes, optionally the raw text, and an optional label column. Layout (docs/dataset_format.md):
//   /text_<c>/ids           int32  [total tokens]  ragged values of column c
//   /text_<c>/offsets       int64  [rows + 1]      row r is ids[offsets[r] : offsets[r+1]]
//   /text_<c>/hashes        uint64 [rows]          text_hash of the raw UTF-8 text
//   /text_<c>/utf8          uint8  [total bytes]   (has_text only) raw text, ragged like ids
//   /text_<c>/utf8_offsets  int64  [rows + 1]
//   /labels                 int64 [rows] | float32 [rows] | float32 [rows, dimension]
// Every dataset is chunked (4 KiB; 64 KiB before, still read) with shuffle + deflate(1) + Fletcher-32;
// the library verifies each chunk as it is read, and errors name the shard file.
// Reads are batched: ShardReader::read sorts and dedups the rows asked for and issues one H5Dread per
// dataset (a union of hyperslabs: the rows' offsets, then their coalesced value ranges), then
// scatters the rows back into the order asked for. All HDF5 calls of the process (this file's)
// hold one lock unless the library is thread-safe; copying rows out happens outside it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/manifest.h"

namespace negatron::data {

/// Ragged rows: row r is values[offsets[r], offsets[r+1]).
template <typename T>
struct Ragged {
  std::vector<T> values;
  std::vector<int64_t> offsets{0};
  int64_t rows() const { return static_cast<int64_t>(offsets.size()) - 1; }
  template <typename Range>
  void push(const Range& row) {
    values.insert(values.end(), row.begin(), row.end());
    offsets.push_back(static_cast<int64_t>(values.size()));
  }
};

/// Rows of a shard in memory, as `negatron prepare` builds them.
struct ShardBlock {
  std::vector<Ragged<int32_t>> ids;      // [column]
  std::vector<std::vector<uint64_t>> hashes;  // [column][row]
  std::vector<Ragged<char>> texts;       // [column], empty unless has_text
  std::vector<int64_t> int_labels;       // [row]            (int64)
  std::vector<float> float_labels;       // [row * dimension] (float32, float32_vector)
  int64_t rows() const { return ids.empty() ? 0 : ids.front().rows(); }
};

/// Writes `block` to `path` with the layout of `manifest`; returns rows, size and checksum.
ShardInfo write_shard(const std::string& path, const ShardBlock& block, const DatasetManifest& manifest);

/// Rows read back for a list of row indices inside one shard, in the order asked for.
struct ShardRows {
  std::vector<std::vector<std::vector<int32_t>>> ids;  // [column][i]
  std::vector<std::vector<std::string>> texts;         // [column][i], when asked and stored
  std::vector<int64_t> int_labels;                     // [i]
  std::vector<float> float_labels;                     // [i * dimension]
};

/// Default chunk cache of one shard (all its datasets together), see ShardReader.
constexpr size_t kDefaultShardChunkCacheBytes = 4 << 20;

class ShardReader {
 public:
  /// Opens the file and checks row counts against `info`; errors name the shard file.
  /// `chunk_cache_bytes`: HDF5 chunk cache for the whole shard, split over its datasets in
  /// proportion to their uncompressed size (a share below one chunk disables that dataset's cache).
  /// Every row read is checked: token ids in [0, token_id_limit) (limit 0: only >= 0), float labels
  /// finite, int64 labels inside the label map when there is one; errors name the file and the row.
  ShardReader(const std::string& path, const ShardInfo& info, const DatasetManifest& manifest,
              size_t chunk_cache_bytes = kDefaultShardChunkCacheBytes, int64_t token_id_limit = 0);
  ~ShardReader();
  ShardReader(ShardReader&&) noexcept;

  /// Rows in the order asked for; duplicates and any order allowed. Thread-safe.
  ShardRows read(const std::vector<int64_t>& rows, bool with_text) const;
  /// Text hashes of `rows`, row-major: out[i * columns + c].
  std::vector<uint64_t> read_hashes(const std::vector<int64_t>& rows) const;
  /// Token counts of `rows`, row-major: out[i * columns + c] (offsets only; no ids are read).
  std::vector<int64_t> read_token_counts(const std::vector<int64_t>& rows) const;
  /// All int64 labels of the shard (GROUP_BY_LABEL needs them up front).
  std::vector<int64_t> read_all_int_labels() const;
  /// The largest token id in the shard (-1 if it holds none), reading every id once.
  int64_t scan_max_token_id() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace negatron::data
