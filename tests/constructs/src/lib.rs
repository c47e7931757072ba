//! One module per spec under `specs/`, each a client generated at build
//! time exactly as a provider crate's is. The tests in `tests/` call them
//! against loopback servers; that they compile at all is the first check.

/// Generated clients are checked by their own lints where the provider
/// crates are; here only that they compile and behave.
macro_rules! generated {
    ($($name:ident),* $(,)?) => {$(
        #[allow(missing_docs, dead_code)]
        pub mod $name {
            include!(concat!(env!("OUT_DIR"), "/", stringify!($name), ".rs"));

            /// The typed httpmock helpers generated beside the client, as a
            /// provider crate's `mock` feature compiles them.
            pub mod mock {
                include!(concat!(env!("OUT_DIR"), "/", stringify!($name), "_mock.rs"));
            }
        }
    )*};
}

generated!(
    foreseen_names,
    form_bodies,
    hierarchies,
    inherited_names,
    media_types,
    mock_forms,
    name_clashes,
    parameter_styles,
    published_forms,
    real_world,
    signed_one,
    tolerance,
    types_only
);
