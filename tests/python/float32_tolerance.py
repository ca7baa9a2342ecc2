"""Tolerances for float32 results that negatron and sentence-transformers compute in different orders.

Two float32 computations of one quantity differ by rounding that depends on the order of the arithmetic:
GEMM blocking, and the SIMD width of a reduction (an AVX2 and an AVX-512 machine give different last bits
for the same torch.sum). Such differences scale with the magnitude of the quantity, so an absolute
tolerance that fits a cosine (|x| <= 1) is too tight for a Manhattan distance near 17.5, where one float32
step is 1.9e-6. These helpers state tolerances in float32 steps at the magnitude of the reference value
(never below the step at 1.0, so values near zero are not held to a tighter bound than values near one).
"""
import numpy as np

FLOAT32_EPS = float(np.finfo(np.float32).eps)  # 2**-23: one float32 step at 1.0


def float32_tolerance(reference, steps: float) -> float:
    """`steps` float32 steps at the magnitude of `reference` (its largest |value|, at least 1.0)."""
    magnitude = float(np.max(np.abs(np.asarray(reference, dtype=np.float64)), initial=0.0))
    return steps * FLOAT32_EPS * max(1.0, magnitude)


def float32_steps(difference, reference) -> float:
    """How many float32 steps at the magnitude of `reference` (at least 1.0) `difference` is."""
    return float(difference) / float32_tolerance(reference, 1.0)


def assert_float32_close(ours, theirs, steps: float, what: str) -> float:
    """max|ours - theirs| <= `steps` float32 steps at the magnitude of `theirs`; returns the steps used."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{what}: shapes differ: {ours.shape} vs {theirs.shape}"
    diff = float(np.abs(ours - theirs).max(initial=0.0))
    used = float32_steps(diff, theirs)
    print(f"{what}: max abs diff {diff:.3g} = {used:.2f} float32 steps (bound {steps})")
    assert diff <= float32_tolerance(theirs, steps), (
        f"{what}: max abs diff {diff:.3g} is {used:.1f} float32 steps at magnitude "
        f"{max(1.0, float(np.abs(theirs).max(initial=0.0))):.3g}, over the bound of {steps}")
    return used


# Encoder outputs (embeddings) of negatron and sentence-transformers: 6 to 12 float32 transformer layers in
# other kernels (packed tokens, fused attention) differ by ~1e-7 at |x| <= 1 (1-2 steps). The bound is
# 1e-5 at |x| <= 1 (84 steps), as these tests have always allowed, and grows with the magnitude of
# unnormalized outputs (max pooling or a Dense layer give values of several units).
ENCODER_STEPS = 84
