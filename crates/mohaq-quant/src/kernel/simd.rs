//! Run-time choice of the instruction set for elementwise loops (calibration, quantization of
//! activations, the fixed-point recurrence).
//!
//! The crates build for the baseline x86-64 target (SSE2), so a plain loop runs 4 f32 lanes wide.
//! [`vectorized!`](crate::vectorized) compiles one loop body several times, with AVX-512 and with
//! AVX2 + FMA enabled, and [`SimdLevel::detect`] picks the widest the CPU has. The body is the
//! same Rust code in every copy and Rust never reassociates or contracts floating-point
//! operations, so every copy gives bit-identical results; only the register width differs.

/// An instruction-set level for [`vectorized!`](crate::vectorized) functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimdLevel {
    /// Baseline code for the build target (SSE2 on x86-64; any CPU).
    Portable,
    /// AVX2 and FMA (Haswell, Zen and later).
    Avx2,
    /// AVX-512 F/BW/DQ/VL with AVX2 and FMA (Skylake server, Zen 4 and later).
    Avx512,
}

impl SimdLevel {
    /// The widest level this CPU runs (feature detection is cached by the standard library).
    #[inline]
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if Self::Avx512.is_available() {
                return Self::Avx512;
            }
            if Self::Avx2.is_available() {
                return Self::Avx2;
            }
        }
        Self::Portable
    }

    /// Whether this CPU can run the level.
    pub fn is_available(self) -> bool {
        match self {
            Self::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => {
                Self::Avx2.is_available()
                    && is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512dq")
                    && is_x86_feature_detected!("avx512vl")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Every level this CPU runs, narrowest first (for tests that compare them).
    pub fn available() -> Vec<Self> {
        [Self::Portable, Self::Avx2, Self::Avx512]
            .into_iter()
            .filter(|l| l.is_available())
            .collect()
    }
}

/// Defines `fn name(level: SimdLevel, args…) -> ret` whose body is compiled for each
/// [`SimdLevel`]; a level the CPU lacks falls back to the portable copy, so any `level` is safe.
///
/// ```
/// mohaq_quant::vectorized! {
///     /// Doubles every value.
///     pub fn double(v: &mut [f32]) {
///         v.iter_mut().for_each(|x| *x *= 2.0);
///     }
/// }
/// let mut v = [1.0f32, 2.5];
/// double(mohaq_quant::SimdLevel::detect(), &mut v);
/// assert_eq!(v, [2.0, 5.0]);
/// ```
#[macro_export]
macro_rules! vectorized {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name(level: $crate::SimdLevel, $($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                match level {
                    // SAFETY: the CPU has the features the copy was compiled for (checked here).
                    $crate::SimdLevel::Avx512 if level.is_available() => unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    $crate::SimdLevel::Avx2 if level.is_available() => unsafe { avx2($($arg),*) },
                    _ => body($($arg),*),
                }
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                let _ = level;
                body($($arg),*)
            }
        }
    };
}
