//! The four bit widths of the MOHAQ search space.

use crate::error::InvalidBitWidth;

/// A precision of a weight matrix or activation vector: 2, 4 and 8 are symmetric uniform signed
/// integers with an MMSE clipping threshold; 16 is 16-bit fixed point with a per-tensor
/// integer/fraction split (METHOD §4.1–4.2). Any other width cannot be constructed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BitWidth {
    B2,
    B4,
    B8,
    B16,
}

impl BitWidth {
    /// All widths, narrowest first.
    pub const ALL: [BitWidth; 4] = [BitWidth::B2, BitWidth::B4, BitWidth::B8, BitWidth::B16];

    /// [`Self::ALL`] as numbers of bits, for lists of allowed widths.
    pub const ALL_BITS: [u32; 4] = [2, 4, 8, 16];

    /// Parses a width; anything but 2, 4, 8 or 16 is [`InvalidBitWidth`]. The one width check.
    pub fn new(bits: u32) -> Result<Self, InvalidBitWidth> {
        match bits {
            2 => Ok(BitWidth::B2),
            4 => Ok(BitWidth::B4),
            8 => Ok(BitWidth::B8),
            16 => Ok(BitWidth::B16),
            other => Err(InvalidBitWidth(other)),
        }
    }

    /// Number of bits.
    pub const fn bits(self) -> u32 {
        match self {
            BitWidth::B2 => 2,
            BitWidth::B4 => 4,
            BitWidth::B8 => 8,
            BitWidth::B16 => 16,
        }
    }

    /// Largest integer code, 2^(b−1) − 1.
    pub const fn qmax(self) -> i32 {
        (1 << (self.bits() - 1)) - 1
    }

    /// Smallest integer code, −2^(b−1).
    pub const fn qmin(self) -> i32 {
        -(1 << (self.bits() - 1))
    }

    /// True for the 16-bit fixed-point format (which has no MMSE clipping).
    pub const fn is_fixed_point(self) -> bool {
        matches!(self, BitWidth::B16)
    }

    /// How many codes fit in one byte of packed storage (16-bit: none, it takes two bytes).
    pub const fn per_byte(self) -> usize {
        match self {
            BitWidth::B2 => 4,
            BitWidth::B4 => 2,
            BitWidth::B8 | BitWidth::B16 => 1,
        }
    }
}

impl TryFrom<u32> for BitWidth {
    type Error = InvalidBitWidth;
    fn try_from(bits: u32) -> Result<Self, InvalidBitWidth> {
        BitWidth::new(bits)
    }
}

impl From<BitWidth> for u32 {
    fn from(b: BitWidth) -> u32 {
        b.bits()
    }
}

impl std::fmt::Display for BitWidth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.bits())
    }
}

impl<'de> serde::Deserialize<'de> for BitWidth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bits = u32::deserialize(d)?;
        BitWidth::new(bits).map_err(serde::de::Error::custom)
    }
}

/// Serialised as the plain number of bits, so configs read `bits = 4`.
impl serde::Serialize for BitWidth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_four_widths_exist() {
        for b in [0, 1, 3, 5, 7, 12, 32] {
            assert_eq!(BitWidth::new(b), Err(InvalidBitWidth(b)));
        }
        for (w, b) in BitWidth::ALL.iter().zip(BitWidth::ALL_BITS) {
            assert_eq!(BitWidth::new(b).unwrap(), *w);
            assert_eq!(w.bits(), b);
        }
    }
}
