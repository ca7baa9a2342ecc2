#include "data/dataset_reader.h"

#include <algorithm>
#include <cstdlib>
#include <numeric>

#include "common/check.h"
#include "data/hashing.h"

namespace negatron::data {
namespace {

/// kDefaultChunkCacheBytes, or NEGATRON_HDF5_CHUNK_CACHE_MB (0 disables the cache).
size_t chunk_cache_bytes() {
  const char* value = std::getenv("NEGATRON_HDF5_CHUNK_CACHE_MB");
  if (value == nullptr || *value == '\0') return kDefaultChunkCacheBytes;
  char* end = nullptr;
  const double megabytes = std::strtod(value, &end);
  NEG_CHECK(*end == '\0' && megabytes >= 0, "NEGATRON_HDF5_CHUNK_CACHE_MB='", value, "' is not a size in MiB");
  return static_cast<size_t>(megabytes * 1024 * 1024);
}

std::string label_description(LabelKind kind, int64_t dimension) {
  return kind == LabelKind::kFloat32Vector ? label_kind_name(kind) + "[" + std::to_string(dimension) + "]"
                                           : label_kind_name(kind);
}

// Groups positions of `rows` by shard, calls read(shard, local rows, positions) once per shard.
template <typename F>
void for_each_shard_group(const std::vector<std::pair<size_t, int64_t>>& located, size_t shard_count, F&& read) {
  std::vector<std::vector<size_t>> positions(shard_count);
  for (size_t i = 0; i < located.size(); ++i) positions[located[i].first].push_back(i);
  for (size_t shard = 0; shard < shard_count; ++shard) {
    if (positions[shard].empty()) continue;
    std::vector<int64_t> local;
    for (size_t i : positions[shard]) local.push_back(located[i].second);
    read(shard, local, positions[shard]);
  }
}

}  // namespace

void check_requirements(const DatasetManifest& m, const std::string& dir, const DatasetRequirements& r) {
  if (r.tokenizer_fingerprint) {
    NEG_CHECK(*r.tokenizer_fingerprint == m.tokenizer_fingerprint, dir, ": dataset was tokenized with tokenizer ",
              hex64(m.tokenizer_fingerprint), ", but the model's tokenizer is ", hex64(*r.tokenizer_fingerprint),
              "; run negatron prepare again with this model");
  }
  const auto columns = static_cast<int>(m.text_columns.size());
  NEG_CHECK(r.min_text_columns <= columns && columns <= r.max_text_columns, dir, ": dataset has ", columns,
            " text columns, ", r.consumer, " needs ", r.min_text_columns,
            r.max_text_columns == r.min_text_columns ? "" : " or more",
            r.max_text_columns != INT_MAX && r.max_text_columns != r.min_text_columns
                ? " (at most " + std::to_string(r.max_text_columns) + ")" : "");
  if (r.label_kind) {
    const bool dimension_ok = *r.label_kind != LabelKind::kFloat32Vector || r.label_dimension == 0 ||
                              r.label_dimension == m.label_dimension;
    NEG_CHECK(*r.label_kind == m.label_kind && dimension_ok, dir, ": dataset label is ",
              label_description(m.label_kind, m.label_dimension), ", ", r.consumer, " needs ",
              label_description(*r.label_kind, r.label_dimension));
  }
}

std::shared_ptr<DatasetReader> DatasetReader::open(const std::string& dir, const DatasetRequirements& requirements) {
  std::shared_ptr<DatasetReader> reader(new DatasetReader());
  reader->dir_ = dir;
  reader->manifest_ = read_manifest(dir);
  check_requirements(reader->manifest_, dir, requirements);
  reader->shard_starts_.push_back(0);
  const size_t cache = chunk_cache_bytes();
  const double total_rows = static_cast<double>(std::max<int64_t>(reader->manifest_.rows, 1));
  for (const auto& info : reader->manifest_.shards) {
    const std::string path = dir + "/" + info.file;
    const auto shard_cache = static_cast<size_t>(static_cast<double>(cache) * static_cast<double>(info.rows) / total_rows);
    reader->shards_.emplace_back(path, info, reader->manifest_, shard_cache, requirements.vocab_size);
    if (requirements.verify_checksums) {
      NEG_CHECK(file_checksum(path) == info.checksum, path, ": shard checksum mismatch (corrupt shard)");
    }
    if (requirements.vocab_size > 0) {
      const int64_t max_id = info.max_token_id >= 0 ? info.max_token_id : reader->shards_.back().scan_max_token_id();
      NEG_CHECK(max_id < requirements.vocab_size, path, ": holds token id ", max_id,
                ", outside the model's vocabulary of ", requirements.vocab_size, " (", requirements.consumer,
                "); prepare the dataset again with this model's tokenizer");
    }
    reader->shard_starts_.push_back(reader->shard_starts_.back() + info.rows);
  }
  return reader;
}

std::pair<size_t, int64_t> DatasetReader::locate(int64_t row) const {
  NEG_CHECK(0 <= row && row < rows(), dir_, ": row ", row, " out of range [0, ", rows(), ")");
  auto it = std::upper_bound(shard_starts_.begin(), shard_starts_.end(), row);
  const auto shard = static_cast<size_t>(it - shard_starts_.begin() - 1);
  return {shard, row - shard_starts_[shard]};
}

DatasetRows DatasetReader::read(const std::vector<int64_t>& rows, bool with_text) const {
  std::vector<std::pair<size_t, int64_t>> located;
  for (int64_t row : rows) located.push_back(locate(row));
  const size_t columns = manifest_.text_columns.size();
  const int64_t width = manifest_.label_kind == LabelKind::kFloat32Vector ? manifest_.label_dimension : 1;
  DatasetRows out;
  out.ids.assign(columns, std::vector<std::vector<int32_t>>(rows.size()));
  if (with_text && manifest_.has_text) out.texts.assign(columns, std::vector<std::string>(rows.size()));
  if (manifest_.label_kind == LabelKind::kInt64) out.int_labels.resize(rows.size());
  if (manifest_.label_kind == LabelKind::kFloat32 || manifest_.label_kind == LabelKind::kFloat32Vector) {
    out.float_labels.resize(rows.size() * width);
  }
  for_each_shard_group(located, shards_.size(), [&](size_t shard, const auto& local, const auto& positions) {
    ShardRows part = shards_[shard].read(local, with_text);
    for (size_t k = 0; k < positions.size(); ++k) {
      const size_t i = positions[k];
      for (size_t c = 0; c < columns; ++c) out.ids[c][i] = std::move(part.ids[c][k]);
      for (size_t c = 0; c < part.texts.size(); ++c) out.texts[c][i] = std::move(part.texts[c][k]);
      if (!part.int_labels.empty()) out.int_labels[i] = part.int_labels[k];
      if (!part.float_labels.empty()) {
        std::copy_n(part.float_labels.begin() + k * width, width, out.float_labels.begin() + i * width);
      }
    }
  });
  return out;
}

template <typename T, typename ReadShard>
std::vector<T> DatasetReader::read_per_column(const std::vector<int64_t>& rows, ReadShard&& read_shard) const {
  std::vector<std::pair<size_t, int64_t>> located;
  for (int64_t row : rows) located.push_back(locate(row));
  const size_t columns = manifest_.text_columns.size();
  std::vector<T> out(rows.size() * columns);
  for_each_shard_group(located, shards_.size(), [&](size_t shard, const auto& local, const auto& positions) {
    std::vector<T> part = read_shard(shards_[shard], local);
    for (size_t k = 0; k < positions.size(); ++k) {
      std::copy_n(part.begin() + k * columns, columns, out.begin() + positions[k] * columns);
    }
  });
  return out;
}

std::vector<uint64_t> DatasetReader::read_hashes(const std::vector<int64_t>& rows) const {
  return read_per_column<uint64_t>(rows, [](const ShardReader& shard, const std::vector<int64_t>& local) {
    return shard.read_hashes(local);
  });
}

std::vector<int64_t> DatasetReader::read_token_counts(const std::vector<int64_t>& rows) const {
  return read_per_column<int64_t>(rows, [](const ShardReader& shard, const std::vector<int64_t>& local) {
    return shard.read_token_counts(local);
  });
}

std::vector<int64_t> DatasetReader::read_all_int_labels() const {
  NEG_CHECK(manifest_.label_kind == LabelKind::kInt64, dir_, ": GROUP_BY_LABEL needs int64 labels, the dataset has ",
            label_kind_name(manifest_.label_kind));
  std::vector<int64_t> out;
  for (const auto& shard : shards_) {
    auto part = shard.read_all_int_labels();
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

}  // namespace negatron::data
