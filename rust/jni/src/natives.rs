//! Natives of the Kotlin object `io.smartpos.jni.NativeApdu` (`@JvmStatic external fun`).
//!
//! Every function runs its body through [`guarded`]: a [`SmartPosError`] becomes a thrown
//! `io.smartpos.jni.NativeApduException(kind, message)`, a panic a `java.lang.RuntimeException`;
//! nothing unwinds into the JVM.

use std::panic::{AssertUnwindSafe, catch_unwind};

use jni::JNIEnv;
use jni::objects::{JByteArray, JClass, JObject, JValue};
use jni::sys::{jbyteArray, jstring};
use std::sync::Arc;

use jni::sys::jlong;
use smartpos_ffi::SmartPosError;
use smartpos_ffi::apdu::Response;

use crate::cache::{self, JniCache};
use crate::transport::{JniCardReader, check_reader, jni_error, transceive};

/// The Kotlin-visible name of an error variant (`NativeApduException.kind`), the same names as
/// the UniFFI exception subclasses.
pub fn error_kind(error: &SmartPosError) -> &'static str {
    match error {
        SmartPosError::InvalidInput { .. } => "InvalidInput",
        SmartPosError::MalformedTlv { .. } => "MalformedTlv",
        SmartPosError::Transport { .. } => "Transport",
        SmartPosError::CardStatus { .. } => "CardStatus",
        SmartPosError::Protocol { .. } => "Protocol",
        SmartPosError::InvalidConfiguration { .. } => "InvalidConfiguration",
        SmartPosError::Cancelled { .. } => "Cancelled",
        SmartPosError::Declined { .. } => "Declined",
        SmartPosError::HostUnavailable { .. } => "HostUnavailable",
        SmartPosError::Card { .. } => "Card",
        SmartPosError::KeyMissing { .. } => "KeyMissing",
        SmartPosError::Journal { .. } => "Journal",
        SmartPosError::Refused { .. } => "Refused",
        SmartPosError::NotAuthorised { .. } => "NotAuthorised",
        SmartPosError::OperatorLocked { .. } => "OperatorLocked",
        SmartPosError::Device { .. } => "Device",
    }
}

fn throw_error(env: &mut JNIEnv<'_>, error: &SmartPosError) {
    let thrown = cache::cache().and_then(|cache| throw_typed(env, cache, error));
    if thrown.is_err() {
        let _ = env.throw_new("java/lang/IllegalStateException", error.to_string());
    }
}

fn throw_typed(
    env: &mut JNIEnv<'_>,
    cache: &JniCache,
    error: &SmartPosError,
) -> Result<(), SmartPosError> {
    let kind = env.new_string(error_kind(error)).map_err(jni_error)?;
    let message = env.new_string(error.to_string()).map_err(jni_error)?;
    let class = <&JClass>::from(cache.exception_class.as_obj());
    let exception = env
        .new_object(
            class,
            cache::EXCEPTION_CTOR_SIGNATURE,
            &[JValue::Object(&kind), JValue::Object(&message)],
        )
        .map_err(jni_error)?;
    env.throw(jni::objects::JThrowable::from(exception))
        .map_err(jni_error)
}

/// Run `body`; on error throw the matching Java exception and return `fallback`.
fn guarded<'local, R>(
    env: &mut JNIEnv<'local>,
    fallback: R,
    body: impl FnOnce(&mut JNIEnv<'local>) -> Result<R, SmartPosError>,
) -> R {
    match catch_unwind(AssertUnwindSafe(|| body(env))) {
        Ok(Ok(value)) => value,
        Ok(Err(error)) => {
            log::debug!("native call failed: {error}");
            throw_error(env, &error);
            fallback
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            let _ = env.throw_new(
                "java/lang/RuntimeException",
                format!("smartpos: internal error (panic): {what}"),
            );
            fallback
        }
    }
}

fn byte_array(env: &mut JNIEnv<'_>, bytes: &[u8]) -> Result<jbyteArray, SmartPosError> {
    env.byte_array_from_slice(bytes)
        .map(JByteArray::into_raw)
        .map_err(jni_error)
}

/// `NativeApdu.version(): String`: the core version, proving the library and its JNI side load.
#[unsafe(no_mangle)]
pub extern "system" fn Java_io_smartpos_jni_NativeApdu_version<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> jstring {
    guarded(&mut env, std::ptr::null_mut(), |env| {
        env.new_string(smartpos_ffi::version())
            .map(|s| s.into_raw())
            .map_err(jni_error)
    })
}

/// `NativeApdu.transmit(reader, apdu): ByteArray`: one exchange through the cached method ID;
/// the command needs its 4 header bytes, the answer must carry SW1 SW2 (ISO/IEC 7816-4 §5).
#[unsafe(no_mangle)]
pub extern "system" fn Java_io_smartpos_jni_NativeApdu_transmit<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    reader: JObject<'local>,
    apdu: JByteArray<'local>,
) -> jbyteArray {
    guarded(&mut env, std::ptr::null_mut(), |env| {
        let cache = cache::cache()?;
        check_reader(env, cache, &reader)?;
        if apdu.is_null() {
            return Err(SmartPosError::InvalidInput {
                field: "apdu".into(),
                reason: "null".into(),
            });
        }
        let command = env.convert_byte_array(&apdu).map_err(jni_error)?;
        if command.len() < 4 {
            return Err(SmartPosError::InvalidInput {
                field: "apdu".into(),
                reason: format!("a command APDU has at least 4 bytes, got {}", command.len()),
            });
        }
        let response = transceive(env, cache, &reader, &command)?;
        Response::parse(&response)?;
        byte_array(env, &response)
    })
}

/// `NativeApdu.openReader(reader): Long`: wrap `reader` in a [`JniCardReader`] (global
/// reference, cached method ID, any thread) and register it with smartpos-ffi. The handle goes
/// to `EmvKernel.tapNative` / `startContactNative`, which run the kernel over it: one UniFFI call
/// per transaction, one JNI call per APDU. Release it with `releaseNativeReader(handle)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_io_smartpos_jni_NativeApdu_openReader<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    reader: JObject<'local>,
) -> jlong {
    guarded(&mut env, 0, |env| {
        let card = JniCardReader::new(env, &reader)?;
        let handle = smartpos_ffi::native::register_reader(Arc::new(card));
        // Handles count up from 1; a registry that ever reached i64::MAX is a bug, not input.
        jlong::try_from(handle).map_err(|_| SmartPosError::Protocol {
            reason: format!("native reader handle {handle} does not fit a Java long"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_the_kotlin_class_name() {
        let cases = [
            (
                SmartPosError::InvalidInput {
                    field: "f".into(),
                    reason: "r".into(),
                },
                "InvalidInput",
            ),
            (
                SmartPosError::MalformedTlv {
                    context: "c".into(),
                    reason: "r".into(),
                },
                "MalformedTlv",
            ),
            (SmartPosError::Transport { reason: "r".into() }, "Transport"),
            (
                SmartPosError::CardStatus {
                    command: "SELECT PPSE".into(),
                    sw: 0x6A82,
                },
                "CardStatus",
            ),
            (SmartPosError::Protocol { reason: "r".into() }, "Protocol"),
            (
                SmartPosError::InvalidConfiguration {
                    what: "w".into(),
                    reason: "r".into(),
                },
                "InvalidConfiguration",
            ),
            (
                SmartPosError::Cancelled {
                    exchanges: 1,
                    step: "s".into(),
                },
                "Cancelled",
            ),
            (
                SmartPosError::Declined {
                    response_code: "05".into(),
                    host_message: "m".into(),
                    txn_id: 1,
                },
                "Declined",
            ),
            (
                SmartPosError::HostUnavailable { reason: "r".into() },
                "HostUnavailable",
            ),
            (SmartPosError::Card { reason: "r".into() }, "Card"),
            (
                SmartPosError::KeyMissing { reason: "r".into() },
                "KeyMissing",
            ),
            (SmartPosError::Journal { reason: "r".into() }, "Journal"),
            (
                SmartPosError::Refused {
                    rule: "r".into(),
                    detail: "d".into(),
                },
                "Refused",
            ),
            (
                SmartPosError::NotAuthorised { reason: "r".into() },
                "NotAuthorised",
            ),
            (
                SmartPosError::Device {
                    device: "d".into(),
                    reason: "r".into(),
                },
                "Device",
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(error_kind(&error), kind, "{error}");
        }
    }

    #[test]
    fn natives_report_a_missing_jni_cache_instead_of_crashing() {
        // No JVM in a Rust unit test: JNI_OnLoad never ran, so the cache must be absent and
        // say how to fix it.
        let err = cache::cache()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("System.loadLibrary"), "{err}");
        assert!(cache::java_vm().is_err());
    }
}
