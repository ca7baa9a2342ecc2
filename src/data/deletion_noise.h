#pragma once
// Deletion noise for TSDAE (DenoisingAutoEncoderLoss), as sentence-transformers'
// DenoisingAutoEncoderDataset.delete: each word is kept with probability 1 - del_ratio (ST: kept
// where rand() > del_ratio, default del_ratio 0.6); when no word survives, one word chosen uniformly
// is kept; a text without words is returned unchanged.
//
// Words: ST splits with nltk.word_tokenize and joins with TreebankWordDetokenizer. negatron has no
// nltk, so words are runs of non-whitespace (punctuation stays attached to its word) and the kept
// words are joined by single spaces. The noise is therefore the same process, not the same strings.
//
// Randomness: row r of the input uses its own generator seeded from (seed, r), so a row's noise
// depends only on the seed, its position and its text (not on threads or shard sizes), and
// `negatron prepare --deletion-noise --noise-seed S` is reproducible.
//
// In `negatron prepare`, DeletionNoiseInput turns the one selected text column C into the pair of
// columns (noisy, C): it reads the input table, writes "<output>.noise-<pid>.jsonl" holding
// {"noisy": delete(text), "C": text} per row, points the prepare options at it, and deletes it when
// it goes out of scope. Stored columns are then "noisy" and C (--rename C=text renames the second).
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "data/prepare.h"

namespace negatron::data {

struct DeletionNoiseOptions {
  double del_ratio = 0.6;
  uint64_t seed = 42;
};

/// Runs of non-whitespace (space, tab, newline, CR, VT, FF).
std::vector<std::string> split_words(const std::string& text);

/// One noisy copy of `text` (see above); `rng` supplies the coin flips.
std::string delete_words(const std::string& text, double del_ratio, std::mt19937_64& rng);

/// delete_words with row `row`'s own generator for `options.seed`.
std::string delete_words_for_row(const std::string& text, int64_t row, const DeletionNoiseOptions& options);

/// RAII: see the header comment. Requires exactly one --columns entry and no label column.
class DeletionNoiseInput {
 public:
  DeletionNoiseInput(PrepareOptions& options, const DeletionNoiseOptions& noise);
  ~DeletionNoiseInput();
  DeletionNoiseInput(const DeletionNoiseInput&) = delete;
  DeletionNoiseInput& operator=(const DeletionNoiseInput&) = delete;

 private:
  std::string path_;
};

}  // namespace negatron::data
