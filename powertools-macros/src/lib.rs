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
    let args = syn::parse_macro_input!(attr as args::HandlerArgs);
    let function = syn::parse_macro_input!(item as syn::ItemFn);
    expand::expand(&args, &function)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
