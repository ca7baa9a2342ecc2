#include "losses/cosine_similarity.h"

#include "losses/registry.h"

namespace negatron::losses {
namespace {

std::string strip_torch_prefix(const std::string& name) {
  for (const std::string prefix : {"torch.nn.modules.loss.", "torch.nn.modules.activation.",
                                   "torch.nn.modules.linear.", "torch.nn.", "nn."})
    if (name.rfind(prefix, 0) == 0) return name.substr(prefix.size());
  return name;
}

at::Tensor regression_loss(const std::string& name, const at::Tensor& input, const at::Tensor& target) {
  if (name == "MSELoss") return at::mse_loss(input, target);
  if (name == "L1Loss") return at::l1_loss(input, target);
  if (name == "SmoothL1Loss") return at::smooth_l1_loss(input, target);
  if (name == "HuberLoss") return at::huber_loss(input, target);
  NEG_FAIL("CosineSimilarityLoss: parameter 'loss_fct' is '", name,
           "' (valid: MSELoss, L1Loss, SmoothL1Loss, HuberLoss)");
}

at::Tensor transform(const std::string& name, const at::Tensor& x) {
  if (name == "Identity") return x;
  if (name == "Tanh") return at::tanh(x);
  if (name == "Sigmoid") return at::sigmoid(x);
  if (name == "ReLU") return at::relu(x);
  NEG_FAIL("CosineSimilarityLoss: parameter 'cos_score_transformation' is '", name,
           "' (valid: Identity, Tanh, Sigmoid, ReLU)");
}

class CosineSimilarityLoss : public Loss {
 public:
  explicit CosineSimilarityLoss(CosineSimilarityOptions options) : options_(std::move(options)) {
    spec_ = {"CosineSimilarityLoss", 2, 2, LabelKind::kFloat32, "(sentence_A, sentence_B) pairs | float similarity score"};
  }
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override {
    validate(batch);
    return cosine_similarity_loss(batch.columns[0], batch.columns[1], batch.labels, options_);
  }

 private:
  LossSpec spec_;
  CosineSimilarityOptions options_;
};

std::unique_ptr<Loss> make_cosine_similarity(const LossArgs& args) {
  ParamReader params("CosineSimilarityLoss", args.params);
  CosineSimilarityOptions options;
  options.loss_fct = strip_torch_prefix(params.get<std::string>("loss_fct", options.loss_fct));
  options.cos_score_transformation =
      strip_torch_prefix(params.get<std::string>("cos_score_transformation", options.cos_score_transformation));
  params.finish();
  const at::Tensor probe = at::zeros({1}, at::kDouble);  // reject bad names now, not at the first batch
  regression_loss(options.loss_fct, transform(options.cos_score_transformation, probe), probe);
  return std::make_unique<CosineSimilarityLoss>(options);
}

}  // namespace

at::Tensor cosine_similarity_loss(const at::Tensor& a, const at::Tensor& b, const at::Tensor& labels,
                                  const CosineSimilarityOptions& options) {
  const at::Tensor output = transform(options.cos_score_transformation, at::cosine_similarity(a, b, 1, 1e-8));
  // ST: labels.float(); the regression then runs in the embeddings' dtype.
  return regression_loss(options.loss_fct, output, labels.to(at::kFloat).view(-1).to(output.scalar_type()));
}

NEGATRON_REGISTER_LOSS("CosineSimilarityLoss", make_cosine_similarity);

}  // namespace negatron::losses
