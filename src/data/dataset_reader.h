#pragma once
// Opens a prepared dataset directory and reads arbitrary rows by global index. Knows nothing of
// ranks: samplers decide which rows a rank needs, the reader fetches just those.
// Thread-safe: ShardReader holds the process-wide HDF5 lock only for its H5Dread calls (one per
// dataset per shard per request), so threads overlap their copying and collating.
// Memory: the HDF5 chunk cache is bounded per reader (kDefaultChunkCacheBytes, or the environment
// variable NEGATRON_HDF5_CHUNK_CACHE_MB), split over the shards by rows; nothing else is kept per row.
#include <climits>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/manifest.h"
#include "data/shard.h"

namespace negatron::data {

/// What the consumer (the trainer, for a given model and loss) needs; checked at open.
struct DatasetRequirements {
  /// The model tokenizer's fingerprint; unset: not checked.
  std::optional<uint64_t> tokenizer_fingerprint;
  int min_text_columns = 1;
  int max_text_columns = INT_MAX;
  /// Rows of the model's embedding table: every token id must be below it (0: not checked). Checked
  /// when the dataset is opened (each shard's recorded largest id, or a scan of shards written
  /// before it was recorded) and again on every row read.
  int64_t vocab_size = 0;
  /// Unset: any label (or none) is accepted.
  std::optional<LabelKind> label_kind;
  /// For float32_vector labels; 0: any dimension.
  int64_t label_dimension = 0;
  /// Named in errors, e.g. "MultipleNegativesRankingLoss".
  std::string consumer = "the consumer";
  /// Reads every shard once to compare its checksum with the manifest (sizes are always checked).
  bool verify_checksums = false;
};

/// Rows in the order they were asked for.
struct DatasetRows {
  std::vector<std::vector<std::vector<int32_t>>> ids;  // [column][i]
  std::vector<std::vector<std::string>> texts;         // [column][i], if asked and stored
  std::vector<int64_t> int_labels;                     // [i]
  std::vector<float> float_labels;                     // [i * label width]
};

class DatasetReader {
 public:
  static std::shared_ptr<DatasetReader> open(const std::string& dir, const DatasetRequirements& requirements = {});

  const DatasetManifest& manifest() const { return manifest_; }
  const std::string& dir() const { return dir_; }
  int64_t rows() const { return manifest_.rows; }
  int64_t text_columns() const { return static_cast<int64_t>(manifest_.text_columns.size()); }

  DatasetRows read(const std::vector<int64_t>& rows, bool with_text = false) const;
  /// Text hashes, row-major [i * text_columns() + c].
  std::vector<uint64_t> read_hashes(const std::vector<int64_t>& rows) const;
  /// Token counts, row-major [i * text_columns() + c] (offsets only).
  std::vector<int64_t> read_token_counts(const std::vector<int64_t>& rows) const;
  /// Every int64 label, in row order (GROUP_BY_LABEL).
  std::vector<int64_t> read_all_int_labels() const;

 private:
  DatasetReader() = default;
  /// (shard index, row inside it) of a global row; throws for out-of-range rows.
  std::pair<size_t, int64_t> locate(int64_t row) const;
  /// Row-major [i * text_columns() + c] values of `rows`, read shard by shard with read_shard.
  template <typename T, typename ReadShard>
  std::vector<T> read_per_column(const std::vector<int64_t>& rows, ReadShard&& read_shard) const;

  std::string dir_;
  DatasetManifest manifest_;
  std::vector<ShardReader> shards_;
  std::vector<int64_t> shard_starts_;  // global index of each shard's first row, plus the total
};

/// HDF5 chunk cache of one DatasetReader, all shards together.
constexpr size_t kDefaultChunkCacheBytes = size_t{64} << 20;

/// Throws with a clear message if `manifest` (of `dir`) does not meet `requirements`.
void check_requirements(const DatasetManifest& manifest, const std::string& dir, const DatasetRequirements& requirements);

}  // namespace negatron::data
