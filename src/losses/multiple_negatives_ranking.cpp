#include "losses/multiple_negatives_ranking.h"

#include <algorithm>

#include "common/check.h"
#include "common/log.h"
#include "losses/in_batch_gather.h"
#include "losses/registry.h"

namespace negatron::losses {
namespace {

const std::vector<std::string> kDirections = {"query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc"};

}  // namespace

bool MultipleNegativesRankingOptions::has(const std::string& direction) const {
  return std::find(directions.begin(), directions.end(), direction) != directions.end();
}

void MultipleNegativesRankingOptions::validate() const {
  NEG_CHECK(scale > 0, "MultipleNegativesRankingLoss: scale must be > 0, got ", scale);
  similarity_by_name(similarity_fct, "similarity_fct");
  NEG_CHECK(!directions.empty(), "MultipleNegativesRankingLoss: directions must not be empty");
  for (const auto& d : directions) {
    NEG_CHECK(std::find(kDirections.begin(), kDirections.end(), d) != kDirections.end(),
              "MultipleNegativesRankingLoss: unknown direction '", d,
              "' (valid: query_to_doc, query_to_query, doc_to_query, doc_to_doc)");
  }
  NEG_CHECK(has("query_to_doc"), "MultipleNegativesRankingLoss: directions must include 'query_to_doc' (it holds "
            "the positive pair)");
  NEG_CHECK(partition_mode == "joint" || partition_mode == "per_direction",
            "MultipleNegativesRankingLoss: partition_mode must be 'joint' or 'per_direction', got '", partition_mode,
            "'");
  NEG_CHECK(partition_mode == "joint" || !(has("query_to_query") || has("doc_to_doc")),
            "MultipleNegativesRankingLoss: partition_mode 'per_direction' needs every direction's candidates to "
            "include the positive; 'query_to_query' and 'doc_to_doc' do not. Use partition_mode 'joint'.");
  NEG_CHECK(hardness_mode.empty() || hardness_mode == "in_batch_negatives" || hardness_mode == "hard_negatives" ||
                hardness_mode == "all_negatives",
            "MultipleNegativesRankingLoss: hardness_mode must be null, 'in_batch_negatives', 'hard_negatives' or "
            "'all_negatives', got '", hardness_mode, "'");
  NEG_CHECK(hardness_strength >= 0, "MultipleNegativesRankingLoss: hardness_strength must be >= 0, got ",
            hardness_strength);
  tiling.validate();
  if (!hardness_mode.empty() && hardness_strength == 0) {
    log::warn_once("mnrl_hardness_zero", "MultipleNegativesRankingLoss: hardness_mode '" + hardness_mode +
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
  const double strength = options.hardness_mode.empty() ? 0.0 : options.hardness_strength;
  const bool penalise_in_batch = options.hardness_mode == "in_batch_negatives" || options.hardness_mode == "all_negatives";
  const bool penalise_own_hard = options.hardness_mode == "hard_negatives" || options.hardness_mode == "all_negatives";
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

MultipleNegativesRankingOptions read_mnrl_options(ParamReader& params, LossContext& context, bool symmetric) {
  MultipleNegativesRankingOptions o;
  o.scale = params.get<double>("scale", o.scale);
  o.similarity_fct = params.get<std::string>("similarity_fct", o.similarity_fct);
  context.gather_across_devices = params.get<bool>("gather_across_devices", context.gather_across_devices);
  if (symmetric) {
    o.directions = {"query_to_doc", "doc_to_query"};
    o.partition_mode = "per_direction";
    o.tiling = read_tile_options(params, "MultipleNegativesSymmetricRankingLoss");
    return o;
  }
  nlohmann::json directions = params.get_json("directions", o.directions);
  if (directions.is_string()) directions = nlohmann::json::array({directions});
  NEG_CHECK(directions.is_array(), "MultipleNegativesRankingLoss: parameter 'directions' must be a list of "
            "strings, got ", directions.dump());
  o.directions.clear();
  for (const auto& d : directions) {
    NEG_CHECK(d.is_string(), "MultipleNegativesRankingLoss: 'directions' entries must be strings, got ", d.dump());
    o.directions.push_back(d.get<std::string>());
  }
  o.partition_mode = params.get<std::string>("partition_mode", o.partition_mode);
  nlohmann::json hardness = params.get_json("hardness_mode", nullptr);
  NEG_CHECK(hardness.is_null() || hardness.is_string(), "MultipleNegativesRankingLoss: parameter 'hardness_mode' "
            "must be null or a string, got ", hardness.dump());
  o.hardness_mode = hardness.is_null() ? "" : hardness.get<std::string>();
  o.hardness_strength = params.get<double>("hardness_strength", o.hardness_strength);
  o.tiling = read_tile_options(params, "MultipleNegativesRankingLoss");
  return o;
}

namespace {

std::unique_ptr<Loss> make_mnrl(const LossArgs& args) {
  ParamReader params("MultipleNegativesRankingLoss", args.params);
  LossContext context = args.context;
  MultipleNegativesRankingOptions options = read_mnrl_options(params, context, /*symmetric=*/false);
  params.finish();
  return std::make_unique<MultipleNegativesRankingLoss>(options, context);
}

NEGATRON_REGISTER_LOSS("MultipleNegativesRankingLoss", make_mnrl);

}  // namespace
}  // namespace negatron::losses
