//! The library's test helpers (tests/it/support.rs) and fault-injecting proxy
//! (tests/it/proxy.rs), shared by path so that the two test suites cannot drift apart. Some
//! helpers serve only the library's tests.
#![allow(dead_code)]

#[path = "../../../tests/it/support.rs"]
mod shared;
pub use shared::*;

#[path = "../../../tests/it/proxy.rs"]
pub mod proxy;
