#include "losses/tiled_softmax.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <limits>
#include <tuple>

#include "common/check.h"
#include "common/options_json.h"

namespace negatron::losses {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr double kInf = std::numeric_limits<double>::infinity();

/// The blocks without their operand tensors, which travel through autograd as a deduplicated list
/// (a tensor used by two blocks, e.g. the anchors of query_to_doc and query_to_query, gets one
/// gradient).
struct TilePlan : torch::CustomClassHolder {
  std::vector<CandidateBlock> blocks;
  std::vector<size_t> row_operand, column_operand;
  SimilarityKernel similarity;
  int64_t tile = 0;
};

size_t operand_index(std::vector<at::Tensor>& operands, const at::Tensor& t) {
  for (size_t i = 0; i < operands.size(); ++i)
    if (operands[i].is_same(t)) return i;
  operands.push_back(t);
  return operands.size() - 1;
}

/// log(sum_j exp(logits_ij)) per row, consuming `logits` (overwritten): one pass each for the max,
/// the shifted exp and the sum. A row of -inf gives -inf.
at::Tensor consume_logsumexp(at::Tensor& logits) {
  at::Tensor shift = logits.amax({1}, /*keepdim=*/true);
  shift.masked_fill_(shift == -kInf, 0.0);
  return logits.sub_(shift).exp_().sum({1}).log_().add_(shift.squeeze(1));
}

/// Forward: lse [blocks, R] (each block's log-partition per row, -inf for a row whose candidates
/// are all masked) and positive [R] (blocks[0]'s own-candidate logit). Backward recomputes tiles.
class TiledSoftmaxFunction : public torch::autograd::Function<TiledSoftmaxFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, at::TensorList operands, const c10::intrusive_ptr<TilePlan>& plan) {
    const TilePlan& p = *plan;
    const int64_t rows = operands[p.row_operand.front()].size(0);
    const int64_t blocks = static_cast<int64_t>(p.blocks.size());
    const auto options = operands.front().options();
    at::Tensor lse = at::full({blocks, rows}, -kInf, options);
    at::Tensor positive = at::empty({rows}, options);
    for (int64_t r0 = 0; r0 < rows; r0 += p.tile) {
      const int64_t nr = std::min(p.tile, rows - r0);
      for (int64_t b = 0; b < blocks; ++b) {
        const CandidateBlock& block = p.blocks[b];
        const at::Tensor x = p.similarity.prepared(operands[p.row_operand[b]].narrow(0, r0, nr));
        const at::Tensor& y = operands[p.column_operand[b]];
        at::Tensor running = lse[b].narrow(0, r0, nr);
        for (int64_t c0 = 0; c0 < y.size(0); c0 += p.tile) {
          const int64_t nc = std::min(p.tile, y.size(0) - c0);
          at::Tensor logits = tile_logits(block, p.similarity, x, p.similarity.prepared(y.narrow(0, c0, nc)), r0, c0);
          if (b == 0) {
            const OwnDiagonal own = own_diagonal(block.own_offset, r0, c0, nr, nc);
            if (own.length > 0) positive.narrow(0, r0 + own.first_row, own.length).copy_(logits.diagonal(own.offset));
          }
          running.copy_(at::logaddexp(running, consume_logsumexp(logits)));
        }
      }
    }
    variable_list saved(operands.begin(), operands.end());
    saved.push_back(lse);
    ctx->save_for_backward(saved);
    ctx->saved_data["plan"] = at::IValue::make_capsule(plan);
    return {lse, positive};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto plan = c10::static_intrusive_pointer_cast<TilePlan>(ctx->saved_data["plan"].toCapsule());
    const TilePlan& p = *plan;
    variable_list operands = ctx->get_saved_variables();
    const at::Tensor lse = operands.back();
    operands.pop_back();
    // A row whose candidates are all masked has lse -inf and only -inf logits: weight exp(-inf) = 0.
    const at::Tensor log_partition = lse.masked_fill(lse == -kInf, 0.0);
    const at::Tensor& upstream = grads[0];           // [blocks, R]
    const at::Tensor& upstream_positive = grads[1];  // [R]
    variable_list result(operands.size() + 1);
    for (size_t i = 0; i < operands.size(); ++i)
      if (ctx->needs_input_grad(i)) result[i] = at::zeros_like(operands[i]);
    const int64_t rows = lse.size(1);
    for (int64_t r0 = 0; r0 < rows; r0 += p.tile) {
      const int64_t nr = std::min(p.tile, rows - r0);
      for (size_t b = 0; b < p.blocks.size(); ++b) {
        const CandidateBlock& block = p.blocks[b];
        const at::Tensor x = p.similarity.prepared(operands[p.row_operand[b]].narrow(0, r0, nr));
        const at::Tensor& y = operands[p.column_operand[b]];
        // d loss / d logits = softmax * upstream. The upstream is multiplied, never folded into the
        // shift as log(upstream): that needs its sign, which only a device-to-host read would tell.
        const at::Tensor row_upstream = upstream[b].narrow(0, r0, nr).unsqueeze(1);
        const at::Tensor row_partition = log_partition[b].narrow(0, r0, nr).unsqueeze(1);
        for (int64_t c0 = 0; c0 < y.size(0); c0 += p.tile) {
          const int64_t nc = std::min(p.tile, y.size(0) - c0);
          const at::Tensor y_tile = p.similarity.prepared(y.narrow(0, c0, nc));
          at::Tensor weight = tile_logits(block, p.similarity, x, y_tile, r0, c0);
          weight.sub_(row_partition).exp_().mul_(row_upstream);
          if (b == 0) {  // + the positive's upstream on the own entries
            const OwnDiagonal own = own_diagonal(block.own_offset, r0, c0, nr, nc);
            if (own.length > 0)
              weight.diagonal(own.offset).add_(upstream_positive.narrow(0, r0 + own.first_row, own.length));
          }
          add_kernel_gradients(p.similarity, block.scale, x, y_tile, weight, result[p.row_operand[b]],
                               result[p.column_operand[b]], r0, c0);
        }
      }
    }
    // So far the gradients w.r.t. the prepared operands; through the preparation now, in place.
    for (size_t i = 0; i < operands.size(); ++i)
      if (result[i].defined()) through_preparation(p.similarity, operands[i], result[i], p.tile);
    return result;
  }

 private:
  /// grad (w.r.t. prepared(x)) becomes the gradient w.r.t. x, chunk by chunk of rows (prepare is
  /// row-wise), so no second [rows, d] buffer is needed.
  static void through_preparation(const SimilarityKernel& similarity, const at::Tensor& x, at::Tensor& grad,
                                  int64_t chunk) {
    if (!similarity.prepare) return;
    at::AutoGradMode enable(true);
    for (int64_t r0 = 0; r0 < x.size(0); r0 += chunk) {
      const int64_t n = std::min(chunk, x.size(0) - r0);
      const at::Tensor xv = x.narrow(0, r0, n).detach().requires_grad_(true);
      at::Tensor g = grad.narrow(0, r0, n);
      g.copy_(torch::autograd::grad({similarity.prepare(xv)}, {xv}, {g})[0]);
    }
  }

  /// With d logits / d similarity = scale (penalties and masks are constants): grad_x[r0 ...] +=
  /// d<weight, scale * kernel(x, y)>/dx, grad_y[c0 ...] likewise (undefined: not needed).
  static void add_kernel_gradients(const SimilarityKernel& similarity, double scale, const at::Tensor& x,
                                   const at::Tensor& y, at::Tensor& weight, at::Tensor& grad_x, at::Tensor& grad_y,
                                   int64_t r0, int64_t c0) {
    if (similarity.is_dot) {
      if (grad_x.defined()) grad_x.narrow(0, r0, x.size(0)).addmm_(weight, y, /*beta=*/1, /*alpha=*/scale);
      if (grad_y.defined()) grad_y.narrow(0, c0, y.size(0)).addmm_(weight.t(), x, /*beta=*/1, /*alpha=*/scale);
      return;
    }
    weight.mul_(scale);
    at::AutoGradMode enable(true);
    const at::Tensor xv = x.detach().requires_grad_(true), yv = y.detach().requires_grad_(true);
    const variable_list g = torch::autograd::grad({similarity.kernel(xv, yv)}, {xv, yv}, {weight});
    if (grad_x.defined()) grad_x.narrow(0, r0, x.size(0)).add_(g[0]);
    if (grad_y.defined()) grad_y.narrow(0, c0, y.size(0)).add_(g[1]);
  }
};

/// The whole [R, C] logits of every block at once, through autograd.
std::pair<at::Tensor, at::Tensor> whole_softmax_terms(const std::vector<CandidateBlock>& blocks,
                                                      const SimilarityKernel& similarity) {
  std::vector<at::Tensor> raw, prepared;  // each distinct operand prepared once
  auto prepare = [&](const at::Tensor& t) {
    for (size_t i = 0; i < raw.size(); ++i)
      if (raw[i].is_same(t)) return prepared[i];
    raw.push_back(t);
    prepared.push_back(similarity.prepared(t));
    return prepared.back();
  };
  std::vector<at::Tensor> lse;
  at::Tensor positive;
  for (const auto& block : blocks) {
    const at::Tensor logits = tile_logits(block, similarity, prepare(block.rows), prepare(block.columns), 0, 0);
    lse.push_back(at::logsumexp(logits, {1}));
    if (!positive.defined()) positive = logits.diagonal(block.own_offset);
  }
  return {at::stack(lse), positive};
}

void check_blocks(const std::vector<CandidateBlock>& blocks) {
  NEG_CHECK(!blocks.empty(), "in-batch softmax: no candidate blocks");
  const int64_t rows = blocks.front().rows.size(0);
  for (size_t b = 0; b < blocks.size(); ++b) {
    const CandidateBlock& block = blocks[b];
    NEG_CHECK(block.rows.dim() == 2 && block.columns.dim() == 2 && block.rows.size(0) == rows &&
                  block.rows.size(1) == block.columns.size(1),
              "in-batch softmax: block ", b, " scores [", block.rows.sizes(), "] against [", block.columns.sizes(),
              "]; every block needs the same ", rows, " rows and one embedding width");
    NEG_CHECK(block.own_offset >= 0 && block.own_offset + rows <= block.columns.size(0), "in-batch softmax: block ", b,
              " has ", block.columns.size(0), " candidates, too few for ", rows, " rows at offset ", block.own_offset);
  }
  NEG_CHECK(!blocks.front().mask_own, "in-batch softmax: the first block holds the positives; it cannot mask them");
}

}  // namespace

void TileOptions::validate() const {
  NEG_CHECK(tile_size.is_null() || (tile_size.is_number_integer() && tile_size.get<int64_t>() >= 0),
            "parameter 'tile_size' must be null (auto), 0 (never tile) or a positive integer, got ",
            options::shown(tile_size));
}

int64_t TileOptions::resolve(int64_t rows, int64_t candidates) const {
  if (!tile_size.is_null()) return tile_size.get<int64_t>();
  return rows * candidates > kAutoTileSize * kAutoTileSize ? kAutoTileSize : 0;
}

at::Tensor in_batch_cross_entropy(const std::vector<CandidateBlock>& blocks, const SimilarityKernel& similarity,
                                  const TileOptions& options) {
  check_blocks(blocks);
  int64_t candidates = 0;
  for (const auto& block : blocks) candidates += block.columns.size(0);
  const int64_t tile = options.resolve(blocks.front().rows.size(0), candidates);

  at::Tensor lse, positive;
  if (tile == 0) {
    std::tie(lse, positive) = whole_softmax_terms(blocks, similarity);
  } else {
    auto plan = c10::make_intrusive<TilePlan>();
    plan->similarity = similarity;
    plan->tile = tile;
    std::vector<at::Tensor> operands;
    for (const auto& block : blocks) {
      plan->row_operand.push_back(operand_index(operands, block.rows));
      plan->column_operand.push_back(operand_index(operands, block.columns));
      CandidateBlock rules = block;
      rules.rows = rules.columns = at::Tensor();
      plan->blocks.push_back(std::move(rules));
    }
    const variable_list terms = TiledSoftmaxFunction::apply(at::TensorList(operands), plan);
    lse = terms[0];
    positive = terms[1];
  }

  // Groups in order of first appearance; a group's partition spans its blocks' candidates.
  std::vector<int> groups;
  for (const auto& block : blocks)
    if (std::find(groups.begin(), groups.end(), block.group) == groups.end()) groups.push_back(block.group);
  at::Tensor log_z;
  for (int group : groups) {
    std::vector<at::Tensor> members;
    for (size_t b = 0; b < blocks.size(); ++b)
      if (blocks[b].group == group) members.push_back(lse[static_cast<int64_t>(b)]);
    const at::Tensor term = members.size() == 1 ? members.front() : at::logsumexp(at::stack(members), {0});
    log_z = log_z.defined() ? log_z + term : term;
  }
  if (groups.size() > 1) log_z = log_z / static_cast<double>(groups.size());
  return log_z - positive;
}

}  // namespace negatron::losses
