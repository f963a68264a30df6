//! placeholder, replaced by the crate owner
#![forbid(unsafe_code)]
