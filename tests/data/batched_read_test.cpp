// The batched shard read (sorted rows, one H5Dread per dataset over a union of hyperslabs, scattered
// back into the order asked for) returns exactly what a row-by-row read returns: checked against an
// independent reference that reads each row with its own two HDF5 reads (the original algorithm),
// and against the in-memory blocks the shards were written from.
#include <gtest/gtest.h>

#include <H5Cpp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "common/remove_tree.h"
#include "data/dataset_reader.h"
#include "data/hashing.h"
#include "data/prefetcher.h"
#include "data/prepare.h"
#include "support/error_of.h"

namespace negatron::data {
namespace {

using negatron::testing::error_of;
namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("negatron_batched_read_" + name + "_" + std::to_string(::getpid()));
  remove_tree(dir.string());
  return dir;
}

/// Row-by-row reference: for each row, one read of offsets[r], offsets[r + 1] and one of the values.
class RowByRowReference {
 public:
  explicit RowByRowReference(const std::string& dir) : dir_(dir), manifest_(read_manifest(dir)) {
    int64_t start = 0;
    for (const auto& shard : manifest_.shards) {
      starts_.push_back(start);
      start += shard.rows;
      files_.emplace_back(dir_ + "/" + shard.file, H5F_ACC_RDONLY);
    }
  }

  DatasetRows read(const std::vector<int64_t>& rows, bool with_text) const {
    const size_t columns = manifest_.text_columns.size();
    DatasetRows out;
    out.ids.resize(columns);
    if (with_text && manifest_.has_text) out.texts.resize(columns);
    for (int64_t row : rows) {
      const auto [shard, local] = locate(row);
      const H5::H5File& file = files_[shard];
      for (size_t c = 0; c < columns; ++c) {
        const std::string group = "text_" + std::to_string(c);
        out.ids[c].push_back(ragged_row<int32_t>(file, group + "/ids", group + "/offsets", local));
        if (out.texts.empty()) continue;
        const auto bytes = ragged_row<uint8_t>(file, group + "/utf8", group + "/utf8_offsets", local);
        out.texts[c].emplace_back(bytes.begin(), bytes.end());
      }
      if (manifest_.label_kind == LabelKind::kInt64) {
        out.int_labels.push_back(slice<int64_t>(file, "labels", local, 1, 1).at(0));
      } else if (manifest_.label_kind != LabelKind::kNone) {
        const hsize_t width = manifest_.label_kind == LabelKind::kFloat32Vector ? manifest_.label_dimension : 1;
        const auto values = slice<float>(file, "labels", local, 1, width);
        out.float_labels.insert(out.float_labels.end(), values.begin(), values.end());
      }
    }
    return out;
  }

  std::vector<uint64_t> read_hashes(const std::vector<int64_t>& rows) const {
    std::vector<uint64_t> out;
    for (int64_t row : rows) {
      const auto [shard, local] = locate(row);
      const H5::H5File& file = files_[shard];
      for (size_t c = 0; c < manifest_.text_columns.size(); ++c) {
        out.push_back(slice<uint64_t>(file, "text_" + std::to_string(c) + "/hashes", local, 1, 1).at(0));
      }
    }
    return out;
  }

 private:
  std::pair<size_t, int64_t> locate(int64_t row) const {
    size_t shard = starts_.size() - 1;
    while (starts_[shard] > row) --shard;
    return {shard, row - starts_[shard]};
  }

  template <typename T>
  static const H5::PredType& type() {
    if constexpr (std::is_same_v<T, int32_t>) return H5::PredType::NATIVE_INT32;
    if constexpr (std::is_same_v<T, int64_t>) return H5::PredType::NATIVE_INT64;
    if constexpr (std::is_same_v<T, uint64_t>) return H5::PredType::NATIVE_UINT64;
    if constexpr (std::is_same_v<T, uint8_t>) return H5::PredType::NATIVE_UINT8;
    return H5::PredType::NATIVE_FLOAT;
  }

  template <typename T>
  static std::vector<T> slice(const H5::H5File& file, const std::string& name, hsize_t start, hsize_t count,
                              hsize_t width) {
    std::vector<T> out(count * width);
    if (count == 0) return out;
    H5::DataSet dataset = file.openDataSet(name);
    H5::DataSpace space = dataset.getSpace();
    hsize_t offset[2] = {start, 0}, size[2] = {count, width};
    space.selectHyperslab(H5S_SELECT_SET, size, offset);
    H5::DataSpace memory(space.getSimpleExtentNdims(), size);
    dataset.read(out.data(), type<T>(), memory, space);
    return out;
  }

  template <typename T>
  static std::vector<T> ragged_row(const H5::H5File& file, const std::string& values, const std::string& offsets,
                                   int64_t row) {
    const auto bounds = slice<int64_t>(file, offsets, row, 2, 1);
    return slice<T>(file, values, bounds[0], bounds[1] - bounds[0], 1);
  }

  std::string dir_;
  DatasetManifest manifest_;
  std::vector<int64_t> starts_;
  std::vector<H5::H5File> files_;
};

void expect_same(const DatasetRows& got, const DatasetRows& want, const std::string& what) {
  ASSERT_EQ(got.ids.size(), want.ids.size()) << what;
  for (size_t c = 0; c < want.ids.size(); ++c) ASSERT_EQ(got.ids[c], want.ids[c]) << what << " column " << c;
  ASSERT_EQ(got.texts.size(), want.texts.size()) << what;
  for (size_t c = 0; c < want.texts.size(); ++c) ASSERT_EQ(got.texts[c], want.texts[c]) << what << " column " << c;
  ASSERT_EQ(got.int_labels, want.int_labels) << what;
  ASSERT_EQ(got.float_labels, want.float_labels) << what;
}

/// Row sets of every shape: empty, single, shard boundaries, sorted, reversed, random with
/// duplicates (sampled with replacement), one row repeated, and every row.
std::vector<std::vector<int64_t>> row_sets(int64_t rows, const std::vector<int64_t>& boundaries, uint32_t seed) {
  std::vector<std::vector<int64_t>> sets = {{}, {0}, {rows - 1}, {rows - 1, 0, rows - 1, 0}};
  std::vector<int64_t> around;
  for (int64_t b : boundaries) {
    for (int64_t r = b - 2; r <= b + 1; ++r) {
      if (0 <= r && r < rows) around.push_back(r);
    }
  }
  sets.push_back(around);
  sets.emplace_back(around.rbegin(), around.rend());
  std::mt19937 random(seed);
  std::uniform_int_distribution<int64_t> pick(0, rows - 1);
  for (size_t size : {2, 7, 64, 192, 500}) {
    std::vector<int64_t> set;
    for (size_t i = 0; i < size; ++i) set.push_back(pick(random));
    set.push_back(set.front());  // at least one duplicate
    std::shuffle(set.begin(), set.end(), random);
    sets.push_back(set);
  }
  std::vector<int64_t> narrow;  // dense: many adjacent and repeated rows (coalesced ranges)
  const int64_t base = pick(random) % std::max<int64_t>(rows - 40, 1);
  for (int i = 0; i < 100; ++i) narrow.push_back(std::min(rows - 1, base + static_cast<int64_t>(random() % 40)));
  sets.push_back(narrow);
  sets.push_back(std::vector<int64_t>(9, pick(random)));
  std::vector<int64_t> all(rows);
  for (int64_t r = 0; r < rows; ++r) all[r] = rows - 1 - r;
  sets.push_back(all);
  return sets;
}

std::vector<int64_t> shard_boundaries(const DatasetManifest& m) {
  std::vector<int64_t> out;
  int64_t start = 0;
  for (const auto& shard : m.shards) {
    out.push_back(start);
    start += shard.rows;
  }
  out.push_back(start);
  return out;
}

void compare_all(const std::string& dir, uint32_t seed) {
  auto reader = DatasetReader::open(dir);
  const RowByRowReference reference(dir);
  const auto sets = row_sets(reader->rows(), shard_boundaries(reader->manifest()), seed);
  for (size_t s = 0; s < sets.size(); ++s) {
    for (bool with_text : {false, true}) {
      const std::string what = "set " + std::to_string(s) + " (" + std::to_string(sets[s].size()) +
                               " rows) with_text=" + std::to_string(with_text);
      expect_same(reader->read(sets[s], with_text), reference.read(sets[s], with_text), what);
      if (::testing::Test::HasFatalFailure()) return;
    }
    ASSERT_EQ(reader->read_hashes(sets[s]), reference.read_hashes(sets[s])) << "set " << s;
  }
}

// --- a prepared dataset of the shipped SNLI triplets -------------------------------------------------

model::Tokenizer small_tokenizer() {
  std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "the", "man", "woman", "is",
                                    "are", "two", "people", "dog", "in", "on", ".", ",", "##s", "play", "##ing"};
  return model::Tokenizer(vocab, model::TokenizerOptions{});
}

class BatchedReadSnli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fresh_dir("snli");
    PrepareOptions o;
    o.input = std::string(NEGATRON_SOURCE_DIR) + "/data/snli/triplets_dev.tsv";
    o.output = dir_.string();
    o.columns = {"anchor", "positive", "negative"};
    o.max_seq_length = 12;
    o.shard_rows = 700;  // 5 shards
    o.keep_text = true;
    o.progress = false;
    o.threads = 2;
    prepare_dataset(o, small_tokenizer());
  }
  static void TearDownTestSuite() { remove_tree(dir_.string()); }
  static fs::path dir_;
};
fs::path BatchedReadSnli::dir_;

TEST_F(BatchedReadSnli, EqualsRowByRowReadForAnyRowSet) {
  ASSERT_GT(read_manifest(dir_.string()).shards.size(), 3u);
  compare_all(dir_.string(), 1);
}

TEST_F(BatchedReadSnli, EqualsRowByRowReadWithoutChunkCache) {
  ::setenv("NEGATRON_HDF5_CHUNK_CACHE_MB", "0", 1);
  compare_all(dir_.string(), 2);
  ::unsetenv("NEGATRON_HDF5_CHUNK_CACHE_MB");
}

TEST_F(BatchedReadSnli, ConcurrentReadersAgreeWithTheReference) {
  auto reader = DatasetReader::open(dir_.string());
  auto second = DatasetReader::open(dir_.string());  // two readers: the HDF5 lock is process-wide
  const RowByRowReference reference(dir_.string());
  std::vector<std::vector<int64_t>> sets;
  std::vector<DatasetRows> expected;
  std::mt19937 random(3);
  for (int s = 0; s < 8; ++s) {
    std::vector<int64_t> set;
    for (int i = 0; i < 48; ++i) set.push_back(static_cast<int64_t>(random() % reader->rows()));
    expected.push_back(reference.read(set, true));
    sets.push_back(std::move(set));
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const auto& r = t % 2 ? *second : *reader;
      for (int round = 0; round < 20; ++round) {
        const size_t s = (t + round) % sets.size();
        const DatasetRows got = r.read(sets[s], true);
        if (got.ids != expected[s].ids || got.texts != expected[s].texts) ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST_F(BatchedReadSnli, PrefetcherDeliversTheSamplersBatchesInOrder) {
  auto reader = DatasetReader::open(dir_.string());
  SamplerOptions options;
  options.kind = BatchSamplerKind::kNoDuplicates;
  options.batch_size_global = 48;
  auto make_sampler = [&] {
    return MultiDatasetSampler({std::make_shared<BatchSampler>(sampler_source(reader), options)});
  };
  MultiDatasetSampler reference = make_sampler();
  Prefetcher prefetcher(make_sampler(), {reader}, 0, {3, true});
  for (int step = 0; step < 80; ++step) {  // crosses an epoch (67 steps)
    const SamplerBatch expected_batch = reference.next();
    const CollatedBatch expected = collate_batch(*reader, expected_batch, 0, true);
    const CollatedBatch got = prefetcher.next();
    ASSERT_EQ(got.rows, expected.rows) << step;
    ASSERT_EQ(got.epoch, expected.epoch);
    ASSERT_EQ(got.step, expected.step);
    ASSERT_EQ(got.sampler_state, reference.state());
    ASSERT_EQ(got.inputs.texts, expected.inputs.texts);
    for (size_t c = 0; c < expected.inputs.columns.size(); ++c) {
      ASSERT_TRUE(got.inputs.columns[c].input_ids.equal(expected.inputs.columns[c].input_ids));
      ASSERT_TRUE(got.inputs.columns[c].attention_mask.equal(expected.inputs.columns[c].attention_mask));
    }
  }
}

// --- hand-written shards: empty rows, int64 and float32_vector labels, corrupt offsets -----------

struct WrittenDataset {
  DatasetManifest manifest;
  std::vector<ShardBlock> blocks;
};

/// Two or more shards of random rows; every third row of column 0 is empty (the writer allows it).
WrittenDataset write_dataset(const fs::path& dir, LabelKind label, int64_t dimension, std::vector<int64_t> shard_rows) {
  fs::create_directories(dir);
  WrittenDataset out;
  DatasetManifest& m = out.manifest;
  m.text_columns = {"first", "second"};
  m.has_text = true;
  m.label_kind = label;
  m.label_column = label == LabelKind::kNone ? "" : "label";
  m.label_dimension = dimension;
  m.max_seq_length = 50;
  std::mt19937 random(7);
  int64_t global = 0;
  for (size_t s = 0; s < shard_rows.size(); ++s) {
    ShardBlock block;
    block.ids.resize(2);
    block.hashes.resize(2);
    block.texts.resize(2);
    for (int64_t r = 0; r < shard_rows[s]; ++r, ++global) {
      for (size_t c = 0; c < 2; ++c) {
        const bool empty = c == 0 && global % 3 == 0;
        const size_t length = empty ? 0 : 1 + random() % 40;
        std::vector<int32_t> ids(length);
        for (auto& id : ids) id = static_cast<int32_t>(random() % 30000);
        std::string text = empty ? "" : "row " + std::to_string(global) + " column " + std::to_string(c);
        block.ids[c].push(ids);
        block.texts[c].push(text);
        block.hashes[c].push_back(text_hash(text));
      }
      if (label == LabelKind::kInt64) block.int_labels.push_back(static_cast<int64_t>(random() % 1000) - 500);
      for (int64_t d = 0; label != LabelKind::kNone && label != LabelKind::kInt64 && d < std::max<int64_t>(dimension, 1); ++d) {
        block.float_labels.push_back(static_cast<float>(random() % 10000) / 77.0f);
      }
    }
    char name[32];
    std::snprintf(name, sizeof(name), "shard-%05zu.h5", s);
    m.shards.push_back(write_shard((dir / name).string(), block, m));
    m.rows += shard_rows[s];
    out.blocks.push_back(std::move(block));
  }
  write_manifest(dir.string(), m);
  return out;
}

/// What the blocks hold for `rows`, in the order asked for.
DatasetRows from_blocks(const WrittenDataset& d, const std::vector<int64_t>& rows, bool with_text) {
  DatasetRows out;
  out.ids.resize(2);
  if (with_text) out.texts.resize(2);
  const int64_t width = d.manifest.label_kind == LabelKind::kFloat32Vector ? d.manifest.label_dimension : 1;
  for (int64_t row : rows) {
    size_t shard = 0;
    int64_t local = row;
    while (local >= d.blocks[shard].rows()) local -= d.blocks[shard++].rows();
    const ShardBlock& b = d.blocks[shard];
    for (size_t c = 0; c < 2; ++c) {
      const auto& ids = b.ids[c];
      out.ids[c].emplace_back(ids.values.begin() + ids.offsets[local], ids.values.begin() + ids.offsets[local + 1]);
      if (!with_text) continue;
      const auto& text = b.texts[c];
      out.texts[c].emplace_back(text.values.begin() + text.offsets[local], text.values.begin() + text.offsets[local + 1]);
    }
    if (d.manifest.label_kind == LabelKind::kInt64) out.int_labels.push_back(b.int_labels[local]);
    if (d.manifest.label_kind == LabelKind::kFloat32 || d.manifest.label_kind == LabelKind::kFloat32Vector) {
      out.float_labels.insert(out.float_labels.end(), b.float_labels.begin() + local * width,
                              b.float_labels.begin() + (local + 1) * width);
    }
  }
  return out;
}

void check_written(LabelKind label, int64_t dimension, const std::string& name) {
  const fs::path dir = fresh_dir(name);
  const WrittenDataset written = write_dataset(dir, label, dimension, {37, 1, 250, 90});
  compare_all(dir.string(), 4);
  auto reader = DatasetReader::open(dir.string());
  const size_t columns = written.manifest.text_columns.size();
  for (const auto& set : row_sets(reader->rows(), shard_boundaries(written.manifest), 5)) {
    for (bool with_text : {false, true}) {
      expect_same(reader->read(set, with_text), from_blocks(written, set, with_text), name);
      if (::testing::Test::HasFatalFailure()) return;
    }
    // Token counts (offsets only, for balance_tokens) against the written rows' lengths.
    const DatasetRows expected = from_blocks(written, set, false);
    const std::vector<int64_t> counts = reader->read_token_counts(set);
    ASSERT_EQ(counts.size(), set.size() * columns);
    for (size_t i = 0; i < set.size(); ++i) {
      for (size_t c = 0; c < columns; ++c) {
        ASSERT_EQ(counts[i * columns + c], static_cast<int64_t>(expected.ids[c][i].size()))
            << name << ": row " << set[i] << " column " << c;
      }
    }
  }
  remove_tree(dir.string());
}

/// Rewrites every dataset of a shard with `chunk_bytes` chunks (as older writers did), keeping
/// names, types, shapes and filters; updates the shard's size and checksum in the manifest.
void rechunk(const fs::path& dir, size_t shard, hsize_t chunk_bytes) {
  DatasetManifest m = read_manifest(dir.string());
  const fs::path path = dir / m.shards[shard].file, copy = dir / "rechunked.h5";
  {
    H5::H5File in(path.string(), H5F_ACC_RDONLY);
    H5::FileAccPropList access;
    access.setLibverBounds(H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    H5::H5File out(copy.string(), H5F_ACC_TRUNC, H5::FileCreatPropList::DEFAULT, access);
    std::vector<std::string> names;
    for (size_t c = 0; c < m.text_columns.size(); ++c) {
      const std::string group = "text_" + std::to_string(c);
      out.createGroup(group);
      for (const char* name : {"ids", "offsets", "hashes", "utf8", "utf8_offsets"}) {
        if (m.has_text || std::string(name).rfind("utf8", 0) != 0) names.push_back(group + "/" + name);
      }
    }
    if (m.label_kind != LabelKind::kNone) names.push_back("labels");
    for (const auto& name : names) {
      H5::DataSet source = in.openDataSet(name);
      H5::DataSpace space = source.getSpace();
      hsize_t dims[2] = {0, 1}, max_dims[2] = {H5S_UNLIMITED, 1};
      const int rank = space.getSimpleExtentDims(dims);
      max_dims[1] = dims[1];
      const H5::DataType type = source.getDataType();
      const size_t row_bytes = type.getSize() * (rank == 2 ? dims[1] : 1);
      std::vector<char> data(std::max<size_t>(dims[0] * row_bytes, 1));
      if (dims[0] > 0) source.read(data.data(), type);
      hsize_t chunk[2] = {std::max<hsize_t>(1, std::min<hsize_t>(dims[0], chunk_bytes / row_bytes)), dims[1]};
      H5::DSetCreatPropList properties;
      properties.setChunk(rank, chunk);
      properties.setFletcher32();
      properties.setShuffle();
      properties.setDeflate(1);
      H5::DataSet target = out.createDataSet(name, type, H5::DataSpace(rank, dims, max_dims), properties);
      if (dims[0] > 0) target.write(data.data(), type);
    }
  }
  fs::rename(copy, path);
  m.shards[shard].bytes = static_cast<int64_t>(fs::file_size(path));
  m.shards[shard].checksum = file_checksum(path.string());
  write_manifest(dir.string(), m);
}

TEST(BatchedRead, ShardsWithTheOlder64KiBChunksReadTheSame) {
  const fs::path dir = fresh_dir("legacy_chunks");
  const WrittenDataset written = write_dataset(dir, LabelKind::kFloat32Vector, 3, {3000, 500, 2000});
  rechunk(dir, 0, 64 * 1024);
  rechunk(dir, 2, 64 * 1024);
  DatasetRequirements verify;
  verify.verify_checksums = true;
  auto reader = DatasetReader::open(dir.string(), verify);
  compare_all(dir.string(), 6);
  for (const char* cache : {"64", "0"}) {
    ::setenv("NEGATRON_HDF5_CHUNK_CACHE_MB", cache, 1);
    auto fresh = DatasetReader::open(dir.string());
    ::unsetenv("NEGATRON_HDF5_CHUNK_CACHE_MB");
    for (const auto& set : row_sets(fresh->rows(), shard_boundaries(written.manifest), 7)) {
      expect_same(fresh->read(set, true), from_blocks(written, set, true), std::string("cache ") + cache);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  remove_tree(dir.string());
}

TEST(BatchedRead, EmptyRowsAndInt64Labels) { check_written(LabelKind::kInt64, 0, "int64"); }
TEST(BatchedRead, Float32VectorLabels) { check_written(LabelKind::kFloat32Vector, 5, "vector"); }
TEST(BatchedRead, Float32Labels) { check_written(LabelKind::kFloat32, 0, "float"); }
TEST(BatchedRead, NoLabels) { check_written(LabelKind::kNone, 0, "none"); }

TEST(BatchedRead, CorruptOffsetsNameTheShard) {
  const fs::path dir = fresh_dir("bad_offsets");
  fs::create_directories(dir);
  DatasetManifest m;
  m.text_columns = {"text"};
  ShardBlock block;
  block.ids.resize(1);
  block.hashes.resize(1);
  block.ids[0].values = {1, 2, 3, 4, 5, 6, 7, 8};
  block.ids[0].offsets = {0, 5, 3, 8, 8, 20};  // row 1 runs backwards, row 4 ends past the values
  block.hashes[0] = {1, 2, 3, 4, 5};
  m.shards.push_back(write_shard((dir / "shard-00000.h5").string(), block, m));
  m.rows = 5;
  write_manifest(dir.string(), m);
  auto reader = DatasetReader::open(dir.string());
  EXPECT_EQ(reader->read({3, 0}).ids[0], (std::vector<std::vector<int32_t>>{{}, {1, 2, 3, 4, 5}}));
  for (const std::vector<int64_t>& rows : std::vector<std::vector<int64_t>>{{1}, {2, 0}, {4}, {3, 4}}) {
    const std::string error = error_of([&] { reader->read(rows); });
    EXPECT_NE(error.find("shard-00000.h5: corrupt offsets at row"), std::string::npos) << error;
  }
  EXPECT_NE(error_of([&] { reader->read({5}); }).find("out of range"), std::string::npos);
  // Through the prefetcher: the error reaches the consumer, naming the shard.
  SamplerOptions options;
  options.batch_size_global = 2;
  Prefetcher prefetcher(MultiDatasetSampler({std::make_shared<BatchSampler>(sampler_source(reader), options)}),
                        {reader}, 0, {2, false});
  const std::string error = error_of([&] {
    for (int i = 0; i < 10; ++i) prefetcher.next();  // an epoch takes 4 of the 5 rows: row 1 or row 4
  });
  EXPECT_NE(error.find("shard-00000.h5: corrupt offsets at row"), std::string::npos) << error;
  remove_tree(dir.string());
}

}  // namespace
}  // namespace negatron::data
