#include "model/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <mutex>

#include "common/check.h"

namespace negatron::model {
namespace {

// Elements per parallel task: the hash is a few nanoseconds, so small ranges are not worth a thread.
constexpr int64_t kGrain = 32768;

/// splitmix64's output function of a counter: a full-avalanche 64-bit hash, two 32-bit draws.
inline uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t draw_seed() {
  auto* generator = at::check_generator<at::CPUGeneratorImpl>(at::detail::getDefaultCPUGenerator());
  std::lock_guard<std::mutex> lock(generator->mutex_);
  return generator->random64();
}

/// out[i] = keep[i] ? x[i] * scale : 0, keep[i] = draw i of `seed` < threshold (out of 2^32).
void masked_scale(const at::Tensor& x, at::Tensor& out, at::Tensor& keep, uint64_t seed, uint64_t threshold,
                  double scale) {
  const int64_t n = x.numel();
  bool* keep_data = keep.data_ptr<bool>();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "negatron_dropout", [&] {
    const scalar_t* in = x.const_data_ptr<scalar_t>();
    scalar_t* result = out.data_ptr<scalar_t>();
    const auto factor = static_cast<at::opmath_type<scalar_t>>(scale);
    at::parallel_for(0, (n + 1) / 2, kGrain / 2, [&](int64_t begin, int64_t end) {
      for (int64_t pair = begin; pair < end; ++pair) {
        const uint64_t bits = mix(seed + static_cast<uint64_t>(pair) * 0x9E3779B97F4A7C15ULL);
        for (int64_t half = 0; half < 2; ++half) {
          const int64_t i = 2 * pair + half;
          if (i >= n) break;
          const bool kept = ((half ? bits >> 32 : bits) & 0xFFFFFFFFULL) < threshold;
          keep_data[i] = kept;
          result[i] = kept ? static_cast<scalar_t>(static_cast<at::opmath_type<scalar_t>>(in[i]) * factor) : scalar_t(0);
        }
      }
    });
  });
}

struct CounterDropout : public torch::autograd::Function<CounterDropout> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input, double p) {
    const at::Tensor x = input.contiguous();
    at::Tensor out = at::empty_like(x);
    at::Tensor keep = at::empty(x.sizes(), x.options().dtype(at::kBool));
    const double scale = 1.0 / (1.0 - p);
    const auto threshold = static_cast<uint64_t>(std::ldexp(1.0 - p, 32));
    masked_scale(x, out, keep, draw_seed(), threshold, scale);
    ctx->save_for_backward({keep});
    ctx->saved_data["scale"] = scale;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const at::Tensor keep = ctx->get_saved_variables().at(0);
    const at::Tensor grad_input = grads.at(0).mul(keep).mul_(ctx->saved_data["scale"].toDouble());
    const at::Tensor grad_p;  // the probability is a constant, not differentiated
    return {grad_input, grad_p};
  }
};

}  // namespace

at::Tensor parallel_dropout(const at::Tensor& x, double p, bool training) {
  NEG_CHECK(p >= 0.0 && p <= 1.0, "dropout probability must lie in [0, 1], got ", p);
  if (!training || p == 0.0) return x;
  if (!x.is_cpu() || p == 1.0 || x.numel() == 0) return at::dropout(x, p, training);
  return CounterDropout::apply(x, p);
}

}  // namespace negatron::model
