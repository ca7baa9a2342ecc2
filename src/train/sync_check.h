#pragma once
// An independent check of "no host sync in a steady-state step" on a GPU: with NEGATRON_STRICT_SYNC=1
// the trainer runs steady-state steps under CUDA's sync debug mode "error", so any call that makes the
// host wait for the device (an item(), a nonzero, a pageable copy, a stream synchronisation) throws
// there, whether or not it went through the counted helper. No effect on CPU or without the variable.
#include <c10/core/Device.h>

namespace negatron::train {

class StrictSyncScope {
 public:
  /// Active when NEGATRON_STRICT_SYNC=1, `device` is a CUDA device and the step is a steady-state one.
  StrictSyncScope(const c10::Device& device, bool steady_state);
  ~StrictSyncScope();
  StrictSyncScope(const StrictSyncScope&) = delete;
  StrictSyncScope& operator=(const StrictSyncScope&) = delete;

  /// Whether NEGATRON_STRICT_SYNC=1 (logged once by the trainer).
  static bool requested();

 private:
  bool active_ = false;
};

}  // namespace negatron::train
