#pragma once
// The process-wide count behind common/host_read.h (kept free of torch: see that header).
#include <cstdint>

namespace negatron {

/// Host reads so far in this process (all threads).
int64_t host_read_count();
/// Adds one to the count (read_to_host and device-event synchronisation call it).
void note_host_read();

}  // namespace negatron
