#include "mining/mine.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/check.h"
#include "common/log.h"
#include "common/progress.h"
#include "distributed/collective_step.h"
#include "mining/batched_encoding.h"
#include "mining/mined_dataset.h"
#include "mining/mining_report.h"
#include "mining/sharded_corpus.h"

namespace negatron::mining {
namespace {

using distributed::run_collectively;

/// Mining normalizes the embeddings, so the model's similarity must rank like cosine (ST scores
/// with model.similarity; cosine and dot product agree on unit vectors).
void check_similarity(const std::string& model_dir) {
  std::ifstream in(model_dir + "/config_sentence_transformers.json");
  if (!in) return;  // a plain Hugging Face folder: cosine
  const auto config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  const auto it = config.is_object() ? config.find("similarity_fn_name") : config.end();
  if (it == config.end() || it->is_null()) return;
  const std::string name = it->is_string() ? it->get<std::string>() : it->dump();
  NEG_CHECK(name == "cosine" || name == "dot", model_dir, "/config_sentence_transformers.json: similarity_fn_name '",
            name, "' is not supported by negatron mine (cosine or dot)");
}

/// Every query's negatives and positive scores. Queries go in chunks of whole encoder batches
/// (batched_encoding.h), as many as fit options.score_memory_mb of scores (float64 and float32: 12
/// bytes each) against the widest slice.
std::vector<QueryNegatives> search_all(const MiningData& data, const ShardedCorpus& corpus,
                                       model::SentenceEncoder& encoder, at::Device device, const MineOptions& o,
                                       int64_t range_max, distributed::Communicator& comm, SelectionCounts& counts) {
  const int64_t k = range_max + data.max_rows_per_anchor;
  const int64_t widest_slice = (static_cast<int64_t>(data.corpus.size()) + comm.world_size() - 1) / comm.world_size();
  const int64_t chunk_queries = std::max<int64_t>(1, (o.score_memory_mb << 20) / (12 * std::max<int64_t>(1, widest_slice)));
  const std::vector<std::vector<int64_t>> batches = length_batches(data.queries, o.batch_size);
  std::vector<QueryNegatives> out(data.queries.size());
  Progress progress("mine", static_cast<int64_t>(data.queries.size()), o.progress, "queries");
  for (size_t first = 0; first < batches.size();) {
    size_t end = first + 1;
    int64_t count = static_cast<int64_t>(batches[first].size());
    while (end < batches.size() && count + static_cast<int64_t>(batches[end].size()) <= chunk_queries) {
      count += static_cast<int64_t>(batches[end++].size());
    }
    EncodedRows local;
    run_collectively(comm, [&] { local = encode_batches(encoder, data.queries, batches, first, end, comm, device, false); });
    const at::Tensor embeddings = comm.all_gather(local.embeddings);
    const at::Tensor query_ids = comm.all_gather(local.ids).cpu().contiguous();
    const TopK top = corpus.search(embeddings, k);
    const at::Tensor scores = top.scores.cpu().contiguous(), ids = top.ids.cpu().contiguous();
    const int64_t* query_of_row = query_ids.data_ptr<int64_t>();
    std::vector<int64_t> pair_row, pair_corpus;
    for (int64_t row = 0; row < count; ++row) {
      for (int64_t id : data.positives[query_of_row[row]]) pair_row.push_back(row), pair_corpus.push_back(id);
    }
    const at::Tensor positive_scores =
        corpus.pair_scores(embeddings, at::tensor(pair_row, at::kLong), at::tensor(pair_corpus, at::kLong)).contiguous();
    const float* positive = positive_scores.data_ptr<float>();
    for (int64_t row = 0; row < count; ++row) {
      const int64_t q = query_of_row[row];
      QueryNegatives& result = out[q];
      result.positive_scores.assign(positive, positive + data.positives[q].size());
      positive += data.positives[q].size();
      std::mt19937_64 rng(o.seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(q + 1)));
      const QueryCandidates candidates{scores[row].data_ptr<float>(), ids[row].data_ptr<int64_t>(), k,
                                       &data.positives[q],
                                       *std::min_element(result.positive_scores.begin(), result.positive_scores.end())};
      result.negatives = select_negatives(candidates, o, range_max, rng, counts);
    }
    progress.advance(count);
    first = end;
  }
  progress.finish();
  return out;
}

}  // namespace

MineResult mine_hard_negatives(const MineOptions& o, model::SentenceEncoder& encoder, at::Device device,
                               distributed::Communicator& comm) {
  const auto start = std::chrono::steady_clock::now();
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(o.threads > 0 ? o.threads : std::max(1, cores / comm.world_size()));
  MiningData data;
  int64_t range_max = 0;
  run_collectively(comm, [&] {
    validate(o);
    check_similarity(o.model);
    data = read_mining_data(o, comm.rank() == 0);
    const std::string source = o.corpus.empty() ? o.input + " (column '" + data.positive_column + "')"
                                                : o.corpus + " and the positives of " + o.input;
    NEG_CHECK(static_cast<int64_t>(data.corpus.size()) >= o.num_negatives, "the corpus (", source, ") has ",
              data.corpus.size(), " distinct text(s), fewer than --num-negatives ", o.num_negatives);
    range_max = resolved_range_max(o, data.max_rows_per_anchor);
    NEG_CHECK(o.range_min < range_max, "--range-min ", o.range_min, " must be smaller than --range-max ", range_max);
    NEG_CHECK(o.num_negatives <= range_max - o.range_min, "cannot mine ", o.num_negatives, " negatives per anchor: only ",
              range_max - o.range_min, " candidates remain between --range-min and --range-max");
  });
  log::info0("mining ", o.num_negatives, " negative(s) for ", data.queries.size(), " anchor(s) (", data.rows,
             " rows) among ", data.corpus.size(), " corpus texts; candidate ranks [", o.range_min, ", ", range_max, ")");

  const int64_t corpus_size = static_cast<int64_t>(data.corpus.size());
  const std::vector<std::vector<int64_t>> corpus_batches = length_batches(data.corpus, o.batch_size);
  EncodedRows shard;
  run_collectively(comm, [&] {
    shard = encode_batches(encoder, data.corpus, corpus_batches, 0, corpus_batches.size(), comm, device, o.progress);
  });
  const ShardedCorpus corpus(shard.embeddings, shard.ids, comm);
  SelectionCounts counts;
  const std::vector<QueryNegatives> outcome = search_all(data, corpus, encoder, device, o, range_max, comm, counts);
  const MinedRows rows = assemble_rows(data, outcome, o);
  log_mining_report(rows, counts, o);

  data::DatasetManifest layout;
  run_collectively(comm, [&] { layout = mined_layout(data, o, encoder.tokenizer(), encoder.max_seq_length()); });
  const data::DatasetManifest manifest = write_mined_dataset(rows, data, layout, o, encoder.tokenizer(), comm);
  MineResult result;
  result.rows = manifest.rows;
  result.queries = static_cast<int64_t>(data.queries.size());
  result.corpus = corpus_size;
  result.skipped_rows = data.skipped_rows;
  result.missing = rows.missing;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace negatron::mining
