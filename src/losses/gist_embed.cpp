#include "losses/gist_embed.h"

#include <algorithm>

#include "common/check.h"
#include "losses/in_batch_gather.h"
#include "losses/gradcache.h"
#include "losses/similarity.h"

namespace negatron::losses {
void GistEmbedOptions::validate() const {
  NEG_CHECK(temperature > 0, "temperature must be > 0, got ", temperature);
  NEG_CHECK(margin_strategy == "absolute" || margin_strategy == "relative",
            "margin_strategy must be 'absolute' or 'relative', got '", margin_strategy, "'");
  tiling.validate();
}

at::Tensor gist_embed_loss(const GistInputs& in, const GistEmbedOptions& options) {
  const int64_t batch = in.anchors.size(0);
  // Guide scores decide which candidates are dropped; they are compared in float64 (with
  // kGuideTieTolerance) so that every tiling drops the same ones.
  auto guide = [](const at::Tensor& g) { return normalize_rows(g.detach().to(at::kDouble)); };
  const at::Tensor anchor_guide = guide(in.anchor_guide), positive_guide = guide(in.positive_guide);
  const at::Tensor own_positive_guide = positive_guide.narrow(0, in.offset, batch);
  const at::Tensor threshold = (anchor_guide * own_positive_guide).sum(1);  // guided anchor-positive score
  const at::Tensor limit = options.margin_strategy == "absolute" ? threshold - options.margin
                                                                  : threshold - threshold.abs() * options.margin;

  const at::Tensor &anchors = in.anchors, &positives = in.positives;
  std::vector<CandidateBlock> blocks;
  auto add = [&](const at::Tensor& rows, const at::Tensor& columns, const at::Tensor& guide_rows,
                 const at::Tensor& guide_columns) {
    CandidateBlock block;
    block.rows = rows;
    block.columns = columns;
    block.scale = 1.0 / options.temperature;
    block.own_offset = in.offset;
    block.guide.rows = guide_rows;
    block.guide.columns = guide_columns;
    block.guide.limit = limit;
    blocks.push_back(std::move(block));
  };
  add(anchors, positives, anchor_guide, positive_guide);
  blocks.back().guide.spare_own = true;  // the target
  if (options.contrast_anchors) add(anchors, in.all_anchors, anchor_guide, guide(in.all_anchor_guide));
  if (options.contrast_positives) {
    add(positives.narrow(0, in.offset, batch), positives, own_positive_guide, positive_guide);
  }
  if (in.negatives.defined()) add(anchors, in.negatives, anchor_guide, guide(in.negative_guide));
  const SimilarityKernel cosine = similarity_kernel_by_name("cos_sim", "GISTEmbedLoss");
  return in_batch_cross_entropy(blocks, cosine, options.tiling).sum() / static_cast<double>(std::max<int64_t>(batch, 1));
}

GistEmbedLoss::GistEmbedLoss(GistEmbedOptions options, LossContext context,
                             std::shared_ptr<model::SentenceEncoder> guide)
    : options_(std::move(options)), context_(std::move(context)), guide_(std::move(guide)) {
  options_.validate();
  spec_.name = "GISTEmbedLoss";
  spec_.min_columns = 2;
  spec_.max_columns = 3;
  spec_.labels = LabelKind::kNone;
  spec_.inputs = "(anchor, positive) pairs | (anchor, positive, negative) triplets; labels: none; plus guide "
                 "embeddings of every column";
  spec_.in_batch_negatives = true;
  if (guide_) {
    guide_->eval();
    for (auto& p : guide_->parameters()) p.set_requires_grad(false);
  }
}

void GistEmbedLoss::add_side_inputs(model::SentenceEncoder& model, const model::Batch& batch,
                                    EmbeddingBatch& embeddings) {
  NEG_CHECK(guide_ != nullptr, "GISTEmbedLoss needs a guide model: set the parameter 'guide' to a model directory");
  at::NoGradGuard no_grad;
  const bool retokenize = guide_->tokenizer().fingerprint() != model.tokenizer().fingerprint() ||
                          guide_->max_seq_length() < model.max_seq_length();
  guide_->eval();
  embeddings.guide.clear();
  for (size_t c = 0; c < batch.columns.size(); ++c) {
    const at::Device device = batch.columns[c].input_ids.device();
    if (guide_->parameters().front().device() != device) guide_->to(device);
    model::TokenBatch tokens = batch.columns[c];
    if (retokenize) {
      NEG_CHECK(c < batch.texts.size() && batch.texts[c].size() == static_cast<size_t>(tokens.input_ids.size(0)),
                "GISTEmbedLoss: the guide model has another tokenizer (or a shorter max_seq_length), so it needs "
                "the batch's texts, which column ", c, " lacks");
      tokens = guide_->tokenize(batch.texts[c]).to(device);
    }
    embeddings.guide.push_back(guide_->forward(tokens).sentence_embedding);
  }
}

at::Tensor GistEmbedLoss::compute(const EmbeddingBatch& batch) {
  validate(batch);
  NEG_CHECK(batch.guide.size() == batch.columns.size(), "GISTEmbedLoss needs guide embeddings for each of the ",
            batch.columns.size(), " columns, got ", batch.guide.size());
  // Everything scored against travels in one gather: positives, anchors (if contrasted), negatives,
  // each with its guide embeddings. Unlike sentence-transformers (local anchor-anchor block),
  // anchors are contrasted with every rank's anchors, so W ranks compute exactly the loss of one
  // process on the global batch.
  const bool has_negative = batch.columns.size() == 3;
  std::vector<at::Tensor> locals = {batch.columns[1], batch.guide[1].detach()};
  if (options_.contrast_anchors) locals.insert(locals.end(), {batch.columns[0], batch.guide[0].detach()});
  if (has_negative) locals.insert(locals.end(), {batch.columns[2], batch.guide[2].detach()});
  const distributed::GatheredColumns g = gather_candidates(context_, locals, batch.rank_rows);
  GistInputs in;
  in.anchors = batch.columns[0];
  in.anchor_guide = batch.guide[0].detach();
  in.offset = g.offset;
  in.positives = g.global[0];
  in.positive_guide = g.global[1];
  size_t next = 2;
  if (options_.contrast_anchors) {
    in.all_anchors = g.global[next];
    in.all_anchor_guide = g.global[next + 1];
    next += 2;
  }
  if (has_negative) {
    in.negatives = g.global[next];
    in.negative_guide = g.global[next + 1];
  }
  return gist_embed_loss(in, options_);
}

namespace {

std::unique_ptr<Loss> make_gist(const GistEmbedOptions& options, const LossArgs& args) {
  const LossContext context = with_gather_parameter(args.context, options.gather_across_devices);
  std::shared_ptr<model::SentenceEncoder> guide;
  if (!options.guide.empty()) guide = model::SentenceEncoder::load(options.guide);
  return std::make_unique<GistEmbedLoss>(options, context, guide);
}

NEGATRON_REGISTER_LOSS("GISTEmbedLoss", make_gist);
NEGATRON_AT_LOAD(register_cached_loss("CachedGISTEmbedLoss", make_gist));

}  // namespace
}  // namespace negatron::losses
