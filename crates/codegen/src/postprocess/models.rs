//! Models: how the generated types read what services send, how they
//! derive, and which crates they reach.

use quote::{format_ident, quote};
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;
use syn::{Expr, FnArg, ImplItem, Item, Pat};

use super::{Rewrite, syntax};
use crate::rules::Row;

pub(super) const EDITION_2024_KEYWORDS: Rewrite = Rewrite {
    name: "edition-2024-keywords",
    module: module_path!(),
    summary: None,
    rows: &[Row {
        construct: "a name that is a keyword of edition 2024 (`gen`)",
        action: "`r#gen`",
    }],
    snapshots: &["lenient-required-otherwise-spelt-and-keywords"],
    apply: |generated| {
        Edition2024Keywords.visit_file_mut(&mut generated.file);
        Ok(())
    },
};

/// `gen` is reserved in edition 2024: an identifier of that name (a
/// parameter or field called `gen`) is written `r#gen`.
struct Edition2024Keywords;

impl VisitMut for Edition2024Keywords {
    fn visit_ident_mut(&mut self, ident: &mut syn::Ident) {
        if ident == "gen" {
            *ident = syn::Ident::new_raw("gen", ident.span());
        }
    }
}

pub(super) const SIGNED_ONE_VARIANTS: Rewrite = Rewrite {
    name: "signed-one-variants",
    module: module_path!(),
    summary: None,
    rows: &[Row {
        construct: "an enum value `-1` or `+1` (Elastic's durations), which typify names `minus1`, `plus1` whatever the case asked",
        action: "the variant is `Minus1`, `Plus1` (the crate's `non_camel_case_types` lint refused the client)",
    }],
    snapshots: &["rewrite-signed-one-variants"],
    apply: |generated| {
        SignedOneVariants.visit_file_mut(&mut generated.file);
        Ok(())
    },
};

/// typify's name for the values `-1` and `+1` is `minus1` and `plus1` in
/// every case; as enum variants they are `Minus1` and `Plus1`, where they
/// are declared and wherever a path names them (`Self::minus1`). A field
/// of that name (`self.minus1`) is no path, and stays snake case.
struct SignedOneVariants;

fn signed_one(ident: &syn::Ident) -> Option<syn::Ident> {
    match ident.to_string().as_str() {
        "minus1" => Some(syn::Ident::new("Minus1", ident.span())),
        "plus1" => Some(syn::Ident::new("Plus1", ident.span())),
        _ => None,
    }
}

impl VisitMut for SignedOneVariants {
    fn visit_variant_mut(&mut self, variant: &mut syn::Variant) {
        if let Some(pascal) = signed_one(&variant.ident) {
            variant.ident = pascal;
        }
        syn::visit_mut::visit_variant_mut(self, variant);
    }

    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.segments.len() >= 2
            && let Some(last) = path.segments.last_mut()
            && let Some(pascal) = signed_one(&last.ident)
        {
            last.ident = pascal;
        }
        syn::visit_mut::visit_path_mut(self, path);
    }
}

pub(super) const DOCUMENTED_VARIANTS: Rewrite = Rewrite {
    name: "documented-variants",
    module: module_path!(),
    summary: Some(Row {
        construct: "undocumented public items: `oneOf` variants, the fields of struct-like variants, undescribed properties",
        action: "each documented by what it is (its form, or its wire name)",
    }),
    rows: &[],
    snapshots: &[
        "rewrite-best-fitting-form",
        "rewrite-documented-variant-fields",
    ],
    apply: |generated| {
        document_variants(&mut generated.file);
        Ok(())
    },
};

/// typify and progenitor leave some public items without docs: the
/// variants of `oneOf` enums, the fields of struct-like variants (a
/// `oneOf` of inline objects, `allOf` arms), properties the spec does not
/// describe, and the like in progenitor's own types. Every one gets a doc
/// naming what it is, so a crate with `missing_docs` stays warning-free
/// whatever the spec leaves out.
fn document_variants(file: &mut syn::File) {
    document_items(&mut file.items);
}

fn has_doc(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("doc"))
}

/// [`document_variants`] over `items` and the modules among them.
fn document_items(items: &mut [Item]) {
    for item in items {
        match item {
            Item::Mod(module) => {
                if let Some((_, items)) = &mut module.content {
                    document_items(items);
                }
            }
            Item::Enum(e) if matches!(e.vis, syn::Visibility::Public(_)) => {
                let owner = e.ident.to_string();
                for variant in &mut e.variants {
                    let form = format!("the `{}` form of a `{owner}`", variant.ident);
                    if !has_doc(&variant.attrs) {
                        let doc = format!("The `{}` form of a `{owner}`.", variant.ident);
                        variant.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
                    }
                    document_fields(&mut variant.fields, &form, true);
                }
            }
            // Specs often leave properties undescribed: the field is
            // documented by the name the wire uses.
            Item::Struct(st) if matches!(st.vis, syn::Visibility::Public(_)) => {
                let owner = format!("a `{}`", st.ident);
                document_fields(&mut st.fields, &owner, false);
            }
            _ => {}
        }
    }
}

/// Documents the named fields of `fields` that have no doc by their wire
/// name: each public one, or every one where `all` (a variant's fields are
/// as public as the enum).
fn document_fields(fields: &mut syn::Fields, owner: &str, all: bool) {
    for field in fields.iter_mut() {
        let Some(ident) = &field.ident else { continue };
        let public = all || matches!(field.vis, syn::Visibility::Public(_));
        if has_doc(&field.attrs) || !public {
            continue;
        }
        let wire = field
            .attrs
            .iter()
            .filter_map(serde_metas)
            .flatten()
            .find_map(|meta| match meta {
                syn::Meta::NameValue(nv) if nv.path.is_ident("rename") => match nv.value {
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            })
            .unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned());
        let doc = format!("`{wire}` of {owner} (the spec does not describe it).");
        field.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
    }
}

pub(super) const OPTIONAL_REQUEST_ARRAYS: Rewrite = Rewrite {
    name: "optional-request-arrays",
    module: module_path!(),
    summary: Some(Row {
        construct: "optional arrays of request-body models are `Option<Vec<T>>`",
        action: "`Some(vec![])` is sent as `[]`, `None` stays absent: \"clear\" and \"unchanged\" differ",
    }),
    rows: &[],
    snapshots: &["rewrite-optional-request-arrays"],
    apply: |generated| {
        optional_request_arrays(&mut generated.file);
        Ok(())
    },
};

/// Optional arrays of request bodies become `Option<Vec<T>>`, so that an
/// empty list the caller sets is sent as `[]` ("no entries") and an unset
/// one stays absent ("unchanged"); as `Vec<T>` skipped when empty, the two
/// could not be told apart. Applies to every model reachable from a
/// request body. Returns the number of fields changed.
fn optional_request_arrays(file: &mut syn::File) -> usize {
    // The models operations take as bodies: `body: &'a types::X`.
    let mut bodies: Vec<String> = Vec::new();
    for item in &file.items {
        let Item::Impl(imp) = item else { continue };
        for member in &imp.items {
            let ImplItem::Fn(f) = member else { continue };
            for arg in &f.sig.inputs {
                if let FnArg::Typed(t) = arg
                    && let Pat::Ident(id) = &*t.pat
                    && id.ident == "body"
                    && let syn::Type::Reference(r) = &*t.ty
                    && let syn::Type::Path(p) = &*r.elem
                    && let Some(last) = p.path.segments.last()
                {
                    bodies.push(last.ident.to_string());
                }
            }
        }
    }
    let Some(items) = types_module(file) else {
        return 0;
    };
    // Every model a body reaches through its fields.
    let structs: std::collections::HashMap<String, String> = items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(st) => {
                let fields = &st.fields;
                Some((st.ident.to_string(), quote!(#fields).to_string()))
            }
            _ => None,
        })
        .collect();
    let mut reached: std::collections::HashSet<String> = std::collections::HashSet::new();
    while let Some(name) = bodies.pop() {
        if !reached.insert(name.clone()) {
            continue;
        }
        if let Some(fields) = structs.get(&name) {
            for other in structs.keys() {
                let word = |t: &str| {
                    t.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|w| w == other)
                };
                if word(fields) && !reached.contains(other) {
                    bodies.push(other.clone());
                }
            }
        }
    }
    let mut changed = 0;
    for item in items {
        let Item::Struct(st) = item else { continue };
        if !reached.contains(&st.ident.to_string()) {
            continue;
        }
        let syn::Fields::Named(fields) = &mut st.fields else {
            continue;
        };
        for field in &mut fields.named {
            if !syntax::type_ends_with(&field.ty, &["std", "vec", "Vec"]) {
                continue;
            }
            let Some(attr) = field.attrs.iter_mut().find(|a| a.path().is_ident("serde")) else {
                continue;
            };
            let Some(mut metas) = serde_metas(attr) else {
                continue;
            };
            let mut skipped_when_empty = false;
            for meta in metas.iter_mut() {
                if let syn::Meta::NameValue(nv) = meta
                    && nv.path.is_ident("skip_serializing_if")
                {
                    let vec_is_empty = matches!(&nv.value, Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(f),
                        ..
                    }) if f.value().ends_with("Vec::is_empty"));
                    if vec_is_empty {
                        nv.value = syn::parse_quote!("::std::option::Option::is_none");
                        skipped_when_empty = true;
                    }
                }
            }
            if !skipped_when_empty {
                continue;
            }
            *attr = syn::parse_quote!(#[serde(#metas)]);
            let old = field.ty.clone();
            field.ty = syn::parse_quote!(::std::option::Option<#old>);
            changed += 1;
        }
    }
    changed
}

pub(super) const TOLERANT_FIELDS: Rewrite = Rewrite {
    name: "tolerant-fields",
    module: module_path!(),
    summary: Some(Row {
        construct: "`null` reads as empty for list and map fields; booleans, numbers and date-times read tolerantly (`apikeys_runtime::de`)",
        action: "what the services send beside what the specs say; writing unchanged",
    }),
    rows: &[],
    snapshots: &["rewrite-tolerant-fields"],
    apply: |generated| {
        tolerate(&mut generated.file);
        Ok(())
    },
};

/// How a model field is read tolerantly, by its printed type (spaces
/// removed); `None` for fields read as they are.
fn tolerance(ty: &str) -> Option<(&'static str, bool)> {
    const SCALARS: [&str; 11] = [
        "bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64",
    ];
    const DATE_TIME: &str = "::chrono::DateTime<::chrono::offset::Utc>";
    let scalar = |t: &str| SCALARS.contains(&t) || t == DATE_TIME;
    if let Some(inner) = ty
        .strip_prefix("::std::option::Option<")
        .and_then(|t| t.strip_suffix('>'))
    {
        return scalar(inner).then_some(("::apikeys_runtime::de::lenient_option", true));
    }
    if scalar(ty) {
        return Some(("::apikeys_runtime::de::lenient", false));
    }
    let collection = [
        "::std::vec::Vec<",
        "::serde_json::Map<",
        "::std::collections::HashMap<",
    ]
    .iter()
    .any(|p| ty.starts_with(p));
    collection.then_some(("::apikeys_runtime::de::null_as_default", false))
}

/// Makes every model read what the services send beside what the specs
/// say, for every spec: `null` for a list or map is empty, a
/// boolean or number may come as a string, a date-time may lack its offset.
/// Writing is unchanged. Returns the number of fields changed.
fn tolerate(file: &mut syn::File) -> usize {
    let mut changed = 0;
    let Some(items) = types_module(file) else {
        return 0;
    };
    for item in items {
        let Item::Struct(st) = item else { continue };
        let derives_deserialize = syntax::derives(&st.attrs, "Deserialize");
        let syn::Fields::Named(fields) = &mut st.fields else {
            continue;
        };
        if !derives_deserialize {
            continue;
        }
        for field in &mut fields.named {
            let ty = &field.ty;
            let printed = quote!(#ty).to_string().replace(' ', "");
            let Some((function, needs_default)) = tolerance(&printed) else {
                continue;
            };
            let serde_attr = field.attrs.iter_mut().find(|a| a.path().is_ident("serde"));
            let mut metas = match &serde_attr {
                Some(a) => match serde_metas(a) {
                    Some(m) => m,
                    None => continue,
                },
                None => Punctuated::new(),
            };
            let has = |metas: &Punctuated<syn::Meta, syn::Token![,]>, name: &str| {
                metas.iter().any(|m| m.path().is_ident(name))
            };
            if has(&metas, "flatten") || has(&metas, "deserialize_with") || has(&metas, "with") {
                continue;
            }
            // A required collection keeps no `default`: missing is still an
            // error, while `null` reads as empty (nothing is lost).
            if needs_default && !has(&metas, "default") {
                metas.push(syn::parse_quote!(default));
            }
            metas.push(syn::parse_quote!(deserialize_with = #function));
            let attr: syn::Attribute = syn::parse_quote!(#[serde(#metas)]);
            match serde_attr {
                Some(a) => *a = attr,
                None => field.attrs.push(attr),
            }
            changed += 1;
        }
    }
    changed
}

pub(super) const BEST_FITTING_FORMS: Rewrite = Rewrite {
    name: "best-fitting-forms",
    module: module_path!(),
    summary: Some(Row {
        construct: "untagged enums of models pick the form the body actually is (`de::best_form`)",
        action: "all-optional problem bodies otherwise always matched the first form",
    }),
    rows: &[],
    snapshots: &["rewrite-best-fitting-form"],
    apply: |generated| {
        best_fitting_forms(&mut generated.file);
        Ok(())
    },
};

/// Untagged enums whose variants each hold one model (the types the
/// normalization joins from several declared bodies) are read as the form
/// the body actually is, not the first form that happens to accept it:
/// every field of a problem body is optional, so the first variant took
/// every body. Returns the number of enums changed.
fn best_fitting_forms(file: &mut syn::File) -> usize {
    let Some(items) = types_module(file) else {
        return 0;
    };
    // The JSON keys each model knows.
    let mut keys: std::collections::HashMap<String, Vec<String>> = Default::default();
    for item in items.iter() {
        let Item::Struct(st) = item else { continue };
        let syn::Fields::Named(fields) = &st.fields else {
            continue;
        };
        let names = fields
            .named
            .iter()
            .filter_map(|field| {
                let renamed = field.attrs.iter().find_map(|a| {
                    serde_metas(a)?.iter().find_map(|m| match m {
                        syn::Meta::NameValue(nv) if nv.path.is_ident("rename") => match &nv.value {
                            Expr::Lit(syn::ExprLit {
                                lit: syn::Lit::Str(s),
                                ..
                            }) => Some(s.value()),
                            _ => None,
                        },
                        _ => None,
                    })
                });
                renamed.or_else(|| field.ident.as_ref().map(|i| i.to_string()))
            })
            .collect();
        keys.insert(st.ident.to_string(), names);
    }
    let mut impls = Vec::new();
    for item in items.iter_mut() {
        let Item::Enum(e) = item else { continue };
        let untagged = e
            .attrs
            .iter()
            .filter_map(serde_metas)
            .flatten()
            .any(|m| m.path().is_ident("untagged"));
        let forms: Option<Vec<(syn::Ident, Vec<String>)>> = e
            .variants
            .iter()
            .map(|v| match &v.fields {
                syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                    let name = syntax::type_name(&f.unnamed[0].ty)?;
                    keys.get(&name).map(|k| (v.ident.clone(), k.clone()))
                }
                _ => None,
            })
            .collect();
        let Some(forms) = forms.filter(|f| untagged && f.len() > 1) else {
            continue;
        };
        // Drop the derived Deserialize; Serialize stays untagged.
        drop_derive(&mut e.attrs, "Deserialize");
        let name = &e.ident;
        let arms = forms.iter().map(|(variant, keys)| {
            quote!((&[#(#keys),*], |v| ::serde_json::from_value(v).map(Self::#variant)))
        });
        impls.push(syn::parse_quote! {
            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> ::std::result::Result<Self, D::Error> {
                    ::apikeys_runtime::de::best_form(deserializer, &[#(#arms),*])
                }
            }
        });
    }
    let changed = impls.len();
    items.extend(impls);
    changed
}

pub(super) const OPEN_ENUMS: Rewrite = Rewrite {
    name: "open-enums",
    module: module_path!(),
    summary: Some(Row {
        construct: "string enums are open: a value the spec does not list reads as `Unknown(value)`, written back unchanged",
        action: "a service adds a value before its spec lists it; the rest of the answer still reads (requests stay strict)",
    }),
    rows: &[],
    snapshots: &["rewrite-open-enums"],
    apply: |generated| {
        open_enums(&mut generated.file);
        Ok(())
    },
};

/// String enums are open: a value the spec does not list decodes into an
/// extra variant holding it as sent (`Unknown("suspended")`), so that a list
/// holding one still decodes and the value is written back unchanged. Only
/// parsing from a string (`FromStr`), which builds requests, stays strict.
/// Such an enum is no longer `Copy`. Returns the number of enums opened.
fn open_enums(file: &mut syn::File) -> usize {
    let Some(items) = types_module(file) else {
        return 0;
    };
    let mut opened = std::collections::HashMap::new();
    for item in items.iter_mut() {
        let Item::Enum(e) = item else { continue };
        let derives_deserialize = syntax::derives(&e.attrs, "Deserialize");
        let plain = !e.variants.is_empty()
            && e.variants
                .iter()
                .all(|v| matches!(v.fields, syn::Fields::Unit));
        let tagged = e.attrs.iter().any(|a| a.path().is_ident("serde"));
        if !derives_deserialize || !plain || tagged {
            continue;
        }
        let name = ["Unknown", "UnknownValue", "OtherValue"]
            .into_iter()
            .find(|n| e.variants.iter().all(|v| v.ident != n))
            .map(|n| format_ident!("{n}"));
        let Some(name) = name else { continue };
        drop_derive(&mut e.attrs, "Copy");
        e.variants.push(syn::parse_quote! {
            /// A value this client does not know yet, as the service sent it;
            /// written back unchanged.
            #[serde(untagged)]
            #name(::std::string::String)
        });
        opened.insert(e.ident.to_string(), name);
    }
    // Display: `match *self { .. }` gains the arm that writes the value.
    for item in items.iter_mut() {
        let Item::Impl(imp) = item else { continue };
        let Some(variant) = syntax::type_name(&imp.self_ty).and_then(|name| opened.get(&name))
        else {
            continue;
        };
        let is_display = imp
            .trait_
            .as_ref()
            .is_some_and(|(path, _)| path.segments.last().is_some_and(|s| s.ident == "Display"));
        if !is_display {
            continue;
        }
        struct Arm<'a>(&'a syn::Ident);
        impl VisitMut for Arm<'_> {
            fn visit_expr_match_mut(&mut self, m: &mut syn::ExprMatch) {
                if let Expr::Unary(u) = &*m.expr
                    && matches!(u.op, syn::UnOp::Deref(_))
                {
                    m.expr = u.expr.clone();
                    let variant = self.0;
                    m.arms
                        .push(syn::parse_quote!(Self::#variant(value) => f.write_str(value),));
                }
            }
        }
        Arm(variant).visit_item_impl_mut(imp);
    }
    opened.len()
}

pub(super) const RUNTIME_DEPENDENCIES: Rewrite = Rewrite {
    name: "runtime-dependencies",
    module: module_path!(),
    summary: None,
    rows: &[Row {
        construct: "`format: uuid`, `pattern`, `format: date`/`date-time`",
        action: "`uuid`, `regress`, `chrono` reached through `apikeys_runtime::deps`: a provider manifest lists none of them; `cargo xtask generate` keeps the crate's `uuid` and `regress` features in its defaults exactly when the spec uses them",
    }],
    snapshots: &["rewrite-runtime-dependencies"],
    apply: |generated| {
        through_runtime(&mut generated.file);
        Ok(())
    },
};

/// Crates generated code names (`::uuid::Uuid` for `format: uuid`,
/// `::regress::Regex` for `pattern`, `::chrono::…` for dates) are reached
/// through `apikeys_runtime::deps`, so a provider crate compiles whatever
/// formats its spec uses without listing them in its manifest.
pub fn through_runtime(file: &mut syn::File) {
    struct Deps;
    impl VisitMut for Deps {
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            let first = path.segments.first().map(|s| s.ident.to_string());
            if path.leading_colon.is_some()
                && matches!(first.as_deref(), Some("uuid" | "regress" | "chrono"))
            {
                let rest = &path.segments;
                *path = syn::parse_quote!(::apikeys_runtime::deps::#rest);
            }
            syn::visit_mut::visit_path_mut(self, path);
        }
    }
    Deps.visit_file_mut(file);
}

pub(super) const SCHEMARS_BEHIND_FEATURE: Rewrite = Rewrite {
    name: "schemars-behind-feature",
    module: module_path!(),
    summary: Some(Row {
        construct: "`JsonSchema` derives (and `#[schemars]` helpers, `impl JsonSchema`) under `cfg_attr(feature = \"schemars\", …)`",
        action: "the derive macros and the `syn` they need were a tenth of a consumer's clean build; schemas are there for who turns the feature on",
    }),
    rows: &[],
    snapshots: &["rewrite-runtime-dependencies"],
    apply: |generated| {
        schemars_behind_feature(&mut generated.file);
        Ok(())
    },
};

/// JSON Schema support is compiled only with the crate's `schemars`
/// feature: every `derive(… JsonSchema …)` loses that derive and gains
/// `#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]`,
/// `#[schemars(…)]` helper attributes move under the same `cfg_attr`, and
/// a hand-written `impl JsonSchema` gets `#[cfg(feature = "schemars")]`.
/// (schemars' derive macros and the second `syn` they need were a tenth
/// of a consumer's clean build; few users want the schemas.)
fn schemars_behind_feature(file: &mut syn::File) {
    struct Gate;
    fn gate(attrs: &mut Vec<syn::Attribute>) {
        let mut derived = false;
        for attr in attrs.iter_mut() {
            if attr.path().is_ident("schemars") {
                let meta = &attr.meta;
                *attr = syn::parse_quote!(#[cfg_attr(feature = "schemars", #meta)]);
            } else if attr.path().is_ident("derive")
                && let Ok(paths) =
                    attr.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
                && paths
                    .iter()
                    .any(|p| p.segments.last().is_some_and(|s| s.ident == "JsonSchema"))
            {
                let kept = paths
                    .into_iter()
                    .filter(|p| p.segments.last().is_none_or(|s| s.ident != "JsonSchema"));
                *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
                derived = true;
            }
        }
        if derived {
            attrs.push(syn::parse_quote!(
                #[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
            ));
        }
    }
    impl VisitMut for Gate {
        fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
            gate(&mut item.attrs);
            for field in item.fields.iter_mut() {
                gate(&mut field.attrs);
            }
        }
        fn visit_item_enum_mut(&mut self, item: &mut syn::ItemEnum) {
            gate(&mut item.attrs);
            for variant in item.variants.iter_mut() {
                gate(&mut variant.attrs);
                for field in variant.fields.iter_mut() {
                    gate(&mut field.attrs);
                }
            }
        }
        fn visit_item_impl_mut(&mut self, item: &mut syn::ItemImpl) {
            if let Some((path, _)) = &item.trait_
                && path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "JsonSchema")
            {
                item.attrs
                    .push(syn::parse_quote!(#[cfg(feature = "schemars")]));
            }
        }
    }
    Gate.visit_file_mut(file);
}

pub(super) const UNUSED_DEFAULTS: Rewrite = Rewrite {
    name: "unused-defaults",
    module: module_path!(),
    summary: Some(Row {
        construct: "typify's `defaults` module allows its unused helpers",
        action: "`-D warnings` passes whichever defaults a spec uses",
    }),
    rows: &[],
    snapshots: &["normalize-defaults-that-do-not-fit"],
    apply: |generated| {
        unused_defaults_allowed(&mut generated.file);
        Ok(())
    },
};

/// typify writes every helper of its `types::defaults` module when any is
/// used (`default_i64` beside the `default_u64` a spec's positive integer
/// defaults use): the module allows the ones a spec leaves unused, which
/// `-D warnings` would otherwise refuse.
fn unused_defaults_allowed(file: &mut syn::File) {
    let Some(items) = types_module(file) else {
        return;
    };
    for item in items {
        if let Item::Mod(m) = item
            && m.ident == "defaults"
        {
            m.attrs.push(syn::parse_quote!(#[allow(dead_code)]));
        }
    }
}

/// Every type name the `types` module defines twice (a struct or enum and
/// another item of the same name) because two schemas were given it, in
/// order. typify's own wrapper of a nullable schema, `X(Option<X>)`
/// beside `X`, is one schema: renaming a component cannot help it, so it
/// is not listed.
pub fn defined_twice(client: &mut syn::File) -> Vec<String> {
    let Some(items) = types_module(client) else {
        return Vec::new();
    };
    let wraps_itself = |s: &syn::ItemStruct| {
        let own = s.ident.to_string();
        s.fields.iter().any(|f| {
            quote!(#f)
                .to_string()
                .replace(' ', "")
                .contains(&format!("Option<{own}>"))
        })
    };
    let mut seen = std::collections::BTreeSet::new();
    items
        .iter()
        .filter_map(|item| {
            let ident = match item {
                Item::Struct(s) if wraps_itself(s) => return None,
                Item::Struct(s) => &s.ident,
                Item::Enum(e) => &e.ident,
                Item::Type(t) => &t.ident,
                _ => return None,
            };
            (!seen.insert(ident.to_string())).then(|| ident.to_string())
        })
        .collect()
}

/// The models of a generated client that are read from answers and
/// written back (structs and enums deriving `Deserialize`, `Serialize` and
/// `JsonSchema`), by name.
pub fn readable_models(client: &mut syn::File) -> Vec<String> {
    let Some(items) = types_module(client) else {
        return Vec::new();
    };
    let derives = |attrs: &[syn::Attribute]| {
        attrs
            .iter()
            .filter(|a| a.path().is_ident("derive") || a.path().is_ident("cfg_attr"))
            .map(|a| quote!(#a).to_string())
            .collect::<String>()
    };
    let mut names: Vec<String> = items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(s) => Some((s.ident.to_string(), derives(&s.attrs))),
            Item::Enum(e) => Some((e.ident.to_string(), derives(&e.attrs))),
            _ => None,
        })
        .filter(|(_, d)| {
            d.contains("Deserialize") && d.contains("Serialize") && d.contains("JsonSchema")
        })
        .map(|(name, _)| name)
        .collect();
    names.sort();
    names
}

/// The items of the generated `types` module.
fn types_module(file: &mut syn::File) -> Option<&mut Vec<Item>> {
    file.items.iter_mut().find_map(|item| match item {
        Item::Mod(module) if module.ident == "types" => {
            module.content.as_mut().map(|(_, items)| items)
        }
        _ => None,
    })
}

/// The items of a `#[serde(...)]` attribute; `None` for other attributes
/// or ones that do not parse.
fn serde_metas(attr: &syn::Attribute) -> Option<Punctuated<syn::Meta, syn::Token![,]>> {
    if !attr.path().is_ident("serde") {
        return None;
    }
    attr.parse_args_with(Punctuated::parse_terminated).ok()
}

/// Removes `name` (`Copy`, `::serde::Deserialize`) from an item's derives.
fn drop_derive(attrs: &mut [syn::Attribute], name: &str) {
    for attr in attrs {
        if attr.path().is_ident("derive")
            && let Ok(paths) =
                attr.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        {
            let kept = paths
                .into_iter()
                .filter(|p| p.segments.last().is_none_or(|s| s.ident != name));
            *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
        }
    }
}
