//! Matchers for the shapes progenitor writes, on syntax trees: what the
//! rewrites recognise (`self.client`, `response.status().as_u16()`, a
//! call of `ResponseValue::from_response(response).await`) is matched by
//! structure, never by comparing printed text.

use syn::Expr;

/// Whether `expr` is the place `names` spells: a local (`["response"]`) or
/// a field of one (`["self", "client"]`), perhaps in parentheses.
pub(super) fn is_place(expr: &Expr, names: &[&str]) -> bool {
    match (expr, names) {
        (Expr::Paren(p), _) => is_place(&p.expr, names),
        (Expr::Path(p), [only]) => p.qself.is_none() && p.path.is_ident(only),
        (Expr::Field(f), [base @ .., last]) => {
            matches!(&f.member, syn::Member::Named(m) if m == last) && is_place(&f.base, base)
        }
        _ => false,
    }
}

/// Whether `expr` is `place.m1().m2()…`: methods `calls` without
/// arguments, in order, on the place `place` (see [`is_place`]).
pub(super) fn is_calls(expr: &Expr, place: &[&str], calls: &[&str]) -> bool {
    match (expr, calls) {
        (_, []) => is_place(expr, place),
        (Expr::MethodCall(m), [before @ .., last]) => {
            m.method == last && m.args.is_empty() && is_calls(&m.receiver, place, before)
        }
        _ => false,
    }
}

/// Whether `path` ends with the segments `tail` (`["QueryParam", "new"]`
/// matches `progenitor_client::QueryParam::new`).
pub(super) fn path_ends_with(path: &syn::Path, tail: &[&str]) -> bool {
    path.segments.len() >= tail.len()
        && path
            .segments
            .iter()
            .rev()
            .zip(tail.iter().rev())
            .all(|(segment, name)| segment.ident == name)
}

/// Whether `expr` is a call of a function whose path ends with `tail`;
/// its arguments when it is.
pub(super) fn call_of<'e>(
    expr: &'e Expr,
    tail: &[&str],
) -> Option<&'e syn::punctuated::Punctuated<Expr, syn::Token![,]>> {
    match expr {
        Expr::Call(call) => match &*call.func {
            Expr::Path(p) if path_ends_with(&p.path, tail) => Some(&call.args),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `expr` is progenitor's reading of a success,
/// `ResponseValue::from_response(response).await`, alone or as the only
/// expression of a block.
pub(super) fn is_from_response(expr: &Expr) -> bool {
    match expr {
        Expr::Block(b) if b.block.stmts.len() == 1 => match &b.block.stmts[0] {
            syn::Stmt::Expr(inner, None) => is_from_response(inner),
            _ => false,
        },
        Expr::Await(a) => call_of(&a.base, &["ResponseValue", "from_response"])
            .is_some_and(|args| args.len() == 1 && is_place(&args[0], &["response"])),
        _ => false,
    }
}

/// Whether `expr` is a string literal holding `text`.
pub(super) fn is_str(expr: &Expr, text: &str) -> bool {
    matches!(expr, Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) if s.value() == text)
}

/// Whether `block` holds, anywhere, an expression for which `found` is
/// true.
pub(super) fn contains(block: &syn::Block, found: impl Fn(&Expr) -> bool) -> bool {
    let mut find = Find(found, false);
    syn::visit::Visit::visit_block(&mut find, block);
    find.1
}

/// Whether `file` holds, anywhere, an expression for which `found` is
/// true.
pub(super) fn file_contains(file: &syn::File, found: impl Fn(&Expr) -> bool) -> bool {
    let mut find = Find(found, false);
    syn::visit::Visit::visit_file(&mut find, file);
    find.1
}

/// Looks for an expression `.0` accepts; `.1` says whether one was found.
struct Find<F>(F, bool);

impl<F: Fn(&Expr) -> bool> syn::visit::Visit<'_> for Find<F> {
    fn visit_expr(&mut self, expr: &Expr) {
        if self.1 || (self.0)(expr) {
            self.1 = true;
            return;
        }
        syn::visit::visit_expr(self, expr);
    }
}

/// The arguments of a macro call that are expressions (`format!("{}", a, b)`),
/// rewritten by `visit` and printed back; `false` when they do not parse.
pub(super) fn rewrite_macro_args(mac: &mut syn::Macro, mut visit: impl FnMut(&mut Expr)) -> bool {
    let Ok(mut args) =
        mac.parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
    else {
        return false;
    };
    args.iter_mut().for_each(&mut visit);
    mac.tokens = quote::quote!(#args);
    true
}

/// Whether `attrs` derive a trait whose path ends with `name`
/// (`#[derive(::serde::Deserialize)]` derives `Deserialize`).
pub(super) fn derives(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            a.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .is_ok_and(|paths| paths.iter().any(|p| path_ends_with(p, &[name])))
        })
}

/// The name of a type that is a path (`Circle`, `super::types::Circle`):
/// its last segment; `None` for any other type.
pub(super) fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().map(|s| s.ident.to_string())
        }
        _ => None,
    }
}

/// Whether `ty` is a path type whose segments end with `tail`, whatever
/// its generic arguments (`::std::vec::Vec<T>` ends with `["vec", "Vec"]`).
pub(super) fn type_ends_with(ty: &syn::Type, tail: &[&str]) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && path_ends_with(&p.path, tail))
}

/// Whether a `use` tree ends in a glob (`use super::*`, `use a::{b, c::*}`).
pub(super) fn is_glob(tree: &syn::UseTree) -> bool {
    match tree {
        syn::UseTree::Glob(_) => true,
        syn::UseTree::Path(p) => is_glob(&p.tree),
        syn::UseTree::Group(g) => g.items.iter().any(is_glob),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_matched_by_structure_whatever_the_spacing() {
        let e = |s: &str| syn::parse_str::<Expr>(s).unwrap();
        assert!(is_place(&e("self.client"), &["self", "client"]));
        assert!(is_place(&e("(self . client)"), &["self", "client"]));
        assert!(!is_place(&e("self.client.inner"), &["self", "client"]));
        assert!(!is_place(&e("other.client"), &["self", "client"]));
        assert!(is_calls(
            &e("response.status().as_u16()"),
            &["response"],
            &["status", "as_u16"]
        ));
        assert!(!is_calls(
            &e("response.status(1).as_u16()"),
            &["response"],
            &["status", "as_u16"]
        ));
        assert!(is_from_response(&e(
            "ResponseValue::from_response(response).await"
        )));
        assert!(is_from_response(&e(
            "{ progenitor_client::ResponseValue::from_response(response).await }"
        )));
        assert!(!is_from_response(&e(
            "ResponseValue::from_response(other).await"
        )));
        assert!(
            call_of(
                &e("::apikeys_runtime::path_segment(\"a\", b)"),
                &["apikeys_runtime", "path_segment"]
            )
            .is_some_and(|args| args.len() == 2)
        );
        assert!(is_str(&e("\"api-version\""), "api-version"));
    }
}
