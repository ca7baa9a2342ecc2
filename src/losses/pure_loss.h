#pragma once
// A loss that is a pure function of the columns, the labels and its declared options, with no
// state of its own, needs no class: its file declares the options struct and the function
//   at::Tensor x_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels, const XOptions&);
// and registers both with its Inputs: NEGATRON_REGISTER_PURE_LOSS(spec, x_loss). PureLoss checks
// the batch against the spec (column count, label kind) before every call.
#include <memory>
#include <utility>
#include <vector>

#include "losses/registry.h"

namespace negatron::losses {

template <class Options>
using PureLossFn = at::Tensor (*)(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                                  const Options& options);
/// Reshapes a batch's labels before they are checked against the spec (MarginMSE: [B] -> [B, 1]).
using LabelShape = at::Tensor (*)(const at::Tensor& labels);

template <class Options>
class PureLoss : public Loss {
 public:
  PureLoss(LossSpec spec, PureLossFn<Options> fn, Options options, LabelShape label_shape = nullptr)
      : spec_(std::move(spec)), fn_(fn), options_(std::move(options)), label_shape_(label_shape) {}
  const LossSpec& spec() const override { return spec_; }

  at::Tensor compute(const EmbeddingBatch& batch) override {
    if (!label_shape_ || !batch.labels.defined()) return checked_compute(batch);
    EmbeddingBatch reshaped = batch;
    reshaped.labels = label_shape_(batch.labels);
    return checked_compute(reshaped);
  }

  at::Tensor forward(model::SentenceEncoder& model, const model::Batch& batch) override {
    if (!label_shape_ || !batch.labels.defined()) return Loss::forward(model, batch);
    model::Batch reshaped = batch;
    reshaped.labels = label_shape_(batch.labels);
    return Loss::forward(model, reshaped);
  }

 private:
  at::Tensor checked_compute(const EmbeddingBatch& batch) {
    validate(batch);
    return fn_(batch.columns, batch.labels, options_);
  }

  LossSpec spec_;
  PureLossFn<Options> fn_;
  Options options_;
  LabelShape label_shape_;
};

/// Registers `fn` under spec.name with the parameters of its Options.
template <class Options>
bool register_pure_loss(const LossSpec& spec, PureLossFn<Options> fn, LabelShape label_shape = nullptr) {
  return register_loss(spec.name, declared_loss<Options>(spec.name, [spec, fn, label_shape](const Options& options,
                                                                                           const LossArgs&) {
    return std::unique_ptr<Loss>(std::make_unique<PureLoss<Options>>(spec, fn, options, label_shape));
  }));
}

}  // namespace negatron::losses

#define NEGATRON_REGISTER_PURE_LOSS(...) NEGATRON_AT_LOAD(::negatron::losses::register_pure_loss(__VA_ARGS__))
