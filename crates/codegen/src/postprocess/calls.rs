//! Calls: each operation sent through `apikeys_runtime::Call` (timeouts,
//! retries, credentials, typed errors), path values encoded by the
//! runtime, and answers read as the runtime reads them.

use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;
use syn::{Expr, FnArg, ImplItem, Item, Pat, ReturnType};

use super::{Generated, Rewrite, syntax};
use crate::rules::Row;

pub(super) const API_VERSION_HEADER: Rewrite = Rewrite {
    name: "api-version-header",
    module: module_path!(),
    summary: Some(Row {
        construct: "`api-version` header dropped; panicking `Client::new` removed",
        action: "no provider defines the header; no panics",
    }),
    rows: &[],
    snapshots: &["rewrite-call-path"],
    apply: |generated| {
        let mut headers = ApiVersionHeaders(0);
        headers.visit_file_mut(&mut generated.file);
        if generated.operations > 0 && headers.0 != generated.operations {
            generated.shape_errors.push(format!(
                "expected one api-version header per operation in progenitor's output, found {} for {} operations",
                headers.0, generated.operations
            ));
        }
        Ok(())
    },
};

/// progenitor adds an `api-version` header (the spec's info.version) to
/// every request; counts the ones removed.
struct ApiVersionHeaders(usize);

impl VisitMut for ApiVersionHeaders {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        // progenitor adds an `api-version` header (the spec's info.version)
        // to every request. None of our providers defines that header, and
        // some API gateways give it a meaning of their own: drop it.
        // Only that statement: a spec's own `api-version` header parameter
        // is set from the caller's value and stays.
        let before = block.stmts.len();
        block.stmts.retain(|stmt| !is_api_version_header(stmt));
        let removed = before - block.stmts.len();
        self.0 += removed;
        let appends = |e: &Expr| {
            matches!(e, Expr::MethodCall(m)
                if m.method == "append" && syntax::is_place(&m.receiver, &["header_map"]))
        };
        if removed > 0 && !syntax::contains(block, appends) {
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
}

pub(super) const PATH_SEGMENTS: Rewrite = Rewrite {
    name: "path-segments",
    module: module_path!(),
    summary: Some(Row {
        construct: "path parameters through `apikeys_runtime::path_segment(name, value)?`",
        action: "every byte but `-._~` and alphanumerics encoded; empty, `.`, `..` and over-long ids refused before sending, naming the parameter",
    }),
    rows: &[],
    snapshots: &["rewrite-path-segments"],
    apply: |generated| {
        let mut segments = PathSegments(0);
        segments.visit_file_mut(&mut generated.file);
        if generated.operations > 0 && segments.0 == 0 && generated.encodes_paths {
            generated
                .shape_errors
                .push("progenitor's path encoding was not found: it would go out unchanged".into());
        }
        Ok(())
    },
};

/// Path values through the runtime's encoding; counts them.
struct PathSegments(usize);

impl VisitMut for PathSegments {
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        // Path values sit inside `format!`: parse its arguments as
        // expressions, rewrite them, and print them back.
        if mac.path.is_ident("format")
            && syntax::rewrite_macro_args(mac, |arg| self.visit_expr_mut(arg))
        {
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
            self.0 += 1;
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

pub(super) const ANY_SUCCESS: Rewrite = Rewrite {
    name: "any-2xx-success",
    module: module_path!(),
    summary: Some(Row {
        construct: "the one declared success status widened to any 2xx, decoded by `apikeys_runtime::success`",
        action: "a 200 for a declared 201 is a success; an empty body reads as `{}`/`null` where the type allows",
    }),
    rows: &[],
    snapshots: &["rewrite-any-2xx-success"],
    apply: |generated| {
        let mut any_success = AnySuccess { widened: 0 };
        any_success.visit_file_mut(&mut generated.file);
        if generated.operations > 0 && any_success.widened == 0 {
            generated
                .shape_errors
                .push("no operation's success status was found in progenitor's output".into());
        }
        Ok(())
    },
};

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
        if !syntax::is_calls(scrutinee, &["response"], &["status", "as_u16"]) {
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
            if syntax::is_from_response(&arm.body) {
                *arm.body = syn::parse_quote!(::apikeys_runtime::success(response));
            }
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
            && syntax::is_place(&call.args[0], &["header_map"])
        {
            *expr = (*call.receiver).clone();
        }
    }
}

pub(super) const STATUS_ARMS: Rewrite = Rewrite {
    name: "status-arms",
    module: module_path!(),
    summary: None,
    rows: &[Row {
        construct: "an explicit error status beside a range of the same class (`404` and `4XX`)",
        action: "status arms ordered so that each can match",
    }],
    snapshots: &["normalize-default-beside-statuses"],
    apply: |generated| {
        ExactStatusesFirst.visit_file_mut(&mut generated.file);
        Ok(())
    },
};

/// Puts the arms of every status match in an order where each can match:
/// the success range, exact statuses, other ranges, then the rest. (A `default` answer turned
/// into `4XX` beside an explicit `404` made the `404` arm unreachable.)
struct ExactStatusesFirst;

impl VisitMut for ExactStatusesFirst {
    fn visit_expr_match_mut(&mut self, m: &mut syn::ExprMatch) {
        syn::visit_mut::visit_expr_match_mut(self, m);
        let scrutinee = &m.expr;
        if !syntax::is_calls(scrutinee, &["response"], &["status", "as_u16"]) {
            return;
        }
        // The success range stays first: no exact arm lies inside it (the
        // declared successes were joined into it).
        let rank = |arm: &syn::Arm| match &arm.pat {
            Pat::Range(r)
                if r.start.as_deref().is_some_and(|s| {
                    matches!(s,
                Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. })
                    if n.base10_parse::<u16>().ok() == Some(200))
                }) =>
            {
                0
            }
            Pat::Lit(_) => 1,
            Pat::Range(_) => 2,
            _ => 3,
        };
        m.arms.sort_by_key(rank);
    }
}

pub(super) const OTHER_METHODS: Rewrite = Rewrite {
    name: "other-methods",
    module: module_path!(),
    summary: None,
    rows: &[Row {
        construct: "an OPTIONS or TRACE operation",
        action: "sent with `request(Method::OPTIONS, ..)` (reqwest has no helper)",
    }],
    snapshots: &["lenient-options-method-and-clashing-fields"],
    apply: |generated| {
        OtherMethods.visit_file_mut(&mut generated.file);
        Ok(())
    },
};

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
        if call.args.len() != 1 || !syntax::is_place(receiver, &["self", "client"]) {
            return;
        }
        let url = &call.args[0];
        *expr = syn::parse_quote!(#receiver.request(::reqwest::Method::#method, #url));
    }
}

pub(super) const THROUGH_THE_RUNTIME: Rewrite = Rewrite {
    name: "through-the-runtime",
    module: module_path!(),
    summary: Some(Row {
        construct: "hooks routed into `apikeys-runtime`; every operation wrapped in `apikeys_runtime::call`; a DELETE's success value is `Option<T>`",
        action: "one call path: timeouts, retries, credentials, typed errors, tracing; services answer a delete with 204 and no body as often as with the deleted resource",
    }),
    rows: &[
        Row {
            construct: "a download (`application/octet-stream`, `*/*`, `application/pdf` answers)",
            action: "progenitor's `ByteStream` over the body, read within the body limit (`Client::with_max_response_bytes` raises it)",
        },
        Row {
            construct: "a parameter named like a local of progenitor's (`request`, as OpenID Connect has; `response`, `result`)",
            action: "the argument is `request_`; the parameter keeps its name on the wire",
        },
        Row {
            construct: "an operation marked `x-apikeys-returns-secret: <JSON pointer>` (a create or generate whose purpose is a new secret)",
            action: "decoded by `apikeys_runtime::success_with_secret`: a 2xx without the secret is an error saying it was probably made, the raw answer kept in `body_secret()`",
        },
    ],
    snapshots: &[
        "rewrite-call-path",
        "rewrite-delete-answer-optional",
        "lenient-download",
        "rewrite-parameters-named-like-locals",
        "rewrite-returns-secret",
    ],
    apply: through_the_runtime,
};

/// Every operation method becomes a public method that starts an
/// `apikeys_runtime::Call` and hands it to the private `raw_` method
/// progenitor wrote, whose request goes out through the call and whose
/// answer is read by the runtime; `Client::new` (which panics) is removed.
fn through_the_runtime(generated: &mut Generated) -> Result<(), String> {
    let mut operations = 0;
    for item in &mut generated.file.items {
        let Item::Impl(imp) = item else { continue };
        if !super::is_client_impl(imp) {
            continue;
        }
        let mut items = Vec::with_capacity(imp.items.len() * 2);
        // Method names given out, for the `_as` methods to avoid.
        let mut taken: std::collections::BTreeSet<String> = imp
            .items
            .iter()
            .filter_map(|item| match item {
                ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
                _ => None,
            })
            .collect();
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
            free_local_names(&mut f).map_err(|m| format!("operation method {name}: {m}"))?;
            let (mut ok, err) = result_types(&f.sig.output)
                .ok_or_else(|| format!("operation method {name} has an unexpected return type"))?;
            let method_id = operation_id(&f.block)
                .ok_or_else(|| format!("operation method {name} names no operation id"))?;
            // progenitor names operations by their method; we keep the
            // spec's operationId, which is what providers' docs use.
            let op_id = generated
                .facts
                .operation_ids
                .iter()
                .find(|id| crate::names::snake(id) == method_id)
                .cloned()
                .unwrap_or(method_id.clone());
            // A DELETE's answer body is a courtesy: services answer 204
            // without one as often as 200 with the deleted resource. Its
            // success value is optional, so both are a success; so is that
            // of an operation whose spec declares both (normalization).
            if (is_delete(&f.block) || generated.facts.optional_success.contains(&op_id))
                && let Some(optional) = optional_value(&ok)
            {
                ok = optional;
                f.sig.output = syn::parse_quote!(-> Result<#ok, Error<#err>>);
            }
            set_operation_id(&mut f.block, &op_id);
            if let Some(names) = fact(&generated.facts.deep_objects, &op_id) {
                deep_objects(&mut f.block, names)
                    .map_err(|m| format!("operation method {name}: {m}"))?;
            }
            if let Some(fields) = fact(&generated.facts.form_encodings, &op_id) {
                form_body(&mut f.block, fields)
                    .map_err(|m| format!("operation method {name}: {m}"))?;
            }
            if let Some(parts) = fact(&generated.facts.multipart, &op_id) {
                multipart_body(&mut f, parts)
                    .map_err(|m| format!("operation method {name}: {m}"))?;
            }
            if let Some(media) = fact(&generated.facts.content_types, &op_id) {
                declared_content_type(&mut f.block, media)
                    .map_err(|m| format!("operation method {name}: {m}"))?;
            }
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
            let rebuilds = build_again(&mut f.block, &err);
            send_through_call(&mut f.block, rebuilds)
                .map_err(|m| format!("operation method {name}: {m}"))?;
            borrow_str_segments(&mut f);
            decode_answers(&mut f.block).map_err(|m| format!("operation method {name}: {m}"))?;
            if let Some(pointers) = fact(&generated.facts.returns_secret, &op_id) {
                secret_in_success(&mut f.block, pointers)
                    .map_err(|m| format!("operation method {name}: {m}"))?;
            }
            f.sig
                .inputs
                .insert(1, syn::parse_quote!(call: &::apikeys_runtime::Call<'_>));
            f.sig.ident = raw;
            f.vis = syn::Visibility::Inherited;
            f.attrs.retain(|a| !a.path().is_ident("doc"));
            let other_media = fact(&generated.facts.other_media, &op_id)
                .map(|offered| {
                    let as_name = (1..)
                        .map(|n| match n {
                            1 => format!("{name}_as"),
                            n => format!("{name}_as{n}"),
                        })
                        .find(|candidate| taken.insert(candidate.clone()))
                        .unwrap_or_default();
                    other_media_methods(&public, &f, (&as_name, &op_id, &err), &args, offered)
                })
                .transpose()
                .map_err(|m| format!("operation method {name}: {m}"))?;
            items.push(ImplItem::Fn(public));
            items.push(ImplItem::Fn(f));
            if let Some([public_as, raw_as]) = other_media {
                items.push(ImplItem::Fn(public_as));
                items.push(ImplItem::Fn(raw_as));
            }
            operations += 1;
        }
        imp.items = items;
    }

    generated.operations = operations;
    Ok(())
}

/// `{operation}_as`: the operation asking for one of the other media types
/// its success offers (`offered`), its body returned as bytes. Made from
/// the operation's two methods once rewritten: a copy of the public one
/// that takes the media type to ask for, and a copy of the raw one whose
/// `Accept` is that type (refused before anything is sent when the spec
/// does not offer it) and whose success arms return the body as bytes.
fn other_media_methods(
    public: &syn::ImplItemFn,
    raw: &syn::ImplItemFn,
    (as_name, op_id, err): (&str, &str, &syn::Type),
    args: &[syn::Ident],
    offered: &[String],
) -> Result<[syn::ImplItemFn; 2], String> {
    // The argument's name, unless a parameter has it already.
    let mut accept = format_ident!("accept");
    while args.contains(&accept) {
        accept = format_ident!("{accept}_");
    }
    let name = &public.sig.ident;
    let as_ident = format_ident!("{as_name}");
    let raw_as = format_ident!("raw_{as_name}");
    let listed = offered
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let doc = format!(
        "[`Self::{name}`], with its answer in a media type other than JSON, returned as bytes (read whole within the client's body limit). `{accept}` names the type to ask for: one of {listed}; any other is refused before anything is sent.\n\n"
    );

    let mut public_as = public.clone();
    public_as.sig.ident = as_ident;
    public_as.sig.inputs.push(syn::parse_quote!(#accept: &str));
    public_as.sig.output = syn::parse_quote!(-> Result<ResponseValue<::apikeys_runtime::Bytes>, ::apikeys_runtime::Error<#err>>);
    public_as.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
    public_as.block = syn::parse_quote!({
        let call = ::apikeys_runtime::Call::start(&self.inner, #op_id);
        let outcome = self.#raw_as(&call, #(#args,)* #accept).await;
        call.finish(outcome)
    });

    let mut f = raw.clone();
    f.sig.ident = raw_as;
    f.sig.inputs.push(syn::parse_quote!(#accept: &str));
    f.sig.output =
        syn::parse_quote!(-> Result<ResponseValue<::apikeys_runtime::Bytes>, Error<#err>>);
    struct AsBytes<'a> {
        accept: &'a syn::Ident,
        headers: usize,
        successes: usize,
    }
    impl VisitMut for AsBytes<'_> {
        fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
            syn::visit_mut::visit_expr_method_call_mut(self, call);
            if call.method == "header"
                && call.args.len() == 2
                && matches!(&call.args[0], Expr::Path(p) if syntax::path_ends_with(&p.path, &["header", "ACCEPT"]))
            {
                let accept = self.accept;
                call.args[1] = syn::parse_quote!(#accept.clone());
                self.headers += 1;
            }
        }

        fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
            let mut body = &*arm.body;
            if let Expr::Block(b) = body
                && let [syn::Stmt::Expr(inner, None)] = &b.block.stmts[..]
            {
                body = inner;
            }
            let decoded = syntax::call_of(body, &["apikeys_runtime", "success"]).is_some()
                || syntax::call_of(body, &["apikeys_runtime", "success_with_secret"]).is_some();
            let bodiless = syntax::call_of(body, &["Ok"]).is_some_and(|args| {
                args.len() == 1
                    && (syntax::call_of(&args[0], &["apikeys_runtime", "empty"]).is_some()
                        || syntax::call_of(&args[0], &["apikeys_runtime", "stream"]).is_some())
            });
            if decoded || bodiless {
                *arm.body = syn::parse_quote!(Ok(::apikeys_runtime::body_bytes(response)));
                self.successes += 1;
                return;
            }
            syn::visit_mut::visit_arm_mut(self, arm);
        }
    }
    let mut rewrite = AsBytes {
        accept: &accept,
        headers: 0,
        successes: 0,
    };
    rewrite.visit_block_mut(&mut f.block);
    if rewrite.headers == 0 || rewrite.successes == 0 {
        return Err(format!(
            "its `_as` method found {} `Accept` header(s) and {} success arm(s) to rewrite",
            rewrite.headers, rewrite.successes
        ));
    }
    let offered = offered.iter().map(String::as_str);
    f.block.stmts.insert(
        0,
        syn::parse_quote!(
            let #accept = ::apikeys_runtime::offered_media(#accept, &[#(#offered),*])?;
        ),
    );
    Ok([public_as, f])
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
///     -> let result = call.send(&self.client, &self.baseurl, request, REBUILD).await?;
/// self.post(&result, &info).await?;         (removed)
/// ```
///
/// so that one explicit [`Call`](apikeys_runtime) carries the call's state
/// from the method to the wire and back. `REBUILD` is the closure
/// [`build_again`] made, when it made one.
fn send_through_call(block: &mut syn::Block, rebuilds: bool) -> Result<(), String> {
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
        && l.init.as_ref().is_some_and(|i| matches!(&*i.expr,
            Expr::Await(a) if matches!(&*a.base, Expr::MethodCall(m)
                if m.method == "exec"
                    && syntax::is_place(&m.receiver, &["self"])
                    && m.args.len() == 2
                    && syntax::is_place(&m.args[0], &["request"])))))
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
            let rebuild = if rebuilds {
                quote!(Some(&|| rebuild().ok()))
            } else {
                quote!(None)
            };
            *stmt = syn::parse_quote!(
                let result = call.send(&self.client, &self.baseurl, request, #rebuild).await?;
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

/// Whether an argument of the request's builder chain moves a local that
/// the first build consumes (`headers(header_map)`, `body(body)`): such a
/// chain cannot be built again. A reference, a call or a constant can.
fn moves_a_local(arg: &Expr) -> bool {
    matches!(arg, Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some())
}

/// Turns the request's one builder chain into a closure, when every part
/// of it can be built again, so that a retry builds its request anew
/// rather than every call keeping a copy for a retry that seldom comes:
///
/// ```text
/// let mut request = self.client.get(url)...build()?;
///     -> let rebuild = || -> Result<reqwest::Request, Error<E>> {
///            Ok(self.client.get(url.as_str())...build()?)
///        };
///        let mut request = rebuild()?;
/// ```
///
/// Returns whether it did; a chain that moves anything but the URL is
/// left as it is (see [`moves_a_local`]), and the runtime copies its
/// request.
fn build_again(block: &mut syn::Block, err: &syn::Type) -> bool {
    let Some(at) = block.stmts.iter().position(|stmt| {
        matches!(stmt, syn::Stmt::Local(l)
            if matches!(&l.pat, Pat::Ident(id) if id.ident == "request"))
    }) else {
        return false;
    };
    let syn::Stmt::Local(local) = &mut block.stmts[at] else {
        return false;
    };
    let Some(init) = &mut local.init else {
        return false;
    };
    let mut chain = (*init.expr).clone();
    // Walk the chain down to its first call, `self.client.<method>(url)`,
    // checking each step.
    let mut link = &mut chain;
    loop {
        match link {
            Expr::Try(t) => link = &mut t.expr,
            Expr::MethodCall(m) => {
                let receiver = &*m.receiver;
                if syntax::is_place(receiver, &["self", "client"]) {
                    // The URL, moved in as the last argument (`get(url)`,
                    // `request(Method::OPTIONS, url)`): now each build
                    // borrows it.
                    let Some(last) = m.args.last_mut() else {
                        return false;
                    };
                    let Expr::Path(url) = last.clone() else {
                        return false;
                    };
                    *last = syn::parse_quote!(#url.as_str());
                    break;
                }
                if m.args.iter().any(moves_a_local) {
                    return false;
                }
                link = &mut m.receiver;
            }
            _ => return false,
        }
    }
    *init.expr = syn::parse_quote!(rebuild()?);
    block.stmts.insert(
        at,
        syn::parse_quote!(
            let rebuild = || -> Result<::reqwest::Request, Error<#err>> { Ok(#chain) };
        ),
    );
    true
}

/// The answer `Call::send` gives is already read whole: progenitor's
/// decoding of a `reqwest::Response` becomes the runtime's decoding of that
/// answer, so no body is read twice and no response is rebuilt.
fn decode_answers(block: &mut syn::Block) -> Result<(), String> {
    struct Decode;
    impl VisitMut for Decode {
        fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
            // An arm that is the decoded answer itself is a success.
            if syntax::is_from_response(&arm.body) {
                *arm.body = syn::parse_quote!(::apikeys_runtime::success(response));
                return;
            }
            syn::visit_mut::visit_arm_mut(self, arm);
        }

        fn visit_expr_mut(&mut self, expr: &mut Expr) {
            if syntax::is_from_response(expr) {
                *expr = syn::parse_quote!(::apikeys_runtime::decode(response));
                return;
            }
            // `ResponseValue::empty(response)`, `ResponseValue::stream(response)`
            // (a download: its bytes, read within the body limit) and
            // `Error::UnexpectedResponse(response)`.
            let on_response = |tail: &[&str]| {
                syntax::call_of(expr, tail).is_some_and(|args| {
                    args.len() == 1 && syntax::is_place(&args[0], &["response"])
                })
            };
            if on_response(&["ResponseValue", "empty"]) {
                *expr = syn::parse_quote!(::apikeys_runtime::empty(response));
                return;
            }
            if on_response(&["ResponseValue", "stream"]) {
                *expr = syn::parse_quote!(::apikeys_runtime::stream(response));
                return;
            }
            if on_response(&["Error", "UnexpectedResponse"]) {
                *expr = syn::parse_quote!(::apikeys_runtime::unexpected(response));
                return;
            }
            syn::visit_mut::visit_expr_mut(self, expr);
        }
    }
    Decode.visit_block_mut(block);
    // Anything of progenitor's reading left is a form the runtime does not
    // handle.
    let unhandled = |e: &Expr| match e {
        Expr::Path(p) => p
            .path
            .segments
            .iter()
            .any(|s| s.ident == "ResponseValue" || s.ident == "UnexpectedResponse"),
        _ => false,
    };
    if syntax::contains(block, unhandled) {
        return Err(
            "progenitor reads its answer in a way the runtime does not handle (a stream or an upgrade?)"
                .into(),
        );
    }
    Ok(())
}

/// What `facts` (one of the per-operation lists of [`super::Facts`]) says of the
/// operation `op_id`.
fn fact<'a, T>(facts: &'a [(String, T)], op_id: &str) -> Option<&'a T> {
    facts
        .iter()
        .find(|(id, _)| id == op_id)
        .map(|(_, fact)| fact)
}

/// An operation marked as returning a secret (`x-apikeys-returns-secret`)
/// decodes its successes with `success_with_secret`, which refuses one
/// without the secret at `pointer`. Matched on the call's path, not its
/// printed text.
fn secret_in_success(block: &mut syn::Block, pointers: &[String]) -> Result<(), String> {
    if let Some(bad) = pointers
        .iter()
        .find(|p| !(p.is_empty() || p.starts_with('/')))
    {
        return Err(format!(
            "`{}: {bad}` is no JSON pointer (write `/field/inner`, or \"\" for the whole body)",
            super::RETURNS_SECRET
        ));
    }
    if pointers.is_empty() {
        return Err(format!("`{}` names no place", super::RETURNS_SECRET));
    }
    struct Mark<'p> {
        pointers: &'p [String],
        marked: usize,
    }
    impl VisitMut for Mark<'_> {
        fn visit_expr_mut(&mut self, expr: &mut Expr) {
            if let Expr::Call(call) = expr
                && let Expr::Path(path) = &*call.func
                && path.path.leading_colon.is_some()
                && path.path.segments.len() == 2
                && path.path.segments[0].ident == "apikeys_runtime"
                && path.path.segments[1].ident == "success"
                && call.args.len() == 1
            {
                let answer = &call.args[0];
                let pointers = self.pointers;
                *expr = syn::parse_quote!(
                    ::apikeys_runtime::success_with_secret(#answer, &[#(#pointers),*])
                );
                self.marked += 1;
                return;
            }
            syn::visit_mut::visit_expr_mut(self, expr);
        }
    }
    let mut mark = Mark {
        pointers,
        marked: 0,
    };
    mark.visit_block_mut(block);
    if mark.marked == 0 {
        return Err(format!(
            "it is marked `{}` but has no success answer to read the secret from",
            super::RETURNS_SECRET
        ));
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
                    if matches!(&*r.elem, syn::Type::Path(p) if p.path.is_ident("str")) =>
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
            syntax::rewrite_macro_args(mac, |arg| self.visit_expr_mut(arg));
        }
        fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
            syn::visit_mut::visit_expr_call_mut(self, call);
            if !matches!(&*call.func, Expr::Path(p)
                if syntax::path_ends_with(&p.path, &["apikeys_runtime", "path_segment"]))
            {
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
    syntax::contains(block, |e| {
        matches!(e, Expr::MethodCall(m)
            if m.method == "delete" && syntax::is_place(&m.receiver, &["self", "client"]))
    })
}

/// Whether `stmt` is progenitor's `api-version` header:
/// `header_map.append(HeaderName::from_static("api-version"),
/// HeaderValue::from_static(Self::api_version()))`.
fn is_api_version_header(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(Expr::MethodCall(m), _) = stmt else {
        return false;
    };
    let named = m
        .args
        .first()
        .and_then(|name| syntax::call_of(name, &["HeaderName", "from_static"]));
    let valued = m
        .args
        .iter()
        .nth(1)
        .and_then(|value| syntax::call_of(value, &["HeaderValue", "from_static"]));
    m.method == "append"
        && named.is_some_and(|a| a.len() == 1 && syntax::is_str(&a[0], "api-version"))
        && valued.is_some_and(|a| {
            a.len() == 1 && syntax::call_of(&a[0], &["Self", "api_version"]).is_some()
        })
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

/// A body of the caller's bytes goes out as the media type the spec
/// declares (`crate::rules::CONTENT_TYPE`), not as progenitor's
/// `HeaderValue::from_static("application/octet-stream")`.
fn declared_content_type(block: &mut syn::Block, media: &str) -> Result<(), String> {
    struct ContentType<'a> {
        media: &'a str,
        found: usize,
    }
    impl VisitMut for ContentType<'_> {
        fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
            syn::visit_mut::visit_expr_call_mut(self, call);
            let from_static = matches!(&*call.func, Expr::Path(p)
                if p.path.segments.last().is_some_and(|s| s.ident == "from_static"));
            let octet_stream = matches!(call.args.first(), Some(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            })) if s.value() == "application/octet-stream");
            if from_static && octet_stream && call.args.len() == 1 {
                let media = self.media;
                call.args[0] = syn::parse_quote!(#media);
                self.found += 1;
            }
        }
    }
    let mut visitor = ContentType { media, found: 0 };
    visitor.visit_block_mut(block);
    if visitor.found == 0 {
        return Err("progenitor's content type of a byte body was not found".into());
    }
    Ok(())
}

/// A form body goes out through the runtime's form encoder, which spells
/// each field as the spec's `encoding` object says
/// (`crate::rules::FORM_ENCODING`) and sends lists and nested objects,
/// which progenitor's encoder refuses:
///
/// ```text
/// .form_urlencoded(&body)?
///     -> .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
///        .body(::apikeys_runtime::form_body(&body, &[("field", FormStyle::DeepObject, true)])?)
/// ```
fn form_body(block: &mut syn::Block, fields: &[super::FieldEncoding]) -> Result<(), String> {
    struct Form<'a> {
        fields: &'a [(String, String, bool)],
        found: usize,
    }
    impl VisitMut for Form<'_> {
        fn visit_expr_mut(&mut self, expr: &mut Expr) {
            syn::visit_mut::visit_expr_mut(self, expr);
            let Expr::Try(t) = expr else { return };
            let Expr::MethodCall(call) = &*t.expr else {
                return;
            };
            if call.method != "form_urlencoded" || call.args.len() != 1 {
                return;
            }
            let receiver = &call.receiver;
            let body = &call.args[0];
            let encodings = form_encodings(self.fields);
            *expr = syn::parse_quote!(
                #receiver
                    .header(
                        ::reqwest::header::CONTENT_TYPE,
                        ::reqwest::header::HeaderValue::from_static(
                            "application/x-www-form-urlencoded",
                        ),
                    )
                    .body(::apikeys_runtime::form_body(#body, #encodings)?)
            );
            self.found += 1;
        }
    }
    let mut visitor = Form { fields, found: 0 };
    visitor.visit_block_mut(block);
    if visitor.found != 1 {
        return Err(format!(
            "progenitor's form body was found {} times, not once",
            visitor.found
        ));
    }
    Ok(())
}

/// A multipart body (`crate::rules::MULTIPART`), which progenitor saw as
/// bytes, becomes the caller's form:
///
/// ```text
/// fn upload<'a, B: Into<reqwest::Body>>(&'a self, body: B)
///     -> fn upload<'a>(&'a self, body: ::apikeys_runtime::deps::multipart::Form)
/// .header(CONTENT_TYPE, "application/octet-stream").body(body)
///     -> .multipart(body)
/// ```
///
/// and the method's documentation lists the parts the spec names.
fn multipart_body(f: &mut syn::ImplItemFn, parts: &[(String, bool)]) -> Result<(), String> {
    // The generic parameter progenitor gave the byte body.
    let body_type = f.sig.inputs.iter().find_map(|arg| match arg {
        FnArg::Typed(t) if matches!(&*t.pat, Pat::Ident(id) if id.ident == "body") => {
            match &*t.ty {
                syn::Type::Path(p) => p.path.get_ident().cloned(),
                _ => None,
            }
        }
        _ => None,
    });
    let Some(generic) = body_type else {
        return Err("progenitor's byte body parameter was not found".into());
    };
    f.sig.generics.params = f
        .sig
        .generics
        .params
        .iter()
        .filter(|p| !matches!(p, syn::GenericParam::Type(t) if t.ident == generic))
        .cloned()
        .collect();
    for arg in f.sig.inputs.iter_mut() {
        if let FnArg::Typed(t) = arg
            && matches!(&*t.pat, Pat::Ident(id) if id.ident == "body")
        {
            *t.ty = syn::parse_quote!(::apikeys_runtime::deps::multipart::Form);
        }
    }
    struct Form(usize);
    impl VisitMut for Form {
        fn visit_expr_mut(&mut self, expr: &mut Expr) {
            syn::visit_mut::visit_expr_mut(self, expr);
            let Expr::MethodCall(body) = expr else { return };
            if body.method != "body" {
                return;
            }
            let Expr::MethodCall(header) = &*body.receiver else {
                return;
            };
            // `.header(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"))`
            let octet_stream = header.method == "header"
                && matches!(header.args.last(), Some(Expr::Call(value))
                    if matches!(value.args.first(), Some(Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(media),
                        ..
                    })) if media.value() == "application/octet-stream"));
            if !octet_stream {
                return;
            }
            let receiver = &header.receiver;
            let value = &body.args;
            *expr = syn::parse_quote!(#receiver.multipart(#value));
            self.0 += 1;
        }
    }
    let mut form = Form(0);
    form.visit_block_mut(&mut f.block);
    if form.0 != 1 {
        return Err(format!(
            "progenitor's byte body was found {} times, not once",
            form.0
        ));
    }
    let listed: Vec<String> = parts
        .iter()
        .map(|(name, file)| {
            if *file {
                format!("`{name}` (a file)")
            } else {
                format!("`{name}`")
            }
        })
        .collect();
    let doc = if listed.is_empty() {
        " The body is a `multipart/form-data` form (`Form::new().text(name, value)`, `.part(name, Part::bytes(..).file_name(..))`).".to_owned()
    } else {
        format!(
            " The body is a `multipart/form-data` form of the parts {} (`Form::new().text(name, value)`, `.part(name, Part::bytes(..).file_name(..))`).",
            listed.join(", ")
        )
    };
    f.attrs.push(syn::parse_quote!(#[doc = ""]));
    f.attrs.push(syn::parse_quote!(#[doc = #doc]));
    Ok(())
}

/// A form's field encodings as `apikeys_runtime::form_body` takes them:
/// `&[("field", ::apikeys_runtime::FormStyle::DeepObject, true), ..]`.
pub(super) fn form_encodings(fields: &[super::FieldEncoding]) -> proc_macro2::TokenStream {
    let encodings = fields.iter().map(|(field, style, explode)| {
        let style = format_ident!("{style}");
        quote!((#field, ::apikeys_runtime::FormStyle::#style, #explode))
    });
    quote!(&[#(#encodings),*])
}

/// `deepObject` query parameters left whole (`crate::rules::DEEP_OBJECT`)
/// go out field by field: progenitor's `QueryParam::new("name", ..)`
/// becomes `apikeys_runtime::DeepObject::new("name", ..)`.
fn deep_objects(block: &mut syn::Block, names: &[String]) -> Result<(), String> {
    struct Deep<'a> {
        names: &'a [String],
        found: usize,
    }
    impl VisitMut for Deep<'_> {
        fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
            syn::visit_mut::visit_expr_call_mut(self, call);
            let query_param = matches!(&*call.func, Expr::Path(p)
                if syntax::path_ends_with(&p.path, &["QueryParam", "new"]));
            let named = matches!(call.args.first(), Some(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            })) if self.names.contains(&s.value()));
            if query_param && named {
                *call.func = syn::parse_quote!(::apikeys_runtime::DeepObject::new);
                self.found += 1;
            }
        }
    }
    let mut visitor = Deep { names, found: 0 };
    visitor.visit_block_mut(block);
    if visitor.found != names.len() {
        return Err(format!(
            "{} of the deepObject parameters {names:?} were found in progenitor's query",
            visitor.found
        ));
    }
    Ok(())
}

/// The locals progenitor names in an operation method, and renames with a
/// leading `_` when a parameter has the name (OpenID Connect's `request`
/// query parameter), that the rewrites look for. (`url` it renames too,
/// but no rewrite needs it: a parameter `url` keeps its name.)
const LOCALS: [&str; 4] = ["request", "response", "result", "rebuild"];

/// Gives progenitor's locals their own names back: a parameter named like
/// one becomes `{name}_` (as a keyword parameter does), and the local
/// progenitor called `_{name}` is `{name}` again.
fn free_local_names(f: &mut syn::ImplItemFn) -> Result<(), String> {
    struct Rename<'a> {
        from: &'a str,
        to: &'a str,
    }
    impl VisitMut for Rename<'_> {
        fn visit_ident_mut(&mut self, ident: &mut syn::Ident) {
            if ident == self.from {
                *ident = syn::Ident::new(self.to, ident.span());
            }
        }
        fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
            // A method's name is not a local (`client.request(..)`).
            self.visit_expr_mut(&mut call.receiver);
            for arg in call.args.iter_mut() {
                self.visit_expr_mut(arg);
            }
        }
        fn visit_expr_field_mut(&mut self, field: &mut syn::ExprField) {
            self.visit_expr_mut(&mut field.base);
        }
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            // Only a local: a path of one segment.
            if path.segments.len() == 1 && path.leading_colon.is_none() {
                self.visit_ident_mut(&mut path.segments[0].ident);
            }
        }
        fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
            syntax::rewrite_macro_args(mac, |arg| self.visit_expr_mut(arg));
        }
    }
    let params: Vec<String> = f
        .sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(id) => Some(id.ident.to_string()),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect();
    for local in LOCALS {
        if !params.iter().any(|p| p == local) {
            continue;
        }
        let own = format!("{local}_");
        if params.contains(&own) {
            return Err(format!(
                "parameters `{local}` and `{own}` leave no name for progenitor's local"
            ));
        }
        let hidden = format!("_{local}");
        let mut to_own = Rename {
            from: local,
            to: &own,
        };
        for arg in f.sig.inputs.iter_mut() {
            if let FnArg::Typed(t) = arg {
                to_own.visit_pat_mut(&mut t.pat);
            }
        }
        to_own.visit_block_mut(&mut f.block);
        Rename {
            from: &hidden,
            to: local,
        }
        .visit_block_mut(&mut f.block);
    }
    Ok(())
}
