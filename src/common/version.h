#pragma once
// negatron's version: --version, saved model configs and model cards.

namespace negatron {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace negatron
