//! The kernel's data store: card data objects (from FCI, GPO, records, GENERATE AC) and terminal
//! data objects, by tag (EMV Book 3 §7, Annex A).

/// Where a data object came from; Book 3 §10.2 forbids a card data object twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Terminal,
    Card,
}

/// Tag → value for one transaction. A transaction holds some 60 objects, so a vector with a
/// linear search beats hashing.
#[derive(Clone, Default)]
pub struct TagStore {
    values: Vec<(u32, Source, Vec<u8>)>,
}

impl std::fmt::Debug for TagStore {
    /// Tags only: values may hold PAN or track data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut tags: Vec<_> = self
            .values
            .iter()
            .map(|(t, _, _)| format!("{t:X}"))
            .collect();
        tags.sort();
        write!(f, "TagStore({})", tags.join(","))
    }
}

impl TagStore {
    pub fn new() -> Self {
        TagStore::default()
    }
    fn slot(&self, tag: u32) -> Option<usize> {
        self.values.iter().position(|(t, _, _)| *t == tag)
    }
    fn put(&mut self, tag: u32, source: Source, value: Vec<u8>) {
        match self.slot(tag) {
            Some(i) => {
                if let Some(e) = self.values.get_mut(i) {
                    *e = (tag, source, value);
                }
            }
            None => self.values.push((tag, source, value)),
        }
    }
    pub fn get(&self, tag: u32) -> Option<&[u8]> {
        self.values
            .iter()
            .find(|(t, _, _)| *t == tag)
            .map(|(_, _, v)| v.as_slice())
    }
    pub fn contains(&self, tag: u32) -> bool {
        self.slot(tag).is_some()
    }
    pub fn source(&self, tag: u32) -> Option<Source> {
        self.values
            .iter()
            .find(|(t, _, _)| *t == tag)
            .map(|(_, s, _)| *s)
    }
    /// Set a terminal data object (overwrites).
    pub fn set_terminal(&mut self, tag: u32, value: impl Into<Vec<u8>>) {
        self.put(tag, Source::Terminal, value.into());
    }
    /// Set a card data object, overwriting (FCI/GENERATE AC data that may legitimately change).
    pub fn set_card(&mut self, tag: u32, value: impl Into<Vec<u8>>) {
        self.put(tag, Source::Card, value.into());
    }
    /// Add a card data object read from a record; `false` if the card already supplied it.
    pub fn add_card_once(&mut self, tag: u32, value: &[u8]) -> bool {
        if self.source(tag) == Some(Source::Card) {
            return false;
        }
        self.put(tag, Source::Card, value.to_vec());
        true
    }
    pub fn remove(&mut self, tag: u32) {
        self.values.retain(|(t, _, _)| *t != tag);
    }
    /// First byte of a value, if any.
    pub fn byte(&self, tag: u32, index: usize) -> Option<u8> {
        self.get(tag).and_then(|v| v.get(index).copied())
    }
    /// A numeric (n) value as an integer (BCD), e.g. amounts 9F02.
    pub fn bcd_u64(&self, tag: u32) -> Option<u64> {
        bcd_to_u64(self.get(tag)?)
    }
    /// A binary value as an integer (e.g. 9F14 LCOL, 9F36 ATC).
    pub fn bin_u64(&self, tag: u32) -> Option<u64> {
        let v = self.get(tag)?;
        if v.len() > 8 {
            return None;
        }
        Some(v.iter().fold(0u64, |a, b| a << 8 | u64::from(*b)))
    }
}

/// Decode BCD digits into an integer; `None` on a non-decimal nibble (F padding ends the number).
pub fn bcd_to_u64(bcd: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for b in bcd {
        for nib in [b >> 4, b & 0x0F] {
            if nib == 0x0F {
                return Some(v);
            }
            if nib > 9 {
                return None;
            }
            v = v.checked_mul(10)?.checked_add(u64::from(nib))?;
        }
    }
    Some(v)
}

/// Encode an integer as `len` bytes of BCD (n format), left-padded with zeros.
pub fn u64_to_bcd(mut v: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    for b in out.iter_mut().rev() {
        let lo = (v % 10) as u8;
        v /= 10;
        let hi = (v % 10) as u8;
        v /= 10;
        *b = hi << 4 | lo;
    }
    out
}

/// PAN digits from the cn-format value of tag 5A.
pub fn pan_string(bcd: &[u8]) -> String {
    let mut s = String::with_capacity(bcd.len() * 2);
    for b in bcd {
        for nib in [b >> 4, b & 0x0F] {
            if nib > 9 {
                return s;
            }
            s.push(char::from(b'0' + nib));
        }
    }
    s
}
