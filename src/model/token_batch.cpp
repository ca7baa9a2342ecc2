#include "model/token_batch.h"

#include <algorithm>

#include "common/check.h"

namespace negatron::model {

TokenBatch TokenBatch::to(const at::Device& device, bool non_blocking) const {
  auto move = [&](const at::Tensor& t) { return t.defined() ? t.to(device, non_blocking) : t; };
  TokenBatch out;
  out.input_ids = move(input_ids);
  out.attention_mask = move(attention_mask);
  out.token_type_ids = move(token_type_ids);
  out.layout = layout.defined() ? layout.to(device, non_blocking) : layout;
  return out;
}

TokenBatch collate_tokens(const std::vector<std::vector<int32_t>>& ids, int32_t pad_id, bool pinned) {
  const int64_t batch = static_cast<int64_t>(ids.size());
  std::vector<int64_t> lengths(batch);
  for (int64_t b = 0; b < batch; ++b) lengths[b] = static_cast<int64_t>(ids[b].size());
  const int64_t longest = batch ? *std::max_element(lengths.begin(), lengths.end()) : 0;
  const auto options = at::TensorOptions().dtype(at::kLong).pinned_memory(pinned);
  TokenBatch out;
  out.input_ids = at::full({batch, longest}, pad_id, options);
  out.attention_mask = at::zeros({batch, longest}, options);
  int64_t* input = out.input_ids.data_ptr<int64_t>();
  int64_t* mask = out.attention_mask.data_ptr<int64_t>();
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < lengths[b]; ++t) {
      input[b * longest + t] = ids[b][t];
      mask[b * longest + t] = 1;
    }
  }
  out.token_type_ids = at::zeros({batch, longest}, options);
  out.layout = TokenLayout::from_lengths(std::move(lengths), longest);
  if (pinned) {
    out.layout.index = out.layout.index.pin_memory();
    out.layout.cu_seqlens = out.layout.cu_seqlens.pin_memory();
  }
  return out;
}

TokenLayout layout_of(const TokenBatch& batch) {
  if (batch.layout.defined()) return batch.layout;
  return TokenLayout::from_mask(batch.attention_mask);
}

TokenBatch slice_rows(const TokenBatch& batch, int64_t begin, int64_t end) {
  const TokenLayout layout = layout_of(batch);
  NEG_CHECK(0 <= begin && begin < end && end <= layout.rows(), "rows [", begin, ", ", end, ") outside a batch of ",
            layout.rows());
  const int64_t longest = *std::max_element(layout.lengths.begin() + begin, layout.lengths.begin() + end);
  const TokenLayout sliced = layout.slice_rows(begin, end, longest > 0 ? longest : layout.width);
  auto cut = [&](const at::Tensor& t) {
    return t.defined() ? t.narrow(0, begin, end - begin).narrow(1, 0, sliced.width) : t;
  };
  return {cut(batch.input_ids), cut(batch.attention_mask), cut(batch.token_type_ids), sliced};
}

TokenBatch stack_rows(const std::vector<TokenBatch>& batches, int64_t pad_id) {
  NEG_CHECK(!batches.empty(), "stack_rows needs at least one batch");
  if (batches.size() == 1) return batches.front();
  int64_t width = 0;
  for (const auto& b : batches) width = std::max<int64_t>(width, b.input_ids.size(1));
  auto pad = [&](const at::Tensor& t, int64_t value) {
    return t.size(1) == width ? t : at::constant_pad_nd(t, {0, width - t.size(1)}, value);
  };
  std::vector<at::Tensor> ids, masks, types;
  std::vector<TokenLayout> layouts;
  bool with_types = true;
  for (const auto& b : batches) {
    ids.push_back(pad(b.input_ids, pad_id));
    masks.push_back(pad(b.attention_mask, 0));
    with_types = with_types && b.token_type_ids.defined();
    if (b.token_type_ids.defined()) types.push_back(pad(b.token_type_ids, 0));
    layouts.push_back(layout_of(b));
  }
  TokenBatch out;
  out.input_ids = at::cat(ids);
  out.attention_mask = at::cat(masks);
  if (with_types) out.token_type_ids = at::cat(types);
  out.layout = TokenLayout::stack(layouts, width);
  return out;
}

}  // namespace negatron::model
