#include "losses/multiple_negatives_ranking.h"

#include <algorithm>

#include "common/check.h"
#include "common/log.h"
#include "losses/in_batch_gather.h"
#include "losses/gradcache.h"

namespace negatron::losses {
namespace {

const std::vector<std::string> kDirections = {"query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc"};

}  // namespace

bool MultipleNegativesRankingOptions::has(const std::string& direction) const {
  return std::find(directions.begin(), directions.end(), direction) != directions.end();
}

void MultipleNegativesRankingOptions::validate() const {
  NEG_CHECK(scale > 0, "scale must be > 0, got ", scale);
  similarity_by_name(similarity_fct, "similarity_fct");
  NEG_CHECK(!directions.empty(), "directions must not be empty");
  for (const auto& d : directions) {
    NEG_CHECK(std::find(kDirections.begin(), kDirections.end(), d) != kDirections.end(), "unknown direction '", d,
              "' (valid: query_to_doc, query_to_query, doc_to_query, doc_to_doc)");
  }
  NEG_CHECK(has("query_to_doc"), "directions must include 'query_to_doc' (it holds the positive pair)");
  NEG_CHECK(partition_mode == "joint" || partition_mode == "per_direction",
            "partition_mode must be 'joint' or 'per_direction', got '", partition_mode, "'");
  NEG_CHECK(partition_mode == "joint" || !(has("query_to_query") || has("doc_to_doc")),
            "partition_mode 'per_direction' needs every direction's candidates to include the positive; "
            "'query_to_query' and 'doc_to_doc' do not. Use partition_mode 'joint'.");
  const std::string hardness = hardness_mode.value_or("");
  NEG_CHECK(hardness.empty() || hardness == "in_batch_negatives" || hardness == "hard_negatives" ||
                hardness == "all_negatives",
            "hardness_mode must be null, 'in_batch_negatives', 'hard_negatives' or 'all_negatives', got '", hardness,
            "'");
  NEG_CHECK(hardness_strength >= 0, "hardness_strength must be >= 0, got ", hardness_strength);
  tiling.validate();
  if (!hardness.empty() && hardness_strength == 0) {
    log::warn_once("mnrl_hardness_zero", "MultipleNegativesRankingLoss: hardness_mode '" + hardness +
                                             "' has no effect with hardness_strength 0");
  }
}

at::Tensor multiple_negatives_ranking_loss(const InBatchInputs& in, const MultipleNegativesRankingOptions& options) {
  const SimilarityKernel similarity = similarity_kernel_by_name(options.similarity_fct, "similarity_fct");
  const int64_t batch = in.anchors.size(0);
  const at::Tensor& queries = in.anchors;
  const std::vector<at::Tensor>& docs = in.docs;
  const at::Tensor positives = docs.front().narrow(0, in.offset, batch);
  const at::Tensor& anchors_global = in.anchors_global;

  // One block per (direction, doc column); per_direction gives every direction its own partition.
  const bool joint = options.partition_mode == "joint";
  const std::string hardness = options.hardness_mode.value_or("");
  const double strength = hardness.empty() ? 0.0 : options.hardness_strength;
  const bool penalise_in_batch = hardness == "in_batch_negatives" || hardness == "all_negatives";
  const bool penalise_own_hard = hardness == "hard_negatives" || hardness == "all_negatives";
  std::vector<CandidateBlock> blocks;
  auto add = [&](const at::Tensor& rows, const at::Tensor& columns, int group, bool mask_own) {
    CandidateBlock block;
    block.rows = rows;
    block.columns = columns;
    block.scale = options.scale;
    block.group = joint ? 0 : group;
    block.own_offset = in.offset;
    block.mask_own = mask_own;
    blocks.push_back(std::move(block));
    return &blocks.back();
  };
  for (size_t k = 0; k < docs.size(); ++k) {  // query_to_doc: hardness applies here only
    CandidateBlock* block = add(queries, docs[k], 0, false);
    block->other_penalty = penalise_in_batch ? strength : 0.0;
    block->own_penalty = k > 0 && penalise_own_hard ? strength : 0.0;  // the own positive never
  }
  if (options.has("query_to_query")) add(queries, anchors_global, 1, true);
  if (options.has("doc_to_query")) add(positives, anchors_global, 2, false);
  if (options.has("doc_to_doc"))
    for (const auto& d : docs) add(positives, d, 3, true);
  return in_batch_cross_entropy(blocks, similarity, options.tiling).sum() / static_cast<double>(std::max<int64_t>(batch, 1));
}

MultipleNegativesRankingLoss::MultipleNegativesRankingLoss(MultipleNegativesRankingOptions options,
                                                           LossContext context, std::string name)
    : options_(std::move(options)), context_(std::move(context)) {
  options_.validate();
  spec_.name = std::move(name);
  spec_.min_columns = 2;
  spec_.max_columns = -1;
  spec_.labels = LabelKind::kNone;
  spec_.inputs = "(anchor, positive) pairs | (anchor, positive, negative) triplets | (anchor, positive, "
                 "negative_1, ..., negative_n); labels: none";
  spec_.in_batch_negatives = true;
}

at::Tensor MultipleNegativesRankingLoss::compute(const EmbeddingBatch& batch) {
  validate(batch);
  // Candidates in one gather: every doc column, then the anchors if a direction scores them.
  std::vector<at::Tensor> locals(batch.columns.begin() + 1, batch.columns.end());
  const bool need_anchors = options_.has("query_to_query") || options_.has("doc_to_query");
  if (need_anchors) locals.push_back(batch.columns[0]);
  distributed::GatheredColumns g = gather_candidates(context_, locals, batch.rank_rows);
  InBatchInputs in;
  in.anchors = batch.columns[0];
  in.offset = g.offset;
  if (need_anchors) {
    in.anchors_global = g.global.back();
    g.global.pop_back();
  }
  in.docs = std::move(g.global);
  return multiple_negatives_ranking_loss(in, options_);
}

namespace {

std::unique_ptr<Loss> make_mnrl(const MultipleNegativesRankingOptions& options, const LossArgs& args) {
  const LossContext context = with_gather_parameter(args.context, options.gather_across_devices);
  return std::make_unique<MultipleNegativesRankingLoss>(options, context);
}

NEGATRON_REGISTER_LOSS("MultipleNegativesRankingLoss", make_mnrl);
NEGATRON_AT_LOAD(register_cached_loss("CachedMultipleNegativesRankingLoss", make_mnrl));

}  // namespace
}  // namespace negatron::losses
