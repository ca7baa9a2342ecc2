#include <cstdlib>
#include <iostream>

#include "distributed/communicator.h"

namespace negatron::distributed {
namespace {

class LocalCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  int local_rank() const override { return 0; }
  std::string backend() const override { return "local"; }
  at::Tensor all_gather(const at::Tensor& tensor) override { return tensor; }
  at::Tensor all_gather_rows(const at::Tensor& tensor, const std::vector<int64_t>& rank_rows) override {
    check_rank_rows(*this, rank_rows, tensor.size(0), "all_gather_rows");
    return tensor;
  }
  at::Tensor reduce_scatter(const at::Tensor& tensor, const std::vector<int64_t>& rank_rows) override {
    check_rank_rows(*this, rank_rows, tensor.size(0), "reduce_scatter");
    return tensor;
  }
  void all_reduce(at::Tensor&, ReduceOp) override {}
  void broadcast(at::Tensor&, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(const std::string& message, int code) override {
    std::cerr << message << std::endl;
    std::exit(code);
  }
};

}  // namespace

std::shared_ptr<Communicator> make_local_communicator() { return std::make_shared<LocalCommunicator>(); }

}  // namespace negatron::distributed
