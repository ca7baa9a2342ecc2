#include "losses/matryoshka.h"

#include <algorithm>
#include <numeric>

#include "common/check.h"
#include "common/log.h"
#include "losses/gradcache.h"
#include "losses/registry.h"
#include "losses/similarity.h"

namespace negatron::losses {

void MatryoshkaOptions::normalize_and_validate() {
  NEG_CHECK(!matryoshka_dims.empty(), "MatryoshkaLoss: matryoshka_dims needs at least one dimension");
  for (int64_t d : matryoshka_dims) NEG_CHECK(d > 0, "MatryoshkaLoss: matryoshka_dims must be > 0, got ", d);
  if (matryoshka_weights.empty()) matryoshka_weights.assign(matryoshka_dims.size(), 1.0);
  NEG_CHECK(matryoshka_weights.size() == matryoshka_dims.size(), "MatryoshkaLoss: matryoshka_weights has ",
            matryoshka_weights.size(), " entries, matryoshka_dims ", matryoshka_dims.size());
  std::vector<size_t> order(matryoshka_dims.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return matryoshka_dims[a] > matryoshka_dims[b]; });
  std::vector<int64_t> dims;
  std::vector<double> weights;
  for (size_t i : order) {
    dims.push_back(matryoshka_dims[i]);
    weights.push_back(matryoshka_weights[i]);
  }
  matryoshka_dims = dims;
  matryoshka_weights = weights;
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
  options_.normalize_and_validate();
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
    at::Tensor term = inner_->compute(shrunk) * options_.matryoshka_weights[idx];
    loss = loss.defined() ? loss + term : term;
  }
  return loss;
}

namespace {

std::unique_ptr<Loss> make_matryoshka(const LossArgs& args) {
  ParamReader params("MatryoshkaLoss", args.params);
  const nlohmann::json inner_spec = params.get_json("loss", nullptr);
  MatryoshkaOptions o;
  o.matryoshka_dims = params.get<std::vector<int64_t>>("matryoshka_dims", {});
  const nlohmann::json weights = params.get_json("matryoshka_weights", nullptr);
  if (!weights.is_null()) o.matryoshka_weights = params.get<std::vector<double>>("matryoshka_weights", {});
  o.n_dims_per_step = params.get<int64_t>("n_dims_per_step", o.n_dims_per_step);
  params.finish();
  std::unique_ptr<Loss> inner = make_inner_loss("MatryoshkaLoss", inner_spec, args);
  if (args.model) {
    const int64_t dim = args.model->embedding_dimension();
    for (int64_t d : o.matryoshka_dims)
      NEG_CHECK(d <= dim, "MatryoshkaLoss: matryoshka_dims entry ", d, " exceeds the model's embedding dimension ",
                dim);
    if (std::find(o.matryoshka_dims.begin(), o.matryoshka_dims.end(), dim) == o.matryoshka_dims.end())
      log::warn0("MatryoshkaLoss: the model's dimension ", dim, " is not in matryoshka_dims; it will not be trained");
  }
  if (auto* cached = dynamic_cast<GradCacheLoss*>(inner.get())) {
    const GradCacheOptions cache = cached->options();
    return std::make_unique<GradCacheLoss>(std::make_unique<MatryoshkaLoss>(cached->release_inner(), o), cache,
                                           "MatryoshkaLoss");
  }
  return std::make_unique<MatryoshkaLoss>(std::move(inner), o);
}

NEGATRON_REGISTER_LOSS("MatryoshkaLoss", make_matryoshka);

}  // namespace

std::unique_ptr<Loss> make_inner_loss(const std::string& wrapper, const nlohmann::json& spec, const LossArgs& args) {
  NEG_CHECK(spec.is_object() && spec.contains("name") && spec["name"].is_string(), wrapper,
            ": parameter 'loss' must be a map {\"name\": <loss>, <its parameters>...}, got ", spec.dump());
  LossArgs inner = args;
  inner.params = spec;
  inner.params.erase("name");
  return make_loss(spec["name"].get<std::string>(), inner);
}

}  // namespace negatron::losses
