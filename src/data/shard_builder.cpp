#include "data/shard_builder.h"

#include <algorithm>
#include <exception>
#include <thread>

#include "common/check.h"
#include "data/hashing.h"

namespace negatron::data {
namespace {

ShardBlock empty_block(size_t columns, bool keep_text) {
  ShardBlock block;
  block.ids.resize(columns);
  block.hashes.resize(columns);
  if (keep_text) block.texts.resize(columns);
  return block;
}

/// Token ids of every text, on `threads` threads: ids[column][row].
std::vector<std::vector<std::vector<int32_t>>> tokenize_rows(const model::Tokenizer& tokenizer,
                                                             const std::vector<std::vector<std::string>>& texts,
                                                             size_t columns, int64_t max_length, int threads) {
  const size_t count = texts.size();
  threads = static_cast<int>(std::min<size_t>(std::max(threads, 1), count));
  std::vector<std::vector<std::vector<int32_t>>> ids(columns, std::vector<std::vector<int32_t>>(count));
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        for (size_t i = t; i < count; i += threads) {
          for (size_t c = 0; c < columns; ++c) ids[c][i] = tokenizer.encode(texts[i][c], max_length);
        }
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  for (auto& worker : workers) worker.join();
  for (auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return ids;
}

}  // namespace

ShardBuilder::ShardBuilder(const model::Tokenizer& tokenizer, size_t columns, const ShardBuilderOptions& options)
    : tokenizer_(tokenizer), columns_(columns), options_(options), block_(empty_block(columns, options.keep_text)) {}

void ShardBuilder::append(const std::vector<std::vector<std::string>>& texts, const std::vector<int64_t>& int_labels,
                          const std::vector<float>& float_labels) {
  if (texts.empty()) return;
  for (const auto& row : texts) NEG_CHECK(row.size() == columns_, "shard builder: a row has ", row.size(), " texts, expected ", columns_);
  const auto ids = tokenize_rows(tokenizer_, texts, columns_, options_.max_seq_length, options_.threads);
  for (size_t c = 0; c < columns_; ++c) {
    for (size_t i = 0; i < texts.size(); ++i) {
      block_.ids[c].push(ids[c][i]);
      block_.hashes[c].push_back(text_hash(texts[i][c]));
      if (options_.keep_text) block_.texts[c].push(texts[i][c]);
    }
  }
  block_.int_labels.insert(block_.int_labels.end(), int_labels.begin(), int_labels.end());
  block_.float_labels.insert(block_.float_labels.end(), float_labels.begin(), float_labels.end());
}

ShardBlock ShardBuilder::take() {
  ShardBlock block = std::move(block_);
  block_ = empty_block(columns_, options_.keep_text);
  return block;
}

}  // namespace negatron::data
