//! Derived Unique Key Per Transaction.
//!
//! * [`tdes`]: TDES DUKPT of ANSI X9.24-1:2009 (10-byte KSN, 21-bit counter, at most 10 one bits).
//! * [`aes`]: AES DUKPT of ANSI X9.24-3:2017 (12-byte KSN, 32-bit counter, at most 16 one bits).
//!
//! Both offer the receiver (host) side, deriving any transaction's keys from the BDK and the KSN, and
//! the originator (terminal) side, which keeps only future keys in its registers and erases each key
//! once used, so that a compromised device does not reveal past keys.

pub mod aes;
pub mod tdes;

use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::key::{KeyAlgorithm, SecretKey};

/// Future-key registers of a DUKPT originator (ANSI X9.24-1:2009 A.2 for 21 registers and at most
/// 10 one bits; X9.24-3:2017 §6.5 for 32 registers and at most 16).
///
/// Register `i` belongs to counter bit `1 << (bits - 1 - i)`. Invariant before a transaction at
/// counter `c`: the register of `c`'s lowest set bit holds the key of `c`, and for every higher bit
/// `b` that is clear in `c`, the register of `b` holds the key of the next counter whose lowest set
/// bit is `b`.
pub(crate) struct FutureKeys {
    regs: Vec<Option<SecretKey>>,
    bits: u32,
    max_ones: u32,
    counter: u64,
    exhausted: bool,
}

/// One derivation step: the key for `counter` from the key of its parent.
pub(crate) type Step<'a> = &'a mut dyn FnMut(&SecretKey, u64) -> Result<SecretKey, CryptoError>;

impl FutureKeys {
    fn index(&self, bit: u64) -> usize {
        (self.bits - 1 - bit.trailing_zeros()) as usize
    }

    /// Load the initial key at counter 0: fill every register from it, then move to counter 1.
    pub(crate) fn load(
        initial: &SecretKey,
        bits: u32,
        max_ones: u32,
        step: Step<'_>,
    ) -> Result<Self, CryptoError> {
        let mut fk = FutureKeys {
            regs: vec![None; bits as usize],
            bits,
            max_ones,
            counter: 0,
            exhausted: false,
        };
        for shift in (0..bits).rev() {
            let bit = 1u64 << shift;
            let idx = fk.index(bit);
            if let Some(slot) = fk.regs.get_mut(idx) {
                *slot = Some(step(initial, bit)?);
            }
        }
        fk.counter = 1;
        Ok(fk)
    }

    /// Rebuild the register state an originator has at `counter` from the initial key, using the
    /// receiver-side derivation `derive(counter_value)`. For simulators and tests: a real device
    /// never keeps the initial key.
    pub(crate) fn at_counter(
        counter: u64,
        bits: u32,
        max_ones: u32,
        derive: &mut dyn FnMut(u64) -> Result<SecretKey, CryptoError>,
    ) -> Result<Self, CryptoError> {
        if counter == 0 || counter >= (1u64 << bits) || counter.count_ones() > max_ones {
            return Err(CryptoError::InvalidKsn {
                reason: format!(
                    "counter {counter:#X} is not a usable transaction counter ({bits} bits, at most {max_ones} ones)"
                ),
            });
        }
        let mut fk = FutureKeys {
            regs: vec![None; bits as usize],
            bits,
            max_ones,
            counter,
            exhausted: false,
        };
        let lsb = counter & counter.wrapping_neg();
        for shift in lsb.trailing_zeros()..bits {
            let bit = 1u64 << shift;
            let value = if bit == lsb {
                counter
            } else if counter & bit == 0 {
                (counter & !((bit << 1) - 1)) | bit
            } else {
                continue;
            };
            let idx = fk.index(bit);
            let key = derive(value)?;
            if let Some(slot) = fk.regs.get_mut(idx) {
                *slot = Some(key);
            }
        }
        Ok(fk)
    }

    /// The counter of the next transaction.
    pub(crate) fn counter(&self) -> Result<u64, CryptoError> {
        if self.exhausted {
            Err(CryptoError::DukptExhausted)
        } else {
            Ok(self.counter)
        }
    }

    /// Take the current counter's key (erasing its register), generate the future keys below its
    /// lowest set bit, and advance the counter, skipping values with more than `max_ones` one bits.
    pub(crate) fn next(&mut self, step: Step<'_>) -> Result<(u64, SecretKey), CryptoError> {
        let c = self.counter()?;
        let lsb = c & c.wrapping_neg();
        let idx = self.index(lsb);
        let key = self
            .regs
            .get_mut(idx)
            .and_then(Option::take)
            .ok_or(CryptoError::DukptRegisterEmpty { register: idx + 1 })?;
        let next = if c.count_ones() < self.max_ones {
            for shift in (0..lsb.trailing_zeros()).rev() {
                let bit = 1u64 << shift;
                let i = self.index(bit);
                let future = step(&key, c | bit)?;
                if let Some(slot) = self.regs.get_mut(i) {
                    *slot = Some(future);
                }
            }
            c + 1
        } else {
            c + lsb
        };
        if next >= (1u64 << self.bits) {
            self.exhausted = true;
            // Erase every remaining register: the device is at end of life.
            self.regs.iter_mut().for_each(|r| *r = None);
        } else {
            self.counter = next;
        }
        Ok((c, key))
    }

    /// Serialise the register state: counter (8 bytes), exhausted flag, presence bitmap (4 bytes,
    /// bit i = register i), then the present keys in register order. Zeroized on drop.
    pub(crate) fn export(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(16 + self.regs.len() * 32));
        out.extend_from_slice(&self.counter.to_be_bytes());
        out.push(u8::from(self.exhausted));
        let mut bitmap = 0u32;
        for (i, r) in self.regs.iter().enumerate() {
            if r.is_some() {
                bitmap |= 1 << i;
            }
        }
        out.extend_from_slice(&bitmap.to_be_bytes());
        for key in self.regs.iter().flatten() {
            out.extend_from_slice(key.as_bytes());
        }
        out
    }

    /// Inverse of [`FutureKeys::export`]; every field is checked.
    pub(crate) fn import(
        bytes: &[u8],
        bits: u32,
        max_ones: u32,
        algorithm: KeyAlgorithm,
    ) -> Result<Self, CryptoError> {
        let bad = |reason: &str| CryptoError::InvalidInput {
            field: "dukpt state",
            reason: reason.to_string(),
        };
        let header = bytes
            .get(..13)
            .ok_or_else(|| bad("shorter than its header"))?;
        let (counter_bytes, rest) = header.split_at(8);
        let mut c = [0u8; 8];
        c.copy_from_slice(counter_bytes);
        let counter = u64::from_be_bytes(c);
        let exhausted = match rest.first() {
            Some(0) => false,
            Some(1) => true,
            _ => return Err(bad("bad exhausted flag")),
        };
        let mut b = [0u8; 4];
        b.copy_from_slice(rest.get(1..5).ok_or_else(|| bad("no bitmap"))?);
        let bitmap = u32::from_be_bytes(b);
        if bits < 32 && bitmap >> bits != 0 {
            return Err(bad("bitmap names registers that do not exist"));
        }
        if !exhausted
            && (counter == 0 || counter >= (1u64 << bits) || counter.count_ones() > max_ones)
        {
            return Err(bad("counter out of range"));
        }
        let klen = algorithm.key_len();
        let body = bytes.get(13..).unwrap_or_default();
        if body.len() != bitmap.count_ones() as usize * klen {
            return Err(bad("key material length does not match the bitmap"));
        }
        let mut regs = vec![None; bits as usize];
        let mut chunks = body.chunks_exact(klen);
        for (i, slot) in regs.iter_mut().enumerate() {
            if bitmap & (1 << i) != 0 {
                let k = chunks.next().ok_or_else(|| bad("missing key"))?;
                *slot = Some(SecretKey::new(algorithm, k)?);
            }
        }
        let fk = FutureKeys {
            regs,
            bits,
            max_ones,
            counter,
            exhausted,
        };
        if !exhausted {
            let lsb = counter & counter.wrapping_neg();
            let present = fk.regs.get(fk.index(lsb)).is_some_and(Option::is_some);
            if !present {
                return Err(bad("the current counter's register is empty"));
            }
        }
        Ok(fk)
    }
}
