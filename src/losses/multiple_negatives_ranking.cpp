#include "losses/multiple_negatives_ranking.h"

#include <algorithm>
#include <limits>

#include "common/check.h"
#include "common/log.h"
#include "distributed/gather.h"
#include "losses/registry.h"

namespace negatron::losses {
namespace {

const std::vector<std::string> kDirections = {"query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc"};
constexpr double kInf = std::numeric_limits<double>::infinity();

// [rows, n] bool with true at (j, own[j]).
at::Tensor one_hot_rows(const at::Tensor& own, int64_t n) {
  return at::zeros({own.size(0), n}, own.options().dtype(at::kBool)).scatter_(1, own.unsqueeze(1), true);
}

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
  if (!hardness_mode.empty() && hardness_strength == 0) {
    log::warn_once("mnrl_hardness_zero", "MultipleNegativesRankingLoss: hardness_mode '" + hardness_mode +
                                             "' has no effect with hardness_strength 0");
  }
}

at::Tensor multiple_negatives_ranking_loss(const InBatchInputs& in, const MultipleNegativesRankingOptions& options,
                                           int64_t begin, int64_t end) {
  const SimilarityFn sim = similarity_by_name(options.similarity_fct, "similarity_fct");
  const int64_t batch = in.anchors.size(0);
  const int64_t global = in.docs.front().size(0);
  const int64_t num_docs = static_cast<int64_t>(in.docs.size());
  const int64_t rows = end - begin;
  NEG_CHECK(begin >= 0 && end <= batch && rows > 0, "row range [", begin, ", ", end, ") outside [0, ", batch, ")");

  const at::Tensor queries = in.anchors.narrow(0, begin, rows);
  const at::Tensor positives = in.local_positives.narrow(0, begin, rows);
  const at::Tensor docs_all = num_docs == 1 ? in.docs.front() : at::cat(in.docs, 0);
  const at::Tensor own = at::arange(in.offset + begin, in.offset + end, in.anchors.options().dtype(at::kLong));
  at::Tensor query_to_doc = sim(queries, docs_all);  // [rows, K*N]
  const bool plain = options.hardness_mode.empty() || options.hardness_strength == 0;
  if (plain && options.directions.size() == 1) {
    // The common case, as ST computes it: one fused cross-entropy over the scaled scores.
    return at::cross_entropy_loss(query_to_doc * options.scale, own, {}, at::Reduction::Sum) /
           static_cast<double>(batch);
  }
  const at::Tensor own_mask = one_hot_rows(own, global);  // [rows, N]
  std::vector<at::Tensor> scores;
  if (!plain) {
    at::Tensor penalty = options.hardness_strength * query_to_doc.detach();
    at::Tensor own_docs = own_mask.repeat({1, num_docs});
    at::Tensor exclude;
    if (options.hardness_mode == "hard_negatives") {
      exclude = own_docs.logical_not();
      exclude.narrow(1, 0, global).fill_(true);  // only own hard negatives keep a penalty
    } else if (options.hardness_mode == "in_batch_negatives") {
      exclude = own_docs;  // other rows' positives and negatives
    } else {
      exclude = own_docs.clone();
      exclude.narrow(1, global, global * (num_docs - 1)).fill_(false);  // all but the own positive
    }
    scores.push_back(query_to_doc * options.scale + penalty.masked_fill(exclude, 0.0));
  } else {
    scores.push_back(query_to_doc * options.scale);
  }
  if (options.has("query_to_query")) {
    scores.push_back(sim(queries, in.anchors_global).masked_fill(own_mask, -kInf) * options.scale);
  }
  if (options.has("doc_to_query")) scores.push_back(sim(positives, in.anchors_global) * options.scale);
  if (options.has("doc_to_doc")) {
    scores.push_back(sim(positives, docs_all).masked_fill(own_mask.repeat({1, num_docs}), -kInf) * options.scale);
  }

  const at::Tensor positive_scores = scores.front().gather(1, own.unsqueeze(1)).squeeze(1);
  at::Tensor log_z;
  if (options.partition_mode == "joint") {
    log_z = at::logsumexp(scores.size() == 1 ? scores.front() : at::cat(scores, 1), {1});
  } else {
    for (const auto& s : scores) log_z = log_z.defined() ? log_z + at::logsumexp(s, {1}) : at::logsumexp(s, {1});
    log_z = log_z / static_cast<double>(scores.size());
  }
  return (log_z - positive_scores).sum() / static_cast<double>(batch);
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
  InBatchInputs in;
  in.anchors = batch.columns[0];
  in.local_positives = batch.columns[1];
  const bool need_anchors = options_.has("query_to_query") || options_.has("doc_to_query");
  if (context_.gather_across_devices) {
    distributed::Communicator& comm = *context_.comm;
    for (size_t c = 1; c < batch.columns.size(); ++c) {
      distributed::Gathered g = distributed::all_gather_with_grad(comm, batch.columns[c]);
      in.offset = g.offset;
      in.docs.push_back(g.global);
    }
    if (need_anchors) in.anchors_global = distributed::all_gather_with_grad(comm, batch.columns[0]).global;
  } else {
    in.docs.assign(batch.columns.begin() + 1, batch.columns.end());
    in.anchors_global = batch.columns[0];
  }
  return multiple_negatives_ranking_loss(in, options_, 0, in.anchors.size(0));
}

MultipleNegativesRankingOptions read_mnrl_options(ParamReader& params, LossContext& context, bool symmetric) {
  MultipleNegativesRankingOptions o;
  o.scale = params.get<double>("scale", o.scale);
  o.similarity_fct = params.get<std::string>("similarity_fct", o.similarity_fct);
  context.gather_across_devices = params.get<bool>("gather_across_devices", context.gather_across_devices);
  if (symmetric) {
    o.directions = {"query_to_doc", "doc_to_query"};
    o.partition_mode = "per_direction";
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
