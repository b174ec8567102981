//! `#[plugin_fn]`: checks the function and generates its export wrapper and its entry in the
//! `wasmplug.functions` custom section.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{FnArg, Item, ItemFn, ReturnType, Type};

use crate::names::{MAX_FUNCTION_NAME, RESERVED};

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if !attr.is_empty() {
        return Err(syn::Error::new_spanned(
            attr,
            "`#[plugin_fn]` takes no arguments: the export is named after the function",
        ));
    }
    let func = match syn::parse2::<Item>(item)? {
        Item::Fn(func) => func,
        other => {
            return Err(syn::Error::new(
                item_keyword_span(&other),
                "`#[plugin_fn]` can only be applied to a function",
            ));
        }
    };
    let input_ty = check_signature(&func)?;
    let output_ty = match &func.sig.output {
        ReturnType::Type(_, ty) => ty.as_ref(),
        ReturnType::Default => unreachable!("checked by check_signature"),
    };

    let ident = &func.sig.ident;
    let name = ident.unraw().to_string();
    let wrapper = format_ident!("__wasmplug_export_{}", name);
    // Exported as `wasmplug:<name>` (docs/abi.md section 1): in Rust the export name is also
    // the linker symbol, and a plain `read` or `write` would replace wasi-libc's.
    let export = format!("wasmplug:{name}");
    let section_static = format_ident!("__WASMPLUG_FUNCTION_{}", name.to_uppercase());
    let entry = format!("{name}\n").into_bytes();
    let entry_len = entry.len();
    let entry = Literal::byte_string(&entry);
    let doc = format!("wasmplug export `{name}`: runs `{name}` on the input at `(ptr, len)`.");

    // Spanned at the user's types so that unsatisfied trait bounds point at them.
    let input_ty_tokens = match input_ty {
        Some(ty) => quote!(#ty),
        None => quote!(()),
    };
    let call = match input_ty {
        Some(_) => quote!(#ident),
        None => quote!(|(): ()| #ident()),
    };
    // Mixed-site hygiene: the parameters cannot shadow a plugin function named `ptr` or `len`.
    let ptr = Ident::new("ptr", Span::mixed_site());
    let len = Ident::new("len", Span::mixed_site());
    let run = quote_spanned! {output_ty.span()=>
        ::wasmplug_pdk::__private::run::<#input_ty_tokens, #output_ty, _>(#ptr, #len, #call)
    };

    Ok(quote! {
        #func

        #[doc = #doc]
        #[doc = ""]
        #[doc = "# Safety"]
        #[doc = ""]
        #[doc = "Unless `len` is 0, `ptr` must come from `allocate(len)`; the buffer is taken over."]
        #[doc(hidden)]
        #[allow(non_snake_case, dead_code)]
        #[cfg_attr(target_arch = "wasm32", unsafe(export_name = #export))]
        pub unsafe extern "C" fn #wrapper(#ptr: u32, #len: u32) -> u64 {
            // SAFETY: forwarded from this function's contract, which the host follows.
            unsafe { #run }
        }

        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #[used]
        #[unsafe(link_section = "wasmplug.functions")]
        static #section_static: [u8; #entry_len] = *#entry;
    })
}

/// Checks the signature; returns the input type (`None` for a zero-argument function).
fn check_signature(func: &ItemFn) -> syn::Result<Option<&Type>> {
    let sig = &func.sig;
    let name = sig.ident.unraw().to_string();
    if RESERVED.contains(&name.as_str()) {
        return Err(syn::Error::new_spanned(
            &sig.ident,
            format!(
                "`{name}` is a reserved export name and cannot be a plugin function (reserved: {})",
                RESERVED.join(", ")
            ),
        ));
    }
    if name.len() > MAX_FUNCTION_NAME {
        return Err(syn::Error::new_spanned(
            &sig.ident,
            format!("plugin function names are at most {MAX_FUNCTION_NAME} bytes long"),
        ));
    }
    if let Some(token) = &sig.asyncness {
        return Err(syn::Error::new_spanned(
            token,
            "`#[plugin_fn]` functions cannot be `async`",
        ));
    }
    if let Some(token) = &sig.unsafety {
        return Err(syn::Error::new_spanned(
            token,
            "`#[plugin_fn]` functions cannot be `unsafe`",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "`#[plugin_fn]` functions cannot be generic",
        ));
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        return Err(syn::Error::new_spanned(
            where_clause,
            "`#[plugin_fn]` functions cannot have a `where` clause",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            variadic,
            "`#[plugin_fn]` functions cannot be variadic",
        ));
    }
    let mut input = None;
    for (i, arg) in sig.inputs.iter().enumerate() {
        match arg {
            FnArg::Receiver(receiver) => {
                return Err(syn::Error::new_spanned(
                    receiver,
                    "`#[plugin_fn]` must be a free function, without a `self` receiver",
                ));
            }
            FnArg::Typed(_) if i > 0 => {
                return Err(syn::Error::new_spanned(
                    arg,
                    "`#[plugin_fn]` functions take at most one argument (the input); \
                     combine several values in one type, e.g. `Json<T>`",
                ));
            }
            FnArg::Typed(typed) => {
                if let Type::ImplTrait(_) = typed.ty.as_ref() {
                    return Err(syn::Error::new_spanned(
                        &typed.ty,
                        "`#[plugin_fn]` functions cannot be generic: use a concrete input type",
                    ));
                }
                input = Some(typed.ty.as_ref());
            }
        }
    }
    if let ReturnType::Default = sig.output {
        return Err(syn::Error::new(
            sig.paren_token.span.close(),
            "`#[plugin_fn]` functions must return `Result<T, E>`, e.g. `-> FnResult<String>`",
        ));
    }
    Ok(input)
}

/// The span of the keyword introducing a non-function item, for the "not a function" error.
fn item_keyword_span(item: &Item) -> Span {
    match item {
        Item::Struct(i) => i.struct_token.span,
        Item::Enum(i) => i.enum_token.span,
        Item::Union(i) => i.union_token.span,
        Item::Static(i) => i.static_token.span,
        Item::Const(i) => i.const_token.span,
        Item::Mod(i) => i.mod_token.span,
        Item::Impl(i) => i.impl_token.span,
        Item::Trait(i) => i.trait_token.span,
        Item::Type(i) => i.type_token.span,
        Item::Use(i) => i.use_token.span,
        other => other.span(),
    }
}
