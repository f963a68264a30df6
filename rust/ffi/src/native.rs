//! Readers registered by the raw-JNI fast path (smartpos-jni, `NativeApdu.openReader`).
//!
//! The JNI side wraps the app's `ApduTransceiver` in a reader that calls it through a cached
//! method ID, registers it here and hands Kotlin the handle; the coarse kernel calls
//! ([`crate::EmvKernel::tap_native`], [`crate::EmvKernel::start_contact_native`]) then run the
//! very same kernel over it. One UniFFI call per transaction, one JNI call per APDU
//! (ARCHITECTURE.md principle 8).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use crate::error::SmartPosError;
use crate::session::CardReader;

type Registry = HashMap<u64, Arc<dyn CardReader>>;

static READERS: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(HashMap::new()));
/// Handles start at 1: 0 is never a valid handle (a Kotlin `Long` default).
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

fn registry() -> MutexGuard<'static, Registry> {
    // Inserts and removes cannot leave the map half-updated: a poisoned lock is still usable.
    READERS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Register `reader` and return its handle (for smartpos-jni).
pub fn register_reader(reader: Arc<dyn CardReader>) -> u64 {
    let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    registry().insert(handle, reader);
    handle
}

/// The reader behind `handle`.
pub(crate) fn reader(handle: u64) -> Result<Arc<dyn CardReader>, SmartPosError> {
    registry()
        .get(&handle)
        .cloned()
        .ok_or_else(|| SmartPosError::InvalidInput {
            field: "reader_handle".into(),
            reason: format!("no native reader {handle} (never opened, or already released)"),
        })
}

/// Forget the reader behind `handle` (its global JNI reference is freed once no transaction
/// still uses it). Returns whether the handle was registered.
#[uniffi::export]
pub fn release_native_reader(handle: u64) -> bool {
    registry().remove(&handle).is_some()
}

/// Readers currently registered (for leak checks in tests).
#[uniffi::export]
pub fn native_reader_count() -> u64 {
    registry().len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;
    impl CardReader for Echo {
        fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
            Ok(apdu)
        }
    }

    #[test]
    fn register_lookup_release() {
        let h = register_reader(Arc::new(Echo));
        assert_ne!(h, 0);
        assert_eq!(reader(h).unwrap().transceive(vec![1]).unwrap(), vec![1]);
        assert!(release_native_reader(h));
        assert!(!release_native_reader(h));
        assert!(matches!(
            reader(h),
            Err(SmartPosError::InvalidInput { field, .. }) if field == "reader_handle"
        ));
        assert!(reader(0).is_err());
    }
}
