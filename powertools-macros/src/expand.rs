//! The expansion: the handler keeps its name and signature, its body runs inside
//! `powertools::PowertoolsLayer`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, LitBool, LitStr, ReturnType, Type};

use crate::args::HandlerArgs;

/// Whether the handler takes a `lambda_http` request (the type's last path segment is `Request`).
fn is_http_request(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Request"),
        _ => false,
    }
}

fn check_signature(f: &ItemFn) -> syn::Result<&syn::PatType> {
    let sig = &f.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            "a powertools handler must be an `async fn`",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "a powertools handler cannot be generic: name the event type",
        ));
    }
    if let ReturnType::Default = sig.output {
        return Err(syn::Error::new(
            sig.paren_token.span.close(),
            "a powertools handler returns `Result<Response, Error>`",
        ));
    }
    let mut inputs = sig.inputs.iter();
    match (inputs.next(), inputs.next()) {
        (Some(FnArg::Typed(arg)), None) => Ok(arg),
        (Some(FnArg::Receiver(r)), _) => Err(syn::Error::new_spanned(
            r,
            "a powertools handler is a free function, not a method",
        )),
        (None, _) => Err(syn::Error::new(
            sig.paren_token.span.join(),
            "a powertools handler takes one argument: `LambdaEvent<T>` or `lambda_http::Request`",
        )),
        (Some(_), Some(extra)) => Err(syn::Error::new_spanned(
            extra,
            "a powertools handler takes exactly one argument: `LambdaEvent<T>` or `lambda_http::Request`",
        )),
    }
}

fn opt_str(method: &str, v: Option<&LitStr>) -> TokenStream {
    let m = format_ident!("{method}");
    v.map(|v| quote!(.#m(#v))).unwrap_or_default()
}

fn opt_bool(method: &str, v: Option<&LitBool>) -> TokenStream {
    let m = format_ident!("{method}");
    v.map(|v| quote!(.#m(#v))).unwrap_or_default()
}

pub fn expand(args: &HandlerArgs, f: &ItemFn) -> syn::Result<TokenStream> {
    let arg = check_signature(f)?;
    let arg_ty = &arg.ty;
    let arg_pat = &arg.pat;
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = f;
    let ident = &sig.ident;
    let output = &sig.output;
    let handler_name = args
        .name
        .clone()
        .unwrap_or_else(|| LitStr::new(&ident.to_string(), ident.span()));
    let builder_calls = [
        opt_str("service", args.service.as_ref()),
        opt_str("namespace", args.namespace.as_ref()),
        opt_str("correlation_id_path", args.correlation_id_path.as_ref()),
        opt_bool("log_event", args.log_event.as_ref()),
        opt_bool(
            "capture_cold_start_metric",
            args.capture_cold_start_metric.as_ref(),
        ),
        opt_bool("capture_response", args.capture_response.as_ref()),
        opt_bool("capture_error", args.capture_error.as_ref()),
    ];
    let private = quote!(::powertools::__private);
    // Next to the handler (not inside it) so that the generated `main` can build it before the
    // first invocation: the subscriber is then in place for everything the runtime logs.
    let layer = format_ident!("__powertools_layer_{}", ident);
    let mut out = quote_spanned! {sig.span()=>
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #layer: ::std::sync::LazyLock<#private::MacroLayer> =
            ::std::sync::LazyLock::new(|| {
                #private::MacroLayer::new(
                    ::powertools::PowertoolsLayer::builder()
                        .handler_name(#handler_name)
                        .handler_location(::std::concat!(::std::file!(), ":", ::std::line!()))
                        #(#builder_calls)*
                )
            });

        #(#attrs)*
        #vis async fn #ident(__powertools_request: #arg_ty) #output {
            async fn __powertools_handler(#arg_pat: #arg_ty) #output #block

            #private::invoke(&#layer, __powertools_request, __powertools_handler).await
        }
    };
    if args.main {
        let run = if is_http_request(arg_ty) {
            quote!(#private::run_http(#ident))
        } else {
            quote!(#private::run(&#layer, #ident))
        };
        out.extend(quote! {
            fn main() -> ::std::result::Result<(), #private::lambda_runtime::Error> {
                #private::tokio_main(async {
                    ::std::sync::LazyLock::force(&#layer);
                    #run.await
                })
            }
        });
    }
    Ok(out)
}
