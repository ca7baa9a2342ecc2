#include "data/deletion_noise.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/check.h"
#include "common/hash.h"
#include "common/log.h"
#include "data/row_checks.h"
#include "data/text_table.h"

namespace negatron::data {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// A uniform double in [0, 1) from 53 random bits (the same on every standard library).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::string delete_words(const std::string& text, double del_ratio, std::mt19937_64& rng) {
  NEG_CHECK(del_ratio >= 0.0 && del_ratio <= 1.0, "deletion noise: del_ratio must lie in [0, 1], got ", del_ratio);
  const std::vector<std::string> words = split_words(text);
  if (words.empty()) return text;
  std::vector<bool> keep(words.size());
  bool any = false;
  for (size_t i = 0; i < words.size(); ++i) {
    keep[i] = uniform01(rng) > del_ratio;
    any = any || keep[i];
  }
  if (!any) keep[rng() % words.size()] = true;  // at least one word remains
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (!keep[i]) continue;
    if (!out.empty()) out += ' ';
    out += words[i];
  }
  return out;
}

std::string delete_words_for_row(const std::string& text, int64_t row, const DeletionNoiseOptions& options) {
  std::mt19937_64 rng(splitmix64(options.seed ^ splitmix64(static_cast<uint64_t>(row))));
  return delete_words(text, options.del_ratio, rng);
}

DeletionNoiseInput::DeletionNoiseInput(PrepareOptions& o, const DeletionNoiseOptions& noise) {
  NEG_CHECK(o.columns.size() == 1, "--deletion-noise takes exactly one text column in --columns (it writes the pair "
            "noisy,<column>), got ", o.columns.size());
  NEG_CHECK(o.label_column.empty(), "--deletion-noise makes unlabelled "
            "(damaged, original) pairs for DenoisingAutoEncoderLoss; do not give --label");
  NEG_CHECK(noise.del_ratio >= 0.0 && noise.del_ratio <= 1.0, "--del-ratio must lie in [0, 1], got ", noise.del_ratio);
  const std::string column = o.columns.front();
  NEG_CHECK(column != "noisy", "--deletion-noise: the text column may not itself be named 'noisy' (rename it)");

  TextTableOptions table_options;
  table_options.format = o.format;
  table_options.has_header = o.has_header;
  table_options.encoding = o.encoding;
  int64_t skipped = 0;
  if (o.skip_bad_rows) table_options.on_bad_record = [&skipped](int64_t, const std::string&) { ++skipped; };
  const TextTable table = read_text_table(o.input, table_options);
  const size_t index = table.column_index(column);

  path_ = o.output + ".noise-" + std::to_string(::getpid()) + ".jsonl";
  AtomicFile out(path_);
  int64_t row = 0;
  for (const auto& record : table.records) {
    const std::string& text = record.fields[index];
    const std::string problem = utf8_problem(text);
    if (!problem.empty()) {
      NEG_CHECK(o.skip_bad_rows, o.input, ":", record.line, ": column '", column, "': ", problem);
      ++skipped;
      continue;
    }
    nlohmann::json line = {{"noisy", delete_words_for_row(text, row++, noise)}, {column, text}};
    out.write(line.dump() + "\n");
  }
  out.commit();
  if (skipped > 0) log::warn("--deletion-noise: skipped ", skipped, " malformed row(s) of ", o.input);

  o.source["deletion_noise"] = {{"column", column}, {"del_ratio", noise.del_ratio}, {"seed", noise.seed},
                                {"words", "whitespace-separated"}};
  o.input = path_;
  o.format = "jsonl";
  o.has_header = true;
  o.encoding = "utf-8";
  o.columns = {"noisy", column};
}

DeletionNoiseInput::~DeletionNoiseInput() {
  if (!path_.empty()) std::remove(path_.c_str());
}

}  // namespace negatron::data
