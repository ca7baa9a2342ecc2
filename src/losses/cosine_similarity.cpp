#include "losses/cosine_similarity.h"

#include "common/check.h"
#include "losses/pure_loss.h"

namespace negatron::losses {
namespace {

std::string strip_torch_prefix(const std::string& name) {
  for (const std::string prefix : {"torch.nn.modules.loss.", "torch.nn.modules.activation.",
                                   "torch.nn.modules.linear.", "torch.nn.", "nn."})
    if (name.rfind(prefix, 0) == 0) return name.substr(prefix.size());
  return name;
}

at::Tensor regression_loss(const std::string& loss_fct, const at::Tensor& input, const at::Tensor& target) {
  const std::string name = strip_torch_prefix(loss_fct);
  if (name == "MSELoss") return at::mse_loss(input, target);
  if (name == "L1Loss") return at::l1_loss(input, target);
  if (name == "SmoothL1Loss") return at::smooth_l1_loss(input, target);
  if (name == "HuberLoss") return at::huber_loss(input, target);
  NEG_FAIL("parameter 'loss_fct' is '", loss_fct, "' (valid: MSELoss, L1Loss, SmoothL1Loss, HuberLoss)");
}

at::Tensor transform(const std::string& transformation, const at::Tensor& x) {
  const std::string name = strip_torch_prefix(transformation);
  if (name == "Identity") return x;
  if (name == "Tanh") return at::tanh(x);
  if (name == "Sigmoid") return at::sigmoid(x);
  if (name == "ReLU") return at::relu(x);
  NEG_FAIL("parameter 'cos_score_transformation' is '", transformation, "' (valid: Identity, Tanh, Sigmoid, ReLU)");
}

}  // namespace

void CosineSimilarityOptions::validate() const {
  const at::Tensor probe = at::zeros({1}, at::kDouble);
  regression_loss(loss_fct, transform(cos_score_transformation, probe), probe);
}

at::Tensor cosine_similarity_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                                  const CosineSimilarityOptions& options) {
  const at::Tensor output =
      transform(options.cos_score_transformation, at::cosine_similarity(columns[0], columns[1], 1, 1e-8));
  // ST: labels.float(); the regression then runs in the embeddings' dtype.
  return regression_loss(options.loss_fct, output, labels.to(at::kFloat).view(-1).to(output.scalar_type()));
}

NEGATRON_REGISTER_PURE_LOSS({"CosineSimilarityLoss", 2, 2, LabelKind::kFloat32,
                             "(sentence_A, sentence_B) pairs | float similarity score"},
                            cosine_similarity_loss);

}  // namespace negatron::losses
