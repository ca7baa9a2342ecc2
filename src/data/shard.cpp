#include "data/shard.h"

#include <H5Cpp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>

#include "common/atomic_file.h"
#include "common/check.h"
#include "data/hashing.h"
#include "data/hdf5_image.h"

namespace negatron::data {
namespace {

// Chunk size of every dataset written. Reading a row decompresses (and checksums) the whole chunk
// holding it whenever that chunk is not in the chunk cache, which is the common case for random
// batches of a dataset larger than the cache; 4 KiB chunks made such uncached reads ~5x faster than
// the 64 KiB of the first writer (benchmarks/RESULTS.md "Data path") for ~20% larger files.
// Readers take the chunk shape from each file, so shards written with 64 KiB chunks read the same.
constexpr hsize_t kChunkBytes = 4 * 1024;

std::string column_group(size_t column) { return "text_" + std::to_string(column); }

template <typename T> const H5::PredType& file_type();
template <> const H5::PredType& file_type<int32_t>() { return H5::PredType::STD_I32LE; }
template <> const H5::PredType& file_type<int64_t>() { return H5::PredType::STD_I64LE; }
template <> const H5::PredType& file_type<uint64_t>() { return H5::PredType::STD_U64LE; }
template <> const H5::PredType& file_type<float>() { return H5::PredType::IEEE_F32LE; }
template <> const H5::PredType& file_type<char>() { return H5::PredType::STD_U8LE; }
template <typename T> const H5::PredType& memory_type();
template <> const H5::PredType& memory_type<int32_t>() { return H5::PredType::NATIVE_INT32; }
template <> const H5::PredType& memory_type<int64_t>() { return H5::PredType::NATIVE_INT64; }
template <> const H5::PredType& memory_type<uint64_t>() { return H5::PredType::NATIVE_UINT64; }
template <> const H5::PredType& memory_type<float>() { return H5::PredType::NATIVE_FLOAT; }
template <> const H5::PredType& memory_type<char>() { return H5::PredType::NATIVE_UINT8; }

/// A chunked, compressed, checksummed dataset of `rows` x `width` elements.
template <typename T>
void write_array(H5::Group& parent, const char* name, const T* data, hsize_t rows, hsize_t width = 1) {
  const int rank = width == 1 ? 1 : 2;
  hsize_t dims[2] = {rows, width}, max_dims[2] = {H5S_UNLIMITED, width};
  hsize_t chunk[2] = {std::max<hsize_t>(1, std::min<hsize_t>(rows, kChunkBytes / sizeof(T) / width)), width};
  H5::DSetCreatPropList properties;
  properties.setChunk(rank, chunk);
  properties.setFletcher32();
  properties.setShuffle();
  properties.setDeflate(1);
  H5Pset_obj_track_times(properties.getId(), 0);
  H5::DataSet dataset = parent.createDataSet(name, file_type<T>(), H5::DataSpace(rank, dims, max_dims), properties);
  if (rows > 0) dataset.write(data, memory_type<T>());
}

/// A group whose object header carries no modification time (H5::Group has no such option).
H5::Group create_untimed_group(H5::H5File& file, const std::string& name) {
  H5::PropList creation(H5P_GROUP_CREATE);
  H5Pset_obj_track_times(creation.getId(), 0);
  const hid_t id = H5Gcreate2(file.getId(), name.c_str(), H5P_DEFAULT, creation.getId(), H5P_DEFAULT);
  if (id < 0) throw H5::GroupIException("H5Gcreate2", "cannot create group " + name);
  H5::Group group(id);  // takes a reference of its own
  H5Gclose(id);
  return group;
}

template <typename T>
void write_ragged(H5::Group& group, const char* values, const char* offsets, const Ragged<T>& ragged) {
  write_array(group, values, ragged.values.data(), ragged.values.size());
  write_array(group, offsets, ragged.offsets.data(), ragged.offsets.size());
}

void write_labels(H5::H5File& file, const ShardBlock& block, const DatasetManifest& m) {
  const auto rows = static_cast<hsize_t>(block.rows());
  if (m.label_kind == LabelKind::kInt64) {
    NEG_CHECK(block.int_labels.size() == rows, "shard block: ", block.int_labels.size(), " labels for ", rows, " rows");
    write_array(file, "labels", block.int_labels.data(), rows);
  } else if (m.label_kind != LabelKind::kNone) {
    const hsize_t width = m.label_kind == LabelKind::kFloat32Vector ? m.label_dimension : 1;
    NEG_CHECK(block.float_labels.size() == rows * width, "shard block: ", block.float_labels.size(),
              " label values for ", rows, " rows of width ", width);
    write_array(file, "labels", block.float_labels.data(), rows, width);
  }
}

template <typename T>
void read_range(const H5::DataSet& dataset, hsize_t start, hsize_t count, T* out, hsize_t width = 1) {
  if (count == 0) return;
  H5::DataSpace file_space = dataset.getSpace();
  hsize_t offset[2] = {start, 0}, size[2] = {count, width};
  file_space.selectHyperslab(H5S_SELECT_SET, size, offset);
  H5::DataSpace memory_space(width == 1 ? 1 : 2, size);
  dataset.read(out, memory_type<T>(), memory_space, file_space);
}

/// Rows [start, start + count) of a dataset (each row `width` elements wide).
struct Run {
  hsize_t start = 0, count = 0;
};

/// Reads the union of `runs` (sorted, disjoint) in ONE H5Dread; out receives the runs' elements
/// back to back, in file order. Empty runs are skipped.
template <typename T>
void read_runs(const H5::DataSet& dataset, const std::vector<Run>& runs, T* out, hsize_t width = 1) {
  H5::DataSpace file_space = dataset.getSpace();
  hsize_t total = 0;
  for (const Run& run : runs) {
    if (run.count == 0) continue;
    hsize_t offset[2] = {run.start, 0}, size[2] = {run.count, width};
    file_space.selectHyperslab(total == 0 ? H5S_SELECT_SET : H5S_SELECT_OR, size, offset);
    total += run.count;
  }
  if (total == 0) return;
  hsize_t memory_size[1] = {total * width};
  H5::DataSpace memory_space(1, memory_size);
  dataset.read(out, memory_type<T>(), memory_space, file_space);
}

/// Runs covering [row, row + span) for each of `rows` (sorted, unique), merged where they touch or
/// overlap; where[k] = index of rows[k]'s first element in the buffer read_runs fills.
std::vector<Run> row_runs(const std::vector<int64_t>& rows, hsize_t span, std::vector<size_t>* where = nullptr) {
  std::vector<Run> runs;
  size_t base = 0;  // buffer index of the current run's first element
  if (where) where->resize(rows.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto row = static_cast<hsize_t>(rows[k]);
    if (runs.empty() || row > runs.back().start + runs.back().count) {
      if (!runs.empty()) base += runs.back().count;
      runs.push_back({row, span});
    } else {
      runs.back().count = std::max(runs.back().count, row + span - runs.back().start);
    }
    if (where) (*where)[k] = base + (row - runs.back().start);
  }
  return runs;
}

/// The HDF5 library here is built without thread safety: every HDF5 call of the process (opening,
/// reading, closing, writing shards) goes through this one lock. A thread-safe build serializes
/// internally, so the lock is skipped there.
std::mutex& hdf5_mutex() {
  static std::mutex mutex;
  return mutex;
}

bool hdf5_is_threadsafe() {
  static const bool threadsafe = [] {
    hbool_t value = 0;
    return H5is_library_threadsafe(&value) >= 0 && value;
  }();
  return threadsafe;
}

class Hdf5Lock {
 public:
  Hdf5Lock() : lock_(hdf5_mutex(), std::defer_lock) {
    if (!hdf5_is_threadsafe()) lock_.lock();
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

bool is_prime(size_t n) {
  if (n < 2) return false;
  for (size_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

/// Chunk cache for random row reads: `bytes` (0: none); HDF5 advises ~100 hash slots per chunk that
/// fits, a prime count; w0 = 0 since rows are re-read at random, never streamed through once.
H5::DSetAccPropList chunk_cache_access(size_t bytes, size_t chunk_bytes) {
  size_t slots = std::max<size_t>(11, 100 * (bytes / std::max<size_t>(chunk_bytes, 1)));
  while (!is_prime(slots)) ++slots;
  H5::DSetAccPropList access;
  access.setChunkCache(slots, bytes, 0.0);
  return access;
}

hsize_t length_of(const H5::DataSet& dataset) {
  hsize_t dims[2] = {0, 0};
  dataset.getSpace().getSimpleExtentDims(dims);
  return dims[0];
}

}  // namespace

ShardInfo write_shard(const std::string& path, const ShardBlock& block, const DatasetManifest& m) {
  NEG_CHECK(block.ids.size() == m.text_columns.size() && block.hashes.size() == m.text_columns.size(), path,
            ": block has ", block.ids.size(), " columns, the manifest ", m.text_columns.size());
  std::string bytes;
  try {
    Hdf5Lock lock;  // declared before the file: it closes under the lock
    Hdf5Image image(/*checksummed_metadata=*/true);  // checksummed metadata: a corrupt header is an error, not a crash
    H5::H5File& file = image.file();
    for (size_t c = 0; c < block.ids.size(); ++c) {
      H5::Group group = create_untimed_group(file, column_group(c));
      write_ragged(group, "ids", "offsets", block.ids[c]);
      write_array(group, "hashes", block.hashes[c].data(), block.hashes[c].size());
      if (m.has_text) write_ragged(group, "utf8", "utf8_offsets", block.texts.at(c));
    }
    write_labels(file, block, m);
    bytes = image.bytes();
  } catch (const H5::Exception& e) {
    NEG_FAIL(path, ": HDF5 error while building the shard (", e.getDetailMsg(), ")");
  }
  write_file_atomically(path, bytes);
  ShardInfo info;
  info.file = std::filesystem::path(path).filename().string();
  info.rows = block.rows();
  info.bytes = static_cast<int64_t>(bytes.size());
  info.checksum = fnv1a64(bytes);  // as file_checksum reads it back
  for (const auto& column : block.ids) {
    for (const int32_t id : column.values) info.max_token_id = std::max<int64_t>(info.max_token_id, id);
  }
  return info;
}

struct ShardColumn {
  H5::DataSet ids, offsets, hashes, utf8, utf8_offsets;
  hsize_t ids_length = 0, utf8_length = 0;
};

/// Rows of one ragged column for the sorted unique rows of a request: row k is
/// values[starts[k], starts[k + 1]).
template <typename T>
struct RaggedRead {
  std::vector<T> values;
  std::vector<size_t> starts;
};

namespace {

/// Sorted unique rows of a request, and slot[i] = index of rows[i] among them.
std::vector<int64_t> unique_rows(const std::vector<int64_t>& rows, std::vector<size_t>* slot) {
  std::vector<int64_t> unique(rows);
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  slot->resize(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    (*slot)[i] = static_cast<size_t>(std::lower_bound(unique.begin(), unique.end(), rows[i]) - unique.begin());
  }
  return unique;
}

}  // namespace

struct ShardReader::Impl {
  std::string path;
  H5::H5File file;
  std::vector<ShardColumn> columns;
  H5::DataSet labels;
  LabelKind label_kind = LabelKind::kNone;
  hsize_t label_width = 1;
  bool has_text = false;
  int64_t rows = 0;
  int64_t token_id_limit = 0;
  int64_t label_map_size = 0;

  template <typename F>
  auto guarded(const char* what, F&& f) const {
    try {
      return f();
    } catch (const H5::Exception& e) {
      NEG_FAIL(path, ": corrupt shard, cannot ", what, " (", e.getDetailMsg(), ")");
    }
  }

  void open_columns(size_t count) {
    for (size_t c = 0; c < count; ++c) {
      H5::Group group = file.openGroup(column_group(c));
      ShardColumn column{group.openDataSet("ids"), group.openDataSet("offsets"), group.openDataSet("hashes"), {}, {}};
      if (has_text) {
        column.utf8 = group.openDataSet("utf8");
        column.utf8_offsets = group.openDataSet("utf8_offsets");
        NEG_CHECK(length_of(column.utf8_offsets) == static_cast<hsize_t>(rows + 1), path, ": column ", c,
                  " text does not hold ", rows, " rows as the manifest says");
        column.utf8_length = length_of(column.utf8);
      }
      NEG_CHECK(length_of(column.offsets) == static_cast<hsize_t>(rows + 1) &&
                    length_of(column.hashes) == static_cast<hsize_t>(rows),
                path, ": column ", c, " does not hold ", rows, " rows as the manifest says");
      column.ids_length = length_of(column.ids);
      columns.push_back(std::move(column));
    }
  }

  /// Every dataset of the shard, for the chunk cache split.
  std::vector<H5::DataSet*> datasets() {
    std::vector<H5::DataSet*> out;
    for (auto& column : columns) {
      for (H5::DataSet* d : {&column.ids, &column.offsets, &column.hashes, &column.utf8, &column.utf8_offsets}) {
        if (d->getId() > 0) out.push_back(d);
      }
    }
    if (labels.getId() > 0) out.push_back(&labels);
    return out;
  }

  /// Reopens every dataset with a chunk cache: `budget` bytes split in proportion to each dataset's
  /// uncompressed size (no dataset gets more than its size plus one chunk). A dataset whose share is
  /// below one chunk gets no cache: each read then decompresses every chunk it touches once.
  void set_chunk_caches(size_t budget) {
    struct Entry {
      H5::DataSet* dataset;
      size_t bytes, chunk_bytes;
    };
    std::vector<Entry> entries;
    double total = 0;
    for (H5::DataSet* d : datasets()) {
      H5::DataSpace space = d->getSpace();
      const size_t element = d->getDataType().getSize();
      const size_t bytes = static_cast<size_t>(space.getSimpleExtentNpoints()) * element;
      hsize_t chunk[2] = {1, 1};
      const int rank = d->getCreatePlist().getChunk(2, chunk);
      size_t chunk_bytes = element;
      for (int i = 0; i < rank; ++i) chunk_bytes *= chunk[i];
      entries.push_back({d, bytes, chunk_bytes});
      total += static_cast<double>(bytes);
    }
    for (const Entry& e : entries) {
      size_t share = total > 0 ? static_cast<size_t>(static_cast<double>(budget) * e.bytes / total) : 0;
      share = std::min(share, e.bytes + e.chunk_bytes);
      if (share < e.chunk_bytes) share = 0;
      // Closed first: an open dataset shares one cache with every other open of it, so reopening
      // it while open would ignore the new setting.
      const std::string name = e.dataset->getObjName();
      e.dataset->close();
      *e.dataset = file.openDataSet(name, chunk_cache_access(share, e.chunk_bytes));
    }
  }

  /// Rows `rows` (sorted, unique) of a ragged column: one H5Dread of their offsets (a union of
  /// hyperslabs), one of their values (the union of their ranges, adjacent ones merged).
  template <typename T>
  RaggedRead<T> read_ragged(const H5::DataSet& values, hsize_t values_length, const H5::DataSet& offsets,
                            const std::vector<int64_t>& rows) const {
    std::vector<size_t> where;
    const std::vector<Run> offset_runs = row_runs(rows, 2, &where);
    size_t offset_count = 0;
    for (const Run& run : offset_runs) offset_count += run.count;
    std::vector<int64_t> bounds(offset_count);
    read_runs(offsets, offset_runs, bounds.data());
    RaggedRead<T> out;
    out.starts.resize(rows.size() + 1, 0);
    std::vector<Run> value_runs;
    int64_t previous_end = 0;
    for (size_t k = 0; k < rows.size(); ++k) {
      const int64_t begin = bounds[where[k]], end = bounds[where[k] + 1];
      // Offsets never decrease, so the ranges of sorted rows are disjoint and in order.
      NEG_CHECK(0 <= begin && begin <= end && end <= static_cast<int64_t>(values_length) && begin >= previous_end,
                path, ": corrupt offsets at row ", rows[k]);
      previous_end = end;
      out.starts[k + 1] = out.starts[k] + static_cast<size_t>(end - begin);
      if (begin == end) continue;
      if (!value_runs.empty() && static_cast<hsize_t>(begin) == value_runs.back().start + value_runs.back().count) {
        value_runs.back().count += static_cast<hsize_t>(end - begin);
      } else {
        value_runs.push_back({static_cast<hsize_t>(begin), static_cast<hsize_t>(end - begin)});
      }
    }
    out.values.resize(out.starts.back());
    read_runs(values, value_runs, out.values.data());
    return out;
  }

  /// One value per (row, text column) of `rows` (any order, duplicates allowed), row-major
  /// [i * columns + c]. read_column(column, unique sorted rows, out) fills the unique rows' values;
  /// it runs under the HDF5 lock, once per column.
  template <typename T, typename ReadColumn>
  std::vector<T> read_per_column(const std::vector<int64_t>& rows, const char* what, ReadColumn&& read_column) const {
    check_rows(rows);
    std::vector<size_t> slot;
    const std::vector<int64_t> unique = unique_rows(rows, &slot);
    std::vector<std::vector<T>> values(columns.size(), std::vector<T>(unique.size()));
    if (!unique.empty()) {
      Hdf5Lock lock;
      guarded(what, [&] {
        for (size_t c = 0; c < columns.size(); ++c) read_column(columns[c], unique, values[c].data());
        return 0;
      });
    }
    std::vector<T> out(rows.size() * columns.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      for (size_t c = 0; c < columns.size(); ++c) out[i * columns.size() + c] = values[c][slot[i]];
    }
    return out;
  }

  /// Token ids of the sorted unique `rows` of column c (as read_ragged returned them).
  void check_token_ids(const RaggedRead<int32_t>& ids, size_t c, const std::vector<int64_t>& rows) const {
    for (size_t k = 0; k < rows.size(); ++k) {
      for (size_t i = ids.starts[k]; i < ids.starts[k + 1]; ++i) {
        const int32_t id = ids.values[i];
        if (id >= 0 && (token_id_limit == 0 || id < token_id_limit)) continue;
        NEG_FAIL(path, ": row ", rows[k], " column ", c, " holds token id ", id,
                 token_id_limit > 0 ? ", outside the model's vocabulary of " + std::to_string(token_id_limit) +
                                          " (prepared with another tokenizer, or corrupt)"
                                    : " (negative: corrupt shard)");
      }
    }
  }

  void check_int_labels(const std::vector<int64_t>& labels, const std::vector<int64_t>& rows) const {
    if (label_map_size == 0) return;
    for (size_t k = 0; k < labels.size(); ++k) {
      NEG_CHECK(0 <= labels[k] && labels[k] < label_map_size, path, ": row ", rows[k], " has label ", labels[k],
                " outside the dataset's label map of ", label_map_size, " classes");
    }
  }

  void check_float_labels(const std::vector<float>& labels, const std::vector<int64_t>& rows) const {
    for (size_t i = 0; i < labels.size(); ++i) {
      NEG_CHECK(std::isfinite(labels[i]), path, ": row ", rows[i / label_width], " has a non-finite label (",
                labels[i], ")");
    }
  }

  void check_rows(const std::vector<int64_t>& rows) const {
    for (int64_t row : rows) NEG_CHECK(0 <= row && row < this->rows, path, ": row ", row, " out of range [0, ", this->rows, ")");
  }
};


ShardReader::ShardReader(const std::string& path, const ShardInfo& info, const DatasetManifest& m,
                         size_t chunk_cache_bytes, int64_t token_id_limit) {
  std::error_code error;
  const auto bytes = std::filesystem::file_size(path, error);
  NEG_CHECK(!error, path, ": shard file is missing (", error.message(), ")");
  NEG_CHECK(static_cast<int64_t>(bytes) == info.bytes, path, ": shard is truncated or altered: ", bytes,
            " bytes, the manifest says ", info.bytes);
  Hdf5Lock lock;  // declared before `impl`: a failed open closes its HDF5 objects under the lock
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->rows = info.rows;
  impl->has_text = m.has_text;
  impl->label_kind = m.label_kind;
  impl->label_width = m.label_kind == LabelKind::kFloat32Vector ? m.label_dimension : 1;
  impl->token_id_limit = token_id_limit;
  impl->label_map_size = static_cast<int64_t>(m.label_map.size());
  impl->guarded("open", [&] {
    H5::Exception::dontPrint();
    impl->file = H5::H5File(path, H5F_ACC_RDONLY);
    impl->open_columns(m.text_columns.size());
    if (m.label_kind != LabelKind::kNone) impl->labels = impl->file.openDataSet("labels");
    impl->set_chunk_caches(chunk_cache_bytes);
  });
  impl_ = std::move(impl);
}

ShardReader::~ShardReader() {
  if (!impl_) return;
  Hdf5Lock lock;
  impl_.reset();
}

ShardReader::ShardReader(ShardReader&&) noexcept = default;

ShardRows ShardReader::read(const std::vector<int64_t>& rows, bool with_text) const {
  const Impl& s = *impl_;
  s.check_rows(rows);
  std::vector<size_t> slot;
  const std::vector<int64_t> unique = unique_rows(rows, &slot);
  const bool text = with_text && s.has_text;
  std::vector<RaggedRead<int32_t>> ids(s.columns.size());
  std::vector<RaggedRead<char>> texts(text ? s.columns.size() : 0);
  std::vector<int64_t> int_labels;
  std::vector<float> float_labels;
  if (!unique.empty()) {
    Hdf5Lock lock;
    s.guarded("read rows", [&] {
      for (size_t c = 0; c < s.columns.size(); ++c) {
        const ShardColumn& column = s.columns[c];
        ids[c] = s.read_ragged<int32_t>(column.ids, column.ids_length, column.offsets, unique);
        if (text) texts[c] = s.read_ragged<char>(column.utf8, column.utf8_length, column.utf8_offsets, unique);
      }
      const std::vector<Run> label_runs = row_runs(unique, 1);  // row k of the buffer is unique[k]
      if (s.label_kind == LabelKind::kInt64) {
        int_labels.resize(unique.size());
        read_runs(s.labels, label_runs, int_labels.data());
      } else if (s.label_kind != LabelKind::kNone) {
        float_labels.resize(unique.size() * s.label_width);
        read_runs(s.labels, label_runs, float_labels.data(), s.label_width);
      }
      return 0;
    });
  }
  for (size_t c = 0; c < ids.size(); ++c) s.check_token_ids(ids[c], c, unique);
  s.check_int_labels(int_labels, unique);
  s.check_float_labels(float_labels, unique);
  // Scatter to the order asked for (duplicates copied), outside the HDF5 lock.
  ShardRows out;
  out.ids.resize(s.columns.size());
  if (text) out.texts.resize(s.columns.size());
  for (size_t c = 0; c < s.columns.size(); ++c) {
    out.ids[c].reserve(rows.size());
    for (size_t k : slot) {
      out.ids[c].emplace_back(ids[c].values.begin() + ids[c].starts[k], ids[c].values.begin() + ids[c].starts[k + 1]);
    }
    if (!text) continue;
    out.texts[c].reserve(rows.size());
    for (size_t k : slot) {
      out.texts[c].emplace_back(texts[c].values.begin() + texts[c].starts[k], texts[c].values.begin() + texts[c].starts[k + 1]);
    }
  }
  if (s.label_kind == LabelKind::kInt64) {
    out.int_labels.reserve(rows.size());
    for (size_t k : slot) out.int_labels.push_back(int_labels[k]);
  } else if (s.label_kind != LabelKind::kNone) {
    out.float_labels.reserve(rows.size() * s.label_width);
    for (size_t k : slot) {
      out.float_labels.insert(out.float_labels.end(), float_labels.begin() + k * s.label_width,
                              float_labels.begin() + (k + 1) * s.label_width);
    }
  }
  return out;
}

std::vector<uint64_t> ShardReader::read_hashes(const std::vector<int64_t>& rows) const {
  return impl_->read_per_column<uint64_t>(
      rows, "read text hashes", [](const ShardColumn& column, const std::vector<int64_t>& unique, uint64_t* out) {
        read_runs(column.hashes, row_runs(unique, 1), out);
      });
}

std::vector<int64_t> ShardReader::read_token_counts(const std::vector<int64_t>& rows) const {
  const Impl& s = *impl_;
  return s.read_per_column<int64_t>(
      rows, "read token counts", [&s](const ShardColumn& column, const std::vector<int64_t>& unique, int64_t* out) {
        std::vector<size_t> where;
        const std::vector<Run> runs = row_runs(unique, 2, &where);  // offsets[r] and offsets[r + 1]
        size_t bound_count = 0;
        for (const Run& run : runs) bound_count += run.count;
        std::vector<int64_t> bounds(bound_count);
        read_runs(column.offsets, runs, bounds.data());
        for (size_t k = 0; k < unique.size(); ++k) {
          out[k] = bounds[where[k] + 1] - bounds[where[k]];
          NEG_CHECK(out[k] >= 0, s.path, ": corrupt offsets at row ", unique[k]);
        }
      });
}

std::vector<int64_t> ShardReader::read_all_int_labels() const {
  const Impl& s = *impl_;
  NEG_CHECK(s.label_kind == LabelKind::kInt64, s.path, ": has no int64 labels");
  std::vector<int64_t> out(s.rows);
  Hdf5Lock lock;
  s.guarded("read labels", [&] {
    read_range(s.labels, 0, out.size(), out.data());
    return 0;
  });
  std::vector<int64_t> rows(out.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  s.check_int_labels(out, rows);
  return out;
}

int64_t ShardReader::scan_max_token_id() const {
  const Impl& s = *impl_;
  int64_t max_id = -1;
  constexpr hsize_t kBlock = hsize_t{1} << 20;
  std::vector<int32_t> ids;
  for (const ShardColumn& column : s.columns) {
    for (hsize_t start = 0; start < column.ids_length; start += kBlock) {
      ids.resize(std::min(kBlock, column.ids_length - start));
      {
        Hdf5Lock lock;
        s.guarded("read token ids", [&] {
          read_range(column.ids, start, ids.size(), ids.data());
          return 0;
        });
      }
      for (const int32_t id : ids) {
        NEG_CHECK(id >= 0, s.path, ": holds a negative token id ", id, " (corrupt shard)");
        max_id = std::max<int64_t>(max_id, id);
      }
    }
  }
  return max_id;
}

}  // namespace negatron::data
