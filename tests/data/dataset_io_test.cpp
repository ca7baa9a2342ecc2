// Real data -> prepare -> shards -> DatasetReader / Prefetcher batches: token ids equal the
// tokenizer's own encode() of the source text; requirements, truncation and corruption errors.
#include <gtest/gtest.h>

#include "support/error_of.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "common/check.h"
#include "data/dataset_reader.h"
#include "common/remove_tree.h"
#include "data/prefetcher.h"
#include "data/prepare.h"
#include "data/text_table.h"

namespace negatron::data {
namespace {

using negatron::testing::error_of;

namespace fs = std::filesystem;

// A small BERT-style tokenizer (words outside the vocabulary become [UNK]): enough to check that
// ids survive the trip through shards unchanged.
model::Tokenizer small_tokenizer() {
  std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "the", "man", "woman", "is",
                                    "are", "two", "people", "dog", "in", "on", ".", ",", "##s", "play", "##ing"};
  return model::Tokenizer(vocab, model::TokenizerOptions{});
}

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("negatron_data_test_" + name + "_" + std::to_string(::getpid()));
  remove_tree(dir.string());
  return dir;
}

PrepareOptions snli_options(const fs::path& output) {
  PrepareOptions o;
  o.input = std::string(NEGATRON_SOURCE_DIR) + "/data/snli/triplets_dev.tsv";
  o.output = output.string();
  o.columns = {"anchor", "positive", "negative"};
  o.max_seq_length = 12;
  o.shard_rows = 700;  // several shards
  o.keep_text = true;
  o.progress = false;
  o.threads = 2;
  return o;
}

class PreparedSnli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fresh_dir("snli");
    prepare_dataset(snli_options(dir_), small_tokenizer());
  }
  static void TearDownTestSuite() { remove_tree(dir_.string()); }
  static fs::path dir_;
};
fs::path PreparedSnli::dir_;

TEST_F(PreparedSnli, PrefetchedBatchesHoldTheTokenizersIdsOfTheSourceRows) {
  const auto table = read_text_table(std::string(NEGATRON_SOURCE_DIR) + "/data/snli/triplets_dev.tsv");
  auto reader = DatasetReader::open(dir_.string());
  ASSERT_EQ(reader->rows(), static_cast<int64_t>(table.records.size()));
  ASSERT_EQ(reader->manifest().shards.size(), 5u);
  const auto tokenizer = small_tokenizer();
  SamplerOptions options;
  options.batch_size_global = 64;
  options.rank = 1;
  options.world_size = 2;
  MultiDatasetSampler sampler({std::make_shared<BatchSampler>(sampler_source(reader), options)});
  Prefetcher prefetcher(std::move(sampler), {reader}, tokenizer.pad_id(), {4, true});
  for (int step = 0; step < 60; ++step) {  // crosses an epoch (50 steps)
    const CollatedBatch batch = prefetcher.next();
    ASSERT_EQ(batch.inputs.columns.size(), 3u);
    for (size_t i = 0; i < batch.rows.size(); ++i) {
      for (size_t c = 0; c < 3; ++c) {
        const std::string& text = table.records[batch.rows[i]].fields[c];
        ASSERT_EQ(batch.inputs.texts[c][i], text);
        const auto expected = tokenizer.encode(text, 12);
        const auto ids = batch.inputs.columns[c].input_ids[i];
        const auto mask = batch.inputs.columns[c].attention_mask[i];
        ASSERT_EQ(mask.sum().item<int64_t>(), static_cast<int64_t>(expected.size()));
        for (size_t t = 0; t < expected.size(); ++t) ASSERT_EQ(ids[t].item<int64_t>(), expected[t]);
      }
    }
  }
}

TEST_F(PreparedSnli, PrefetcherStateResumesWithTheNextBatch) {
  auto reader = DatasetReader::open(dir_.string());
  SamplerOptions options;
  options.kind = BatchSamplerKind::kNoDuplicates;
  options.batch_size_global = 32;
  auto make = [&] {
    return Prefetcher(MultiDatasetSampler({std::make_shared<BatchSampler>(sampler_source(reader), options)}), {reader},
                      0, {3, false});
  };
  nlohmann::json saved;
  std::vector<std::vector<int64_t>> expected;
  {
    auto first = make();
    for (int i = 0; i < 12; ++i) {
      if (i == 5) saved = first.state();
      expected.push_back(first.next().rows);
    }
  }
  MultiDatasetSampler sampler({std::make_shared<BatchSampler>(sampler_source(reader), options)});
  sampler.restore(saved);
  Prefetcher resumed(std::move(sampler), {reader}, 0, {3, false});
  for (int i = 5; i < 12; ++i) ASSERT_EQ(resumed.next().rows, expected[i]);
}

TEST_F(PreparedSnli, PrefetcherReadsAheadByCountAndByBytes) {
  auto reader = DatasetReader::open(dir_.string());
  SamplerOptions options;
  options.batch_size_global = 32;
  auto make = [&](int64_t max_bytes) {
    PrefetchOptions prefetch;
    prefetch.window = 5;
    prefetch.max_bytes = max_bytes;
    return std::make_unique<Prefetcher>(
        MultiDatasetSampler({std::make_shared<BatchSampler>(sampler_source(reader), options)}), std::vector<std::shared_ptr<const DatasetReader>>{reader},
        0, prefetch);
  };
  // Waits until the prefetch thread has read what it may (it never takes back a batch it read).
  auto settled = [](const Prefetcher& prefetcher, int64_t target) {
    for (int i = 0; i < 2000 && prefetcher.waiting() < target; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return prefetcher.waiting();
  };
  EXPECT_EQ(settled(*make(int64_t{1} << 30), 5), 5);  // bounded by the window
  auto by_bytes = make(1);                            // any batch fills the budget: one waits
  EXPECT_EQ(settled(*by_bytes, 1), 1);
  const std::vector<int64_t> first = by_bytes->next().rows;
  EXPECT_EQ(settled(*by_bytes, 1), 1);
  EXPECT_NE(by_bytes->next().rows, first);
}

TEST_F(PreparedSnli, PrefetcherRunsTheDatasetsCheckOnHostBatchesAndNextRethrows) {
  auto reader = DatasetReader::open(dir_.string());
  SamplerOptions options;
  options.batch_size_global = 32;
  PrefetchOptions prefetch;
  prefetch.window = 2;
  int64_t checked = 0;  // written by the prefetch thread, read after next() has waited for it
  prefetch.checks = {[&checked](const CollatedBatch& batch) {
    EXPECT_TRUE(batch.inputs.columns.front().input_ids.is_cpu());
    NEG_CHECK(++checked < 3, "row ", batch.rows.front(), " is refused");
  }};
  Prefetcher prefetcher(MultiDatasetSampler({std::make_shared<BatchSampler>(sampler_source(reader), options)}), {reader},
                        0, prefetch);
  prefetcher.next();
  prefetcher.next();
  EXPECT_NE(error_of([&] { prefetcher.next(); }).find(" is refused"), std::string::npos);
  EXPECT_EQ(checked, 3);
}

TEST_F(PreparedSnli, RequirementsFailBeforeTraining) {
  DatasetRequirements wrong_tokenizer;
  wrong_tokenizer.tokenizer_fingerprint = 0x1234;
  EXPECT_NE(error_of([&] { DatasetReader::open(dir_.string(), wrong_tokenizer); }).find("tokenized with tokenizer"),
            std::string::npos);
  DatasetRequirements pairs;
  pairs.max_text_columns = 2;
  pairs.consumer = "CoSENTLoss";
  EXPECT_NE(error_of([&] { DatasetReader::open(dir_.string(), pairs); }).find("CoSENTLoss needs"), std::string::npos);
  DatasetRequirements scores;
  scores.label_kind = LabelKind::kFloat32;
  EXPECT_NE(error_of([&] { DatasetReader::open(dir_.string(), scores); }).find("label is none"), std::string::npos);
  DatasetRequirements right;
  right.tokenizer_fingerprint = small_tokenizer().fingerprint();
  right.min_text_columns = 3;
  right.verify_checksums = true;
  EXPECT_NO_THROW(DatasetReader::open(dir_.string(), right));
}

TEST_F(PreparedSnli, TruncatedAndCorruptShardsNameTheShard) {
  const fs::path copy = fresh_dir("corrupt");
  fs::copy(dir_, copy);
  const fs::path shard = copy / "shard-00002.h5";
  const auto size = fs::file_size(shard);
  {  // overwrite the middle half of the file: data chunks fail their Fletcher-32 check
    std::fstream f(shard, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 4));
    const std::string junk(size / 2, '\x5a');
    f.write(junk.data(), junk.size());
  }
  DatasetRequirements verify;
  verify.verify_checksums = true;
  EXPECT_NE(error_of([&] { DatasetReader::open(copy.string(), verify); }).find("shard-00002.h5"), std::string::npos);
  const std::string read_error = error_of([&] {
    auto reader = DatasetReader::open(copy.string());
    std::vector<int64_t> rows(reader->rows());
    for (int64_t r = 0; r < reader->rows(); ++r) rows[r] = r;
    reader->read(rows, true);
    reader->read_hashes(rows);
  });
  EXPECT_NE(read_error.find("shard-00002.h5: corrupt shard"), std::string::npos) << read_error;
  ASSERT_EQ(::truncate(shard.c_str(), static_cast<off_t>(size / 2)), 0);  // not fs::resize_file (see directory.h)
  EXPECT_NE(error_of([&] { DatasetReader::open(copy.string()); }).find("shard-00002.h5: shard is truncated"),
            std::string::npos);
  remove_tree(copy.string());
}

TEST_F(PreparedSnli, TokenIdsBeyondTheVocabularyNameTheShard) {
  const DatasetManifest manifest = read_manifest(dir_.string());
  int64_t max_id = -1;
  for (const auto& shard : manifest.shards) max_id = std::max(max_id, shard.max_token_id);
  ASSERT_GT(max_id, 5);  // recorded by prepare
  DatasetRequirements fits;
  fits.vocab_size = max_id + 1;
  EXPECT_NO_THROW(DatasetReader::open(dir_.string(), fits));
  DatasetRequirements smaller;
  smaller.vocab_size = max_id;
  smaller.consumer = "MultipleNegativesRankingLoss";
  const std::string at_open = error_of([&] { DatasetReader::open(dir_.string(), smaller); });
  EXPECT_NE(at_open.find(".h5: holds token id " + std::to_string(max_id)), std::string::npos) << at_open;
  EXPECT_NE(at_open.find("vocabulary of " + std::to_string(max_id)), std::string::npos) << at_open;

  // Shards of older manifests (no max_token_id): scanned at open. A manifest that understates the
  // largest id: every row read is checked too.
  const fs::path copy = fresh_dir("vocabulary");
  fs::copy(dir_, copy);
  DatasetManifest edited = manifest;
  for (auto& shard : edited.shards) shard.max_token_id = -1;
  write_manifest(copy.string(), edited);
  EXPECT_NE(error_of([&] { DatasetReader::open(copy.string(), smaller); }).find("holds token id"), std::string::npos);
  for (auto& shard : edited.shards) shard.max_token_id = 0;
  write_manifest(copy.string(), edited);
  const std::string on_read = error_of([&] {
    auto reader = DatasetReader::open(copy.string(), smaller);
    std::vector<int64_t> rows(reader->rows());
    for (int64_t r = 0; r < reader->rows(); ++r) rows[r] = r;
    reader->read(rows);
  });
  EXPECT_NE(on_read.find("outside the model's vocabulary of " + std::to_string(max_id)), std::string::npos) << on_read;
  EXPECT_NE(on_read.find(".h5: row "), std::string::npos) << on_read;
  remove_tree(copy.string());
}

TEST(Prepare, FailedRunLeavesNoDataset) {
  const fs::path input = fresh_dir("bad_input").string() + ".jsonl", output = fresh_dir("bad_output");
  std::ofstream(input) << "{\"a\": \"one\", \"b\": \"two\"}\n{\"a\": \"\", \"b\": \"x\"}\n";
  PrepareOptions o;
  o.input = input.string();
  o.output = output.string();
  o.columns = {"a", "b"};
  o.progress = false;
  EXPECT_NE(error_of([&] { prepare_dataset(o, small_tokenizer()); }).find(":2: column 'a': empty text"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(output));
  for (const auto& entry : fs::directory_iterator(output.parent_path())) {
    EXPECT_EQ(entry.path().string().find(output.string() + ".tmp"), std::string::npos) << entry.path();
  }
  o.skip_bad_rows = true;
  EXPECT_EQ(prepare_dataset(o, small_tokenizer()).skipped_rows, 1);
  EXPECT_EQ(read_manifest(output.string()).skipped_rows, 1);
  remove_tree(output.string());
  fs::remove(input);
}

}  // namespace
}  // namespace negatron::data
