//! The training loss, mean cross-entropy of logits against frame targets, as ONE candle custom op
//! with its own backward pass.
//!
//! Why: composed from candle ops (log-softmax = max, subtract, exp, sum, log, subtract; then
//! gather, negate, mean) the loss materialises half a dozen `[frames, classes]` tensors forward
//! and as many again in the backward graph, which at 1904 classes costs as much as a matrix
//! product. Here the forward pass reads the logits once per row (max, then Σ exp) and keeps only
//! the scalar; the backward pass writes the gradient `(softmax − one-hot) / N` in one pass.
//! The arithmetic per row follows log-softmax exactly (`ln Σ exp(x − max) − (x_t − max)`), so the
//! loss matches the composed graph within float rounding (the row sum is accumulated in f64).

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use mohaq_quant::{vectorized, SimdLevel};
use rayon::prelude::*;

use crate::elementwise::expf::expf;

/// Rows handed to one rayon task: large enough that scheduling costs nothing next to the
/// `classes` exponentials per row.
const ROWS_PER_TASK: usize = 16;

/// Mean cross-entropy of `[N, C]` logits against `targets` (one class per row):
/// `logits.apply_op1(CrossEntropy { targets })` gives the scalar loss.
#[derive(Clone, Debug)]
pub struct CrossEntropy {
    pub targets: Arc<Vec<u32>>,
}

/// Per row: the maximum and `ln Σ exp(x − max)`, with `scratch` (as long as the row) holding the
/// exponentials. They are computed in one vectorized pass, then summed in row order as before.
fn row_stats(level: SimdLevel, row: &[f32], scratch: &mut [f32]) -> (f32, f32) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    exp_shifted(level, row, max, 0.0, 1.0, scratch);
    let sum: f32 = scratch.iter().sum();
    (max, sum.ln())
}

vectorized! {
    /// `out[i] = e^((row[i] − shift) − offset) · scale`, with the `expf` that returns the C
    /// library's floats (so the loss is the one the scalar loop gave) and vectorizes.
    fn exp_shifted(row: &[f32], shift: f32, offset: f32, scale: f32, out: &mut [f32]) {
        for (o, &x) in out.iter_mut().zip(row) {
            *o = expf((x - shift) - offset) * scale;
        }
    }
}

/// Mean cross-entropy of row-major `[N, C]` logits; per-row losses are summed in row order, so
/// the result does not depend on the thread count.
pub fn mean_cross_entropy(logits: &[f32], classes: usize, targets: &[u32]) -> f32 {
    let level = SimdLevel::detect();
    let per_row: Vec<f64> = logits
        .par_chunks(classes)
        .zip(targets.par_iter())
        .with_min_len(ROWS_PER_TASK)
        .map_init(
            || vec![0f32; classes],
            |scratch, (row, &t)| {
                let (max, lse) = row_stats(level, row, scratch);
                f64::from(lse - (row[t as usize] - max))
            },
        )
        .collect();
    let n = targets.len().max(1) as f64;
    (per_row.iter().sum::<f64>() / n) as f32
}

/// Gradient of [`mean_cross_entropy`] scaled by `grad` (the upstream gradient of the scalar):
/// `grad · (softmax(x) − one-hot(t)) / N`, row-major `[N, C]`.
pub fn cross_entropy_grad(logits: &[f32], classes: usize, targets: &[u32], grad: f32) -> Vec<f32> {
    let level = SimdLevel::detect();
    let scale = grad / targets.len().max(1) as f32;
    let mut out = vec![0f32; logits.len()];
    out.par_chunks_mut(classes)
        .zip(logits.par_chunks(classes))
        .zip(targets.par_iter())
        .with_min_len(ROWS_PER_TASK)
        .for_each(|((d, row), &t)| {
            // The row's exponentials go through `d` on their way to the sum.
            let (max, lse) = row_stats(level, row, d);
            exp_shifted(level, row, max, lse, scale, d);
            d[t as usize] -= scale;
        });
    out
}

impl CrossEntropy {
    fn classes(&self, dims: &[usize]) -> candle_core::Result<usize> {
        match dims {
            [n, c] if *n == self.targets.len() => {
                if let Some(t) = self.targets.iter().find(|&&t| t as usize >= *c) {
                    candle_core::bail!("cross-entropy: target {t} outside 0..{c}");
                }
                Ok(*c)
            }
            _ => candle_core::bail!(
                "cross-entropy: logits of shape {dims:?}, expected [{}, classes]",
                self.targets.len()
            ),
        }
    }
}

impl CustomOp1 for CrossEntropy {
    fn name(&self) -> &'static str {
        "cross-entropy"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let classes = self.classes(l.dims())?;
        let data = s.as_slice::<f32>()?;
        let Some((a, b)) = l.contiguous_offsets() else {
            candle_core::bail!("cross-entropy: logits must be contiguous");
        };
        let loss = mean_cross_entropy(&data[a..b], classes, &self.targets);
        Ok((CpuStorage::F32(vec![loss]), Shape::from(())))
    }

    fn bwd(
        &self,
        logits: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let classes = self.classes(logits.dims())?;
        let grad = grad_res.to_scalar::<f32>()?;
        let logits_c = logits.contiguous()?;
        let (storage, layout) = logits_c.storage_and_layout();
        let candle_core::Storage::Cpu(cpu) = &*storage else {
            candle_core::bail!("cross-entropy: CPU only");
        };
        let Some((a, b)) = layout.contiguous_offsets() else {
            candle_core::bail!("cross-entropy: logits must be contiguous");
        };
        let d = cross_entropy_grad(&cpu.as_slice::<f32>()?[a..b], classes, &self.targets, grad);
        drop(storage);
        Ok(Some(Tensor::from_vec(d, logits.shape(), logits.device())?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var, D};

    /// The composed candle graph the op replaces: log-softmax, gather, negate, mean.
    fn reference(logits: &Tensor, targets: &[u32]) -> Tensor {
        let lp = candle_nn::ops::log_softmax(logits, D::Minus1).unwrap();
        let t = Tensor::from_slice(targets, targets.len(), logits.device()).unwrap();
        lp.gather(&t.unsqueeze(1).unwrap(), 1)
            .unwrap()
            .neg()
            .unwrap()
            .mean_all()
            .unwrap()
    }

    /// The loss and gradient loops as first written, with the C library's `expf`.
    fn scalar_loss_and_grad(logits: &[f32], c: usize, targets: &[u32]) -> (f32, Vec<f32>) {
        let stats = |row: &[f32]| {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = row.iter().map(|&x| (x - max).exp()).sum();
            (max, sum.ln())
        };
        let scale = 1.0 / targets.len() as f32;
        let mut loss = 0f64;
        let mut grad = vec![0f32; logits.len()];
        for ((row, d), &t) in logits.chunks(c).zip(grad.chunks_mut(c)).zip(targets) {
            let (max, lse) = stats(row);
            loss += f64::from(lse - (row[t as usize] - max));
            for (o, &x) in d.iter_mut().zip(row) {
                *o = ((x - max) - lse).exp() * scale;
            }
            d[t as usize] -= scale;
        }
        ((loss / targets.len() as f64) as f32, grad)
    }

    #[test]
    fn the_vectorized_loops_give_the_scalar_bits() {
        let (n, c) = (29, 1904);
        let vals: Vec<f32> = (0..n * c)
            .map(|i| ((i * 7919 % 10007) as f32 / 400.0) - 12.0)
            .collect();
        let targets: Vec<u32> = (0..n).map(|i| (i * 131 % c) as u32).collect();
        let (loss, grad) = scalar_loss_and_grad(&vals, c, &targets);
        assert_eq!(
            mean_cross_entropy(&vals, c, &targets).to_bits(),
            loss.to_bits()
        );
        let ours = cross_entropy_grad(&vals, c, &targets, 1.0);
        assert!(ours
            .iter()
            .zip(&grad)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn loss_and_gradient_match_the_composed_graph() {
        let (n, c) = (37, 53);
        let vals: Vec<f32> = (0..n * c)
            .map(|i| ((i * 7919 % 1000) as f32 / 100.0) - 5.0)
            .collect();
        let targets: Vec<u32> = (0..n).map(|i| (i * 13 % c) as u32).collect();
        let x = Var::from_tensor(&Tensor::from_vec(vals, (n, c), &Device::Cpu).unwrap()).unwrap();
        let ours = x
            .as_tensor()
            .apply_op1(CrossEntropy {
                targets: Arc::new(targets.clone()),
            })
            .unwrap();
        let refl = reference(x.as_tensor(), &targets);
        let (a, b) = (
            ours.to_scalar::<f32>().unwrap(),
            refl.to_scalar::<f32>().unwrap(),
        );
        assert!((a - b).abs() <= 1e-5 * b.abs(), "loss {a} vs {b}");
        let ga = ours.backward().unwrap();
        let gb = refl.backward().unwrap();
        let ga = ga.get(x.as_tensor()).unwrap().flatten_all().unwrap();
        let gb = gb.get(x.as_tensor()).unwrap().flatten_all().unwrap();
        let diff = (ga - gb)
            .unwrap()
            .abs()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff < 1e-7, "gradient differs by {diff}");
    }

    #[test]
    fn a_target_outside_the_classes_is_an_error() {
        let x = Tensor::zeros((2, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
        let err = x
            .apply_op1(CrossEntropy {
                targets: Arc::new(vec![0, 3]),
            })
            .unwrap_err();
        assert!(err.to_string().contains("target 3"), "{err}");
    }
}
