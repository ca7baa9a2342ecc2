#include "train/evaluator.h"

#include "common/check.h"
#include "data/text_table.h"
#include "distributed/gather.h"
#include "train/binary_classification_evaluator.h"
#include "train/embedding_similarity_evaluator.h"
#include "train/information_retrieval_evaluator.h"
#include "train/triplet_evaluator.h"

namespace negatron::train {

EvaluatorTable read_evaluator_table(const EvaluatorOptions& o, const std::vector<std::string>& names) {
  data::TextTableOptions options;
  options.has_header = o.has_header;
  options.format = o.format;
  options.select_columns = names;
  const data::TextTable table = data::read_text_table(o.path, options);
  std::vector<size_t> index;
  for (const auto& name : names) index.push_back(table.column_index(name));
  EvaluatorTable out;
  out.columns.resize(names.size());
  for (const auto& record : table.records) {
    for (size_t k = 0; k < names.size(); ++k) out.columns[k].push_back(record.fields[index[k]]);
    out.lines.push_back(record.line);
  }
  return out;
}

std::vector<double> to_doubles(const at::Tensor& t) {
  const at::Tensor d = t.to(at::kDouble).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

at::Tensor distributed_encode(model::SentenceEncoder& model, distributed::Communicator& comm,
                              const std::vector<std::string>& texts, int64_t batch_size) {
  const int64_t n = static_cast<int64_t>(texts.size());
  const int64_t world = comm.world_size(), rank = comm.rank();
  const int64_t start = n * rank / world, stop = n * (rank + 1) / world;
  std::vector<std::string> shard(texts.begin() + start, texts.begin() + stop);
  model::EncodeOptions options;
  options.batch_size = batch_size;
  at::Tensor local = model.encode(shard, options);
  return distributed::all_gather_no_grad(comm, local).global;
}

std::unique_ptr<Evaluator> make_evaluator(const EvaluatorOptions& options) {
  NEG_CHECK(options.batch_size > 0, options.type, " '", options.name, "': batch_size ", options.batch_size,
            " must be > 0");
  if (options.type == "EmbeddingSimilarityEvaluator") return std::make_unique<EmbeddingSimilarityEvaluator>(options);
  if (options.type == "TripletEvaluator") return std::make_unique<TripletEvaluator>(options);
  if (options.type == "BinaryClassificationEvaluator") return std::make_unique<BinaryClassificationEvaluator>(options);
  if (options.type == "InformationRetrievalEvaluator") return std::make_unique<InformationRetrievalEvaluator>(options);
  NEG_FAIL("unknown evaluator type '", options.type,
           "' (supported: EmbeddingSimilarityEvaluator, TripletEvaluator, BinaryClassificationEvaluator, "
           "InformationRetrievalEvaluator)");
}

std::string prefixed_metric(const std::string& name, const std::string& key) {
  return name.empty() ? key : name + "_" + key;
}

std::vector<std::string> similarity_fn_names_or(const std::vector<std::string>& names,
                                                std::vector<std::string> defaults, const std::string& what) {
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& fn = names[i];
    NEG_CHECK(fn == "cosine" || fn == "dot" || fn == "euclidean" || fn == "manhattan", what,
              ": similarity_fn_names entry '", fn, "' is not one of: cosine, dot, euclidean, manhattan");
    for (size_t j = 0; j < i; ++j) NEG_CHECK(names[j] != fn, what, ": similarity_fn_names lists '", fn, "' twice");
  }
  return names.empty() ? std::move(defaults) : names;
}

}  // namespace negatron::train
