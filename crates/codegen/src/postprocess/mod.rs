//! Changes to progenitor's output that plug the generated client into
//! `apikeys-runtime`, for every spec.
//!
//! [`REWRITES`] lists them in the order they run on the client,
//! [`MOCK_REWRITES`] those on the mock helpers; one file per family
//! (`calls.rs`: how an operation is sent and its answer read; `models.rs`:
//! how the model types read and derive; `mock.rs`: the httpmock helpers).
//! Each is checked: when progenitor's output no longer has the shape a
//! rewrite expects, generation fails instead of silently producing a client
//! that behaves differently.

use proc_macro2::TokenStream;
use syn::{ImplItem, Item};

use crate::rules::Row;

mod calls;
mod mock;
mod models;
mod syntax;

pub use mock::models_module;
pub use models::{defined_twice, readable_models};

/// Every rewrite of the client, in the order it runs. The calls are
/// rewritten before the models; the runtime glue comes last.
pub(crate) const REWRITES: &[Rewrite] = &[
    calls::API_VERSION_HEADER,
    calls::PATH_SEGMENTS,
    calls::ANY_SUCCESS,
    calls::STATUS_ARMS,
    models::EDITION_2024_KEYWORDS,
    models::SIGNED_ONE_VARIANTS,
    calls::OTHER_METHODS,
    calls::THROUGH_THE_RUNTIME,
    models::DOCUMENTED_VARIANTS,
    models::OPTIONAL_REQUEST_ARRAYS,
    models::TOLERANT_FIELDS,
    models::BEST_FITTING_FORMS,
    models::OPEN_ENUMS,
    models::RUNTIME_DEPENDENCIES,
    models::SCHEMARS_BEHIND_FEATURE,
    models::UNUSED_DEFAULTS,
    GLUE,
];

/// Every rewrite of the mock helpers, in the order it runs.
pub(crate) const MOCK_REWRITES: &[Rewrite] = &[
    models::RUNTIME_DEPENDENCIES,
    mock::VALUES_AS_SENT,
    mock::FORM_BODIES_AS_SENT,
    models::EDITION_2024_KEYWORDS,
    mock::UNUSED_GLOB_IMPORTS,
    mock::PATH_VALUES_AS_SENT,
];

/// A rewrite of progenitor's output: what it changes, and what it answers
/// for in the crate README's tables.
pub(crate) struct Rewrite {
    /// A short name, unique in its list.
    pub(crate) name: &'static str,
    /// The module it lives in.
    pub(crate) module: &'static str,
    /// Its row of the post-processing table (what, and why), when it
    /// applies to every spec.
    pub(crate) summary: Option<Row>,
    /// The construct table's rows it is responsible for.
    pub(crate) rows: &'static [Row],
    /// Snapshots under `tests/snapshots/` that show it.
    pub(crate) snapshots: &'static [&'static str],
    /// Rewrites the output; an error names what was not where expected.
    pub(crate) apply: fn(&mut Generated) -> Result<(), String>,
}

/// progenitor's output while it is rewritten, and what the rewrites need
/// to know of the spec.
pub(crate) struct Generated {
    /// The file.
    pub(crate) file: syn::File,
    /// What the rules marked in the spec.
    pub(crate) facts: Facts,
    /// The operation methods progenitor wrote.
    pub(crate) operations: usize,
    /// Whether progenitor's output encodes path values.
    pub(crate) encodes_paths: bool,
    /// The runtime glue, appended last.
    pub(crate) glue: Vec<Item>,
    /// What a rewrite expected of progenitor's output and did not find,
    /// reported once every rewrite ran (a failure of one operation, which
    /// the fallback can skip, is reported first).
    pub(crate) shape_errors: Vec<String>,
}

/// What the rewrites need to know of the spec, beyond progenitor's output.
#[derive(Debug, Default)]
pub struct Facts {
    /// The spec's operationIds.
    pub operation_ids: Vec<String>,
    /// The operations whose success value is optional (see
    /// [`crate::rules::OPTIONAL_SUCCESS`]).
    pub optional_success: Vec<String>,
    /// The operations whose body is the caller's bytes, and the media type
    /// they are sent as (see [`crate::rules::CONTENT_TYPE`]).
    pub content_types: Vec<(String, String)>,
    /// The operations with `deepObject` query parameters sent field by
    /// field, and their names (see [`crate::rules::DEEP_OBJECT`]).
    pub deep_objects: Vec<(String, Vec<String>)>,
    /// The operations whose body is a form, and how its fields are spelt
    /// otherwise than the default: `(field, style, explode)`, the style
    /// as `apikeys_runtime::FormStyle` names it (see
    /// [`crate::rules::FORM_ENCODING`]).
    pub form_encodings: Vec<(String, Vec<FieldEncoding>)>,
    /// The operations whose body is a multipart form, and its parts
    /// (name, whether a file) as the spec lists them (see
    /// [`crate::rules::MULTIPART`]).
    pub multipart: Vec<(String, Vec<(String, bool)>)>,
    /// The operations whose purpose is to return a new secret, and where
    /// in their success body it may be (JSON pointers; empty: the whole
    /// body), as the spec marks them with [`RETURNS_SECRET`].
    pub returns_secret: Vec<(String, Vec<String>)>,
    /// The operations whose successes offer other media types beside JSON,
    /// and those types (see [`crate::rules::OTHER_MEDIA`]).
    pub other_media: Vec<(String, Vec<String>)>,
}

/// How one field of a form body is spelt: `(field, style, explode)`, the
/// style as `apikeys_runtime::FormStyle` names it.
pub type FieldEncoding = (String, String, bool);

/// The operation extension that marks an operation whose only purpose is
/// to return a new secret (a create, a generate), with a JSON pointer to
/// the secret in its success body (`/key/secret`; `""` for the whole
/// body), or a list of them where it may come in either place. A success
/// without it is an error: the key was probably made and its secret did
/// not arrive.
pub const RETURNS_SECRET: &str = "x-apikeys-returns-secret";

/// Rewrites progenitor's client; returns the rewritten file and the number
/// of operations wrapped.
pub fn rewrite(
    tokens: TokenStream,
    glue: TokenStream,
    facts: Facts,
) -> Result<(syn::File, usize), String> {
    let encodes_paths = tokens.to_string().contains("encode_path (");
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor's output does not parse: {e}"))?;
    let glue: syn::File =
        syn::parse2(glue).map_err(|e| format!("the runtime glue does not parse: {e}"))?;
    let operations = operation_methods(&file);
    let mut generated = Generated {
        file,
        facts,
        operations,
        encodes_paths,
        glue: glue.items,
        shape_errors: Vec::new(),
    };
    for rewrite in REWRITES {
        (rewrite.apply)(&mut generated)?;
    }
    match generated.shape_errors.into_iter().next() {
        Some(error) => Err(error),
        None => Ok((generated.file, generated.operations)),
    }
}

/// Makes progenitor's typed mock helpers match what the client sends;
/// `form_encodings` and `multipart` as in [`Facts`].
pub fn rewrite_mock(
    file: &mut syn::File,
    form_encodings: Vec<(String, Vec<FieldEncoding>)>,
    multipart: Vec<(String, Vec<(String, bool)>)>,
) -> Result<(), String> {
    let mut generated = Generated {
        file: std::mem::replace(file, syn::parse_quote!()),
        facts: Facts {
            form_encodings,
            multipart,
            ..Facts::default()
        },
        operations: 0,
        encodes_paths: false,
        glue: Vec::new(),
        shape_errors: Vec::new(),
    };
    let outcome = MOCK_REWRITES
        .iter()
        .try_for_each(|rewrite| (rewrite.apply)(&mut generated));
    *file = generated.file;
    outcome
}

const GLUE: Rewrite = Rewrite {
    name: "runtime-glue",
    module: module_path!(),
    summary: Some(Row {
        construct: "`REQUIRES_AUTH` from the spec's security requirements; `Client::builder`, `with_auth`, `with_timeouts`, `with_retry_policy`, `with_max_response_bytes`",
        action: "a client without credentials for an API that needs them is a `BuildError`; one way to configure every client",
    }),
    rows: &[],
    snapshots: &["rewrite-call-path"],
    apply: |generated| {
        let glue = std::mem::take(&mut generated.glue);
        generated.file.items.extend(glue);
        Ok(())
    },
};

/// The operation methods of progenitor's `impl Client`: its async fns.
fn operation_methods(file: &syn::File) -> usize {
    client_impls(file)
        .flat_map(|imp| &imp.items)
        .filter(|member| matches!(member, ImplItem::Fn(f) if f.sig.asyncness.is_some()))
        .count()
}

/// progenitor's inherent `impl Client` blocks.
fn client_impls(file: &syn::File) -> impl Iterator<Item = &syn::ItemImpl> {
    file.items.iter().filter_map(|item| match item {
        Item::Impl(imp) if is_client_impl(imp) => Some(imp),
        _ => None,
    })
}

fn is_client_impl(imp: &syn::ItemImpl) -> bool {
    let self_ty = &imp.self_ty;
    imp.trait_.is_none() && matches!(&**self_ty, syn::Type::Path(p) if p.path.is_ident("Client"))
}
