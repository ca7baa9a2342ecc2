// In training, attention on packed input runs in chunks of rows, each padded to its own longest row.
// Reference: the same encoder in eval mode (one padded attention over the whole batch), dropout off,
// float64: token embeddings and every parameter gradient agree to 1e-12, for BERT and MPNet, on a
// batch of several chunks whose rows have very different lengths.
#include <gtest/gtest.h>

#include <random>

#include "model/bert.h"
#include "model/mpnet.h"
#include "model/token_batch.h"

namespace negatron::model {
namespace {

TransformerConfig tiny_config(const std::string& type) {
  TransformerConfig c;
  c.model_type = type;
  c.vocab_size = 100;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 64;
  c.hidden_dropout_prob = 0.0;
  c.attention_probs_dropout_prob = 0.0;
  c.max_position_embeddings = 128;
  return c;
}

/// 100 rows of 1 to 60 tokens (ids 2..99; the pad id is 0 for BERT, 1 for MPNet).
TokenBatch varied_batch(int32_t pad_id) {
  std::mt19937 rng(5);
  std::vector<std::vector<int32_t>> ids(100);
  for (auto& row : ids) {
    row.resize(1 + rng() % 60);
    for (auto& id : row) id = 2 + static_cast<int32_t>(rng() % 98);
  }
  return collate_tokens(ids, pad_id);
}

struct Pass {
  at::Tensor embeddings;
  std::vector<at::Tensor> grads;
};

Pass run(TransformerEncoder& encoder, const TokenBatch& batch, bool training) {
  encoder.train(training);
  encoder.zero_grad();
  const at::Tensor out = encoder.forward(batch).token_embeddings;
  const at::Tensor weights = at::arange(out.numel(), out.options()).remainder(7).sub(3).view(out.sizes());
  (out * weights * batch.attention_mask.unsqueeze(-1).to(out.dtype())).sum().backward();
  Pass pass{out.detach() * batch.attention_mask.unsqueeze(-1).to(out.dtype()), {}};
  for (const auto& p : encoder.parameters()) pass.grads.push_back(p.grad().defined() ? p.grad().clone() : at::Tensor());
  return pass;
}

void expect_chunked_equals_whole(TransformerEncoder& encoder, int32_t pad_id) {
  at::manual_seed(3);
  encoder.to(at::kDouble);
  const TokenBatch batch = varied_batch(pad_id);
  const Pass chunked = run(encoder, batch, true), whole = run(encoder, batch, false);
  EXPECT_TRUE(at::allclose(chunked.embeddings, whole.embeddings, 0.0, 1e-12));
  ASSERT_EQ(chunked.grads.size(), whole.grads.size());
  for (size_t i = 0; i < whole.grads.size(); ++i) {
    if (!whole.grads[i].defined()) continue;
    const double scale = std::max(1.0, whole.grads[i].abs().max().item<double>());
    EXPECT_LE((chunked.grads[i] - whole.grads[i]).abs().max().item<double>(), 1e-12 * scale) << "parameter " << i;
  }
}

TEST(AttentionChunks, BertTrainingChunksEqualOneWholeBatch) {
  BertModel bert(tiny_config("bert"));
  expect_chunked_equals_whole(bert, 0);
}

TEST(AttentionChunks, MPNetTrainingChunksEqualOneWholeBatch) {
  MPNetModel mpnet(tiny_config("mpnet"));
  expect_chunked_equals_whole(mpnet, 1);
}

}  // namespace
}  // namespace negatron::model
