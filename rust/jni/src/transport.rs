//! The per-APDU fast path: Rust calls `ApduTransceiver.transceive(byte[]): byte[]` through the
//! method ID cached in `JNI_OnLoad` (no JNA, no name lookup per call).

use jni::JNIEnv;
use jni::objects::{GlobalRef, JByteArray, JObject, JString, JThrowable};
use jni::signature::ReturnType;
use jni::sys::jvalue;
use smartpos_ffi::SmartPosError;

use crate::cache::JniCache;

/// A JNI failure that is not a Java exception (out of memory, detached thread...).
pub(crate) fn jni_error(error: jni::errors::Error) -> SmartPosError {
    SmartPosError::Transport {
        reason: format!("JNI: {error}"),
    }
}

/// Fail unless `reader` is a non-null `io.smartpos.jni.ApduTransceiver`: the precondition of
/// the unchecked call in [`transceive`]. Checked once per flow, not per APDU.
pub fn check_reader(
    env: &mut JNIEnv<'_>,
    cache: &JniCache,
    reader: &JObject<'_>,
) -> Result<(), SmartPosError> {
    let is_reader = !reader.is_null()
        && env
            .is_instance_of(reader, &cache.transceiver_class)
            .map_err(jni_error)?;
    if is_reader {
        Ok(())
    } else {
        Err(SmartPosError::InvalidInput {
            field: "reader".into(),
            reason: "null or not an io.smartpos.jni.ApduTransceiver".into(),
        })
    }
}

/// One APDU exchange through the Java reader. A Java exception thrown by `transceive` is
/// cleared and returned as [`SmartPosError::Transport`] with its `toString()`.
///
/// `reader` must have passed [`check_reader`].
pub fn transceive(
    env: &mut JNIEnv<'_>,
    cache: &JniCache,
    reader: &JObject<'_>,
    command: &[u8],
) -> Result<Vec<u8>, SmartPosError> {
    let array = env.byte_array_from_slice(command).map_err(jni_error)?;
    let args = [jvalue { l: array.as_raw() }];
    // SAFETY: `cache.transceive` is the method ID of `ApduTransceiver.transceive([B)[B`, looked
    // up on that interface in JNI_OnLoad and kept valid by the global reference to the class;
    // `reader` is a live local or global reference that `check_reader` proved to be an instance
    // of it; the one argument is a `byte[]` reference and the return type is an array, exactly
    // the signature `([B)[B`.
    let result =
        unsafe { env.call_method_unchecked(reader, cache.transceive, ReturnType::Array, &args) };
    // Flows run many APDUs on one native frame or on an attached Rust thread: free as we go.
    let _ = env.delete_local_ref(array);
    match result {
        Ok(value) => {
            let object = value.l().map_err(jni_error)?;
            if object.is_null() {
                return Err(SmartPosError::Transport {
                    reason: "transceive returned null".into(),
                });
            }
            let response = JByteArray::from(object);
            let bytes = env.convert_byte_array(&response).map_err(jni_error);
            let _ = env.delete_local_ref(response);
            bytes
        }
        Err(jni::errors::Error::JavaException) => Err(take_exception(env)),
        Err(error) => Err(jni_error(error)),
    }
}

/// Clear the pending Java exception and describe it.
fn take_exception(env: &mut JNIEnv<'_>) -> SmartPosError {
    let throwable = env.exception_occurred();
    let _ = env.exception_clear();
    let reason = throwable
        .ok()
        .and_then(|t| describe(env, &t))
        .unwrap_or_else(|| "the reader threw an exception".to_string());
    SmartPosError::Transport { reason }
}

/// `throwable.toString()`, or `None` if that fails too (its exception is cleared).
fn describe(env: &mut JNIEnv<'_>, throwable: &JThrowable<'_>) -> Option<String> {
    let text = env
        .call_method(throwable, "toString", "()Ljava/lang/String;", &[])
        .and_then(|v| v.l());
    match text {
        Ok(object) if !object.is_null() => {
            let text = JString::from(object);
            let out = env.get_string(&text).ok().map(String::from);
            let _ = env.delete_local_ref(text);
            out
        }
        Ok(_) => None,
        Err(_) => {
            let _ = env.exception_clear();
            None
        }
    }
}

/// The fast path as a [`smartpos_ffi::CardReader`], for Rust code on any thread (the terminal's
/// kernel thread): holds a global reference to the Java `ApduTransceiver` and attaches the calling
/// thread to the JVM through the cached `JavaVM` (permanently: a kernel thread exchanges many
/// APDUs, and attaching costs far more than one exchange; the thread detaches when it exits).
pub struct JniCardReader {
    reader: GlobalRef,
}

impl JniCardReader {
    /// Wrap `reader`, which must be a non-null `io.smartpos.jni.ApduTransceiver`.
    pub fn new(env: &mut JNIEnv<'_>, reader: &JObject<'_>) -> Result<Self, SmartPosError> {
        let cache = crate::cache::cache()?;
        check_reader(env, cache, reader)?;
        let reader = env.new_global_ref(reader).map_err(jni_error)?;
        Ok(JniCardReader { reader })
    }
}

impl smartpos_ffi::CardReader for JniCardReader {
    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
        let cache = crate::cache::cache()?;
        let vm = crate::cache::java_vm()?;
        let mut env = vm.attach_current_thread_permanently().map_err(jni_error)?;
        transceive(&mut env, cache, self.reader.as_obj(), &apdu)
    }
}
