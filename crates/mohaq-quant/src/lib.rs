//! Quantizers, fake quantization, bit-packed storage and integer matrix kernels.
