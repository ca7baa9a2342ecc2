#include "distributed/gather.h"

#include <torch/csrc/autograd/custom_function.h>

#include <numeric>

namespace negatron::distributed {
namespace {

class AllGatherFunction : public torch::autograd::Function<AllGatherFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& local, Communicator* comm,
                            int64_t offset) {
    ctx->saved_data["offset"] = offset;
    ctx->saved_data["rows"] = local.size(0);
    ctx->saved_data["comm"] = reinterpret_cast<int64_t>(comm);
    return comm->all_gather(local.contiguous());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* comm = reinterpret_cast<Communicator*>(ctx->saved_data["comm"].toInt());
    at::Tensor grad = grads[0].clone(at::MemoryFormat::Contiguous);  // reduced in place below
    comm->all_reduce(grad, ReduceOp::kSum);
    const int64_t offset = ctx->saved_data["offset"].toInt();
    const int64_t rows = ctx->saved_data["rows"].toInt();
    return {grad.narrow(0, offset, rows), at::Tensor(), at::Tensor()};
  }
};

Gathered layout(Communicator& comm, int64_t local_rows) {
  const std::vector<int64_t> counts = gather_row_counts(comm, local_rows);
  Gathered out;
  out.offset = std::accumulate(counts.begin(), counts.begin() + comm.rank(), int64_t{0});
  out.total = std::accumulate(counts.begin(), counts.end(), int64_t{0});
  return out;
}

}  // namespace

std::vector<int64_t> gather_row_counts(Communicator& comm, int64_t local_rows) {
  if (comm.world_size() == 1) return {local_rows};
  at::Tensor counts = comm.all_gather(at::full({1}, local_rows, at::kLong));
  return std::vector<int64_t>(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());
}

Gathered all_gather_with_grad(Communicator& comm, const at::Tensor& local) {
  Gathered out = layout(comm, local.size(0));
  out.global = comm.world_size() == 1 ? local : AllGatherFunction::apply(local, &comm, out.offset);
  return out;
}

Gathered all_gather_no_grad(Communicator& comm, const at::Tensor& local) {
  Gathered out = layout(comm, local.size(0));
  at::NoGradGuard no_grad;
  out.global = comm.world_size() == 1 ? local.detach() : comm.all_gather(local.detach().contiguous());
  return out;
}

}  // namespace negatron::distributed
