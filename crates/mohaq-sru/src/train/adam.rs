//! Adam with L2 weight decay added to the gradient (PyTorch `Adam(weight_decay=…)` semantics,
//! as the pytorch-kaldi recipe used), with its moments exposed for checkpoints.

use candle_core::{backprop::GradStore, Tensor, Var};

/// Adam state: first and second moments per variable, and the step count.
pub struct Adam {
    vars: Vec<Var>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    pub step: u64,
    pub lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
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
        let m = vars
            .iter()
            .map(|v| v.as_tensor().zeros_like())
            .collect::<candle_core::Result<Vec<_>>>()?;
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
        for (i, var) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            // Detached copies: the update must not join the autograd graph. A tracked `theta`
            // would make every new moment hold its predecessor alive through the op graph, so
            // memory would grow with every step of a long run.
            let theta = var.as_tensor().detach();
            let g = g.detach();
            let g = if self.weight_decay != 0.0 {
                (g + theta.affine(self.weight_decay, 0.0)?)?
            } else {
                g
            };
            let m = ((&self.m[i] * self.beta1)? + (&g * (1.0 - self.beta1))?)?;
            let v = ((&self.v[i] * self.beta2)? + (g.sqr()? * (1.0 - self.beta2))?)?;
            let denom = ((&v / bc2)?.sqrt()? + self.eps)?;
            let update = ((&m / bc1)? / denom)?;
            var.set(&(theta - (update * self.lr)?)?)?;
            self.m[i] = m;
            self.v[i] = v;
        }
        Ok(())
    }

    /// Moments as plain arrays: (m, v) per variable, for checkpoints.
    pub fn moments(&self) -> candle_core::Result<Vec<(Vec<f32>, Vec<f32>)>> {
        self.m
            .iter()
            .zip(&self.v)
            .map(|(m, v)| {
                Ok((
                    m.flatten_all()?.to_vec1::<f32>()?,
                    v.flatten_all()?.to_vec1::<f32>()?,
                ))
            })
            .collect()
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
            let shape = self.vars[i].as_tensor().shape().clone();
            let dev = self.vars[i].as_tensor().device().clone();
            self.m[i] = Tensor::from_vec(m, &shape, &dev)?;
            self.v[i] = Tensor::from_vec(v, &shape, &dev)?;
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
        assert!(!adam.m[0].track_op() && !adam.v[0].track_op());
        let moved = w.as_tensor().to_vec1::<f32>().unwrap();
        assert!(
            moved[0] < 1.0 && moved[1] > -2.0,
            "Adam must move towards 0: {moved:?}"
        );
    }
}
