#pragma once
// Encoding texts across ranks so that the result does not depend on the rank count: texts are
// ordered longest first (in bytes; ties by index) and cut into batches of batch_size, and batch b is
// encoded by rank b mod N. An embedding depends, in its last bits, on its batch mates (padding and
// the BLAS kernels chosen for the batch's size); with batches fixed, a text gets the same bits at any
// N, and so does everything mined from them.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "distributed/communicator.h"
#include "model/sentence_encoder.h"

namespace negatron::mining {

/// Text indices, batch by batch (see above).
std::vector<std::vector<int64_t>> length_batches(const std::vector<std::string>& texts, int64_t batch_size);

/// Rows this rank encoded (normalized, on `device`) and the text index of each.
struct EncodedRows {
  at::Tensor embeddings, ids;
};

/// Encodes this rank's batches among batches[first, end) (batch b: rank b mod N).
EncodedRows encode_batches(model::SentenceEncoder& encoder, const std::vector<std::string>& texts,
                           const std::vector<std::vector<int64_t>>& batches, size_t first, size_t end,
                           distributed::Communicator& comm, at::Device device, bool progress);

}  // namespace negatron::mining
