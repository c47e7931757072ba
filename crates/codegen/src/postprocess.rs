//! Changes to progenitor's output that plug the generated client into
//! `apikeys-runtime`. Each is checked: when progenitor's output no longer has
//! the shape a change expects, generation fails instead of silently
//! producing a client that behaves differently.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;
use syn::{Expr, FnArg, ImplItem, Item, Pat, ReturnType};

/// What the rewrite found, for the checks in [`rewrite`].
#[derive(Default)]
struct Counts {
    api_version_headers: usize,
    encode_path_calls: usize,
}

impl VisitMut for Counts {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        // progenitor adds an `api-version` header (the spec's info.version)
        // to every request. None of our providers defines that header, and
        // some API gateways give it a meaning of their own: drop it.
        // Only that statement: a spec's own `api-version` header parameter
        // is set from the caller's value and stays.
        let before = block.stmts.len();
        block.stmts.retain(|stmt| {
            let text = quote!(#stmt).to_string();
            !(text.contains("\"api-version\"") && text.contains("Self :: api_version ()"))
        });
        let removed = before - block.stmts.len();
        self.api_version_headers += removed;
        if removed > 0 && !quote!(#block).to_string().contains("header_map . append") {
            // The header map is now always empty: drop it, and the
            // `.headers(header_map)` that would merge it into the request.
            block.stmts.retain(|stmt| {
                !matches!(stmt, syn::Stmt::Local(local)
                    if matches!(&local.pat, Pat::Ident(id) if id.ident == "header_map"))
            });
            DropEmptyHeaders.visit_block_mut(block);
        }
        syn::visit_mut::visit_block_mut(self, block);
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        // Path values sit inside `format!`: parse its arguments as
        // expressions, rewrite them, and print them back.
        if mac.path.is_ident("format") && rewrite_macro_args(mac, |arg| self.visit_expr_mut(arg)) {
            return;
        }
        syn::visit_mut::visit_macro_mut(self, mac);
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        // progenitor's encode_path leaves `+`, `&`, `=`, `;`, `:`, `@` and a
        // few more as they are, and sends `""`, `.` and `..`, which make a
        // request reach another resource. Ours percent-encodes every byte
        // that is not unreserved and refuses those values, naming the
        // parameter: `encode_path(&key_id.to_string())` becomes
        // `path_segment("key_id", &key_id.to_string())?`.
        if let Expr::Call(call) = expr
            && let Expr::Path(path) = &*call.func
            && path.path.is_ident("encode_path")
            && call.args.len() == 1
        {
            let arg = &call.args[0];
            let name = parameter_name(arg).unwrap_or_else(|| "path parameter".to_owned());
            *expr = syn::parse_quote!(::apikeys_runtime::path_segment(#name, #arg)?);
            self.encode_path_calls += 1;
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// The variable a path value is made from: `app_id` in
/// `&app_id.to_string()`.
fn parameter_name(arg: &Expr) -> Option<String> {
    let mut expr = arg;
    loop {
        match expr {
            Expr::Reference(r) => expr = &r.expr,
            Expr::MethodCall(m) => expr = &m.receiver,
            Expr::Paren(p) => expr = &p.expr,
            Expr::Path(p) => return p.path.get_ident().map(|i| i.to_string()),
            _ => return None,
        }
    }
}

/// Makes every 2xx a success: an operation's one declared success status
/// (`201u16 => …`) becomes `200u16..=299u16 => …`, so that a service that
/// answers 200 where the spec says 201 (or 204 for 200) is not turned into
/// an error, and a success body is never decoded as an error body.
struct AnySuccess {
    widened: usize,
}

impl VisitMut for AnySuccess {
    fn visit_expr_match_mut(&mut self, m: &mut syn::ExprMatch) {
        syn::visit_mut::visit_expr_match_mut(self, m);
        let scrutinee = &m.expr;
        if quote!(#scrutinee).to_string() != "response . status () . as_u16 ()" {
            return;
        }
        let int = |e: &Expr| match e {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(n),
                ..
            }) => n.base10_parse::<u16>().ok(),
            _ => None,
        };
        let is_success = |pat: &Pat| match pat {
            Pat::Lit(lit) => int(&Expr::Lit(lit.clone())).is_some_and(|n| (200..300).contains(&n)),
            Pat::Range(r) => {
                r.start.as_deref().and_then(int) == Some(200)
                    && r.end.as_deref().and_then(int) == Some(299)
            }
            _ => false,
        };
        let success: Vec<usize> = (0..m.arms.len())
            .filter(|&i| is_success(&m.arms[i].pat))
            .collect();
        // Several declared successes with the same body (200 and 201 of a
        // create) are one: the first stands for all 2xx.
        let same_body = success.windows(2).all(|w| {
            let (a, b) = (&m.arms[w[0]].body, &m.arms[w[1]].body);
            quote!(#a).to_string() == quote!(#b).to_string()
        });
        let success = if same_body && !success.is_empty() {
            for &i in success[1..].iter().rev() {
                m.arms.remove(i);
            }
            vec![success[0]]
        } else {
            success
        };
        if let [only] = success[..] {
            let arm = &mut m.arms[only];
            arm.pat = syn::parse_quote!(200u16..=299u16);
            // An empty success body reads as `{}` or `null` where the
            // success type allows it (see `apikeys_runtime::success`).
            let body = &arm.body;
            let printed = quote!(#body).to_string().replace(' ', "");
            if printed.trim_start_matches('{').trim_end_matches('}')
                == "ResponseValue::from_response(response).await"
            {
                *arm.body = syn::parse_quote!(::apikeys_runtime::success(response));
            }
            self.widened += 1;
        }
    }
}

/// The arguments of a macro call that are expressions (`format!("{}", a, b)`),
/// rewritten by `visit` and printed back; `false` when they do not parse.
fn rewrite_macro_args(mac: &mut syn::Macro, mut visit: impl FnMut(&mut Expr)) -> bool {
    let Ok(mut args) = mac.parse_body_with(Punctuated::<Expr, syn::Token![,]>::parse_terminated)
    else {
        return false;
    };
    args.iter_mut().for_each(&mut visit);
    mac.tokens = quote!(#args);
    true
}

/// The items of a `#[serde(...)]` attribute; `None` for other attributes
/// or ones that do not parse.
fn serde_metas(attr: &syn::Attribute) -> Option<Punctuated<syn::Meta, syn::Token![,]>> {
    if !attr.path().is_ident("serde") {
        return None;
    }
    attr.parse_args_with(Punctuated::parse_terminated).ok()
}

/// Removes `.headers(header_map)` from request-builder chains.
struct DropEmptyHeaders;

impl VisitMut for DropEmptyHeaders {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        if let Expr::MethodCall(call) = expr
            && call.method == "headers"
            && call.args.len() == 1
            && quote!(#call).to_string().ends_with("headers (header_map)")
        {
            *expr = (*call.receiver).clone();
        }
    }
}

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
        let derives_deserialize = st
            .attrs
            .iter()
            .any(|a| a.path().is_ident("derive") && quote!(#a).to_string().contains("Deserialize"));
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
            let ty = &field.ty;
            let printed = quote!(#ty).to_string().replace(' ', "");
            if !printed.starts_with("::std::vec::Vec<") {
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
                    let value = &nv.value;
                    if quote!(#value).to_string().contains("Vec::is_empty") {
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
            .any(|a| a.path().is_ident("serde") && quote!(#a).to_string().contains("untagged"));
        let forms: Option<Vec<(syn::Ident, Vec<String>)>> = e
            .variants
            .iter()
            .map(|v| match &v.fields {
                syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                    let ty = &f.unnamed[0].ty;
                    let name = quote!(#ty).to_string();
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
        let derives_deserialize = e
            .attrs
            .iter()
            .any(|a| a.path().is_ident("derive") && quote!(#a).to_string().contains("Deserialize"));
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
        let self_ty = &imp.self_ty;
        let Some(variant) = opened.get(&quote!(#self_ty).to_string()) else {
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

/// The items of the generated `types` module.
fn types_module(file: &mut syn::File) -> Option<&mut Vec<Item>> {
    file.items.iter_mut().find_map(|item| match item {
        Item::Mod(module) if module.ident == "types" => {
            module.content.as_mut().map(|(_, items)| items)
        }
        _ => None,
    })
}

/// typify leaves the variants of `oneOf` enums without docs: give each
/// one that names its form, so every public item is documented.
fn document_variants(file: &mut syn::File) {
    let has_doc = |attrs: &[syn::Attribute]| attrs.iter().any(|a| a.path().is_ident("doc"));
    for item in &mut file.items {
        let Item::Mod(module) = item else { continue };
        if module.ident != "types" {
            continue;
        }
        let Some((_, items)) = &mut module.content else {
            continue;
        };
        for item in items {
            match item {
                Item::Enum(e) => {
                    let owner = e.ident.to_string();
                    for variant in &mut e.variants {
                        if has_doc(&variant.attrs) {
                            continue;
                        }
                        let doc = format!("The `{}` form of a `{owner}`.", variant.ident);
                        variant.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
                    }
                }
                // Specs often leave properties undescribed: the field is
                // documented by the name the wire uses, so that a crate
                // with `missing_docs` stays warning-free.
                Item::Struct(st) => {
                    let owner = st.ident.to_string();
                    for field in st.fields.iter_mut() {
                        let Some(ident) = &field.ident else { continue };
                        if has_doc(&field.attrs) || !matches!(field.vis, syn::Visibility::Public(_))
                        {
                            continue;
                        }
                        let wire = field
                            .attrs
                            .iter()
                            .filter_map(serde_metas)
                            .flatten()
                            .find_map(|meta| match meta {
                                syn::Meta::NameValue(nv) if nv.path.is_ident("rename") => {
                                    match nv.value {
                                        Expr::Lit(syn::ExprLit {
                                            lit: syn::Lit::Str(s),
                                            ..
                                        }) => Some(s.value()),
                                        _ => None,
                                    }
                                }
                                _ => None,
                            })
                            .unwrap_or_else(|| {
                                ident.to_string().trim_start_matches("r#").to_owned()
                            });
                        let doc =
                            format!("`{wire}` of a `{owner}` (the spec does not describe it).");
                        field.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
                    }
                }
                _ => {}
            }
        }
    }
}

/// Finds the operation id that progenitor writes into `OperationInfo`.
fn operation_id(block: &syn::Block) -> Option<String> {
    struct Find(Option<String>);
    impl VisitMut for Find {
        fn visit_expr_struct_mut(&mut self, s: &mut syn::ExprStruct) {
            if s.path.is_ident("OperationInfo") {
                for field in &s.fields {
                    if let syn::Member::Named(name) = &field.member
                        && name == "operation_id"
                        && let Expr::Lit(lit) = &field.expr
                        && let syn::Lit::Str(value) = &lit.lit
                    {
                        self.0 = Some(value.value());
                    }
                }
            }
            syn::visit_mut::visit_expr_struct_mut(self, s);
        }
    }
    let mut find = Find(None);
    find.visit_block_mut(&mut block.clone());
    find.0
}

/// Rewrites the operation id progenitor writes into `OperationInfo`.
fn set_operation_id(block: &mut syn::Block, id: &str) {
    struct Set<'a>(&'a str);
    impl VisitMut for Set<'_> {
        fn visit_expr_struct_mut(&mut self, s: &mut syn::ExprStruct) {
            if s.path.is_ident("OperationInfo") {
                for field in &mut s.fields {
                    if let syn::Member::Named(name) = &field.member
                        && name == "operation_id"
                    {
                        let id = self.0;
                        field.expr = syn::parse_quote!(#id);
                    }
                }
            }
            syn::visit_mut::visit_expr_struct_mut(self, s);
        }
    }
    Set(id).visit_block_mut(block);
}

/// Splits `Result<ResponseValue<T>, Error<E>>` into `(T-part, E)`.
fn result_types(output: &ReturnType) -> Option<(syn::Type, syn::Type)> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let syn::Type::Path(path) = &**ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    });
    let ok = types.next()?;
    let syn::Type::Path(err) = types.next()? else {
        return None;
    };
    let err_last = err.path.segments.last()?;
    if err_last.ident != "Error" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(err_args) = &err_last.arguments else {
        return None;
    };
    let syn::GenericArgument::Type(e) = err_args.args.first()? else {
        return None;
    };
    Some((ok, e.clone()))
}

/// Replaces progenitor's hook calls with the call's own `send`:
///
/// ```text
/// let info = OperationInfo { .. };          (removed)
/// self.pre(&mut request, &info).await?;     (removed)
/// let result = self.exec(request, &info).await;
///     -> let result = call.send(&self.client, &self.baseurl, request).await?;
/// self.post(&result, &info).await?;         (removed)
/// ```
///
/// so that one explicit [`Call`](apikeys_runtime) carries the call's state
/// from the method to the wire and back.
fn send_through_call(block: &mut syn::Block) -> Result<(), String> {
    let hook = |stmt: &syn::Stmt, name: &str| -> bool {
        let syn::Stmt::Expr(Expr::Try(t), _) = stmt else {
            return false;
        };
        let Expr::Await(a) = &*t.expr else {
            return false;
        };
        matches!(&*a.base, Expr::MethodCall(m) if m.method == name)
    };
    let is_info = |stmt: &syn::Stmt| {
        matches!(stmt, syn::Stmt::Local(l)
            if matches!(&l.pat, Pat::Ident(id) if id.ident == "info"))
    };
    let is_exec = |stmt: &syn::Stmt| {
        matches!(stmt, syn::Stmt::Local(l)
        if matches!(&l.pat, Pat::Ident(id) if id.ident == "result")
        && l.init.as_ref().is_some_and(|i| {
            let e = &i.expr;
            quote!(#e).to_string().replace(' ', "") == "self.exec(request,&info).await"
        }))
    };
    let before = block.stmts.len();
    let mut found = [0usize; 4];
    block.stmts.retain(|stmt| {
        for (i, drop) in [is_info(stmt), hook(stmt, "pre"), hook(stmt, "post")]
            .into_iter()
            .enumerate()
        {
            if drop {
                found[i] += 1;
                return false;
            }
        }
        true
    });
    for stmt in &mut block.stmts {
        if is_exec(stmt) {
            *stmt = syn::parse_quote!(
                let result = call.send(&self.client, &self.baseurl, request).await?;
            );
            found[3] += 1;
        }
    }
    if found != [1, 1, 1, 1] {
        return Err(format!(
            "progenitor's hook calls have an unexpected shape (info, pre, post, exec found {found:?} in {before} statements)"
        ));
    }
    Ok(())
}

/// The answer `Call::send` gives is already read whole: progenitor's
/// decoding of a `reqwest::Response` becomes the runtime's decoding of that
/// answer, so no body is read twice and no response is rebuilt.
fn decode_answers(block: &mut syn::Block) -> Result<(), String> {
    struct Decode;
    impl VisitMut for Decode {
        fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
            // An arm that is the decoded answer itself is a success.
            let body = &arm.body;
            let printed = quote!(#body).to_string().replace(' ', "");
            if printed.trim_start_matches('{').trim_end_matches('}')
                == "ResponseValue::from_response(response).await"
            {
                *arm.body = syn::parse_quote!(::apikeys_runtime::success(response));
                return;
            }
            syn::visit_mut::visit_arm_mut(self, arm);
        }

        fn visit_expr_mut(&mut self, expr: &mut Expr) {
            let printed = quote!(#expr).to_string().replace(' ', "");
            match printed.as_str() {
                "ResponseValue::from_response(response).await" => {
                    *expr = syn::parse_quote!(::apikeys_runtime::decode(response));
                    return;
                }
                "ResponseValue::empty(response)" => {
                    *expr = syn::parse_quote!(::apikeys_runtime::empty(response));
                    return;
                }
                // A download: its bytes, read within the body limit.
                "ResponseValue::stream(response)" => {
                    *expr = syn::parse_quote!(::apikeys_runtime::stream(response));
                    return;
                }
                "Error::UnexpectedResponse(response)" => {
                    *expr = syn::parse_quote!(::apikeys_runtime::unexpected(response));
                    return;
                }
                _ => {}
            }
            syn::visit_mut::visit_expr_mut(self, expr);
        }
    }
    Decode.visit_block_mut(block);
    let printed = quote!(#block).to_string();
    if printed.contains("ResponseValue ::") || printed.contains("UnexpectedResponse") {
        return Err(
            "progenitor reads its answer in a way the runtime does not handle (a stream or an upgrade?)"
                .into(),
        );
    }
    Ok(())
}

/// A `&str` path parameter is checked and encoded as it is, not through
/// the `to_string()` copy progenitor makes of every parameter.
fn borrow_str_segments(f: &mut syn::ImplItemFn) {
    let strs: Vec<syn::Ident> = f
        .sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(t) => match (&*t.pat, &*t.ty) {
                (Pat::Ident(id), syn::Type::Reference(r))
                    if quote!(#r).to_string().replace(' ', "").ends_with("str") =>
                {
                    Some(id.ident.clone())
                }
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect();
    struct Borrow<'a>(&'a [syn::Ident]);
    impl VisitMut for Borrow<'_> {
        fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
            rewrite_macro_args(mac, |arg| self.visit_expr_mut(arg));
        }
        fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
            syn::visit_mut::visit_expr_call_mut(self, call);
            let func = &call.func;
            if quote!(#func).to_string().replace(' ', "") != "::apikeys_runtime::path_segment" {
                return;
            }
            if let Some(value) = call.args.iter_mut().nth(1)
                && let Some(name) = parameter_name(value)
                && let Some(ident) = self.0.iter().find(|i| **i == name)
            {
                *value = syn::parse_quote!(#ident);
            }
        }
    }
    Borrow(&strs).visit_block_mut(&mut f.block);
}

/// Whether an operation's request is a DELETE (`self.client.delete(url)`).
fn is_delete(block: &syn::Block) -> bool {
    quote!(#block).to_string().contains(". delete (url)")
}

/// `ResponseValue<T>` as `ResponseValue<Option<T>>`; `None` for
/// `ResponseValue<()>`, which needs no body anyway.
fn optional_value(ok: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(path) = ok else {
        return None;
    };
    let last = path.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let syn::GenericArgument::Type(inner) = args.args.first()? else {
        return None;
    };
    if matches!(inner, syn::Type::Tuple(t) if t.elems.is_empty()) {
        return None;
    }
    Some(syn::parse_quote!(ResponseValue<::std::option::Option<#inner>>))
}

/// Rewrites progenitor's file; returns the rewritten file and the number of
/// operations wrapped.
pub fn rewrite(
    tokens: TokenStream,
    glue: TokenStream,
    operation_ids: &[String],
    optional_success: &[String],
) -> Result<(syn::File, usize), String> {
    let tokens_have_path_params = tokens.to_string().contains("encode_path (");
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor's output does not parse: {e}"))?;
    let mut counts = Counts::default();
    counts.visit_file_mut(&mut file);
    let mut any_success = AnySuccess { widened: 0 };
    any_success.visit_file_mut(&mut file);
    ExactStatusesFirst.visit_file_mut(&mut file);
    Edition2024Keywords.visit_file_mut(&mut file);
    OtherMethods.visit_file_mut(&mut file);

    let mut operations = 0;
    for item in &mut file.items {
        let Item::Impl(imp) = item else { continue };
        let self_ty = &imp.self_ty;
        if imp.trait_.is_some() || quote!(#self_ty).to_string() != "Client" {
            continue;
        }
        let mut items = Vec::with_capacity(imp.items.len() * 2);
        for member in imp.items.drain(..) {
            let ImplItem::Fn(mut f) = member else {
                items.push(member);
                continue;
            };
            let name = f.sig.ident.to_string();
            if name == "new" {
                // Builds a reqwest client with `unwrap()` and a fixed 15 s
                // timeout: `Client::builder()` replaces it.
                continue;
            }
            if name == "new_with_client" {
                f.vis = syn::parse_quote!(pub(crate));
                items.push(ImplItem::Fn(f));
                continue;
            }
            if f.sig.asyncness.is_none() {
                items.push(ImplItem::Fn(f));
                continue;
            }
            let (mut ok, err) = result_types(&f.sig.output)
                .ok_or_else(|| format!("operation method {name} has an unexpected return type"))?;
            let method_id = operation_id(&f.block)
                .ok_or_else(|| format!("operation method {name} names no operation id"))?;
            // progenitor names operations by their method; we keep the
            // spec's operationId, which is what providers' docs use.
            let op_id = operation_ids
                .iter()
                .find(|id| id.to_lowercase() == method_id.replace('_', "").to_lowercase())
                .cloned()
                .unwrap_or(method_id.clone());
            // A DELETE's answer body is a courtesy: services answer 204
            // without one as often as 200 with the deleted resource. Its
            // success value is optional, so both are a success; so is that
            // of an operation whose spec declares both (normalization).
            if (is_delete(&f.block) || optional_success.contains(&op_id))
                && let Some(optional) = optional_value(&ok)
            {
                ok = optional;
                f.sig.output = syn::parse_quote!(-> Result<#ok, Error<#err>>);
            }
            set_operation_id(&mut f.block, &op_id);
            let args = f
                .sig
                .inputs
                .iter()
                .filter_map(|arg| match arg {
                    FnArg::Typed(t) => match &*t.pat {
                        Pat::Ident(id) => Some(id.ident.clone()),
                        _ => None,
                    },
                    FnArg::Receiver(_) => None,
                })
                .collect::<Vec<_>>();
            let raw = format_ident!("raw_{}", f.sig.ident);
            let mut public = f.clone();
            public.sig.output = syn::parse_quote!(-> Result<#ok, ::apikeys_runtime::Error<#err>>);
            public.block = syn::parse_quote!({
                let call = ::apikeys_runtime::Call::start(&self.inner, #op_id);
                let outcome = self.#raw(&call, #(#args),*).await;
                call.finish(outcome)
            });
            send_through_call(&mut f.block).map_err(|m| format!("operation method {name}: {m}"))?;
            borrow_str_segments(&mut f);
            decode_answers(&mut f.block).map_err(|m| format!("operation method {name}: {m}"))?;
            f.sig
                .inputs
                .insert(1, syn::parse_quote!(call: &::apikeys_runtime::Call<'_>));
            f.sig.ident = raw;
            f.vis = syn::Visibility::Inherited;
            f.attrs.retain(|a| !a.path().is_ident("doc"));
            items.push(ImplItem::Fn(public));
            items.push(ImplItem::Fn(f));
            operations += 1;
        }
        imp.items = items;
    }

    if operations > 0 && counts.encode_path_calls == 0 && tokens_have_path_params {
        return Err("progenitor's path encoding was not found: it would go out unchanged".into());
    }
    if operations > 0 && counts.api_version_headers != operations {
        return Err(format!(
            "expected one api-version header per operation in progenitor's output, found {} for {operations} operations",
            counts.api_version_headers
        ));
    }
    if operations > 0 && any_success.widened == 0 {
        return Err("no operation's success status was found in progenitor's output".into());
    }
    document_variants(&mut file);
    optional_request_arrays(&mut file);
    tolerate(&mut file);
    best_fitting_forms(&mut file);
    open_enums(&mut file);
    through_runtime(&mut file);
    schemars_behind_feature(&mut file);
    unused_defaults_allowed(&mut file);
    let glue: syn::File =
        syn::parse2(glue).map_err(|e| format!("the runtime glue does not parse: {e}"))?;
    file.items.extend(glue.items);
    Ok((file, operations))
}

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

/// typify writes every helper of its `types::defaults` module when any is
/// used (`default_i64` beside the `default_u64` a spec's positive integer
/// defaults use): the module allows the ones a spec leaves unused, which
/// `-D warnings` would otherwise refuse.
pub fn unused_defaults_allowed(file: &mut syn::File) {
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

/// JSON Schema support is compiled only with the crate's `schemars`
/// feature: every `derive(… JsonSchema …)` loses that derive and gains
/// `#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]`,
/// `#[schemars(…)]` helper attributes move under the same `cfg_attr`, and
/// a hand-written `impl JsonSchema` gets `#[cfg(feature = "schemars")]`.
/// (schemars' derive macros and the second `syn` they need were a tenth
/// of a consumer's clean build; few users want the schemas.)
pub fn schemars_behind_feature(file: &mut syn::File) {
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

/// Puts the arms of every status match in an order where each can match:
/// the success range, exact statuses, other ranges, then the rest. (A `default` answer turned
/// into `4XX` beside an explicit `404` made the `404` arm unreachable.)
struct ExactStatusesFirst;

impl VisitMut for ExactStatusesFirst {
    fn visit_expr_match_mut(&mut self, m: &mut syn::ExprMatch) {
        syn::visit_mut::visit_expr_match_mut(self, m);
        let scrutinee = &m.expr;
        if quote!(#scrutinee).to_string().replace(' ', "") != "response.status().as_u16()" {
            return;
        }
        // The success range stays first: no exact arm lies inside it (the
        // declared successes were joined into it).
        let rank = |arm: &syn::Arm| match &arm.pat {
            Pat::Range(r) if quote!(#r).to_string().starts_with("200u16") => 0,
            Pat::Lit(_) => 1,
            Pat::Range(_) => 2,
            _ => 3,
        };
        m.arms.sort_by_key(rank);
    }
}

/// reqwest has helpers for the common methods only: `client.options(url)`
/// (an OPTIONS operation) is `client.request(Method::OPTIONS, url)`.
struct OtherMethods;

impl VisitMut for OtherMethods {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        let Expr::MethodCall(call) = expr else { return };
        let method = match call.method.to_string().as_str() {
            "options" => quote!(OPTIONS),
            "trace" => quote!(TRACE),
            "connect" => quote!(CONNECT),
            _ => return,
        };
        let receiver = &call.receiver;
        if call.args.len() != 1 || quote!(#receiver).to_string().replace(' ', "") != "self.client" {
            return;
        }
        let url = &call.args[0];
        *expr = syn::parse_quote!(#receiver.request(::reqwest::Method::#method, #url));
    }
}

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

/// Makes progenitor's mock helpers compile for every parameter and body
/// type the client takes: query and header values are written as the
/// client writes them (`de::wire_texts`: a list as one query pair per item,
/// an enum by its value) instead of `to_string()`, which lists and enums
/// lack; JSON bodies of any type (a list, a boolean), not only objects.
struct MockValues;

impl VisitMut for MockValues {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        let Expr::MethodCall(call) = expr else { return };
        let method = call.method.to_string();
        let args: Vec<String> = call.args.iter().map(|a| quote!(#a).to_string()).collect();
        let receiver = &call.receiver;
        match (method.as_str(), args.as_slice()) {
            ("query_param", [_, value]) if value == "value . to_string ()" => {
                let name = &call.args[0];
                *expr = syn::parse_quote!({
                    let mut when = #receiver;
                    for text in ::apikeys_runtime::de::wire_texts(&value) {
                        when = when.query_param(#name, text);
                    }
                    when
                });
            }
            ("header", [_, value]) if value == "value . to_string ()" => {
                let name = &call.args[0];
                *expr = syn::parse_quote!(
                    #receiver.header(#name, ::apikeys_runtime::de::wire_text(&value))
                );
            }
            ("json_body_obj", [value]) if value == "value" => {
                *expr = syn::parse_quote!(
                    #receiver.json_body(::serde_json::to_value(value).unwrap_or_default())
                );
            }
            _ => {}
        }
    }
}

/// Makes progenitor's typed mock helpers match what the client sends: a
/// path value is matched percent-encoded as the client encodes it, and
/// regex-escaped (progenitor puts the raw value into the path regex, so an
/// id needing encoding never matched and one with `.` or `+` matched too
/// much).
pub fn rewrite_mock(file: &mut syn::File) -> Result<(), String> {
    struct PathValues(usize);
    impl VisitMut for PathValues {
        fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
            let text = mac.tokens.to_string();
            if mac.path.is_ident("format") && text.starts_with("\"^/") {
                let raw = "value . to_string ()";
                // Any parameter type (an enum, a list, a number) as the
                // client writes it in a path segment.
                let fixed = "regex :: escape (& :: apikeys_runtime :: encode_path (& :: apikeys_runtime :: de :: wire_text (& value)))";
                self.0 += text.matches(raw).count();
                if let Ok(tokens) = text.replace(raw, fixed).parse() {
                    mac.tokens = tokens;
                }
            }
            syn::visit_mut::visit_macro_mut(self, mac);
        }
    }
    through_runtime(file);
    MockValues.visit_file_mut(file);
    Edition2024Keywords.visit_file_mut(file);
    // A spec with no operations (or no types they use) leaves the mock's
    // glob import of the client unused.
    struct GlobImports;
    impl VisitMut for GlobImports {
        fn visit_item_use_mut(&mut self, item: &mut syn::ItemUse) {
            let tree = &item.tree;
            if quote!(#tree).to_string().ends_with('*') {
                item.attrs.push(syn::parse_quote!(#[allow(unused_imports)]));
            }
        }
    }
    GlobImports.visit_file_mut(file);
    let has_path_values = quote!(#file).to_string().contains("path_matches (re)");
    let mut fix = PathValues(0);
    fix.visit_file_mut(file);
    if has_path_values && fix.0 == 0 {
        return Err("progenitor's mock path matching has an unexpected shape".into());
    }
    Ok(())
}
