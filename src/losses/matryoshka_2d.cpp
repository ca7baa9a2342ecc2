#include "losses/matryoshka_2d.h"

#include "losses/registry.h"

namespace negatron::losses {
namespace {

std::unique_ptr<Loss> make_matryoshka_2d(const LossArgs& args) {
  ParamReader params("Matryoshka2dLoss", args.params);
  const nlohmann::json inner_spec = params.get_json("loss", nullptr);
  MatryoshkaOptions m;
  m.matryoshka_dims = params.get<std::vector<int64_t>>("matryoshka_dims", {});
  const nlohmann::json weights = params.get_json("matryoshka_weights", nullptr);
  if (!weights.is_null()) m.matryoshka_weights = params.get<std::vector<double>>("matryoshka_weights", {});
  m.n_dims_per_step = params.get<int64_t>("n_dims_per_step", 1);
  AdaptiveLayerOptions a = read_adaptive_layer_options(params, {});
  params.finish();
  auto matryoshka = std::make_unique<MatryoshkaLoss>(make_inner_loss("Matryoshka2dLoss", inner_spec, args), m);
  return std::make_unique<AdaptiveLayerLoss>(std::move(matryoshka), a, "Matryoshka2dLoss");
}

NEGATRON_REGISTER_LOSS("Matryoshka2dLoss", make_matryoshka_2d);

}  // namespace
}  // namespace negatron::losses
