#include "train/evaluator.h"

#include "common/check.h"
#include "dist/gather.h"
#include "train/embedding_similarity_evaluator.h"
#include "train/triplet_evaluator.h"

namespace negatron::train {

at::Tensor distributed_encode(model::SentenceEncoder& model, dist::Communicator& comm,
                              const std::vector<std::string>& texts, int64_t batch_size) {
  const int64_t n = static_cast<int64_t>(texts.size());
  const int64_t world = comm.world_size(), rank = comm.rank();
  const int64_t start = n * rank / world, stop = n * (rank + 1) / world;
  std::vector<std::string> shard(texts.begin() + start, texts.begin() + stop);
  model::EncodeOptions options;
  options.batch_size = batch_size;
  at::Tensor local = model.encode(shard, options);
  return dist::all_gather_no_grad(comm, local).global;
}

std::unique_ptr<Evaluator> make_evaluator(const EvaluatorOptions& options) {
  if (options.type == "EmbeddingSimilarityEvaluator") return std::make_unique<EmbeddingSimilarityEvaluator>(options);
  if (options.type == "TripletEvaluator") return std::make_unique<TripletEvaluator>(options);
  NEG_FAIL("unknown evaluator type '", options.type, "' (supported: EmbeddingSimilarityEvaluator, TripletEvaluator)");
}

}  // namespace negatron::train
