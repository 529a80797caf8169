//! Counter-based random numbers: Philox4x32-10 (Salmon et al., SC 2011) with keyed streams.
//!
//! A [`Stream`] is a 64-bit key derived from `(run seed, name)`; a block of four u32 values
//! is a pure function of `(key, counter)`. Dropout masks use the counter
//! `(step, row, column block)`, so a mask depends only on `(seed, layer, step, element index)`
//! and never on the thread count or on which thread produced it; the backward pass can
//! regenerate it instead of storing it as floats. [`SeqRng`] walks a stream's counter one
//! block at a time for sequential consumers (initialization, shuffling).
//!
//! No global or OS-seeded generator exists anywhere in droplab.

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// One Philox4x32-10 block: four independent uniform u32 values for `(key, counter)`.
#[inline(always)]
pub fn philox4x32(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let [mut c0, mut c1, mut c2, mut c3] = ctr;
    let [mut k0, mut k1] = key;
    for _ in 0..10 {
        let p0 = (M0 as u64) * (c0 as u64);
        let p1 = (M1 as u64) * (c2 as u64);
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 = k0.wrapping_add(W0);
        k1 = k1.wrapping_add(W1);
    }
    [c0, c1, c2, c3]
}

/// Sixteen Philox blocks at once over consecutive `ctr[0]` values starting at `first`,
/// written lane-major into `out` (`out[4 * b + lane]`); the values equal sixteen calls of
/// [`philox4x32`].
#[inline]
pub fn philox_x16(first: u32, c1: u32, c2: u32, c3: u32, key: [u32; 2], out: &mut [u32; 64]) {
    philox_blocks::<16>(first, c1, c2, c3, key, out);
}

/// The first eight blocks of [`philox_x16`] (`out` = its first 32 values), at half the cost,
/// for a mask row that needs only one 64-bit word.
#[inline]
pub fn philox_x8(first: u32, c1: u32, c2: u32, c3: u32, key: [u32; 2], out: &mut [u32; 32]) {
    philox_blocks::<8>(first, c1, c2, c3, key, out);
}

/// `N` (8 or 16) blocks: eight at a time in AVX2 registers where the CPU has them (the
/// compiler does not vectorize the 32 x 32 -> 64-bit products of the portable loop, which made
/// mask generation most of a small network's Monte Carlo pass), else the portable loop.
#[inline(always)]
fn philox_blocks<const N: usize>(first: u32, c1: u32, c2: u32, c3: u32, key: [u32; 2], out: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        for h in 0..N / 8 {
            // SAFETY: AVX2 is present (checked above).
            unsafe {
                avx2::philox_x8(
                    first.wrapping_add(8 * h as u32),
                    c1,
                    c2,
                    c3,
                    key,
                    &mut out[32 * h..32 * h + 32],
                )
            };
        }
        return;
    }
    philox_portable::<N>(first, c1, c2, c3, key, out);
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    // The intrinsics are unsafe functions before Rust 1.87 and safe inside AVX2 functions
    // after: the `unsafe` blocks serve the older compilers.
    #![allow(unused_unsafe)]
    use super::{M0, M1, W0, W1};
    use std::arch::x86_64::*;

    /// High and low 32 bits of the eight products `a[i] * m` (`m` in each 64-bit lane's low
    /// half): even lanes from one widening multiply, odd lanes from a second after a shift.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn mulhilo(a: __m256i, m: __m256i) -> (__m256i, __m256i) {
        // SAFETY: AVX2 is enabled for this function.
        unsafe {
            let even = _mm256_mul_epu32(a, m);
            let odd = _mm256_mul_epu32(_mm256_srli_epi64::<32>(a), m);
            let hi = _mm256_blend_epi32::<0b1010_1010>(_mm256_srli_epi64::<32>(even), odd);
            let lo = _mm256_blend_epi32::<0b1010_1010>(even, _mm256_slli_epi64::<32>(odd));
            (hi, lo)
        }
    }

    /// Eight Philox4x32-10 blocks over counters `first..first + 8`, lane-major into `out[..32]`
    /// (the portable loop's layout and values).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn philox_x8(first: u32, c1: u32, c2: u32, c3: u32, key: [u32; 2], out: &mut [u32]) {
        assert!(out.len() >= 32);
        let mut lanes = [[0u32; 8]; 4];
        // SAFETY: AVX2 is enabled for this function; each store writes the 32 bytes of one
        // `[u32; 8]` (storeu has no alignment requirement).
        unsafe {
            let mut a0 = _mm256_add_epi32(
                _mm256_set1_epi32(first as i32),
                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            );
            let mut a1 = _mm256_set1_epi32(c1 as i32);
            let mut a2 = _mm256_set1_epi32(c2 as i32);
            let mut a3 = _mm256_set1_epi32(c3 as i32);
            let (m0, m1) = (_mm256_set1_epi64x(M0 as i64), _mm256_set1_epi64x(M1 as i64));
            let [mut k0, mut k1] = key;
            for _ in 0..10 {
                let (hi0, lo0) = mulhilo(a0, m0);
                let (hi1, lo1) = mulhilo(a2, m1);
                let n0 = _mm256_xor_si256(_mm256_xor_si256(hi1, a1), _mm256_set1_epi32(k0 as i32));
                let n2 = _mm256_xor_si256(_mm256_xor_si256(hi0, a3), _mm256_set1_epi32(k1 as i32));
                a1 = lo1;
                a3 = lo0;
                a0 = n0;
                a2 = n2;
                k0 = k0.wrapping_add(W0);
                k1 = k1.wrapping_add(W1);
            }
            for (dst, v) in lanes.iter_mut().zip([a0, a1, a2, a3]) {
                _mm256_storeu_si256(dst.as_mut_ptr().cast(), v);
            }
        }
        for i in 0..8 {
            for (w, l) in lanes.iter().enumerate() {
                out[4 * i + w] = l[i];
            }
        }
    }
}

#[inline(always)]
fn philox_portable<const N: usize>(first: u32, c1: u32, c2: u32, c3: u32, key: [u32; 2], out: &mut [u32]) {
    let mut a0 = [0u32; N];
    let mut a1 = [c1; N];
    let mut a2 = [c2; N];
    let mut a3 = [c3; N];
    for (i, a) in a0.iter_mut().enumerate() {
        *a = first.wrapping_add(i as u32);
    }
    let [mut k0, mut k1] = key;
    for _ in 0..10 {
        for i in 0..N {
            let p0 = (M0 as u64) * (a0[i] as u64);
            let p1 = (M1 as u64) * (a2[i] as u64);
            let n0 = ((p1 >> 32) as u32) ^ a1[i] ^ k0;
            let n2 = ((p0 >> 32) as u32) ^ a3[i] ^ k1;
            a1[i] = p1 as u32;
            a3[i] = p0 as u32;
            a0[i] = n0;
            a2[i] = n2;
        }
        k0 = k0.wrapping_add(W0);
        k1 = k1.wrapping_add(W1);
    }
    for i in 0..N {
        out[4 * i] = a0[i];
        out[4 * i + 1] = a1[i];
        out[4 * i + 2] = a2[i];
        out[4 * i + 3] = a3[i];
    }
}

/// SplitMix64 finalizer: a strong 64-bit mixing function.
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A keyed stream: the key of a Philox generator, derived from a seed and a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stream {
    key: u64,
}

impl Stream {
    /// The root stream of a run.
    pub fn root(seed: u64) -> Self {
        Stream {
            key: mix64(seed ^ 0x6472_6F70_6C61_6221),
        }
    }

    /// The stream for `(seed, name)`: `Stream::new(seed, "init")`, `Stream::new(seed, "layer.3")`.
    pub fn new(seed: u64, name: &str) -> Self {
        Stream::root(seed).derive(name)
    }

    /// A child stream named `name`; different names give unrelated streams.
    pub fn derive(self, name: &str) -> Self {
        // FNV-1a over the name, then mixed with the parent key.
        let mut h: u64 = 0xCBF2_9CE4_8422_2325;
        for b in name.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        Stream {
            key: mix64(self.key ^ mix64(h)),
        }
    }

    /// A child stream for an integer tag (an epoch, a fold, a Monte Carlo pass).
    pub fn derive_u64(self, tag: u64) -> Self {
        Stream {
            key: mix64(self.key ^ mix64(tag.wrapping_add(0x9E37_79B9_7F4A_7C15))),
        }
    }

    /// The two 32-bit words of the Philox key.
    pub fn key(self) -> [u32; 2] {
        [self.key as u32, (self.key >> 32) as u32]
    }

    /// The block at counter `(a, b, step)`.
    #[inline]
    pub fn block(self, step: u64, b: u32, a: u32) -> [u32; 4] {
        philox4x32([a, b, step as u32, (step >> 32) as u32], self.key())
    }

    /// A sequential generator walking this stream.
    pub fn seq(self) -> SeqRng {
        SeqRng {
            stream: self,
            counter: 0,
            buf: [0; 4],
            pos: 4,
        }
    }
}

/// A sequential generator over one stream (for initialization, shuffling, sampling).
#[derive(Clone, Debug)]
pub struct SeqRng {
    stream: Stream,
    counter: u64,
    buf: [u32; 4],
    pos: usize,
}

impl SeqRng {
    /// The next uniform u32.
    pub fn next_u32(&mut self) -> u32 {
        if self.pos == 4 {
            let c = self.counter;
            self.buf = philox4x32([c as u32, (c >> 32) as u32, 0x5E9_0000, 0], self.stream.key());
            self.counter += 1;
            self.pos = 0;
        }
        let v = self.buf[self.pos];
        self.pos += 1;
        v
    }

    /// The next uniform u64.
    pub fn next_u64(&mut self) -> u64 {
        ((self.next_u32() as u64) << 32) | self.next_u32() as u64
    }

    /// Uniform in `[0, 1)` with 24 bits of resolution.
    pub fn uniform(&mut self) -> f32 {
        u32_to_unit(self.next_u32())
    }

    /// Uniform in `[0, 1)` as f64 with 53 bits of resolution.
    pub fn uniform_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal sample (Box-Muller).
    pub fn normal(&mut self) -> f32 {
        let (a, b) = (self.next_u32(), self.next_u32());
        box_muller(a, b).0
    }

    /// Uniform integer in `[0, n)` without modulo bias (Lemire's method). `n` must be > 0.
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        loop {
            let x = self.next_u64();
            let m = (x as u128) * (n as u128);
            let lo = m as u64;
            if lo >= n.wrapping_neg() % n {
                return (m >> 64) as usize;
            }
        }
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// Maps a u32 to `[0, 1)` using its top 24 bits.
#[inline(always)]
pub fn u32_to_unit(x: u32) -> f32 {
    (x >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
}

/// Two independent standard normals from two uniform u32 (Box-Muller; `a` is mapped to
/// `(0, 1]` so the logarithm is finite).
#[inline]
pub fn box_muller(a: u32, b: u32) -> (f32, f32) {
    let u1 = ((a >> 8) as f32 + 1.0) * (1.0 / (1u32 << 24) as f32);
    let u2 = u32_to_unit(b);
    let r = (-2.0 * u1.ln()).sqrt();
    let t = std::f32::consts::TAU * u2;
    (r * t.cos(), r * t.sin())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philox_known_answer() {
        // Known-answer vectors of the Random123 distribution (kat_vectors, philox4x32_10).
        assert_eq!(
            philox4x32([0, 0, 0, 0], [0, 0]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox4x32([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox4x32(
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0]
            ),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    #[test]
    fn the_vector_path_equals_the_portable_loop() {
        for (seed, first) in [(1u64, 0u32), (2, 48), (3, u32::MAX - 5)] {
            let key = Stream::new(seed, "v").key();
            let (mut fast, mut slow) = ([0u32; 64], [0u32; 64]);
            philox_x16(first, 7, u32::MAX, 9, key, &mut fast);
            philox_portable::<16>(first, 7, u32::MAX, 9, key, &mut slow);
            assert_eq!(fast, slow);
        }
    }

    #[test]
    fn x8_is_the_first_half_of_x16() {
        let key = Stream::new(9, "y").key();
        let (mut a, mut b) = ([0u32; 64], [0u32; 32]);
        philox_x16(48, 1, 2, 3, key, &mut a);
        philox_x8(48, 1, 2, 3, key, &mut b);
        assert_eq!(&a[..32], &b[..]);
    }

    #[test]
    fn x16_equals_scalar() {
        let key = Stream::new(7, "x").key();
        let mut out = [0u32; 64];
        philox_x16(100, 3, 4, 5, key, &mut out);
        for i in 0..16u32 {
            let want = philox4x32([100 + i, 3, 4, 5], key);
            assert_eq!(&out[4 * i as usize..4 * i as usize + 4], &want);
        }
    }

    #[test]
    fn streams_differ_by_name_and_seed() {
        assert_ne!(Stream::new(1, "a"), Stream::new(1, "b"));
        assert_ne!(Stream::new(1, "a"), Stream::new(2, "a"));
        assert_eq!(Stream::new(1, "a"), Stream::new(1, "a"));
    }

    #[test]
    fn below_is_in_range_and_uniformish() {
        let mut r = Stream::new(3, "t").seq();
        let mut counts = [0usize; 7];
        for _ in 0..70_000 {
            counts[r.below(7)] += 1;
        }
        for c in counts {
            // mean 10000, sd ~93: 6 sigma
            assert!((c as i64 - 10_000).abs() < 560, "{counts:?}");
        }
    }

    #[test]
    fn normal_moments() {
        let mut r = Stream::new(4, "n").seq();
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal() as f64).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 6.0 / (n as f64).sqrt());
        assert!((var - 1.0).abs() < 6.0 * (2.0 / n as f64).sqrt());
    }
}
