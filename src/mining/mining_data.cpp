#include "mining/mining_data.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>

#include "common/check.h"
#include "data/prepare_labels.h"
#include "data/prepare_rows.h"

namespace negatron::mining {
namespace {

data::PrepareOptions table_options(const MineOptions& o, const std::string& path, std::vector<std::string> columns) {
  data::PrepareOptions table;
  table.input = path;
  table.format = path == o.input ? o.format : "";
  table.has_header = o.has_header;
  table.encoding = o.encoding;
  table.columns = std::move(columns);
  return table;
}

/// Every good row's texts, in file order.
std::vector<std::vector<std::string>> read_rows(const data::PrepareOptions& table, data::BadRows& bad) {
  data::CheckedRows rows(table, data::LabelPlan{}, data::InputPart{}, bad);
  std::vector<std::vector<std::string>> out;
  while (true) {
    data::RowBlock block = rows.next(10000);
    if (block.rows.empty()) return out;
    for (auto& row : block.rows) out.push_back(std::move(row.texts));
  }
}

/// ST: the first and second columns unless named.
std::pair<std::string, std::string> pair_columns(const MineOptions& o) {
  if (!o.anchor_column_name.empty() && !o.positive_column_name.empty()) return {o.anchor_column_name, o.positive_column_name};
  data::TextTableOptions options;
  options.format = o.format;
  options.has_header = o.has_header;
  options.encoding = o.encoding;
  options.on_bad_record = [](int64_t, const std::string&) {};
  const data::TextTableReader reader(o.input, options);
  const std::string format = reader.format();
  NEG_CHECK(format != "jsonl" && format != "json", o.input,
            ": JSONL objects have no column order; name the columns with --anchor-column and --positive-column");
  const auto& columns = reader.columns();
  NEG_CHECK(columns.size() >= 2, o.input, ": mining needs an anchor and a positive column, the file has ",
            columns.size(), " column(s)");
  return {o.anchor_column_name.empty() ? columns[0] : o.anchor_column_name,
          o.positive_column_name.empty() ? columns[1] : o.positive_column_name};
}

std::string corpus_column(const MineOptions& o) {
  if (!o.corpus_column.empty()) return o.corpus_column;
  const data::TextTableReader reader(o.corpus, {});
  const auto& columns = reader.columns();
  if (columns.size() == 1) return columns[0];
  for (const auto& name : columns) {
    if (name == "text") return name;
  }
  NEG_FAIL(o.corpus, ": has ", columns.size(), " columns; choose the corpus text with --corpus-column");
}

/// Ids of distinct texts in order of first appearance.
class Interner {
 public:
  int64_t id(std::string text, std::vector<std::string>& texts) {
    const auto [it, added] = ids_.emplace(text, static_cast<int64_t>(texts.size()));
    if (added) texts.push_back(std::move(text));
    return it->second;
  }

 private:
  std::unordered_map<std::string, int64_t> ids_;
};

}  // namespace

MiningData read_mining_data(const MineOptions& o, bool report_bad_rows) {
  data::BadRows bad{o.skip_bad_rows || !report_bad_rows, !report_bad_rows};
  MiningData data;
  std::tie(data.anchor_column, data.positive_column) = pair_columns(o);
  NEG_CHECK(data.anchor_column != data.positive_column, o.input, ": the anchor and positive columns are both '",
            data.anchor_column, "'");
  std::vector<std::vector<std::string>> pairs =
      read_rows(table_options(o, o.input, {data.anchor_column, data.positive_column}), bad);
  data.rows = static_cast<int64_t>(pairs.size());
  NEG_CHECK(data.rows > 0, o.input, ": no usable (", data.anchor_column, ", ", data.positive_column, ") rows (",
            bad.count, " skipped)");
  Interner corpus_ids, query_ids;
  if (!o.corpus.empty()) {
    for (auto& row : read_rows(table_options(o, o.corpus, {corpus_column(o)}), bad)) corpus_ids.id(std::move(row[0]), data.corpus);
  }
  std::vector<int64_t> rows_per_query;
  for (auto& pair : pairs) {
    const int64_t query = query_ids.id(std::move(pair[0]), data.queries);
    const int64_t positive = corpus_ids.id(std::move(pair[1]), data.corpus);
    if (query == static_cast<int64_t>(data.positives.size())) {
      data.positives.emplace_back();
      rows_per_query.push_back(0);
    }
    auto& ids = data.positives[query];
    if (std::find(ids.begin(), ids.end(), positive) == ids.end()) ids.push_back(positive);
    data.max_rows_per_anchor = std::max(data.max_rows_per_anchor, ++rows_per_query[query]);
  }
  data.skipped_rows = bad.count;
  return data;
}

}  // namespace negatron::mining
