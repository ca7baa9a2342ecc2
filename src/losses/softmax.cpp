#include "losses/softmax.h"

#include <torch/nn/modules/linear.h>

#include "common/host_read.h"
#include "losses/registry.h"

namespace negatron::losses {
namespace {

class SoftmaxLoss : public Loss {
 public:
  SoftmaxLoss(SoftmaxFeatures features, int64_t dimension, int64_t num_labels, const at::Device& device)
      : features_(features), num_labels_(num_labels) {
    spec_ = {"SoftmaxLoss", 2, 2, LabelKind::kInt64, "(sentence_A, sentence_B) pairs | class label (int)"};
    classifier_ = torch::nn::Linear(features.count() * dimension, num_labels);
    classifier_->to(device);
  }
  const LossSpec& spec() const override { return spec_; }

  at::Tensor compute(const EmbeddingBatch& batch) override {
    validate(batch);
    const at::Tensor x = softmax_features(batch.columns[0], batch.columns[1], features_);
    NEG_CHECK(x.size(1) == classifier_->options.in_features(), "SoftmaxLoss: embeddings of width ",
              batch.columns[0].size(1), " do not fit a classifier built for embedding_dimension ",
              classifier_->options.in_features() / features_.count());
    if (classifier_->weight.scalar_type() != x.scalar_type() || classifier_->weight.device() != x.device())
      classifier_->to(x.device(), x.scalar_type());
    const at::Tensor labels = batch.labels.to(x.device()).view(-1);
    const int64_t low = read_scalar<int64_t>(labels.min()), high = read_scalar<int64_t>(labels.max());
    NEG_CHECK(low >= 0 && high < num_labels_, "SoftmaxLoss: labels must lie in [0, num_labels = ", num_labels_,
              "), got values from ", low, " to ", high);
    return at::cross_entropy_loss(classifier_->forward(x), labels);
  }

  std::vector<at::Tensor> parameters() override { return classifier_->parameters(); }
  std::vector<std::pair<std::string, at::Tensor>> named_parameters() override {
    std::vector<std::pair<std::string, at::Tensor>> out;
    for (auto& item : classifier_->named_parameters()) out.emplace_back("classifier." + item.key(), item.value());
    return out;
  }

 private:
  LossSpec spec_;
  SoftmaxFeatures features_;
  int64_t num_labels_;
  torch::nn::Linear classifier_{nullptr};
};

std::unique_ptr<Loss> make_softmax(const LossArgs& args) {
  ParamReader params("SoftmaxLoss", args.params);
  const int64_t num_labels = params.get<int64_t>("num_labels", 0);
  const int64_t fallback = args.model ? args.model->embedding_dimension() : 0;
  int64_t dimension = params.get<int64_t>("embedding_dimension", params.get<int64_t>("sentence_embedding_dimension", fallback));
  SoftmaxFeatures features;
  features.sent_rep = params.get<bool>("concatenation_sent_rep", true);
  features.sent_difference = params.get<bool>("concatenation_sent_difference", true);
  features.sent_multiplication = params.get<bool>("concatenation_sent_multiplication", false);
  params.finish();
  NEG_CHECK(num_labels > 0, "SoftmaxLoss: parameter 'num_labels' is required (a positive integer)");
  NEG_CHECK(dimension > 0, "SoftmaxLoss: parameter 'embedding_dimension' is required without a model (a positive integer)");
  NEG_CHECK(features.count() > 0, "SoftmaxLoss: at least one of concatenation_sent_rep, concatenation_sent_difference, "
            "concatenation_sent_multiplication must be true");
  const at::Device device = args.model ? args.model->parameters().front().device() : at::Device(at::kCPU);
  return std::make_unique<SoftmaxLoss>(features, dimension, num_labels, device);
}

}  // namespace

at::Tensor softmax_features(const at::Tensor& u, const at::Tensor& v, const SoftmaxFeatures& features) {
  std::vector<at::Tensor> parts;
  if (features.sent_rep) {
    parts.push_back(u);
    parts.push_back(v);
  }
  if (features.sent_difference) parts.push_back(at::abs(u - v));
  if (features.sent_multiplication) parts.push_back(u * v);
  return at::cat(parts, 1);
}

NEGATRON_REGISTER_LOSS("SoftmaxLoss", make_softmax);

}  // namespace negatron::losses
