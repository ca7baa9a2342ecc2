#include "mining/mined_dataset.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "common/check.h"
#include "data/dataset_writer.h"
#include "data/shard_builder.h"
#include "distributed/collective_step.h"

namespace negatron::mining {

MinedRows assemble_rows(const MiningData& data, const std::vector<QueryNegatives>& outcome, const MineOptions& o) {
  MinedRows rows;
  const bool triplet = o.output_format == "triplet" && !o.include_positives;
  rows.width = triplet ? 1 : o.num_negatives;
  for (size_t q = 0; q < data.queries.size(); ++q) {
    const auto& negatives = outcome[q].negatives;
    const bool complete = std::all_of(negatives.begin(), negatives.end(), [](const Negative& n) { return n.id >= 0; });
    for (size_t p = 0; p < data.positives[q].size(); ++p) {
      auto add = [&](const Negative* first, int64_t count) {
        rows.query.push_back(static_cast<int64_t>(q));
        rows.positive.push_back(data.positives[q][p]);
        rows.scores.push_back(outcome[q].positive_scores[p]);
        for (int64_t i = 0; i < count; ++i) {
          rows.negatives.push_back(first[i].id);
          rows.scores.push_back(first[i].score);
        }
      };
      if (!triplet) {
        if (complete) {
          add(negatives.data(), rows.width);
        } else {
          ++rows.missing;
        }
        continue;
      }
      for (const Negative& negative : negatives) {
        if (negative.id >= 0) {
          add(&negative, 1);
        } else {
          ++rows.missing;
        }
      }
    }
  }
  return rows;
}

data::DatasetManifest mined_layout(const MiningData& data, const MineOptions& o, const model::Tokenizer& tokenizer,
                                   int64_t max_seq_length) {
  data::DatasetManifest layout;
  layout.text_columns = {data.anchor_column, data.positive_column};
  const bool triplet = o.output_format == "triplet" && !o.include_positives;
  for (int64_t i = 1; i <= (triplet ? 1 : o.num_negatives); ++i) {
    layout.text_columns.push_back(triplet ? "negative" : "negative_" + std::to_string(i));
  }
  for (const auto& name : layout.text_columns) {
    NEG_CHECK(!name.empty() && name.find('/') == std::string::npos, "column name '", name, "' is empty or has a '/'");
  }
  if (o.output_scores) {
    layout.label_column = "scores";
    layout.label_kind = data::LabelKind::kFloat32Vector;
    layout.label_dimension = static_cast<int64_t>(layout.text_columns.size()) - 1;
  }
  layout.tokenizer_fingerprint = tokenizer.fingerprint();
  layout.max_seq_length = max_seq_length;
  layout.has_text = o.keep_text;
  nlohmann::json options = {{"range_min", o.range_min},
                            {"num_negatives", o.num_negatives},
                            {"sampling_strategy", o.sampling_strategy},
                            {"output_format", triplet ? "triplet" : "n-tuple"},
                            {"include_positives", o.include_positives}};
  if (o.range_max) options["range_max"] = *o.range_max;
  if (o.max_score) options["max_score"] = *o.max_score;
  if (o.min_score) options["min_score"] = *o.min_score;
  if (o.absolute_margin) options["absolute_margin"] = *o.absolute_margin;
  if (o.relative_margin) options["relative_margin"] = *o.relative_margin;
  if (o.sampling_strategy == "random") options["seed"] = o.seed;
  layout.source = {{"mined_from", o.input}, {"corpus", o.corpus}, {"model", o.model}, {"mine_options", options}};
  return layout;
}

data::DatasetManifest write_mined_dataset(const MinedRows& rows, const MiningData& data,
                                          const data::DatasetManifest& layout, const MineOptions& o,
                                          const model::Tokenizer& tokenizer, distributed::Communicator& comm) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = o.threads > 0 ? o.threads : std::max(1, cores / comm.world_size());
  data::DatasetWriter writer(o.output, layout, comm);
  distributed::run_collectively(comm, [&] {
    NEG_CHECK(rows.rows() > 0, "no anchor got ", o.num_negatives, " negatives with these settings (",
              rows.missing, " missing); consider a larger --range-max or looser margins and scores");
    const int64_t shards = (rows.rows() + o.shard_rows - 1) / o.shard_rows;
    const int64_t columns = static_cast<int64_t>(layout.text_columns.size()), scores = columns - 1;
    constexpr int64_t kBatch = 8192;  // rows tokenized at a time
    for (int64_t shard = comm.rank(); shard < shards; shard += comm.world_size()) {
      data::ShardBuilder builder(tokenizer, static_cast<size_t>(columns), {layout.max_seq_length, o.keep_text, threads});
      const int64_t end = std::min(rows.rows(), (shard + 1) * o.shard_rows);
      for (int64_t first = shard * o.shard_rows; first < end; first += kBatch) {
        std::vector<std::vector<std::string>> texts;
        std::vector<float> labels;
        for (int64_t r = first; r < std::min(end, first + kBatch); ++r) {
          std::vector<std::string> row{data.queries[rows.query[r]], data.corpus[rows.positive[r]]};
          for (int64_t i = 0; i < rows.width; ++i) row.push_back(data.corpus[rows.negatives[r * rows.width + i]]);
          texts.push_back(std::move(row));
          if (o.output_scores) labels.insert(labels.end(), rows.scores.begin() + r * scores, rows.scores.begin() + (r + 1) * scores);
        }
        builder.append(texts, {}, labels);
      }
      writer.write_shard(shard, builder.take());
    }
  });
  return writer.publish(data.skipped_rows);
}

}  // namespace negatron::mining
