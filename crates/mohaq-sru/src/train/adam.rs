//! Adam with L2 weight decay added to the gradient (PyTorch `Adam(weight_decay=…)` semantics,
//! as the pytorch-kaldi recipe used), with its moments exposed for checkpoints.

use candle_core::{backprop::GradStore, Layout, Storage, Tensor, Var};
use rayon::prelude::*;

/// Elements per rayon task of the update: the update is elementwise, so any split gives the
/// same result; this one keeps scheduling cheap.
const ELEMENTS_PER_TASK: usize = 1 << 14;

/// Adam state: first and second moments per variable (plain arrays, updated in place), and the
/// step count.
///
/// Why plain arrays and one fused loop: written with candle ops the update of one variable is a
/// dozen elementwise tensor ops, each allocating a fresh tensor the size of the weights
/// (5.6 M values at paper size); here it is one pass over weights, gradient and moments.
pub struct Adam {
    vars: Vec<Var>,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    pub step: u64,
    pub lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
}

/// The hyper-parameters of one update, as the f32 factors the loop multiplies by.
#[derive(Clone, Copy)]
struct UpdateFactors {
    weight_decay: f32,
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    inv_bc1: f32,
    inv_bc2: f32,
    eps: f32,
    lr: f32,
}

impl UpdateFactors {
    /// One element: returns the new weight and updates the moments in place. The operations and
    /// their order are those of PyTorch's Adam with L2 decay added to the gradient.
    #[inline]
    fn apply(&self, theta: f32, g: f32, m: &mut f32, v: &mut f32) -> f32 {
        let g = if self.weight_decay != 0.0 {
            g + theta * self.weight_decay
        } else {
            g
        };
        *m = *m * self.beta1 + g * self.one_minus_beta1;
        *v = *v * self.beta2 + (g * g) * self.one_minus_beta2;
        let denom = (*v * self.inv_bc2).sqrt() + self.eps;
        theta - ((*m * self.inv_bc1) / denom) * self.lr
    }
}

fn contiguous_f32<'a>(s: &'a Storage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (Storage::Cpu(c), Some((a, b))) => Ok(&c.as_slice::<f32>()?[a..b]),
        _ => candle_core::bail!("adam: expected a contiguous CPU f32 tensor"),
    }
}

impl Adam {
    pub fn new(
        vars: Vec<Var>,
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
        weight_decay: f64,
    ) -> candle_core::Result<Self> {
        let m: Vec<Vec<f32>> = vars
            .iter()
            .map(|v| vec![0f32; v.as_tensor().elem_count()])
            .collect();
        let v = m.clone();
        Ok(Self {
            vars,
            m,
            v,
            step: 0,
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
        })
    }

    /// One update from the gradients of a backward pass. Variables without gradient are skipped.
    pub fn step(&mut self, grads: &GradStore) -> candle_core::Result<()> {
        self.step += 1;
        let t = self.step as i32;
        let bc1 = 1.0 - self.beta1.powi(t);
        let bc2 = 1.0 - self.beta2.powi(t);
        let f = UpdateFactors {
            weight_decay: self.weight_decay as f32,
            beta1: self.beta1 as f32,
            one_minus_beta1: (1.0 - self.beta1) as f32,
            beta2: self.beta2 as f32,
            one_minus_beta2: (1.0 - self.beta2) as f32,
            inv_bc1: (1.0 / bc1) as f32,
            inv_bc2: (1.0 / bc2) as f32,
            eps: self.eps as f32,
            lr: self.lr as f32,
        };
        for (i, var) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            // The new weights are a fresh tensor outside the autograd graph (plain values), so
            // no step keeps its predecessor alive.
            let theta_t = var.as_tensor().contiguous()?;
            let g = g.contiguous()?;
            let (ts, tl) = theta_t.storage_and_layout();
            let (gs, gl) = g.storage_and_layout();
            let theta = contiguous_f32(&ts, tl)?;
            let grad = contiguous_f32(&gs, gl)?;
            if grad.len() != theta.len() || self.m[i].len() != theta.len() {
                candle_core::bail!(
                    "adam: variable {i} has {} values, its gradient {}, its moments {}",
                    theta.len(),
                    grad.len(),
                    self.m[i].len()
                );
            }
            let mut new = vec![0f32; theta.len()];
            new.par_chunks_mut(ELEMENTS_PER_TASK)
                .zip(theta.par_chunks(ELEMENTS_PER_TASK))
                .zip(grad.par_chunks(ELEMENTS_PER_TASK))
                .zip(self.m[i].par_chunks_mut(ELEMENTS_PER_TASK))
                .zip(self.v[i].par_chunks_mut(ELEMENTS_PER_TASK))
                .for_each(|((((out, th), gr), m), v)| {
                    for ((((o, &th), &gr), m), v) in out.iter_mut().zip(th).zip(gr).zip(m).zip(v) {
                        *o = f.apply(th, gr, m, v);
                    }
                });
            drop((ts, gs));
            var.set(&Tensor::from_vec(new, var.shape(), var.device())?)?;
        }
        Ok(())
    }

    /// Moments as plain arrays: (m, v) per variable, for checkpoints.
    pub fn moments(&self) -> candle_core::Result<Vec<(Vec<f32>, Vec<f32>)>> {
        Ok(self.m.iter().cloned().zip(self.v.iter().cloned()).collect())
    }

    /// Restores moments saved by [`Self::moments`]; shapes must match the variables.
    pub fn set_moments(&mut self, moments: Vec<(Vec<f32>, Vec<f32>)>) -> candle_core::Result<()> {
        if moments.len() != self.vars.len() {
            candle_core::bail!(
                "optimizer state has {} variables, the model {}",
                moments.len(),
                self.vars.len()
            );
        }
        for (i, (m, v)) in moments.into_iter().enumerate() {
            let n = self.vars[i].as_tensor().elem_count();
            if m.len() != n || v.len() != n {
                candle_core::bail!(
                    "optimizer state of variable {i} has {} and {} values, the variable {n}",
                    m.len(),
                    v.len()
                );
            }
            self.m[i] = m;
            self.v[i] = v;
        }
        Ok(())
    }

    pub fn vars(&self) -> &[Var] {
        &self.vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor, Var};

    /// The moments must stay outside the autograd graph: a tracked moment keeps every earlier
    /// step's tensors alive, and a long training run then runs out of memory.
    #[test]
    fn moments_and_weights_stay_out_of_the_graph() {
        let w =
            Var::from_tensor(&Tensor::new(&[1.0f32, -2.0, 3.0], &Device::Cpu).unwrap()).unwrap();
        let mut adam = Adam::new(vec![w.clone()], 1e-2, 0.9, 0.999, 1e-8, 1e-7).unwrap();
        for _ in 0..3 {
            let loss = w.as_tensor().sqr().unwrap().sum_all().unwrap();
            let grads = loss.backward().unwrap();
            adam.step(&grads).unwrap();
        }
        let moved = w.as_tensor().to_vec1::<f32>().unwrap();
        assert!(
            moved[0] < 1.0 && moved[1] > -2.0,
            "Adam must move towards 0: {moved:?}"
        );
    }

    /// The fused loop against the update written with candle tensor ops (the implementation it
    /// replaced): same weights and moments after several steps, within float rounding.
    #[test]
    fn fused_update_matches_the_tensor_op_formula() {
        let (lr, b1, b2, eps, wd) = (1e-2, 0.9, 0.999, 1e-8, 1e-3);
        let init: Vec<f32> = (0..257)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
            .collect();
        let w = Var::from_tensor(&Tensor::new(init.as_slice(), &Device::Cpu).unwrap()).unwrap();
        let mut adam = Adam::new(vec![w.clone()], lr, b1, b2, eps, wd).unwrap();
        let mut theta = Tensor::new(init.as_slice(), &Device::Cpu).unwrap();
        let mut m = theta.zeros_like().unwrap();
        let mut v = theta.zeros_like().unwrap();
        for step in 1..=5 {
            // loss = Σ w⁴ / 4 + Σ w: gradient w³ + 1, different for every element.
            let loss = (w.as_tensor().powf(4.0).unwrap().sum_all().unwrap() * 0.25)
                .unwrap()
                .add(&w.as_tensor().sum_all().unwrap())
                .unwrap();
            let grads = loss.backward().unwrap();
            let g_ref = ((theta.powf(3.0).unwrap() + 1.0).unwrap()
                + theta.affine(wd, 0.0).unwrap())
            .unwrap();
            adam.step(&grads).unwrap();
            let bc1 = 1.0 - b1.powi(step);
            let bc2 = 1.0 - b2.powi(step);
            m = ((&m * b1).unwrap() + (&g_ref * (1.0 - b1)).unwrap()).unwrap();
            v = ((&v * b2).unwrap() + (g_ref.sqr().unwrap() * (1.0 - b2)).unwrap()).unwrap();
            let denom = ((&v / bc2).unwrap().sqrt().unwrap() + eps).unwrap();
            let update = ((&m / bc1).unwrap() / denom).unwrap();
            theta = (theta - (update * lr).unwrap()).unwrap();
        }
        let ours = w.as_tensor().to_vec1::<f32>().unwrap();
        let reference = theta.to_vec1::<f32>().unwrap();
        for (a, b) in ours.iter().zip(&reference) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
        }
        let (mo, vo) = &adam.moments().unwrap()[0];
        for (a, b) in mo.iter().zip(m.to_vec1::<f32>().unwrap()) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "m {a} vs {b}");
        }
        for (a, b) in vo.iter().zip(v.to_vec1::<f32>().unwrap()) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "v {a} vs {b}");
        }
    }
}
