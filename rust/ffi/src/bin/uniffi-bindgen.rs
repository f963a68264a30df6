//! The pinned UniFFI bindgen, built from the same `uniffi` version (and Cargo.lock) as libsmartpos.
//! Usage: `cargo run -p smartpos-ffi --features bindgen-cli --bin uniffi-bindgen -- generate --library ...`
fn main() {
    uniffi::uniffi_bindgen_main()
}
