#include "train/sync_check.h"

#include <cstdlib>
#include <cstring>

#if NEGATRON_WITH_NCCL
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace negatron::train {

bool StrictSyncScope::requested() {
  const char* value = std::getenv("NEGATRON_STRICT_SYNC");
  return value && std::strcmp(value, "1") == 0;
}

StrictSyncScope::StrictSyncScope(const c10::Device& device, bool steady_state) {
#if NEGATRON_WITH_NCCL
  active_ = steady_state && device.is_cuda() && requested();
  if (active_) c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_ERROR);
#else
  (void)device;
  (void)steady_state;
#endif
}

StrictSyncScope::~StrictSyncScope() {
#if NEGATRON_WITH_NCCL
  if (active_) c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_DISABLED);
#endif
}

}  // namespace negatron::train
