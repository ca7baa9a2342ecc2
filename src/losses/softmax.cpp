#include "losses/softmax.h"

#include <torch/nn/modules/linear.h>

#include "losses/registry.h"

namespace negatron::losses {
namespace {

class SoftmaxLoss : public Loss {
 public:
  SoftmaxLoss(SoftmaxOptions options, int64_t dimension, const at::Device& device)
      : options_(options), num_labels_(*options.num_labels) {
    spec_ = {"SoftmaxLoss", 2, 2, LabelKind::kInt64, "(sentence_A, sentence_B) pairs | class label (int)"};
    classifier_ = torch::nn::Linear(options.feature_count() * dimension, num_labels_);
    classifier_->to(device);
  }
  const LossSpec& spec() const override { return spec_; }

  at::Tensor compute(const EmbeddingBatch& batch) override {
    validate(batch);
    const at::Tensor x = softmax_features(batch.columns[0], batch.columns[1], options_);
    NEG_CHECK(x.size(1) == classifier_->options.in_features(), "SoftmaxLoss: embeddings of width ",
              batch.columns[0].size(1), " do not fit a classifier built for embedding_dimension ",
              classifier_->options.in_features() / options_.feature_count());
    if (classifier_->weight.scalar_type() != x.scalar_type() || classifier_->weight.device() != x.device())
      classifier_->to(x.device(), x.scalar_type());
    return at::cross_entropy_loss(classifier_->forward(x), batch.labels.to(x.device()).view(-1));
  }

  std::optional<LabelProblem> label_problem(const at::Tensor& labels) const override {
    const at::Tensor flat = labels.reshape(-1).to(at::kLong).contiguous();
    const int64_t* values = flat.data_ptr<int64_t>();
    for (int64_t i = 0; i < flat.numel(); ++i) {
      if (values[i] < 0 || values[i] >= num_labels_) {
        return LabelProblem{i, "label " + std::to_string(values[i]) + " is outside [0, num_labels = " +
                                   std::to_string(num_labels_) + ")"};
      }
    }
    return std::nullopt;
  }

  std::vector<at::Tensor> parameters() override { return classifier_->parameters(); }
  std::vector<std::pair<std::string, at::Tensor>> named_parameters() override {
    std::vector<std::pair<std::string, at::Tensor>> out;
    for (auto& item : classifier_->named_parameters()) out.emplace_back("classifier." + item.key(), item.value());
    return out;
  }

 private:
  LossSpec spec_;
  SoftmaxOptions options_;
  int64_t num_labels_;
  torch::nn::Linear classifier_{nullptr};
};

std::unique_ptr<Loss> make_softmax(const SoftmaxOptions& options, const LossArgs& args) {
  const int64_t dimension = options.embedding_dimension.value_or(
      options.sentence_embedding_dimension.value_or(args.model ? args.model->embedding_dimension() : 0));
  NEG_CHECK(dimension > 0, "SoftmaxLoss: parameter 'embedding_dimension' is required without a model (a positive integer)");
  const at::Device device = args.model ? args.model->parameters().front().device() : at::Device(at::kCPU);
  return std::make_unique<SoftmaxLoss>(options, dimension, device);
}

}  // namespace

void SoftmaxOptions::validate() const {
  NEG_CHECK(num_labels.value_or(0) > 0, "parameter 'num_labels' is required (a positive integer)");
  NEG_CHECK(feature_count() > 0, "at least one of concatenation_sent_rep, concatenation_sent_difference, "
            "concatenation_sent_multiplication must be true");
}

int64_t SoftmaxOptions::feature_count() const {
  return (concatenation_sent_rep ? 2 : 0) + (concatenation_sent_difference ? 1 : 0) +
         (concatenation_sent_multiplication ? 1 : 0);
}

at::Tensor softmax_features(const at::Tensor& u, const at::Tensor& v, const SoftmaxOptions& options) {
  std::vector<at::Tensor> parts;
  if (options.concatenation_sent_rep) {
    parts.push_back(u);
    parts.push_back(v);
  }
  if (options.concatenation_sent_difference) parts.push_back(at::abs(u - v));
  if (options.concatenation_sent_multiplication) parts.push_back(u * v);
  return at::cat(parts, 1);
}

NEGATRON_REGISTER_LOSS("SoftmaxLoss", make_softmax);

}  // namespace negatron::losses
