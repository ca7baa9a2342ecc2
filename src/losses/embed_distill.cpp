#include "losses/embed_distill.h"

#include <torch/nn/modules/linear.h>

#include <optional>

#include "common/check.h"
#include "losses/choice.h"
#include "losses/registry.h"

namespace negatron::losses {
namespace {

enum class EmbedDistance { kCosine, kMse, kL2 };

EmbedDistance embed_distance_by_name(const std::string& metric) {
  return choose<EmbedDistance>("distance_metric", metric,
                               {{"cosine", EmbedDistance::kCosine}, {"mse", EmbedDistance::kMse}, {"l2", EmbedDistance::kL2}});
}

class EmbedDistillLoss : public Loss {
 public:
  EmbedDistillLoss(std::string name, std::string metric, std::optional<int64_t> projection_dim,
                   const std::shared_ptr<model::SentenceEncoder>& model)
      : metric_(std::move(metric)), projection_dim_(projection_dim) {
    spec_ = {std::move(name), 1, -1, LabelKind::kFloat32Vector, "sentences (1+ columns) | teacher embedding [B, k]"};
    if (projection_dim_ && model) {
      make_projection(model->embedding_dimension(), at::kFloat);
      projection_->to(model->parameters().front().device());
    }
  }
  const LossSpec& spec() const override { return spec_; }

  at::Tensor compute(const EmbeddingBatch& batch) override {
    validate(batch);
    const at::Tensor& first = batch.columns[0];
    if (projection_dim_ && !projection_) make_projection(first.size(1), first.scalar_type());
    std::vector<at::Tensor> losses;
    for (const auto& column : batch.columns) {
      const at::Tensor student = projection_ ? projection_->forward(column) : column;
      const at::Tensor teacher = batch.labels.detach().to(student.device(), student.scalar_type());
      NEG_CHECK(student.sizes() == teacher.sizes(), spec_.name, ": student embeddings are ", student.sizes(),
                " but teacher embeddings (labels) are ", teacher.sizes(),
                projection_dim_ ? "" : "; set projection_dim to map to the teacher's width");
      losses.push_back(embed_distance(student, teacher, metric_));
    }
    return at::stack(losses).mean();
  }

  std::vector<at::Tensor> parameters() override {
    return projection_ ? projection_->parameters() : std::vector<at::Tensor>{};
  }
  std::vector<std::pair<std::string, at::Tensor>> named_parameters() override {
    std::vector<std::pair<std::string, at::Tensor>> out;
    if (projection_)
      for (auto& item : projection_->named_parameters()) out.emplace_back("projection." + item.key(), item.value());
    return out;
  }

 private:
  void make_projection(int64_t student_dim, at::ScalarType dtype) {
    projection_ = torch::nn::Linear(student_dim, *projection_dim_);
    projection_->to(dtype);
  }

  LossSpec spec_;
  std::string metric_;
  std::optional<int64_t> projection_dim_;
  torch::nn::Linear projection_{nullptr};
};

std::unique_ptr<Loss> make_embed_distill(const EmbedDistillOptions& options, const LossArgs& args) {
  return std::make_unique<EmbedDistillLoss>("EmbedDistillLoss", options.distance_metric, options.projection_dim,
                                            args.model);
}

std::unique_ptr<Loss> make_mse(const MSEOptions& options, const LossArgs& args) {
  return std::make_unique<EmbedDistillLoss>("MSELoss", "mse", options.projection_dim, args.model);
}

}  // namespace

at::Tensor embed_distance(const at::Tensor& student, const at::Tensor& teacher, const std::string& metric) {
  switch (embed_distance_by_name(metric)) {
    case EmbedDistance::kMse: return at::mse_loss(student, teacher);
    case EmbedDistance::kL2: return at::linalg_vector_norm(student - teacher, 2, at::IntArrayRef{-1}).mean();
    case EmbedDistance::kCosine: return (1 - at::cosine_similarity(student, teacher, -1, 1e-8)).mean();
  }
  NEG_FAIL("unknown EmbedDistance");
}

void MSEOptions::validate() const {
  NEG_CHECK(!projection_dim || *projection_dim > 0, "parameter 'projection_dim' must be a positive integer or null, got ",
            *projection_dim);
}

void EmbedDistillOptions::validate() const {
  MSEOptions::validate();
  embed_distance_by_name(distance_metric);
}

NEGATRON_REGISTER_LOSS("EmbedDistillLoss", make_embed_distill);
NEGATRON_REGISTER_LOSS("MSELoss", make_mse);

}  // namespace negatron::losses
