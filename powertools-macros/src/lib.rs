//! The `#[handler]` attribute of powertools-rs. Use it as `#[powertools::handler]`; see the
//! `powertools` crate for the documentation and examples.

mod args;
mod expand;

use proc_macro::TokenStream;

/// Wraps a Lambda handler with the powertools logger, metrics and tracer.
///
/// See `powertools::handler` for the arguments and examples.
#[proc_macro_attribute]
pub fn handler(attr: TokenStream, item: TokenStream) -> TokenStream {
    let function = syn::parse_macro_input!(item as syn::ItemFn);
    // On a mistake, keep the function as written next to the error, so the only message the
    // user sees is about the mistake (not unused imports or a missing `handler`).
    let expanded = syn::parse::<args::HandlerArgs>(attr)
        .and_then(|args| expand::expand(&args, &function))
        .unwrap_or_else(|error| {
            let mut tokens = error.into_compile_error();
            quote::ToTokens::to_tokens(&function, &mut tokens);
            tokens
        });
    expanded.into()
}
