#include "losses/global_orthogonal_regularization.h"

#include "losses/registry.h"
#include "losses/similarity.h"

namespace negatron::losses {
namespace {

class GorLoss : public Loss {
 public:
  explicit GorLoss(GorOptions options) : options_(options) {
    spec_ = {"GlobalOrthogonalRegularizationLoss", 1, -1, LabelKind::kNone, "any number of columns | none"};
  }
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override {
    validate(batch);
    return global_orthogonal_regularization(batch.columns, options_);
  }

 private:
  LossSpec spec_;
  GorOptions options_;
};

double read_weight(ParamReader& params, const std::string& key) {
  const nlohmann::json value = params.get_json(key, 1.0);
  if (value.is_null()) return 0.0;
  NEG_CHECK(value.is_number(), "GlobalOrthogonalRegularizationLoss: parameter '", key,
            "' must be a number or null, got ", value.dump());
  return value.get<double>();
}

std::unique_ptr<Loss> make_gor(const LossArgs& args) {
  const std::string name = "GlobalOrthogonalRegularizationLoss";
  ParamReader params(name, args.params);
  GorOptions options;
  options.similarity =
      similarity_by_name(params.get<std::string>("similarity_fct", "cos_sim"), name + ": parameter 'similarity_fct'");
  options.mean_weight = read_weight(params, "mean_weight");
  options.second_moment_weight = read_weight(params, "second_moment_weight");
  const std::string aggregation = params.get<std::string>("aggregation", "mean");
  params.finish();
  NEG_CHECK(options.mean_weight != 0 || options.second_moment_weight != 0, name,
            ": at least one of mean_weight or second_moment_weight must be non-zero");
  NEG_CHECK(aggregation == "mean" || aggregation == "sum", name, ": parameter 'aggregation' is '", aggregation,
            "' (valid: mean, sum)");
  options.sum_aggregation = aggregation == "sum";
  return std::make_unique<GorLoss>(options);
}

}  // namespace

at::Tensor global_orthogonal_regularization(const std::vector<at::Tensor>& columns, const GorOptions& options) {
  std::vector<at::Tensor> mean_terms, second_moment_terms;
  for (const auto& embeddings : columns) {
    const int64_t batch = embeddings.size(0);
    const at::Tensor self = at::eye(batch, embeddings.options().dtype(at::kBool));
    const at::Tensor similarity = (options.similarity ? options.similarity : cos_sim)(embeddings, embeddings)
                                      .masked_fill(self, 0.0);
    const double off_diagonal = static_cast<double>(batch * (batch - 1));
    mean_terms.push_back((similarity.sum() / off_diagonal).pow(2));
    const at::Tensor second_moment = similarity.pow(2).sum() / off_diagonal;
    second_moment_terms.push_back(at::relu(second_moment - 1.0 / static_cast<double>(embeddings.size(1))));
  }
  auto aggregate = [&](const std::vector<at::Tensor>& terms) {
    const at::Tensor stacked = at::stack(terms);
    return options.sum_aggregation ? stacked.sum() : stacked.mean();
  };
  at::Tensor loss;
  if (options.mean_weight != 0) loss = options.mean_weight * aggregate(mean_terms);
  if (options.second_moment_weight != 0) {
    const at::Tensor term = options.second_moment_weight * aggregate(second_moment_terms);
    loss = loss.defined() ? loss + term : term;
  }
  return loss;
}

NEGATRON_REGISTER_LOSS("GlobalOrthogonalRegularizationLoss", make_gor);

}  // namespace negatron::losses
