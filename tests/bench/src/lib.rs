//! See `benches/overhead.rs`: `cargo bench -p apikeys-bench`.
