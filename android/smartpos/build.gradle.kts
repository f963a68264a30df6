// The smartpos Android library: libsmartpos.so for each ABI (from cargo-ndk), the generated
// UniFFI bindings (package io.smartpos.core), the Kotlin facade (io.smartpos), the JNI fast path
// declarations (io.smartpos.jni) and the Android-only adapters (io.smartpos.android).
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "io.smartpos"
    compileSdk = 35
    ndkVersion = "27.2.12479018" // r27: 16 KB page-size aware toolchain

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
    }

    sourceSets["main"].apply {
        // Shared Kotlin (also compiled and tested on the host JVM by scripts/jvm-test.sh),
        // Android-only adapters, and the generated bindings (gitignored, made by build-android.sh).
        java.srcDirs("src/main/kotlin", "src/android/kotlin", "../../bindings/generated/kotlin")
        jniLibs.srcDirs("src/main/jniLibs")
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    packaging {
        // Keep .so files uncompressed and page-aligned in the APK (16 KB page devices).
        jniLibs.useLegacyPackaging = false
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // UniFFI's Kotlin bindings call the library through JNA (the AAR carries libjnidispatch).
    implementation("net.java.dev.jna:jna:5.17.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")
    // Generated code with `android = true` uses @RequiresApi.
    implementation("androidx.annotation:annotation:1.9.1")

    androidTestImplementation("androidx.test:runner:1.6.2")
    androidTestImplementation("androidx.test.ext:junit:1.2.1")
    androidTestImplementation("org.jetbrains.kotlinx:kotlinx-coroutines-test:1.10.2")
}
