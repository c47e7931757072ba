//! Tolerant reading of every model of every construct spec: see the
//! workspace's `tests/tolerant_reading.rs`, which does the same for the
//! providers' specs.

use apikeys_constructs::{mock_forms, published_forms, real_world, tolerance, types_only};
use apikeys_runtime::testing::assert_reads_every_form;

#[test]
fn mock_forms_reads_every_form() {
    assert_reads_every_form("mock_forms", mock_forms::mock::models::ALL);
}

#[test]
fn published_forms_reads_every_form() {
    assert_reads_every_form("published_forms", published_forms::mock::models::ALL);
}

#[test]
fn real_world_reads_every_form() {
    assert_reads_every_form("real_world", real_world::mock::models::ALL);
}

#[test]
fn tolerance_reads_every_form() {
    assert_reads_every_form("tolerance", tolerance::mock::models::ALL);
}

#[test]
fn types_only_reads_every_form() {
    assert_reads_every_form("types_only", types_only::mock::models::ALL);
}
