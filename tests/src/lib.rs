//! Only integration tests live here; the workspace README's Rust examples
//! are compiled as this crate's doc tests, so that they stay true.
#![doc = include_str!("../../README.md")]
