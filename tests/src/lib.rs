//! Only integration tests live here.
