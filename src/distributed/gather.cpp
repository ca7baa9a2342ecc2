#include "distributed/gather.h"

#include <torch/csrc/autograd/custom_function.h>

#include <numeric>

#include "common/check.h"

namespace negatron::distributed {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

int64_t row_elements(const at::Tensor& t) {
  int64_t n = 1;
  for (int64_t d = 1; d < t.dim(); ++d) n *= t.size(d);
  return n;
}

/// [rows, ...] tensors of any dtypes side by side, as one [rows, total bytes] byte matrix.
at::Tensor pack_bytes(const std::vector<at::Tensor>& tensors) {
  std::vector<at::Tensor> parts;
  for (const auto& t : tensors) parts.push_back(t.contiguous().view({t.size(0), row_elements(t)}).view(at::kByte));
  return parts.size() == 1 ? parts.front() : at::cat(parts, 1);
}

/// Columns [begin, begin + width) of a byte matrix, read back as `dtype` in `shape`.
at::Tensor unpack_bytes(const at::Tensor& bytes, int64_t begin, int64_t width, at::ScalarType dtype,
                        const std::vector<int64_t>& shape) {
  if (bytes.size(0) == 0) return at::empty(shape, bytes.options().dtype(dtype));
  at::Tensor part = bytes.narrow(1, begin, width);
  if (width != bytes.size(1)) part = part.contiguous();
  return part.view(dtype).view(shape);
}

/// Same-dtype [rows, ...] tensors side by side as [rows, total elements].
at::Tensor pack_elements(const std::vector<at::Tensor>& tensors) {
  std::vector<at::Tensor> parts;
  for (const auto& t : tensors) parts.push_back(t.contiguous().view({t.size(0), row_elements(t)}));
  return parts.size() == 1 ? parts.front() : at::cat(parts, 1);
}

class AllGatherColumnsFunction : public torch::autograd::Function<AllGatherColumnsFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, at::TensorList locals, Communicator* comm, RankRows rank_rows) {
    const std::vector<at::Tensor> tensors(locals.begin(), locals.end());
    const at::Tensor global = comm->all_gather_rows(pack_bytes(tensors), rank_rows);
    variable_list out;
    std::vector<at::Tensor> constants;
    int64_t begin = 0;
    for (const auto& t : tensors) {
      const int64_t width = row_elements(t) * t.element_size();
      std::vector<int64_t> shape = t.sizes().vec();
      shape[0] = global.size(0);
      out.push_back(unpack_bytes(global, begin, width, t.scalar_type(), shape));
      if (!t.requires_grad()) constants.push_back(out.back());
      begin += width;
    }
    ctx->mark_non_differentiable(constants);
    ctx->saved_data["comm"] = reinterpret_cast<int64_t>(comm);
    ctx->saved_data["rank_rows"] = rank_rows;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto* comm = reinterpret_cast<Communicator*>(ctx->saved_data["comm"].toInt());
    const RankRows rank_rows = ctx->saved_data["rank_rows"].toIntVector();
    std::vector<size_t> inputs;  // the locals that need a gradient
    std::vector<at::Tensor> parts;
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!ctx->needs_input_grad(i)) continue;
      NEG_CHECK(parts.empty() || grads[i].scalar_type() == parts.front().scalar_type(),
                "all_gather_columns: the gathered tensors that need gradients must share a dtype, got ",
                parts.front().scalar_type(), " and ", grads[i].scalar_type(), " on rank ", comm->rank());
      inputs.push_back(i);
      parts.push_back(grads[i]);  // materialised: zeros where the loss did not use the column
    }
    variable_list result(grads.size() + 2);
    if (parts.empty()) return result;
    const at::Tensor local = comm->reduce_scatter(pack_elements(parts), rank_rows);
    int64_t begin = 0;
    for (size_t k = 0; k < inputs.size(); ++k) {
      const int64_t width = row_elements(parts[k]);
      std::vector<int64_t> shape = parts[k].sizes().vec();
      shape[0] = local.size(0);
      result[inputs[k]] = local.narrow(1, begin, width).contiguous().view(shape);
      begin += width;
    }
    return result;
  }
};

}  // namespace

std::vector<int64_t> gather_row_counts(Communicator& comm, int64_t local_rows) {
  if (comm.world_size() == 1) return {local_rows};
  // One row per rank is a known layout: a single collective, without all_gather's size exchange.
  const at::Tensor counts =
      comm.all_gather_rows(at::full({1}, local_rows, at::kLong), std::vector<int64_t>(comm.world_size(), 1)).cpu();
  return std::vector<int64_t>(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());
}

GatheredColumns all_gather_columns(Communicator& comm, const std::vector<at::Tensor>& locals,
                                   const RankRows& rank_rows) {
  NEG_CHECK(!locals.empty(), "all_gather_columns: nothing to gather on rank ", comm.rank());
  const int64_t rows = locals.front().size(0);
  for (const auto& t : locals) {
    NEG_CHECK(t.defined() && t.dim() >= 1 && t.size(0) == rows, "all_gather_columns: every tensor needs the same ",
              rows, " local rows on rank ", comm.rank());
  }
  GatheredColumns out;
  if (comm.world_size() == 1) {
    if (!rank_rows.empty()) check_rank_rows(comm, rank_rows, rows, "all_gather_columns");
    out.global = locals;
    out.total = rows;
    return out;
  }
  const RankRows counts = rank_rows.empty() ? gather_row_counts(comm, rows) : rank_rows;
  check_rank_rows(comm, counts, rows, "all_gather_columns");
  out.offset = std::accumulate(counts.begin(), counts.begin() + comm.rank(), int64_t{0});
  out.total = std::accumulate(counts.begin(), counts.end(), int64_t{0});
  out.global = AllGatherColumnsFunction::apply(at::TensorList(locals), &comm, counts);
  return out;
}

Gathered all_gather_with_grad(Communicator& comm, const at::Tensor& local, const RankRows& rank_rows) {
  GatheredColumns g = all_gather_columns(comm, {local}, rank_rows);
  return {g.global.front(), g.offset, g.total};
}

Gathered all_gather_no_grad(Communicator& comm, const at::Tensor& local, const RankRows& rank_rows) {
  at::NoGradGuard no_grad;
  GatheredColumns g = all_gather_columns(comm, {local.detach()}, rank_rows);
  return {g.global.front().detach(), g.offset, g.total};
}

}  // namespace negatron::distributed
