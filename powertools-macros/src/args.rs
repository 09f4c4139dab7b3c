//! The attribute's arguments: parsed, checked, each mistake reported at its own span.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitBool, LitStr, Meta, Token};

/// What `#[handler(...)]` was given.
#[derive(Default)]
pub struct HandlerArgs {
    pub service: Option<LitStr>,
    pub namespace: Option<LitStr>,
    pub name: Option<LitStr>,
    pub correlation_id_path: Option<LitStr>,
    pub log_event: Option<LitBool>,
    pub capture_cold_start_metric: Option<LitBool>,
    pub capture_response: Option<LitBool>,
    pub capture_error: Option<LitBool>,
    pub main: bool,
}

const KNOWN: &str = "service, namespace, name, correlation_id_path, log_event, \
capture_cold_start_metric, capture_response, capture_error, main";

fn string(meta: &Meta) -> syn::Result<LitStr> {
    match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => Ok(s.clone()),
            other => Err(syn::Error::new_spanned(other, "expected a string literal")),
        },
        other => Err(syn::Error::new_spanned(
            other,
            format!(
                "`{}` takes a value: `{} = \"...\"`",
                path_name(other),
                path_name(other)
            ),
        )),
    }
}

fn flag(meta: &Meta) -> syn::Result<LitBool> {
    match meta {
        Meta::Path(p) => Ok(LitBool::new(true, p.segments[0].ident.span())),
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Bool(b), ..
            }) => Ok(b.clone()),
            other => Err(syn::Error::new_spanned(other, "expected `true` or `false`")),
        },
        Meta::List(l) => Err(syn::Error::new_spanned(
            l,
            "expected a flag (`name`) or `name = true|false`",
        )),
    }
}

fn path_name(meta: &Meta) -> String {
    meta.path()
        .get_ident()
        .map_or_else(|| "argument".to_owned(), ToString::to_string)
}

/// CloudWatch namespaces: 1–255 characters from letters, digits and `. - _ / # : ` and space,
/// not starting with `AWS/`.
fn check_namespace(ns: &LitStr) -> syn::Result<()> {
    let v = ns.value();
    let problem = if v.trim().is_empty() {
        Some("the namespace must not be empty".to_owned())
    } else if v.chars().count() > 255 {
        Some("the namespace must be at most 255 characters".to_owned())
    } else if v.starts_with("AWS/") {
        Some("namespaces starting with `AWS/` are reserved for AWS services".to_owned())
    } else {
        v.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || ".-_/#: ".contains(*c)))
            .map(|c| {
                format!(
                    "the namespace contains {c:?}; CloudWatch allows letters, digits and `. - _ / # :` and spaces"
                )
            })
    };
    match problem {
        Some(p) => Err(syn::Error::new(ns.span(), p)),
        None => Ok(()),
    }
}

fn set<T>(slot: &mut Option<T>, value: T, span: Span, name: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            span,
            format!("`{name}` is given more than once"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

impl Parse for HandlerArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated(input)?;
        let mut args = HandlerArgs::default();
        let mut main_span: Option<Span> = None;
        for meta in metas {
            let Some(ident) = meta.path().get_ident().cloned() else {
                return Err(syn::Error::new_spanned(
                    meta.path(),
                    format!("unknown argument; expected one of: {KNOWN}"),
                ));
            };
            let name = ident.to_string();
            let span = ident.span();
            match name.as_str() {
                "service" => {
                    let s = string(&meta)?;
                    if s.value().trim().is_empty() {
                        return Err(syn::Error::new(
                            s.span(),
                            "the service name must not be empty",
                        ));
                    }
                    set(&mut args.service, s, span, &name)?;
                }
                "namespace" => {
                    let s = string(&meta)?;
                    check_namespace(&s)?;
                    set(&mut args.namespace, s, span, &name)?;
                }
                "name" => set(&mut args.name, string(&meta)?, span, &name)?,
                "correlation_id_path" => {
                    set(&mut args.correlation_id_path, string(&meta)?, span, &name)?;
                }
                "log_event" => set(&mut args.log_event, flag(&meta)?, span, &name)?,
                "capture_cold_start_metric" => {
                    set(
                        &mut args.capture_cold_start_metric,
                        flag(&meta)?,
                        span,
                        &name,
                    )?;
                }
                "capture_response" => set(&mut args.capture_response, flag(&meta)?, span, &name)?,
                "capture_error" => set(&mut args.capture_error, flag(&meta)?, span, &name)?,
                "main" => {
                    if !matches!(meta, Meta::Path(_)) {
                        return Err(syn::Error::new_spanned(
                            &meta,
                            "`main` is a flag: write `main`",
                        ));
                    }
                    set(&mut main_span, span, span, &name)?;
                    args.main = true;
                }
                _ => {
                    return Err(syn::Error::new(
                        span,
                        format!("unknown argument `{name}`; expected one of: {KNOWN}"),
                    ));
                }
            }
        }
        Ok(args)
    }
}
