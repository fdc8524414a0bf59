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
use mohaq_quant::{vectorized, SimdLevel};
use rayon::prelude::*;

use crate::elementwise::expf::expf;
use crate::elementwise::lanes::{add_block, load_block, store_block, LANES};

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
    /// Values of `u` per sequence: `[T, 2, k, H]`.
    fn u_per_sequence(&self) -> usize {
        self.time * 2 * self.blocks * self.hidden
    }
    /// Values of `h` (and `x`, `dh`) per sequence: `[T, 2H]`.
    fn h_per_sequence(&self) -> usize {
        self.time * 2 * self.hidden
    }
    fn u_len(&self) -> usize {
        self.batch * self.u_per_sequence()
    }
    fn h_len(&self) -> usize {
        self.batch * self.h_per_sequence()
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

/// `1 / (1 + e^−x)`, with the `expf` that returns the C library's floats and vectorizes.
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + expf(-x))
}

/// Time step of direction `d` at position `s` of its processing order (a sequence of `len`).
#[inline(always)]
fn time_of(d: usize, s: usize, len: usize) -> usize {
    if d == 0 {
        s
    } else {
        len - 1 - s
    }
}

/// One direction's parameters `(v_f, v_r, b_f, b_r)`, each `H` long, from `params` `[4, 2, H]`.
fn direction_params(params: &[f32], d: usize, hd: usize) -> [&[f32]; 4] {
    std::array::from_fn(|i| &params[(2 * i + d) * hd..][..hd])
}

/// The highway input of one sequence: the fourth block of `u` (layer 1) or its own slice of the
/// scaled layer input.
fn sequence_highway<'a>(
    highway: Highway<'a>,
    b: usize,
    seq_len: usize,
) -> Option<(&'a [f32], f32)> {
    match highway {
        Highway::FromU => None,
        Highway::Input(x, alpha) => Some((&x[b * seq_len..][..seq_len], alpha)),
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
    assert_eq!(u.len(), dims.u_len());
    assert_eq!(h.len(), dims.h_len());
    assert_eq!(params.len(), 4 * 2 * dims.hidden);
    let level = SimdLevel::detect();
    let (u_seq, h_seq) = (dims.u_per_sequence(), dims.h_per_sequence());
    h.par_chunks_mut(h_seq.max(1))
        .enumerate()
        .for_each(|(b, hb)| {
            let x = sequence_highway(highway, b, h_seq);
            let len = lengths[b].min(dims.time);
            forward_sequence(level, dims, &u[b * u_seq..][..u_seq], x, params, len, hb);
        });
}

vectorized! {
    /// [`forward`] of one sequence (`u` `[T, 2, k, H]`, `x` `[T, 2H]`, `h` `[T, 2H]`), both
    /// directions, in blocks of [`LANES`] hidden units: every unit runs the scalar formula in
    /// the same order, so every instruction set gives the same bits.
    fn forward_sequence(
        dims: RecurrenceDims,
        u: &[f32],
        x: Option<(&[f32], f32)>,
        params: &[f32],
        len: usize,
        h: &mut [f32],
    ) {
        let (hd, k) = (dims.hidden, dims.blocks);
        h.fill(0.0);
        let mut c = vec![0f32; hd];
        for d in 0..2 {
            let [vf, vr, bf, br] = direction_params(params, d, hd);
            c.fill(0.0);
            for s in 0..len {
                let t = time_of(d, s, len);
                let ub = &u[(t * 2 + d) * k * hd..][..k * hd];
                let xs = match x {
                    None => &ub[3 * hd..4 * hd],
                    Some((x, _)) => &x[t * 2 * hd + d * hd..][..hd],
                };
                let out = &mut h[t * 2 * hd + d * hd..][..hd];
                for j0 in (0..hd).step_by(LANES) {
                    let n = LANES.min(hd - j0);
                    let load = |v: &[f32]| load_block(&v[j0..], n);
                    let (u0, u1, u2) = (load(&ub[..hd]), load(&ub[hd..]), load(&ub[2 * hd..]));
                    let (vfb, vrb, bfb, brb) = (load(vf), load(vr), load(bf), load(br));
                    let xb = load(xs);
                    let mut cb = load(&c);
                    let mut hb = [0f32; LANES];
                    for l in 0..LANES {
                        let cp = cb[l];
                        let f = sigmoid(u1[l] + vfb[l] * cp + bfb[l]);
                        let r = sigmoid(u2[l] + vrb[l] * cp + brb[l]);
                        let cn = f * cp + (1.0 - f) * u0[l];
                        let xp = match x {
                            None => xb[l],
                            Some((_, alpha)) => alpha * xb[l],
                        };
                        hb[l] = r * cn + (1.0 - r) * xp;
                        cb[l] = cn;
                    }
                    store_block(&mut c[j0..], &cb, n);
                    store_block(&mut out[j0..], &hb, n);
                }
            }
        }
    }
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
    assert_eq!(dh.len(), dims.h_len());
    let hd = dims.hidden;
    let has_x = matches!(highway, Highway::Input(..));
    let mut du = vec![0f32; dims.u_len()];
    let mut dx = vec![0f32; if has_x { dims.h_len() } else { 0 }];
    if dims.time == 0 || dims.batch == 0 {
        return RecurrenceGrads {
            du,
            dx,
            dparams: vec![0f32; 8 * hd],
        };
    }
    let level = SimdLevel::detect();
    let (u_seq, h_seq) = (dims.u_per_sequence(), dims.h_per_sequence());
    // Each sequence writes its own slices of `du` and `dx` in place (no per-sequence buffers to
    // concatenate); only the small parameter gradients are per sequence, summed in order below.
    let mut dx_parts: Vec<&mut [f32]> = if has_x {
        dx.chunks_mut(h_seq).collect()
    } else {
        (0..dims.batch).map(|_| <&mut [f32]>::default()).collect()
    };
    let per_b: Vec<Vec<f32>> = du
        .par_chunks_mut(u_seq)
        .zip(dx_parts.par_iter_mut())
        .enumerate()
        .map(|(b, (du, dx))| {
            let mut dp = vec![0f32; 8 * hd];
            let seq = SequenceGrads {
                u: &u[b * u_seq..][..u_seq],
                x: sequence_highway(highway, b, h_seq),
                dh: &dh[b * h_seq..][..h_seq],
                len: lengths[b].min(dims.time),
            };
            backward_sequence(level, dims, &seq, params, du, dx, &mut dp);
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

/// The inputs of one sequence's backward pass: `u` `[T, 2, k, H]`, the highway input `[T, 2H]`
/// with its scale (layers 2..n), `dh` `[T, 2H]`, and the number of valid frames.
struct SequenceGrads<'a> {
    u: &'a [f32],
    x: Option<(&'a [f32], f32)>,
    dh: &'a [f32],
    len: usize,
}

vectorized! {
    /// [`backward`] of one sequence, in blocks of [`LANES`] hidden units as [`forward_sequence`]:
    /// writes `du` (`[T, 2, k, H]`), `dx` (`[T, 2H]`, layers 2..n) and adds the parameter
    /// gradients of this sequence to `dp`. The first pass over time recomputes and keeps the cell
    /// states and forget gates; the reverse pass reads them.
    fn backward_sequence(
        dims: RecurrenceDims,
        seq: &SequenceGrads<'_>,
        params: &[f32],
        du: &mut [f32],
        dx: &mut [f32],
        dp: &mut [f32],
    ) {
        let (hd, k, len) = (dims.hidden, dims.blocks, seq.len);
        // c_hist[s·H + j]: cell state after processing step s; f_hist the forget gate of step s.
        let mut c_hist = vec![0f32; len * hd];
        let mut f_hist = vec![0f32; len * hd];
        let mut dc_next = vec![0f32; hd];
        let zeros = vec![0f32; hd];
        for d in 0..2 {
            let [vf, vr, bf, br] = direction_params(params, d, hd);
            for s in 0..len {
                let t = time_of(d, s, len);
                let ub = &seq.u[(t * 2 + d) * k * hd..][..k * hd];
                let (done, rest) = c_hist.split_at_mut(s * hd);
                let c_prev = if s == 0 { &zeros[..] } else { &done[(s - 1) * hd..] };
                let c_out = &mut rest[..hd];
                for j0 in (0..hd).step_by(LANES) {
                    let n = LANES.min(hd - j0);
                    let load = |v: &[f32]| load_block(&v[j0..], n);
                    let (u0, u1, vfb, bfb, cpb) =
                        (load(&ub[..hd]), load(&ub[hd..]), load(vf), load(bf), load(c_prev));
                    let mut fb = [0f32; LANES];
                    let mut cb = [0f32; LANES];
                    for l in 0..LANES {
                        let cp = cpb[l];
                        let f = sigmoid(u1[l] + vfb[l] * cp + bfb[l]);
                        fb[l] = f;
                        cb[l] = f * cp + (1.0 - f) * u0[l];
                    }
                    store_block(&mut c_out[j0..], &cb, n);
                    store_block(&mut f_hist[s * hd + j0..], &fb, n);
                }
            }
            dc_next.fill(0.0);
            for s in (0..len).rev() {
                let t = time_of(d, s, len);
                let ub = &seq.u[(t * 2 + d) * k * hd..][..k * hd];
                let dub = &mut du[(t * 2 + d) * k * hd..][..k * hd];
                let dhrow = &seq.dh[t * 2 * hd + d * hd..][..hd];
                let xs = match seq.x {
                    None => &ub[3 * hd..4 * hd],
                    Some((x, _)) => &x[t * 2 * hd + d * hd..][..hd],
                };
                let c_prev = if s == 0 { &zeros[..] } else { &c_hist[(s - 1) * hd..][..hd] };
                let c_now = &c_hist[s * hd..][..hd];
                let f_now = &f_hist[s * hd..][..hd];
                for j0 in (0..hd).step_by(LANES) {
                    let n = LANES.min(hd - j0);
                    let load = |v: &[f32]| load_block(&v[j0..], n);
                    let (u0, u2, xb, g) = (load(&ub[..hd]), load(&ub[2 * hd..]), load(xs), load(dhrow));
                    let (vfb, vrb, brb) = (load(vf), load(vr), load(br));
                    let (cpb, cnb, fb, mut dcn) = (load(c_prev), load(c_now), load(f_now), load(&dc_next));
                    let mut du0 = [0f32; LANES];
                    let mut daf = [0f32; LANES];
                    let mut dar = [0f32; LANES];
                    let mut dxp = [0f32; LANES];
                    let mut dvf = [0f32; LANES];
                    let mut dvr = [0f32; LANES];
                    for l in 0..LANES {
                        let (cp, cn, f) = (cpb[l], cnb[l], fb[l]);
                        let r = sigmoid(u2[l] + vrb[l] * cp + brb[l]);
                        let xp = match seq.x {
                            None => xb[l],
                            Some((_, alpha)) => alpha * xb[l],
                        };
                        let dc = g[l] * r + dcn[l];
                        let da_r = g[l] * (cn - xp) * r * (1.0 - r);
                        let da_f = dc * (cp - u0[l]) * f * (1.0 - f);
                        du0[l] = dc * (1.0 - f);
                        daf[l] = da_f;
                        dar[l] = da_r;
                        dxp[l] = match seq.x {
                            None => g[l] * (1.0 - r),
                            Some((_, alpha)) => alpha * (g[l] * (1.0 - r)),
                        };
                        dvf[l] = da_f * cp;
                        dvr[l] = da_r * cp;
                        dcn[l] = dc * f + da_f * vfb[l] + da_r * vrb[l];
                    }
                    store_block(&mut dub[j0..], &du0, n);
                    store_block(&mut dub[hd + j0..], &daf, n);
                    store_block(&mut dub[2 * hd + j0..], &dar, n);
                    match seq.x {
                        None => store_block(&mut dub[3 * hd + j0..], &dxp, n),
                        Some(_) => store_block(&mut dx[t * 2 * hd + d * hd + j0..], &dxp, n),
                    }
                    add_block(&mut dp[d * hd + j0..], &dvf, n);
                    add_block(&mut dp[(2 + d) * hd + j0..], &dvr, n);
                    add_block(&mut dp[(4 + d) * hd + j0..], &daf, n);
                    add_block(&mut dp[(6 + d) * hd + j0..], &dar, n);
                    store_block(&mut dc_next[j0..], &dcn, n);
                }
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elementwise::hashed_noise;
    use proptest::prelude::*;

    /// The C library's `expf`.
    fn sigmoid_libm(x: f32) -> f32 {
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

    /// The forward pass as first written: scalar loops, the C library's `expf`.
    fn forward_reference(
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
                    let [vf, vr, bf, br] = direction_params(params, d, hd);
                    c.fill(0.0);
                    for t in steps(d, len) {
                        let ub = &u[((b * t_max + t) * 2 + d) * k * hd..][..k * hd];
                        let hrow = &mut hb[t * 2 * hd + d * hd..][..hd];
                        for j in 0..hd {
                            let cp = c[j];
                            let f = sigmoid_libm(ub[hd + j] + vf[j] * cp + bf[j]);
                            let r = sigmoid_libm(ub[2 * hd + j] + vr[j] * cp + br[j]);
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

    /// The backward pass as first written.
    fn backward_reference(
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
                    let [vf, vr, bf, br] = direction_params(params, d, hd);
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
                            let f = sigmoid_libm(ub[hd + j] + vf[j] * cp + bf[j]);
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
                            let f = sigmoid_libm(ub[hd + j] + vf[j] * cp + bf[j]);
                            let r = sigmoid_libm(ub[2 * hd + j] + vr[j] * cp + br[j]);
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
                                Highway::Input(_, alpha) => {
                                    dx[t * 2 * hd + d * hd + j] = alpha * dxp
                                }
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

    fn same_bits(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    proptest! {
        /// The blocked passes give the bits of the scalar ones with the C library's `expf`, on
        /// every instruction set, with either highway, hidden sizes that leave a partial block,
        /// and padded sequences.
        #[test]
        fn blocked_passes_match_the_scalar_reference_bit_for_bit(
            seed in 0u64..1000,
            batch in 1usize..4,
            time in 1usize..9,
            hidden in 1usize..40,
            gain in prop::sample::select(vec![0.3f32, 3.0, 30.0]),
            with_input in any::<bool>(),
        ) {
            let blocks = if with_input { 3 } else { 4 };
            let dims = RecurrenceDims { batch, time, hidden, blocks };
            let noise = |i: usize, salt: u64| hashed_noise(seed, salt, i) * gain;
            let u: Vec<f32> = (0..dims.u_len()).map(|i| noise(i, 1)).collect();
            let params: Vec<f32> = (0..8 * hidden).map(|i| noise(i, 2) / gain).collect();
            let x: Vec<f32> = (0..dims.h_len()).map(|i| noise(i, 3)).collect();
            let dh: Vec<f32> = (0..dims.h_len()).map(|i| noise(i, 4)).collect();
            let lengths: Vec<usize> = (0..batch).map(|b| time - (b % time.min(3))).collect();
            let highway = if with_input { Highway::Input(&x, 0.7) } else { Highway::FromU };
            let mut expected = vec![0f32; dims.h_len()];
            forward_reference(dims, &u, highway, &params, &lengths, &mut expected);
            let expected_grads = backward_reference(dims, &u, highway, &params, &lengths, &dh);
            let mut h = vec![0f32; dims.h_len()];
            forward(dims, &u, highway, &params, &lengths, &mut h);
            prop_assert!(same_bits(&h, &expected));
            let grads = backward(dims, &u, highway, &params, &lengths, &dh);
            prop_assert!(same_bits(&grads.du, &expected_grads.du));
            prop_assert!(same_bits(&grads.dx, &expected_grads.dx));
            prop_assert!(same_bits(&grads.dparams, &expected_grads.dparams));
            for level in SimdLevel::available() {
                let (u_seq, h_seq) = (dims.u_per_sequence(), dims.h_per_sequence());
                for b in 0..batch {
                    let xs = sequence_highway(highway, b, h_seq);
                    let len = lengths[b].min(time);
                    let mut hb = vec![1f32; h_seq];
                    forward_sequence(level, dims, &u[b * u_seq..][..u_seq], xs, &params, len, &mut hb);
                    prop_assert!(same_bits(&hb, &expected[b * h_seq..][..h_seq]), "{:?}", level);
                    let seq = SequenceGrads { u: &u[b * u_seq..][..u_seq], x: xs, dh: &dh[b * h_seq..][..h_seq], len };
                    let mut du = vec![0f32; u_seq];
                    let mut dx = vec![0f32; if with_input { h_seq } else { 0 }];
                    let mut dp = vec![0f32; 8 * hidden];
                    backward_sequence(level, dims, &seq, &params, &mut du, &mut dx, &mut dp);
                    prop_assert!(same_bits(&du, &expected_grads.du[b * u_seq..][..u_seq]), "{:?}", level);
                    if with_input {
                        prop_assert!(same_bits(&dx, &expected_grads.dx[b * h_seq..][..h_seq]), "{:?}", level);
                    }
                }
            }
        }
    }
}
