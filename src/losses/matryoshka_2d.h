#pragma once
// Matryoshka2dLoss: a registration, not a formula. As in sentence-transformers 6 it is
// AdaptiveLayerLoss(MatryoshkaLoss(loss)): layers and dimensions both trained, with ST's
// defaults n_layers_per_step = 1 and n_dims_per_step = 1.
// Parameters: loss {"name": ..., ...}, matryoshka_dims, matryoshka_weights, n_dims_per_step,
//   n_layers_per_step, last_layer_weight, prior_layers_weight, kl_div_weight, kl_temperature,
//   layer_weighting. Inputs, refusals: see matryoshka.h and adaptive_layer.h.
// Reference: Li et al. 2024 (2D Matryoshka); sentence_transformers/.../losses/matryoshka_2d.py.
#include "losses/adaptive_layer.h"
#include "losses/matryoshka.h"
