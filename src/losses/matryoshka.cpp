#include "losses/matryoshka.h"

#include <algorithm>
#include <numeric>

#include "common/check.h"
#include "common/log.h"
#include "losses/gradcache.h"
#include "losses/registry.h"
#include "losses/similarity.h"

namespace negatron::losses {

void MatryoshkaOptions::validate() {
  loss = resolve_wrapped_loss(loss);
  NEG_CHECK(!matryoshka_dims.empty(), "matryoshka_dims needs at least one dimension");
  for (int64_t d : matryoshka_dims) NEG_CHECK(d > 0, "matryoshka_dims must be > 0, got ", d);
  NEG_CHECK(!matryoshka_weights || matryoshka_weights->size() == matryoshka_dims.size(), "matryoshka_weights has ",
            matryoshka_weights ? matryoshka_weights->size() : 0, " entries, matryoshka_dims ", matryoshka_dims.size());
  std::vector<size_t> order(matryoshka_dims.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return matryoshka_dims[a] > matryoshka_dims[b]; });
  const MatryoshkaOptions given = *this;
  for (size_t i = 0; i < order.size(); ++i) {
    matryoshka_dims[i] = given.matryoshka_dims[order[i]];
    if (matryoshka_weights) (*matryoshka_weights)[i] = (*given.matryoshka_weights)[order[i]];
  }
}

double MatryoshkaOptions::weight(size_t index) const {
  return matryoshka_weights ? matryoshka_weights->at(index) : 1.0;
}

at::Tensor matryoshka_shrink(const at::Tensor& x, int64_t dim) {
  NEG_CHECK(dim <= x.size(-1), "MatryoshkaLoss: dimension ", dim,
            " in matryoshka_dims is greater than the embedding dimension ", x.size(-1));
  return normalize_rows(x.narrow(-1, 0, dim));
}

bool is_model_level_only(const std::string& name) {
  for (const char* n : {"ContrastiveTensionLoss", "ContrastiveTensionLossInBatchNegatives", "DenoisingAutoEncoderLoss",
                        "AdaptiveLayerLoss", "Matryoshka2dLoss"}) {
    if (name == n) return true;
  }
  return false;
}

std::vector<int64_t> sample_indices(int64_t n, int64_t count, bool sorted) {
  std::vector<int64_t> out;
  if (count <= 0 || count >= n) {
    for (int64_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  const at::Tensor perm = at::randperm(n, at::TensorOptions().dtype(at::kLong));
  for (int64_t i = 0; i < count; ++i) out.push_back(perm[i].item<int64_t>());
  if (sorted) std::sort(out.begin(), out.end());
  return out;
}

MatryoshkaLoss::MatryoshkaLoss(std::unique_ptr<Loss> inner, MatryoshkaOptions options)
    : inner_(std::move(inner)), options_(std::move(options)) {
  NEG_CHECK(inner_ != nullptr, "MatryoshkaLoss: no loss to wrap");
  NEG_CHECK(!is_model_level_only(inner_->spec().name), "MatryoshkaLoss cannot wrap ", inner_->spec().name,
            ": it is computed from the model, not from embeddings");
  spec_ = inner_->spec();
  spec_.name = "MatryoshkaLoss";
}

at::Tensor MatryoshkaLoss::compute(const EmbeddingBatch& batch) {
  NEG_CHECK(!batch.columns.empty(), "MatryoshkaLoss: no columns");
  const int64_t full = batch.columns.front().size(-1);
  at::Tensor loss;
  for (int64_t idx : sample_indices(static_cast<int64_t>(options_.matryoshka_dims.size()), options_.n_dims_per_step,
                                    /*sorted=*/true)) {
    const int64_t dim = options_.matryoshka_dims[idx];
    EmbeddingBatch shrunk;
    for (const auto& c : batch.columns) shrunk.columns.push_back(matryoshka_shrink(c, dim));
    shrunk.guide = batch.guide;
    shrunk.labels = batch.labels;
    shrunk.rank_rows = batch.rank_rows;
    if (batch.labels.defined() && batch.labels.dim() == 2 && batch.labels.is_floating_point() &&
        batch.labels.size(-1) == full) {
      shrunk.labels = batch.labels.narrow(-1, 0, dim);
    }
    at::Tensor term = inner_->compute(shrunk) * options_.weight(idx);
    loss = loss.defined() ? loss + term : term;
  }
  return loss;
}

namespace {

std::unique_ptr<Loss> make_matryoshka(const MatryoshkaOptions& options, const LossArgs& args) {
  std::unique_ptr<Loss> inner = make_loss_from_spec(options.loss, args);
  if (args.model) {
    const int64_t dim = args.model->embedding_dimension();
    const std::vector<int64_t>& dims = options.matryoshka_dims;
    for (int64_t d : dims)
      NEG_CHECK(d <= dim, "MatryoshkaLoss: matryoshka_dims entry ", d, " exceeds the model's embedding dimension ",
                dim);
    if (std::find(dims.begin(), dims.end(), dim) == dims.end())
      log::warn0("MatryoshkaLoss: the model's dimension ", dim, " is not in matryoshka_dims; it will not be trained");
  }
  if (auto* cached = dynamic_cast<GradCacheLoss*>(inner.get())) {
    const GradCacheOptions cache = cached->options();
    return std::make_unique<GradCacheLoss>(std::make_unique<MatryoshkaLoss>(cached->release_inner(), options), cache,
                                           "MatryoshkaLoss");
  }
  return std::make_unique<MatryoshkaLoss>(std::move(inner), options);
}

NEGATRON_REGISTER_LOSS("MatryoshkaLoss", make_matryoshka);

}  // namespace
}  // namespace negatron::losses
