//! Changes to progenitor's output that plug the generated client into
//! `apikeys-runtime`. Each is checked: when progenitor's output no longer has
//! the shape a change expects, generation fails instead of silently
//! producing a client that behaves differently.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
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
        let before = block.stmts.len();
        block
            .stmts
            .retain(|stmt| !quote!(#stmt).to_string().contains("\"api-version\""));
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
        if mac.path.is_ident("format")
            && let Ok(mut args) = mac.parse_body_with(
                syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated,
            )
        {
            for arg in args.iter_mut() {
                self.visit_expr_mut(arg);
            }
            mac.tokens = quote!(#args);
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
        if let [only] = success[..] {
            m.arms[only].pat = syn::parse_quote!(200u16..=299u16);
            self.widened += 1;
        }
    }
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

/// typify leaves the variants of `oneOf` enums without docs: give each
/// one that names its form, so every public item is documented.
fn document_variants(file: &mut syn::File) {
    for item in &mut file.items {
        let Item::Mod(module) = item else { continue };
        if module.ident != "types" {
            continue;
        }
        let Some((_, items)) = &mut module.content else {
            continue;
        };
        for item in items {
            let Item::Enum(e) = item else { continue };
            let owner = e.ident.to_string();
            for variant in &mut e.variants {
                if variant.attrs.iter().any(|a| a.path().is_ident("doc")) {
                    continue;
                }
                let doc = format!("The `{}` form of a `{owner}`.", variant.ident);
                variant.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
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

/// Rewrites progenitor's file; returns the rewritten file and the number of
/// operations wrapped.
pub fn rewrite(
    tokens: TokenStream,
    glue: TokenStream,
    operation_ids: &[String],
) -> Result<(syn::File, usize), String> {
    let tokens_have_path_params = tokens.to_string().contains("encode_path (");
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor's output does not parse: {e}"))?;
    let mut counts = Counts::default();
    counts.visit_file_mut(&mut file);
    let mut any_success = AnySuccess { widened: 0 };
    any_success.visit_file_mut(&mut file);

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
            let (ok, err) = result_types(&f.sig.output)
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
                ::apikeys_runtime::call(&self.inner, #op_id, self.#raw(#(#args),*)).await
            });
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
    let glue: syn::File =
        syn::parse2(glue).map_err(|e| format!("the runtime glue does not parse: {e}"))?;
    file.items.extend(glue.items);
    Ok((file, operations))
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
                let fixed = "regex :: escape (& :: apikeys_runtime :: encode_path (& value . to_string ()))";
                self.0 += text.matches(raw).count();
                if let Ok(tokens) = text.replace(raw, fixed).parse() {
                    mac.tokens = tokens;
                }
            }
            syn::visit_mut::visit_macro_mut(self, mac);
        }
    }
    let has_path_values = quote!(#file).to_string().contains("path_matches (re)");
    let mut fix = PathValues(0);
    fix.visit_file_mut(file);
    if has_path_values && fix.0 == 0 {
        return Err("progenitor's mock path matching has an unexpected shape".into());
    }
    Ok(())
}
