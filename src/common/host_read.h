#pragma once
// Every read of tensor values by the host on the training path goes through read_to_host, which
// counts it. On a GPU each such read waits for the device to finish all queued work, so a
// steady-state training step must do none (tests/python/test_host_reads.py checks the count at two
// ranks on CPU: the counter counts on every device type, so CPU runs catch what would stall a GPU).
// The counter lives in negatron_common (no torch); the tensor-facing helpers are inline so that common
// itself never compiles against torch's headers (README, build notes: torch's fmt vs spdlog's).
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "common/host_read_count.h"

namespace negatron {

/// `tensor` on the CPU, contiguous: the one counted host read.
inline at::Tensor read_to_host(const at::Tensor& tensor) {
  note_host_read();
  return tensor.to(at::kCPU).contiguous();
}

/// A one-element tensor's value (one counted read).
template <class T>
T read_scalar(const at::Tensor& tensor) {
  return read_to_host(tensor).template item<T>();
}

/// A tensor's values, flattened (one counted read).
template <class T>
std::vector<T> read_vector(const at::Tensor& tensor) {
  const at::Tensor host = read_to_host(tensor.reshape({-1}).to(c10::CppTypeToScalarType<T>::value));
  const T* data = host.template data_ptr<T>();
  return std::vector<T>(data, data + host.numel());
}

}  // namespace negatron
