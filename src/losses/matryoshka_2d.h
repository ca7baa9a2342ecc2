#pragma once
// Matryoshka2dLoss: a registration, not a formula. As in sentence-transformers 6 it is
// AdaptiveLayerLoss(MatryoshkaLoss(loss)): layers and dimensions both trained, with ST's
// defaults n_layers_per_step = 1 and n_dims_per_step = 1.
// Parameters: MatryoshkaOptions and AdaptiveLayerOptions side by side (one map).
// Inputs, refusals: see matryoshka.h and adaptive_layer.h.
// Reference: Li et al. 2024 (2D Matryoshka); sentence_transformers/.../losses/matryoshka_2d.py.
#include "losses/adaptive_layer.h"
#include "losses/matryoshka.h"

namespace negatron::losses {

struct Matryoshka2dOptions {
  MatryoshkaOptions matryoshka = [] {
    MatryoshkaOptions defaults;
    defaults.n_dims_per_step = 1;
    return defaults;
  }();
  AdaptiveLayerOptions layers;
  template <class V>
  void visit(V& v) {
    matryoshka.visit(v);
    layers.visit(v);
  }
  void validate() {
    matryoshka.validate();
    layers.validate();
  }
};

}  // namespace negatron::losses
