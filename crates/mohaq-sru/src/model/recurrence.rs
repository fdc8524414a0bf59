//! The elementwise SRU recurrence of METHOD §3 over a whole batch of sequences, both directions,
//! as plain slice kernels and as ONE candle custom op with a hand-written backward pass.
//!
//! Why a custom op: expressed with candle's own ops the recurrence needs a slice per time step,
//! and the backward pass of such a graph is quadratic in the sequence length. Here the forward
//! pass is one loop over time, and the backward pass recomputes the cell states (cheap) and runs
//! one reverse loop.
//!
//! Layouts (row-major):
//! - `u`: `[B, T, 2, k, H]`: the matrix product W·x̃ for every frame; direction (fwd, bwd), block
//!   (candidate u⁰, forget u¹, reset u², and in layer 1 the highway block u³);
//! - `x`: `[B, T, 2H]`: the layer input used as highway (layers 2..n, scaled by α); direction `d`
//!   of unit `j` reads `x[.., d·H + j]`;
//! - `params`: `[4, 2, H]`: v_f, v_r, b_f, b_r per direction;
//! - output `h`: `[B, T, 2H]` = forward ‖ backward. Frames at `t ≥ lengths[b]` are padding: their
//!   output and gradients are zero, and the backward direction starts at `lengths[b] − 1`.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

/// Sizes of one call of the recurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecurrenceDims {
    pub batch: usize,
    pub time: usize,
    pub hidden: usize,
    /// 4 when the highway input is the fourth block of `u` (layer 1), else 3.
    pub blocks: usize,
}

impl RecurrenceDims {
    fn u_len(&self) -> usize {
        self.batch * self.time * 2 * self.blocks * self.hidden
    }
    fn h_len(&self) -> usize {
        self.batch * self.time * 2 * self.hidden
    }
}

/// Where the highway term x′ comes from.
#[derive(Clone, Copy, Debug)]
pub enum Highway<'a> {
    /// Layer 1: the fourth block of `u`.
    FromU,
    /// Layers 2..n: α · x.
    Input(&'a [f32], f32),
}

#[inline]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Time steps of direction `d` for a sequence of length `len`, in processing order.
fn steps(d: usize, len: usize) -> Box<dyn Iterator<Item = usize>> {
    if d == 0 {
        Box::new(0..len)
    } else {
        Box::new((0..len).rev())
    }
}

/// Forward pass: writes `h` (`[B, T, 2H]`). Parallel over the batch; deterministic.
pub fn forward(
    dims: RecurrenceDims,
    u: &[f32],
    highway: Highway<'_>,
    params: &[f32],
    lengths: &[usize],
    h: &mut [f32],
) {
    let RecurrenceDims {
        time: t_max,
        hidden: hd,
        blocks: k,
        ..
    } = dims;
    assert_eq!(u.len(), dims.u_len());
    assert_eq!(h.len(), dims.h_len());
    assert_eq!(params.len(), 4 * 2 * hd);
    h.par_chunks_mut(t_max * 2 * hd)
        .enumerate()
        .for_each(|(b, hb)| {
            hb.fill(0.0);
            let len = lengths[b].min(t_max);
            let mut c = vec![0f32; hd];
            for d in 0..2 {
                let vf = &params[d * hd..(d + 1) * hd];
                let vr = &params[(2 + d) * hd..(3 + d) * hd];
                let bf = &params[(4 + d) * hd..(5 + d) * hd];
                let br = &params[(6 + d) * hd..(7 + d) * hd];
                c.fill(0.0);
                for t in steps(d, len) {
                    let ub = &u[((b * t_max + t) * 2 + d) * k * hd..][..k * hd];
                    let hrow = &mut hb[t * 2 * hd + d * hd..][..hd];
                    for j in 0..hd {
                        let cp = c[j];
                        let f = sigmoid(ub[hd + j] + vf[j] * cp + bf[j]);
                        let r = sigmoid(ub[2 * hd + j] + vr[j] * cp + br[j]);
                        let cn = f * cp + (1.0 - f) * ub[j];
                        let xp = match highway {
                            Highway::FromU => ub[3 * hd + j],
                            Highway::Input(x, alpha) => {
                                alpha * x[(b * t_max + t) * 2 * hd + d * hd + j]
                            }
                        };
                        hrow[j] = r * cn + (1.0 - r) * xp;
                        c[j] = cn;
                    }
                }
            }
        });
}

/// Gradients of the recurrence.
pub struct RecurrenceGrads {
    /// `[B, T, 2, k, H]`.
    pub du: Vec<f32>,
    /// `[B, T, 2H]` when the highway is an input, else empty.
    pub dx: Vec<f32>,
    /// `[4, 2, H]`.
    pub dparams: Vec<f32>,
}

/// Backward pass given `dh` (`[B, T, 2H]`). Recomputes the cell states, then runs one reverse
/// loop per sequence and direction. Parameter gradients are summed over the batch in order, so
/// the result does not depend on the thread count.
pub fn backward(
    dims: RecurrenceDims,
    u: &[f32],
    highway: Highway<'_>,
    params: &[f32],
    lengths: &[usize],
    dh: &[f32],
) -> RecurrenceGrads {
    let RecurrenceDims {
        time: t_max,
        hidden: hd,
        blocks: k,
        ..
    } = dims;
    assert_eq!(dh.len(), dims.h_len());
    let has_x = matches!(highway, Highway::Input(..));
    if t_max == 0 || dims.batch == 0 {
        return RecurrenceGrads {
            du: vec![0f32; dims.u_len()],
            dx: vec![0f32; if has_x { dims.h_len() } else { 0 }],
            dparams: vec![0f32; 8 * hd],
        };
    }
    let mut du = vec![0f32; dims.u_len()];
    let mut dx = if has_x {
        vec![0f32; dims.h_len()]
    } else {
        Vec::new()
    };
    // Each sequence writes its own slices of `du` and `dx` in place (no per-sequence buffers to
    // concatenate); only the small parameter gradients are per sequence, summed in order below.
    let dx_len = if has_x { t_max * 2 * hd } else { 0 };
    let mut dx_parts: Vec<&mut [f32]> = if has_x {
        dx.chunks_mut(dx_len).collect()
    } else {
        (0..dims.batch).map(|_| <&mut [f32]>::default()).collect()
    };
    let per_b: Vec<Vec<f32>> = du
        .par_chunks_mut(t_max * 2 * k * hd)
        .zip(dx_parts.par_iter_mut())
        .enumerate()
        .map(|(b, (du, dx))| {
            let len = lengths[b].min(t_max);
            let mut dp = vec![0f32; 8 * hd];
            // c_hist[s * H + j] = cell state after processing step s (in processing order).
            let mut c_hist = vec![0f32; len * hd];
            for d in 0..2 {
                let vf = &params[d * hd..(d + 1) * hd];
                let vr = &params[(2 + d) * hd..(3 + d) * hd];
                let bf = &params[(4 + d) * hd..(5 + d) * hd];
                let br = &params[(6 + d) * hd..(7 + d) * hd];
                let order: Vec<usize> = steps(d, len).collect();
                // Recompute the cell states.
                for (s, &t) in order.iter().enumerate() {
                    let ub = &u[((b * t_max + t) * 2 + d) * k * hd..][..k * hd];
                    for j in 0..hd {
                        let cp = if s == 0 {
                            0.0
                        } else {
                            c_hist[(s - 1) * hd + j]
                        };
                        let f = sigmoid(ub[hd + j] + vf[j] * cp + bf[j]);
                        c_hist[s * hd + j] = f * cp + (1.0 - f) * ub[j];
                    }
                }
                let mut dc_next = vec![0f32; hd];
                for (s, &t) in order.iter().enumerate().rev() {
                    let ub = &u[((b * t_max + t) * 2 + d) * k * hd..][..k * hd];
                    let dub = &mut du[(t * 2 + d) * k * hd..][..k * hd];
                    let dhrow = &dh[(b * t_max + t) * 2 * hd + d * hd..][..hd];
                    for j in 0..hd {
                        let cp = if s == 0 {
                            0.0
                        } else {
                            c_hist[(s - 1) * hd + j]
                        };
                        let cn = c_hist[s * hd + j];
                        let f = sigmoid(ub[hd + j] + vf[j] * cp + bf[j]);
                        let r = sigmoid(ub[2 * hd + j] + vr[j] * cp + br[j]);
                        let xp = match highway {
                            Highway::FromU => ub[3 * hd + j],
                            Highway::Input(x, alpha) => {
                                alpha * x[(b * t_max + t) * 2 * hd + d * hd + j]
                            }
                        };
                        let g = dhrow[j];
                        let dc = g * r + dc_next[j];
                        let da_r = g * (cn - xp) * r * (1.0 - r);
                        let dxp = g * (1.0 - r);
                        let da_f = dc * (cp - ub[j]) * f * (1.0 - f);
                        dub[j] = dc * (1.0 - f);
                        dub[hd + j] = da_f;
                        dub[2 * hd + j] = da_r;
                        match highway {
                            Highway::FromU => dub[3 * hd + j] = dxp,
                            Highway::Input(_, alpha) => dx[t * 2 * hd + d * hd + j] = alpha * dxp,
                        }
                        dp[d * hd + j] += da_f * cp;
                        dp[(2 + d) * hd + j] += da_r * cp;
                        dp[(4 + d) * hd + j] += da_f;
                        dp[(6 + d) * hd + j] += da_r;
                        dc_next[j] = dc * f + da_f * vf[j] + da_r * vr[j];
                    }
                }
            }
            dp
        })
        .collect();
    let mut dparams = vec![0f32; 8 * hd];
    for p in per_b {
        for (acc, v) in dparams.iter_mut().zip(&p) {
            *acc += v;
        }
    }
    RecurrenceGrads { du, dx, dparams }
}

/// The recurrence as a candle op: `u.apply_op3(x, params, SruRecurrence{..})`.
///
/// For layer 1 (`alpha = None`), `x` is ignored (pass any small tensor) and gets no gradient.
#[derive(Clone, Debug)]
pub struct SruRecurrence {
    pub hidden: usize,
    pub blocks: usize,
    /// Valid frames per sequence of the batch.
    pub lengths: Arc<Vec<usize>>,
    /// Highway scale α of layers 2..n; `None` for layer 1 (highway from the fourth block).
    pub alpha: Option<f32>,
}

impl SruRecurrence {
    fn dims(&self, u_shape: &[usize]) -> candle_core::Result<RecurrenceDims> {
        if u_shape.len() != 3 || u_shape[2] != 2 * self.blocks * self.hidden {
            candle_core::bail!(
                "sru recurrence: u has shape {u_shape:?}, expected [B, T, {}]",
                2 * self.blocks * self.hidden
            );
        }
        if u_shape[0] != self.lengths.len() {
            candle_core::bail!(
                "sru recurrence: batch {} but {} lengths",
                u_shape[0],
                self.lengths.len()
            );
        }
        Ok(RecurrenceDims {
            batch: u_shape[0],
            time: u_shape[1],
            hidden: self.hidden,
            blocks: self.blocks,
        })
    }
}

fn contiguous_f32<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    let data = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("sru recurrence: inputs must be contiguous"),
    }
}

/// The contiguous f32 values of a CPU tensor's storage.
fn cpu_f32<'a>(s: &'a candle_core::Storage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    match s {
        candle_core::Storage::Cpu(c) => contiguous_f32(c, l),
        _ => candle_core::bail!("sru recurrence: CPU only"),
    }
}

impl CustomOp3 for SruRecurrence {
    fn name(&self) -> &'static str {
        "sru-recurrence"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let dims = self.dims(l1.dims())?;
        let u = contiguous_f32(s1, l1)?;
        let x = contiguous_f32(s2, l2)?;
        let p = contiguous_f32(s3, l3)?;
        if p.len() != 8 * self.hidden {
            candle_core::bail!("sru recurrence: params have {} values", p.len());
        }
        let highway = match self.alpha {
            None => Highway::FromU,
            Some(a) => {
                if x.len() != dims.h_len() {
                    candle_core::bail!("sru recurrence: highway input has {} values", x.len());
                }
                Highway::Input(x, a)
            }
        };
        let mut h = vec![0f32; dims.h_len()];
        forward(dims, u, highway, p, &self.lengths, &mut h);
        Ok((
            CpuStorage::F32(h),
            Shape::from((dims.batch, dims.time, 2 * self.hidden)),
        ))
    }

    fn bwd(
        &self,
        u: &Tensor,
        x: &Tensor,
        params: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dims = self.dims(u.dims())?;
        // Read the operands in place: copying them out (`to_vec1`) would move ~40 MB per layer
        // and step at paper size.
        let (u_c, p_c, dh_c) = (
            u.contiguous()?,
            params.contiguous()?,
            grad_res.contiguous()?,
        );
        let x_c = x.contiguous()?;
        let (us, ul) = u_c.storage_and_layout();
        let (ps, pl) = p_c.storage_and_layout();
        let (dhs, dhl) = dh_c.storage_and_layout();
        let (xs, xl) = x_c.storage_and_layout();
        let uv = cpu_f32(&us, ul)?;
        let pv = cpu_f32(&ps, pl)?;
        let dh = cpu_f32(&dhs, dhl)?;
        let highway = match self.alpha {
            None => Highway::FromU,
            Some(a) => Highway::Input(cpu_f32(&xs, xl)?, a),
        };
        let g = backward(dims, uv, highway, pv, &self.lengths, dh);
        drop((us, ps, dhs, xs));
        let dev = u.device();
        let du = Tensor::from_vec(g.du, u.shape(), dev)?;
        let dx = match self.alpha {
            None => None,
            Some(_) => Some(Tensor::from_vec(g.dx, x.shape(), dev)?),
        };
        let dp = Tensor::from_vec(g.dparams, params.shape(), dev)?;
        Ok((Some(du), dx, Some(dp)))
    }
}
