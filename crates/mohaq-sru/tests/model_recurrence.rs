//! The hand-written backward pass of the SRU recurrence against finite differences, for both
//! highway variants, both directions and padded sequences.

use std::sync::Arc;

use candle_core::{Device, Tensor, Var};
use mohaq_sru::model::recurrence::{forward, Highway, RecurrenceDims, SruRecurrence};
use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn rand_vec(rng: &mut ChaCha8Rng, n: usize, s: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-s..s)).collect()
}

/// loss = Σ h ⊙ probe, evaluated with the plain kernel in f32.
fn loss(
    dims: RecurrenceDims,
    u: &[f32],
    x: Option<(&[f32], f32)>,
    p: &[f32],
    lens: &[usize],
    probe: &[f32],
) -> f64 {
    let mut h = vec![0f32; dims.batch * dims.time * 2 * dims.hidden];
    let hw = match x {
        Some((x, a)) => Highway::Input(x, a),
        None => Highway::FromU,
    };
    forward(dims, u, hw, p, lens, &mut h);
    h.iter()
        .zip(probe)
        .map(|(a, b)| (*a as f64) * (*b as f64))
        .sum()
}

fn check(blocks: usize, alpha: Option<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(7 + blocks as u64);
    let (b, t, hd) = (2, 6, 3);
    let lens = vec![6usize, 4];
    let dims = RecurrenceDims {
        batch: b,
        time: t,
        hidden: hd,
        blocks,
    };
    let u = rand_vec(&mut rng, b * t * 2 * blocks * hd, 1.0);
    let x = rand_vec(&mut rng, b * t * 2 * hd, 1.0);
    let p = rand_vec(&mut rng, 8 * hd, 1.0);
    let probe = rand_vec(&mut rng, b * t * 2 * hd, 1.0);
    let dev = Device::Cpu;
    let uv =
        Var::from_tensor(&Tensor::from_slice(&u, (b, t, 2 * blocks * hd), &dev).unwrap()).unwrap();
    let xv = Var::from_tensor(&Tensor::from_slice(&x, (b, t, 2 * hd), &dev).unwrap()).unwrap();
    let pv = Var::from_tensor(&Tensor::from_slice(&p, (4, 2, hd), &dev).unwrap()).unwrap();
    let op = SruRecurrence {
        hidden: hd,
        blocks,
        lengths: Arc::new(lens.clone()),
        alpha,
    };
    let h = uv
        .as_tensor()
        .apply_op3(xv.as_tensor(), pv.as_tensor(), op)
        .unwrap();
    let probe_t = Tensor::from_slice(&probe, h.shape(), &dev).unwrap();
    let l = (h * probe_t).unwrap().sum_all().unwrap();
    let grads = l.backward().unwrap();
    let gu = grads
        .get(uv.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let gp = grads
        .get(pv.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let gx = grads
        .get(xv.as_tensor())
        .map(|g| g.flatten_all().unwrap().to_vec1::<f32>().unwrap());
    assert_eq!(gx.is_some(), alpha.is_some());

    let eps = 1e-2f32;
    let xa = |xx: &[f32]| alpha.map(|a| (xx.to_vec(), a));
    let mut max_err = 0f64;
    let mut compare = |analytic: f32, plus: f64, minus: f64| {
        let numeric = (plus - minus) / (2.0 * eps as f64);
        let err = (numeric - analytic as f64).abs() / (1.0 + numeric.abs());
        max_err = max_err.max(err);
    };
    for i in 0..u.len() {
        let (mut a, mut m) = (u.clone(), u.clone());
        a[i] += eps;
        m[i] -= eps;
        let xo = xa(&x);
        let xr = xo.as_ref().map(|(v, a)| (v.as_slice(), *a));
        compare(
            gu[i],
            loss(dims, &a, xr, &p, &lens, &probe),
            loss(dims, &m, xr, &p, &lens, &probe),
        );
    }
    for i in 0..p.len() {
        let (mut a, mut m) = (p.clone(), p.clone());
        a[i] += eps;
        m[i] -= eps;
        let xo = xa(&x);
        let xr = xo.as_ref().map(|(v, a)| (v.as_slice(), *a));
        compare(
            gp[i],
            loss(dims, &u, xr, &a, &lens, &probe),
            loss(dims, &u, xr, &m, &lens, &probe),
        );
    }
    if let (Some(gx), Some(al)) = (gx, alpha) {
        for i in 0..x.len() {
            let (mut a, mut m) = (x.clone(), x.clone());
            a[i] += eps;
            m[i] -= eps;
            compare(
                gx[i],
                loss(dims, &u, Some((&a, al)), &p, &lens, &probe),
                loss(dims, &u, Some((&m, al)), &p, &lens, &probe),
            );
        }
    }
    assert!(max_err < 5e-3, "max relative gradient error {max_err}");
    // Padding frames get no gradient.
    let k = 2 * blocks * hd;
    assert!(gu[(t + 4) * k..(t + 6) * k].iter().all(|&g| g == 0.0));
}

#[test]
fn gradient_matches_finite_differences_layer1_highway_block() {
    check(4, None);
}

#[test]
fn gradient_matches_finite_differences_scaled_input_highway() {
    check(3, Some(1.3175));
}

#[test]
fn backward_direction_starts_at_the_last_valid_frame() {
    // One unit, zero gates input: the backward state at frame 0 must see frame len-1's input,
    // not padding; compare a padded batch with the unpadded sequence.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let hd = 2;
    let u = rand_vec(&mut rng, 4 * 2 * 4 * hd, 1.0);
    let p = rand_vec(&mut rng, 8 * hd, 1.0);
    let short = RecurrenceDims {
        batch: 1,
        time: 3,
        hidden: hd,
        blocks: 4,
    };
    let padded = RecurrenceDims {
        batch: 1,
        time: 4,
        hidden: hd,
        blocks: 4,
    };
    let mut h3 = vec![0f32; 3 * 2 * hd];
    forward(short, &u[..3 * 8 * hd], Highway::FromU, &p, &[3], &mut h3);
    let mut h4 = vec![0f32; 4 * 2 * hd];
    forward(padded, &u, Highway::FromU, &p, &[3], &mut h4);
    assert_eq!(&h4[..3 * 2 * hd], &h3[..]);
    assert!(h4[3 * 2 * hd..].iter().all(|&v| v == 0.0));
}
