//! Mock helpers: progenitor's httpmock helpers made to match what the
//! client sends, and to compile for every parameter and body type the
//! client takes.

use quote::quote;
use syn::visit_mut::VisitMut;
use syn::{Expr, Item};

use super::{Rewrite, syntax};
use crate::rules::Row;

pub(super) const VALUES_AS_SENT: Rewrite = Rewrite {
    name: "mock-values-as-sent",
    module: module_path!(),
    summary: None,
    rows: &[Row {
        construct: "array, enum or number query and header parameters; JSON bodies that are not objects",
        action: "mock helpers match them as the client writes them (`de::wire_pairs`)",
    }],
    snapshots: &["rewrite-path-segments"],
    apply: |generated| {
        MockValues.visit_file_mut(&mut generated.file);
        Ok(())
    },
};

/// Makes progenitor's mock helpers compile for every parameter and body
/// type the client takes: query and header values are written as the
/// client writes them (`de::wire_pairs`: a list as one query pair per item, an object field by field,
/// an enum by its value) instead of `to_string()`, which lists and enums
/// lack; JSON bodies of any type (a list, a boolean), not only objects.
struct MockValues;

impl VisitMut for MockValues {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        let Expr::MethodCall(call) = expr else { return };
        let method = call.method.to_string();
        let args: Vec<&Expr> = call.args.iter().collect();
        let receiver = &call.receiver;
        let value_text = |e: &Expr| syntax::is_calls(e, &["value"], &["to_string"]);
        match (method.as_str(), args.as_slice()) {
            ("query_param", [_, value]) if value_text(value) => {
                let name = &call.args[0];
                *expr = syn::parse_quote!({
                    let mut when = #receiver;
                    for (key, text) in ::apikeys_runtime::de::wire_pairs(#name, &value) {
                        when = when.query_param(key, text);
                    }
                    when
                });
            }
            ("header", [_, value]) if value_text(value) => {
                let name = &call.args[0];
                *expr = syn::parse_quote!(
                    #receiver.header(#name, ::apikeys_runtime::de::wire_text(&value))
                );
            }
            ("json_body_obj", [value]) if syntax::is_place(value, &["value"]) => {
                *expr = syn::parse_quote!(
                    #receiver.json_body(::serde_json::to_value(value).unwrap_or_default())
                );
            }
            _ => {}
        }
    }
}

pub(super) const FORM_BODIES_AS_SENT: Rewrite = Rewrite {
    name: "mock-form-bodies",
    module: module_path!(),
    summary: None,
    rows: &[
        Row {
            construct: "`application/x-www-form-urlencoded` request bodies",
            action: "mock helpers match the form the client sends (`form_body`), not a JSON body",
        },
        Row {
            construct: "`multipart/form-data` request bodies",
            action: "mock helpers match a part by name and content (`part(name, content)`), whatever the boundary",
        },
    ],
    snapshots: &["normalize-form-encoding", "normalize-multipart-body"],
    apply: |generated| {
        let facts = &generated.facts;
        let (forms, multipart) = (&facts.form_encodings, &facts.multipart);
        let mut found = 0;
        WhenBody(|when: &str, f: &mut syn::ImplItemFn| {
            let named = |id: &String| crate::names::mock_when(id) == when;
            if let Some((_, fields)) = forms.iter().find(|(id, _)| named(id)) {
                let encodings = super::calls::form_encodings(fields);
                f.block = syn::parse_quote!({
                    Self(self.0.body(
                        ::apikeys_runtime::form_body(value, #encodings)
                            .unwrap_or_default(),
                    ))
                });
                found += 1;
            } else if multipart.iter().any(|(id, _)| named(id)) {
                *f = syn::parse_quote! {
                    /// Matches a multipart form with a part named `name`
                    /// whose content includes `content` (a text part's value,
                    /// or text within a file's bytes).
                    pub fn part(self, name: &str, content: &str) -> Self {
                        Self(
                            self.0
                                .header_prefix("content-type", "multipart/form-data; boundary=")
                                .body_includes(format!("form-data; name=\"{name}\""))
                                .body_includes(content),
                        )
                    }
                };
                found += 1;
            }
        })
        .visit_file_mut(&mut generated.file);
        if found != forms.len() + multipart.len() {
            return Err(format!(
                "{found} of the {} form and multipart bodies were found in the mock helpers",
                forms.len() + multipart.len()
            ));
        }
        Ok(())
    },
};

/// Calls its function with each `{Operation}When::body` helper, and the
/// helper's type name (`{Operation}When`, see `names::mock_when`).
struct WhenBody<F>(F);

impl<F: FnMut(&str, &mut syn::ImplItemFn)> VisitMut for WhenBody<F> {
    fn visit_item_impl_mut(&mut self, imp: &mut syn::ItemImpl) {
        let syn::Type::Path(ty) = &*imp.self_ty else {
            return;
        };
        let Some(name) = ty.path.segments.last().map(|s| s.ident.to_string()) else {
            return;
        };
        if !name.ends_with("When") {
            return;
        }
        for item in &mut imp.items {
            if let syn::ImplItem::Fn(f) = item
                && f.sig.ident == "body"
            {
                (self.0)(&name, f);
            }
        }
    }
}

pub(super) const UNUSED_GLOB_IMPORTS: Rewrite = Rewrite {
    name: "mock-glob-imports",
    module: module_path!(),
    summary: None,
    rows: &[],
    snapshots: &["lenient-webhooks-only"],
    apply: |generated| {
        GlobImports.visit_file_mut(&mut generated.file);
        Ok(())
    },
};

/// A spec with no operations (or no types they use) leaves the mock's glob
/// import of the client unused: allowed.
struct GlobImports;

impl VisitMut for GlobImports {
    fn visit_item_use_mut(&mut self, item: &mut syn::ItemUse) {
        if syntax::is_glob(&item.tree) {
            item.attrs.push(syn::parse_quote!(#[allow(unused_imports)]));
        }
    }
}

pub(super) const PATH_VALUES_AS_SENT: Rewrite = Rewrite {
    name: "mock-path-values",
    module: module_path!(),
    summary: None,
    rows: &[],
    snapshots: &["rewrite-path-segments"],
    apply: |generated| {
        let file = &mut generated.file;
        let has_path_values = syntax::file_contains(file, |e| {
            matches!(e, Expr::MethodCall(m) if m.method == "path_matches"
                && m.args.len() == 1 && syntax::is_place(&m.args[0], &["re"]))
        });
        let mut fix = PathValues(0);
        fix.visit_file_mut(file);
        if has_path_values && fix.0 == 0 {
            return Err("progenitor's mock path matching has an unexpected shape".into());
        }
        Ok(())
    },
};

/// A path value is matched percent-encoded as the client encodes it, and
/// regex-escaped (progenitor puts the raw value into the path regex, so an
/// id needing encoding never matched and one with `.` or `+` matched too
/// much).
struct PathValues(usize);

impl VisitMut for PathValues {
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        let pattern = mac
            .parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
            .ok()
            .and_then(|args| match args.first() {
                Some(Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                })) => Some(s.value().starts_with("^/")),
                _ => None,
            })
            .unwrap_or(false);
        if mac.path.is_ident("format") && pattern {
            // Any parameter type (an enum, a list, a number) as the client
            // writes it in a path segment.
            let count = &mut self.0;
            syntax::rewrite_macro_args(mac, |arg| {
                if syntax::is_calls(arg, &["value"], &["to_string"]) {
                    *arg = syn::parse_quote!(regex::escape(&::apikeys_runtime::encode_path(
                        &::apikeys_runtime::de::wire_text(&value)
                    )));
                    *count += 1;
                }
            });
        }
        syn::visit_mut::visit_macro_mut(self, mac);
    }
}

/// A `models` module for the mock file: every readable model with its
/// JSON Schema and a reader that reads a body as success answers are read
/// and writes the value back, for the tests of tolerant reading.
pub fn models_module(names: &[String]) -> Item {
    let entries = names.iter().map(|name| {
        let ty = syn::Ident::new(name, proc_macro2::Span::call_site());
        quote! {
            (
                #name,
                ::apikeys_runtime::de::schema_of::<super::super::types::#ty>,
                ::apikeys_runtime::de::read_back::<super::super::types::#ty>,
            )
        }
    });
    syn::parse_quote! {
        /// Every model the spec's answers are read into, for tests that
        /// decode generated instances of each: its name, its JSON Schema,
        /// and a reader that reads a body as a success answer is read and
        /// writes the value back as JSON.
        pub mod models {
            /// One model: name, schema, reader.
            pub type Model = (
                &'static str,
                fn() -> ::schemars::schema::RootSchema,
                fn(&[u8]) -> ::std::result::Result<::serde_json::Value, ::std::string::String>,
            );

            /// Every model, by name.
            pub const ALL: &[Model] = &[#(#entries),*];
        }
    }
}
