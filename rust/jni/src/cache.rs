//! `JNI_OnLoad`: the cached `JavaVM` and the class/method references of the fast path.
//!
//! Class lookups happen here, on the thread that called `System.loadLibrary`, because `FindClass`
//! on a thread Rust attached later would use the system class loader and miss app classes
//! (Android JNI tips, "FindClass"). Method IDs stay valid while their class is loaded; the global
//! references keep the classes loaded.

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use jni::objects::{GlobalRef, JMethodID};
use jni::sys::{JNI_ERR, JNI_VERSION_1_6, jint};
use jni::{JNIEnv, JavaVM};
use once_cell::sync::OnceCell;
use smartpos_ffi::SmartPosError;

/// JVM name of the reader interface the fast path calls.
pub const TRANSCEIVER_CLASS: &str = "io/smartpos/jni/ApduTransceiver";
/// Its method: `fun transceive(apdu: ByteArray): ByteArray`.
pub const TRANSCEIVE_METHOD: &str = "transceive";
/// JNI signature of [`TRANSCEIVE_METHOD`].
pub const TRANSCEIVE_SIGNATURE: &str = "([B)[B";
/// JVM name of the exception the natives throw.
pub const EXCEPTION_CLASS: &str = "io/smartpos/jni/NativeApduException";
/// Its constructor: `(kind: String, message: String)`.
pub const EXCEPTION_CTOR_SIGNATURE: &str = "(Ljava/lang/String;Ljava/lang/String;)V";

/// Global references and method IDs resolved once in `JNI_OnLoad`.
pub struct JniCache {
    /// `io.smartpos.jni.ApduTransceiver`.
    pub transceiver_class: GlobalRef,
    /// `ApduTransceiver.transceive([B)[B`.
    pub transceive: JMethodID,
    /// `io.smartpos.jni.NativeApduException`.
    pub exception_class: GlobalRef,
    /// `NativeApduException(String, String)`.
    pub exception_ctor: JMethodID,
}

static JAVA_VM: OnceCell<JavaVM> = OnceCell::new();
static CACHE: OnceCell<JniCache> = OnceCell::new();

/// The `JavaVM` cached by `JNI_OnLoad`, for attaching Rust threads (the kernel's thread).
pub fn java_vm() -> Result<&'static JavaVM, SmartPosError> {
    JAVA_VM.get().ok_or_else(not_loaded)
}

/// The class and method cache, once `JNI_OnLoad` has filled it.
pub fn cache() -> Result<&'static JniCache, SmartPosError> {
    CACHE.get().ok_or_else(not_loaded)
}

fn not_loaded() -> SmartPosError {
    SmartPosError::InvalidInput {
        field: "libsmartpos".into(),
        reason: format!(
            "JNI cache not ready: load the library with System.loadLibrary(\"smartpos\") \
             with {TRANSCEIVER_CLASS} and {EXCEPTION_CLASS} on the class path"
        ),
    }
}

fn lookup(env: &mut JNIEnv<'_>) -> jni::errors::Result<JniCache> {
    let transceiver = env.find_class(TRANSCEIVER_CLASS)?;
    let transceive = env.get_method_id(&transceiver, TRANSCEIVE_METHOD, TRANSCEIVE_SIGNATURE)?;
    let transceiver_class = env.new_global_ref(&transceiver)?;
    let exception = env.find_class(EXCEPTION_CLASS)?;
    let exception_ctor = env.get_method_id(&exception, "<init>", EXCEPTION_CTOR_SIGNATURE)?;
    let exception_class = env.new_global_ref(&exception)?;
    Ok(JniCache {
        transceiver_class,
        transceive,
        exception_class,
        exception_ctor,
    })
}

fn on_load(vm: JavaVM) {
    crate::logging::init();
    match vm.get_env() {
        Ok(mut env) => match lookup(&mut env) {
            Ok(cache) => {
                let _ = CACHE.set(cache);
            }
            Err(error) => {
                // A NoClassDefFoundError is pending: clear it so loading succeeds and the
                // UniFFI surface stays usable; the natives report the missing cache.
                if env.exception_check().unwrap_or(false) {
                    let _ = env.exception_clear();
                }
                log::warn!("JNI fast path unavailable: {error}");
            }
        },
        Err(error) => log::warn!("JNI_OnLoad without an env: {error}"),
    }
    let _ = JAVA_VM.set(vm);
}

/// Called by the JVM on `System.loadLibrary("smartpos")` (JNI specification, "JNI_OnLoad").
/// JNA loading the same library for UniFFI does not call it.
#[unsafe(no_mangle)]
pub extern "system" fn JNI_OnLoad(vm: JavaVM, _reserved: *mut c_void) -> jint {
    match catch_unwind(AssertUnwindSafe(|| on_load(vm))) {
        Ok(()) => JNI_VERSION_1_6,
        Err(_) => JNI_ERR,
    }
}
