#include "losses/gist_embed.h"

#include <limits>

#include "common/check.h"
#include "distributed/gather.h"
#include "losses/registry.h"
#include "losses/similarity.h"

namespace negatron::losses {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

void GistEmbedOptions::validate() const {
  NEG_CHECK(temperature > 0, "GISTEmbedLoss: temperature must be > 0, got ", temperature);
  NEG_CHECK(margin_strategy == "absolute" || margin_strategy == "relative",
            "GISTEmbedLoss: margin_strategy must be 'absolute' or 'relative', got '", margin_strategy, "'");
}

at::Tensor gist_embed_loss(const GistInputs& in, const GistEmbedOptions& options) {
  const int64_t batch = in.anchors.size(0);
  const at::Tensor own = at::arange(in.offset, in.offset + batch, in.anchors.options().dtype(at::kLong));
  const at::Tensor guided_ap = cos_sim(in.anchor_guide, in.positive_guide);  // [B, N]
  const at::Tensor threshold = guided_ap.gather(1, own.unsqueeze(1));        // [B, 1]
  const at::Tensor limit = options.margin_strategy == "absolute" ? threshold - options.margin
                                                                  : threshold - threshold.abs() * options.margin;
  auto suppress = [&](const at::Tensor& scores, const at::Tensor& guided) {
    return scores.masked_fill(guided > limit, -kInf);
  };

  const at::Tensor own_positive =
      at::zeros(guided_ap.sizes(), own.options().dtype(at::kBool)).scatter_(1, own.unsqueeze(1), true);
  std::vector<at::Tensor> scores;
  scores.push_back(cos_sim(in.anchors, in.positives).masked_fill((guided_ap > limit) & own_positive.logical_not(),
                                                                 -kInf));
  if (options.contrast_anchors) {
    scores.push_back(suppress(cos_sim(in.anchors, in.all_anchors), cos_sim(in.anchor_guide, in.all_anchor_guide)));
  }
  if (options.contrast_positives) {
    const at::Tensor local_positives = in.positives.narrow(0, in.offset, batch);
    const at::Tensor local_guide = in.positive_guide.narrow(0, in.offset, batch);
    scores.push_back(suppress(cos_sim(local_positives, in.positives), cos_sim(local_guide, in.positive_guide)));
  }
  if (in.negatives.defined()) {
    scores.push_back(suppress(cos_sim(in.anchors, in.negatives), cos_sim(in.anchor_guide, in.negative_guide)));
  }
  const at::Tensor logits = at::cat(scores, 1) / options.temperature;
  return (at::logsumexp(logits, {1}) - logits.gather(1, own.unsqueeze(1)).squeeze(1)).mean();
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
  GistInputs in;
  in.anchors = batch.columns[0];
  in.anchor_guide = batch.guide[0].detach();
  in.all_anchors = in.anchors;
  in.all_anchor_guide = in.anchor_guide;
  const bool has_negative = batch.columns.size() == 3;
  if (context_.gather_across_devices) {
    distributed::Communicator& comm = *context_.comm;
    distributed::Gathered positives = distributed::all_gather_with_grad(comm, batch.columns[1]);
    in.positives = positives.global;
    in.offset = positives.offset;
    in.positive_guide = distributed::all_gather_no_grad(comm, batch.guide[1]).global;
    // Unlike sentence-transformers (local anchor-anchor block), anchors are contrasted with every
    // rank's anchors, so W ranks compute exactly the loss of one process on the global batch.
    if (options_.contrast_anchors) {
      in.all_anchors = distributed::all_gather_with_grad(comm, batch.columns[0]).global;
      in.all_anchor_guide = distributed::all_gather_no_grad(comm, batch.guide[0]).global;
    }
    if (has_negative) {
      in.negatives = distributed::all_gather_with_grad(comm, batch.columns[2]).global;
      in.negative_guide = distributed::all_gather_no_grad(comm, batch.guide[2]).global;
    }
  } else {
    in.positives = batch.columns[1];
    in.positive_guide = batch.guide[1].detach();
    if (has_negative) {
      in.negatives = batch.columns[2];
      in.negative_guide = batch.guide[2].detach();
    }
  }
  return gist_embed_loss(in, options_);
}

namespace {

std::unique_ptr<Loss> make_gist(const LossArgs& args) {
  ParamReader params("GISTEmbedLoss", args.params);
  GistEmbedOptions o;
  const std::string guide_dir = params.get<std::string>("guide", "");
  o.temperature = params.get<double>("temperature", o.temperature);
  o.margin_strategy = params.get<std::string>("margin_strategy", o.margin_strategy);
  o.margin = params.get<double>("margin", o.margin);
  o.contrast_anchors = params.get<bool>("contrast_anchors", o.contrast_anchors);
  o.contrast_positives = params.get<bool>("contrast_positives", o.contrast_positives);
  LossContext context = args.context;
  context.gather_across_devices = params.get<bool>("gather_across_devices", context.gather_across_devices);
  params.finish();
  std::shared_ptr<model::SentenceEncoder> guide;
  if (!guide_dir.empty()) guide = model::SentenceEncoder::load(guide_dir);
  return std::make_unique<GistEmbedLoss>(o, context, guide);
}

NEGATRON_REGISTER_LOSS("GISTEmbedLoss", make_gist);

}  // namespace
}  // namespace negatron::losses
