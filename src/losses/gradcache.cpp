#include "losses/gradcache.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <mutex>

#include "common/check.h"
#include "losses/registry.h"

namespace negatron::losses {

void GradCacheOptions::validate() const {
  NEG_CHECK(mini_batch_size > 0, "mini_batch_size must be > 0, got ", mini_batch_size);
  NEG_CHECK(!mini_batch_num_tokens || *mini_batch_num_tokens > 0,
            "mini_batch_num_tokens must be a positive integer or null, got ", *mini_batch_num_tokens);
}

std::vector<std::pair<int64_t, int64_t>> mini_batch_ranges(const model::TokenBatch& batch,
                                                           const GradCacheOptions& options) {
  const int64_t rows = batch.input_ids.size(0);
  std::vector<std::pair<int64_t, int64_t>> ranges;
  if (!options.mini_batch_num_tokens) {
    for (int64_t b = 0; b < rows; b += options.mini_batch_size)
      ranges.emplace_back(b, std::min(b + options.mini_batch_size, rows));
    return ranges;
  }
  const model::TokenLayout layout = model::layout_of(batch);  // host-known row lengths
  const std::vector<int64_t>& len = layout.lengths;
  for (int64_t b = 0; b < rows;) {
    int64_t e = b, tokens = 0;
    while (e < rows && (e == b || tokens + len[e] <= *options.mini_batch_num_tokens)) tokens += len[e++];
    ranges.emplace_back(b, e);
    b = e;
  }
  return ranges;
}

RngState capture_rng(const at::Device& device) {
  RngState state;
  at::Generator cpu = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(cpu.mutex());
    state.cpu = cpu.get_state();
  }
  if (!device.is_cpu()) {
    at::Generator gen = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    state.device_state = gen.get_state();
    state.device = device;
  }
  return state;
}

void restore_rng(const RngState& state) {
  at::Generator cpu = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(cpu.mutex());
    cpu.set_state(state.cpu);
  }
  if (state.device) {
    at::Generator gen = at::globalContext().defaultGenerator(*state.device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state.device_state);
  }
}

GradCacheLoss::GradCacheLoss(std::unique_ptr<Loss> inner, GradCacheOptions options, std::string name)
    : inner_(std::move(inner)), options_(options) {
  NEG_CHECK(inner_ != nullptr, name, ": no loss to wrap");
  options_.validate();
  spec_ = inner_->spec();
  spec_.name = std::move(name);
}

std::vector<std::vector<at::Tensor>> GradCacheLoss::embed_no_grad(model::SentenceEncoder& model,
                                                                  const model::Batch& batch,
                                                                  std::vector<std::vector<RngState>>* states,
                                                                  at::Tensor* last_with_graph) {
  std::vector<std::vector<at::Tensor>> reps(batch.columns.size());
  if (states) states->assign(batch.columns.size(), {});
  at::NoGradGuard no_grad;
  for (size_t c = 0; c < batch.columns.size(); ++c) {
    const model::TokenBatch& column = batch.columns[c];
    const auto ranges = mini_batch_ranges(column, options_);
    for (size_t i = 0; i < ranges.size(); ++i) {
      const auto [begin, end] = ranges[i];
      if (states) (*states)[c].push_back(capture_rng(column.input_ids.device()));
      if (last_with_graph && c + 1 == batch.columns.size() && i + 1 == ranges.size()) {
        at::AutoGradMode with_grad(true);
        *last_with_graph = embed(model, model::slice_rows(column, begin, end));
        reps[c].push_back(last_with_graph->detach());
      } else {
        reps[c].push_back(embed(model, model::slice_rows(column, begin, end)));
      }
    }
  }
  return reps;
}

at::Tensor GradCacheLoss::forward(model::SentenceEncoder& model, const model::Batch& batch) {
  validate(batch);
  std::vector<std::vector<at::Tensor>> reps = embed_no_grad(model, batch, nullptr, nullptr);
  at::NoGradGuard no_grad;
  EmbeddingBatch embeddings;
  for (auto& column : reps) embeddings.columns.push_back(at::cat(column, 0));
  embeddings.labels = batch.labels;
  embeddings.rank_rows = batch.rank_rows;
  inner_->add_side_inputs(model, batch, embeddings);
  return inner_->compute(embeddings);
}

at::Tensor GradCacheLoss::forward_backward(model::SentenceEncoder& model, const model::Batch& batch) {
  validate(batch);
  // (1) Embed without grad, one RNG snapshot per mini-batch. The very last mini-batch keeps its
  // graph instead, so step (3) needs no second forward for it.
  std::vector<std::vector<RngState>> states;
  at::Tensor kept;
  std::vector<std::vector<at::Tensor>> reps = embed_no_grad(model, batch, &states, &kept);
  const RngState after_first_pass = capture_rng(batch.columns.front().input_ids.device());

  // (2) The wrapped loss on detached embeddings; their gradients become the cache.
  EmbeddingBatch embeddings;
  for (auto& column : reps) embeddings.columns.push_back(at::cat(column, 0).detach().requires_grad_(true));
  reps.clear();
  embeddings.labels = batch.labels;
  embeddings.rank_rows = batch.rank_rows;
  inner_->add_side_inputs(model, batch, embeddings);
  at::Tensor loss = inner_->compute(embeddings);
  loss.backward();
  std::vector<at::Tensor> cache;
  for (size_t c = 0; c < embeddings.columns.size(); ++c) {
    at::Tensor grad = embeddings.columns[c].grad();
    NEG_CHECK(grad.defined(), spec_.name, ": the loss did not use input column ", c,
              " (its embeddings got no gradient); remove the column from the dataset");
    cache.push_back(grad);
  }
  embeddings = {};

  // (3) Backward the kept mini-batch first (its activations go before any re-forward), then
  // re-embed every other mini-batch with grad, replaying its RNG state so dropout masks match,
  // and chain the cached gradients. Only the very last backward completes the parameter
  // gradients: it alone is announced, so an overlapped gradient averager reduces once per step,
  // not once per mini-batch.
  struct MiniBatch {
    size_t column, index;
    int64_t begin, end;
  };
  std::vector<MiniBatch> replays;
  for (size_t c = 0; c < batch.columns.size(); ++c) {
    const auto ranges = mini_batch_ranges(batch.columns[c], options_);
    for (size_t i = 0; i < ranges.size(); ++i) replays.push_back({c, i, ranges[i].first, ranges[i].second});
  }
  const MiniBatch last = replays.back();
  replays.pop_back();
  if (kept.requires_grad()) {
    if (replays.empty()) notify_final_backward();
    kept.backward(cache[last.column].narrow(0, last.begin, last.end - last.begin).to(kept.scalar_type()));
  }
  kept = at::Tensor();
  for (size_t k = 0; k < replays.size(); ++k) {
    const MiniBatch& m = replays[k];
    restore_rng(states[m.column][m.index]);
    at::Tensor rep = embed(model, model::slice_rows(batch.columns[m.column], m.begin, m.end));
    if (!rep.requires_grad()) continue;
    if (k + 1 == replays.size()) notify_final_backward();
    rep.backward(cache[m.column].narrow(0, m.begin, m.end - m.begin).to(rep.scalar_type()));
  }
  restore_rng(after_first_pass);
  return loss.detach();
}

}  // namespace negatron::losses
