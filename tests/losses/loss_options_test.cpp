// Declared loss options through the registry: a pure-function loss registered with no class of its
// own, every declared loss resolving to a fixed point that holds each described parameter, and the
// cached losses taking both their plain loss's parameters and GradCache's.
#include <gtest/gtest.h>

#include "losses/pure_loss.h"
#include "support/error_of.h"

namespace negatron::losses {
namespace {

using negatron::testing::error_of;

struct ScaledGapOptions {
  double weight = 1.0;
  template <class V>
  void visit(V& v) {
    v("weight", weight, "multiplies the loss");
  }
  void validate() const { NEG_CHECK(weight > 0, "parameter 'weight' must be > 0"); }
};

/// weight * mean((a - b)^2): a pure function of the columns and the options.
at::Tensor scaled_gap_loss(const std::vector<at::Tensor>& columns, const at::Tensor&, const ScaledGapOptions& o) {
  return (columns[0] - columns[1]).pow(2).mean() * o.weight;
}

NEGATRON_REGISTER_PURE_LOSS({"TestScaledGapLoss", 2, 2, LabelKind::kNone, "(a, b) pairs | none"}, scaled_gap_loss);

std::unique_ptr<Loss> make(const std::string& name, const nlohmann::json& params) {
  LossArgs args;
  args.params = params;
  return make_loss(name, args);
}

TEST(PureLoss, RegisteredFunctionGetsItsOptionsAndTheSpecsChecks) {
  auto loss = make("TestScaledGapLoss", {{"weight", 3}});
  EmbeddingBatch batch;
  batch.columns = {at::tensor({1.0, 2.0}, at::kDouble).view({1, 2}), at::zeros({1, 2}, at::kDouble)};
  EXPECT_DOUBLE_EQ(loss->compute(batch).item<double>(), 7.5);  // 3 * (1 + 4) / 2
  batch.columns.pop_back();
  EXPECT_NE(error_of([&] { loss->compute(batch); }).find("(a, b) pairs | none"), std::string::npos);
  EXPECT_NE(error_of([] { make("TestScaledGapLoss", {{"weight", 0}}); })
                .find("TestScaledGapLoss: parameter 'weight' must be > 0"),
            std::string::npos);
  EXPECT_EQ(resolve_loss_spec({{"name", "TestScaledGapLoss"}}),
            nlohmann::json({{"name", "TestScaledGapLoss"}, {"weight", 1.0}}));
}

/// Parameters without a default, per loss (and SoftmaxLoss's width, which defaults to a model's).
nlohmann::json required_parameters(const std::string& name) {
  if (name == "SoftmaxLoss") return {{"num_labels", 2}, {"embedding_dimension", 4}};
  if (name == "MatryoshkaLoss" || name == "Matryoshka2dLoss")
    return {{"loss", {{"name", "CoSENTLoss"}}}, {"matryoshka_dims", {4, 8}}};
  if (name == "AdaptiveLayerLoss") return {{"loss", {{"name", "TripletLoss"}}}};
  return nlohmann::json::object();
}

TEST(LossOptions, EveryDeclaredLossResolvesToAFixedPointHoldingEveryParameter) {
  for (const std::string& name : loss_names()) {
    const std::vector<options::FieldDoc> fields = loss_option_docs(name);
    nlohmann::json spec = required_parameters(name);
    spec["name"] = name;
    const nlohmann::json resolved = resolve_loss_spec(spec);
    EXPECT_EQ(resolve_loss_spec(resolved), resolved) << name;
    EXPECT_EQ(resolved.size(), fields.size() + 1) << name << ": " << resolved.dump();
    for (const auto& field : fields) {
      EXPECT_TRUE(resolved.contains(field.key)) << name << "." << field.key;
      EXPECT_FALSE(field.doc.empty()) << name << "." << field.key;
    }
    if (name != "DenoisingAutoEncoderLoss") EXPECT_NO_THROW(make_loss_from_spec(resolved, {})) << name;  // needs a model
  }
}

TEST(LossOptions, CachedLossesTakeThePlainLossesParametersAndGradCaches) {
  const nlohmann::json resolved = resolve_loss_spec({{"name", "CachedMultipleNegativesSymmetricRankingLoss"}});
  EXPECT_EQ(resolved, nlohmann::json({{"name", "CachedMultipleNegativesSymmetricRankingLoss"},
                                      {"scale", 20.0},
                                      {"similarity_fct", "cos_sim"},
                                      {"gather_across_devices", nullptr},
                                      {"tile_size", nullptr},
                                      {"mini_batch_size", 32},
                                      {"mini_batch_num_tokens", nullptr},
                                      {"show_progress_bar", false}}));
  const std::string message = error_of([] { make("CachedGISTEmbedLoss", {{"mini_batch_sise", 8}}); });
  EXPECT_NE(message.find("CachedGISTEmbedLoss: unknown parameter 'mini_batch_sise' (did you mean 'mini_batch_size'?"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("temperature"), std::string::npos) << message;  // the plain loss's keys are listed too
}

TEST(LossOptions, ErrorsNameTheLossAndThePath) {
  std::string message = error_of([] { make("ContrastiveLoss", {{"size_averge", false}}); });
  EXPECT_NE(message.find("ContrastiveLoss: unknown parameter 'size_averge' (did you mean 'size_average'? valid: "
                         "distance_metric, margin, size_average)"),
            std::string::npos)
      << message;
  message = error_of([] { make("GlobalOrthogonalRegularizationLoss", {{"mean_weight", "high"}}); });
  EXPECT_NE(message.find("GlobalOrthogonalRegularizationLoss: parameter 'mean_weight' must be a finite number, got \"high\""),
            std::string::npos)
      << message;
  message = error_of([] {
    make("AdaptiveLayerLoss", {{"loss", {{"name", "TripletLoss"}, {"triplet_margn", 1}}}});
  });
  EXPECT_NE(message.find("AdaptiveLayerLoss: parameter 'loss': TripletLoss: unknown parameter 'triplet_margn' "
                         "(did you mean 'triplet_margin'?"),
            std::string::npos)
      << message;
  message = error_of([] { make("ContrastiveTensionLoss", {{"scale", 1}}); });
  EXPECT_NE(message.find("ContrastiveTensionLoss: unknown parameter 'scale' (there are none to set here)"),
            std::string::npos)
      << message;
}

}  // namespace
}  // namespace negatron::losses
