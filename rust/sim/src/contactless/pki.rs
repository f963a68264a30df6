//! The contactless cards' test PKI, now part of the simulator's one PKI module
//! ([`crate::pki`], deterministic and seeded): these names are kept for the crates and examples
//! that use them.

pub use crate::pki::{CONTACTLESS_CA_INDEX as TEST_CA_INDEX, ContactlessPki as TestPki, PkiError};
