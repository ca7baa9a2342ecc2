#include "common/host_read_count.h"

#include <atomic>

namespace negatron {
namespace {
std::atomic<int64_t> reads{0};
}  // namespace

int64_t host_read_count() { return reads.load(std::memory_order_relaxed); }
void note_host_read() { reads.fetch_add(1, std::memory_order_relaxed); }

}  // namespace negatron
