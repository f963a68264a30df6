// Android side of smartpos: the library module (Kotlin facade over the UniFFI bindings and the
// JNI fast path, plus Android adapters) and a minimal sample app. Built by
// scripts/build-android.sh, which first builds libsmartpos for every ABI with cargo-ndk and
// generates the Kotlin bindings into bindings/generated/kotlin.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
    plugins {
        id("com.android.library") version "8.7.3"
        id("com.android.application") version "8.7.3"
        id("org.jetbrains.kotlin.android") version "2.2.21"
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "smartpos-android"
include(":smartpos", ":sample")
