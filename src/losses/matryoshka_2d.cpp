#include "losses/matryoshka_2d.h"

#include "losses/registry.h"

namespace negatron::losses {
namespace {

std::unique_ptr<Loss> make_matryoshka_2d(const Matryoshka2dOptions& options, const LossArgs& args) {
  auto matryoshka = std::make_unique<MatryoshkaLoss>(make_loss_from_spec(options.matryoshka.loss, args),
                                                     options.matryoshka);
  return std::make_unique<AdaptiveLayerLoss>(std::move(matryoshka), options.layers, "Matryoshka2dLoss");
}

NEGATRON_REGISTER_LOSS("Matryoshka2dLoss", make_matryoshka_2d);

}  // namespace
}  // namespace negatron::losses
