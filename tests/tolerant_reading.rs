//! Tolerant reading as a property of every field of every provider's
//! models: a valid instance of each model, made from its schema, must read
//! the same when any one of its typed fields comes in another form services
//! write (numbers as strings and back, integral floats, date-times in every
//! common form, epoch times), and when the whole body comes with a
//! byte-order mark, a repeated key or an unpaired surrogate. Content codings
//! are checked per provider over HTTP (`runtime_contract`).

use apikeys_runtime::testing::assert_reads_every_form;

#[test]
fn cartovista_reads_every_form() {
    assert_reads_every_form("cartovista", apikeys_cartovista::mock::models::ALL);
}

#[test]
fn finbourne_identity_reads_every_form() {
    assert_reads_every_form(
        "finbourne-identity",
        apikeys_finbourne_identity::mock::models::ALL,
    );
}

#[test]
fn finicity_reads_every_form() {
    assert_reads_every_form("finicity", apikeys_finicity::mock::models::ALL);
}

#[test]
fn sunshine_conversations_reads_every_form() {
    assert_reads_every_form(
        "sunshine-conversations",
        apikeys_sunshine_conversations::mock::models::ALL,
    );
}
