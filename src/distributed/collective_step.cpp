#include "distributed/collective_step.h"

#include <exception>

#include "distributed/config_agreement.h"

namespace negatron::distributed {

void run_collectively(Communicator& comm, const std::function<void()>& step) {
  std::string error;
  try {
    step();
  } catch (const std::exception& e) {
    error = e.what();
    if (error.empty()) error = "unknown error";
  } catch (...) {
    error = "unknown exception";
  }
  const std::vector<std::string> errors = all_gather_strings(comm, error);
  for (size_t rank = 0; rank < errors.size(); ++rank) {
    if (errors[rank].empty()) continue;
    const std::string prefix = errors.size() > 1 ? "rank " + std::to_string(rank) + ": " : "";
    throw CollectiveFailure(static_cast<int>(rank), prefix + errors[rank]);
  }
}

}  // namespace negatron::distributed
