//! `#[host_fn("module")]`: safe wrappers for host functions the application registers
//! (docs/abi.md section 5.3).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{FnArg, ForeignItem, ItemForeignMod, LitStr, Pat, ReturnType, Type};

/// Rust scalars passed as wasm values; everything else crosses as a `(ptr, len)` buffer.
const SCALARS: &[&str] = &["i32", "u32", "i64", "u64", "f32", "f64", "bool"];

fn scalar(ty: &Type) -> Option<String> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() || p.path.segments.len() != 1 {
        return None;
    }
    let seg = &p.path.segments[0];
    let name = seg.ident.to_string();
    (seg.arguments.is_none() && SCALARS.contains(&name.as_str())).then_some(name)
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let module: LitStr = syn::parse2(attr).map_err(|e| {
        syn::Error::new(
            e.span(),
            "`#[host_fn]` takes the host's import module name: `#[host_fn(\"myapp\")]`",
        )
    })?;
    if module.value().is_empty() || module.value() == "wasmplug" {
        return Err(syn::Error::new(
            module.span(),
            "the module must be the application's own (not empty, not `wasmplug`)",
        ));
    }
    let block: ItemForeignMod = syn::parse2(item)?;
    let mut out = TokenStream::new();
    for item in &block.items {
        let ForeignItem::Fn(f) = item else {
            return Err(syn::Error::new(
                item.span(),
                "`#[host_fn]` blocks may only declare functions",
            ));
        };
        if !f.sig.generics.params.is_empty() || f.sig.variadic.is_some() {
            return Err(syn::Error::new(
                f.sig.span(),
                "host functions cannot be generic or variadic",
            ));
        }
        out.extend(wrapper(&module, f)?);
    }
    Ok(out)
}

fn wrapper(module: &LitStr, f: &syn::ForeignItemFn) -> syn::Result<TokenStream> {
    let vis = &f.vis;
    let attrs = &f.attrs;
    let ident = &f.sig.ident;
    let name = ident.to_string();
    let import = format_ident!("__wasmplug_import_{}", ident);
    let pdk = quote!(::wasmplug_pdk);
    let mut params = Vec::new(); // wrapper parameters
    let mut raw = Vec::new(); // extern parameters
    let mut prep = Vec::new(); // lowering statements
    let mut pass = Vec::new(); // extern arguments
    for (i, arg) in f.sig.inputs.iter().enumerate() {
        let FnArg::Typed(arg) = arg else {
            return Err(syn::Error::new(arg.span(), "host functions take no `self`"));
        };
        let Pat::Ident(pat) = arg.pat.as_ref() else {
            return Err(syn::Error::new(
                arg.pat.span(),
                "use a plain name for each argument",
            ));
        };
        let (arg_name, ty) = (&pat.ident, arg.ty.as_ref());
        params.push(quote!(#arg_name: #ty));
        match scalar(ty).as_deref() {
            Some("bool") => {
                raw.push(quote!(#arg_name: i32));
                pass.push(quote!(i32::from(#arg_name)));
            }
            Some(_) => {
                raw.push(quote!(#arg_name: #ty));
                pass.push(quote!(#arg_name));
            }
            None => {
                let (p, l, b) = (
                    format_ident!("__ptr{}", i),
                    format_ident!("__len{}", i),
                    format_ident!("__buf{}", i),
                );
                raw.push(quote!(#p: *const u8, #l: usize));
                prep.push(
                    quote!(let #b = #pdk::hostcall::ToHostBytes::to_host_bytes(&#arg_name)?;),
                );
                pass.push(quote!(#b.as_ptr(), #b.len()));
            }
        }
    }
    let (ret, convert) = match &f.sig.output {
        ReturnType::Default => (
            quote!(()),
            quote!(#pdk::hostcall::take_scalar(status, slot).map(drop)),
        ),
        ReturnType::Type(_, ty) => match scalar(ty) {
            Some(_) => (
                quote!(#ty),
                quote!(#pdk::hostcall::take_scalar(status, slot).map(<#ty as #pdk::hostcall::HostScalar>::from_slot)),
            ),
            None => (
                quote!(#ty),
                quote!(#pdk::hostcall::take_reply(status, slot).and_then(|b| <#ty as #pdk::hostcall::FromHostBytes>::from_host_bytes(b.unwrap_or_default()))),
            ),
        },
    };
    let unavailable = format!(
        "host function `{}::{name}` is only available inside a wasmplug host",
        module.value()
    );
    Ok(quote! {
        #[cfg(target_arch = "wasm32")]
        #[link(wasm_import_module = #module)]
        unsafe extern "C" {
            #[link_name = #name]
            fn #import(#(#raw,)* out: *mut u64) -> i32;
        }

        #(#attrs)*
        #[cfg(target_arch = "wasm32")]
        #vis fn #ident(#(#params),*) -> ::core::result::Result<#ret, #pdk::Error> {
            #(#prep)*
            let mut slot = 0u64;
            // SAFETY: the arguments are live buffers the host only reads, and `slot` is a live
            // 8-byte result slot.
            let status = unsafe { #import(#(#pass,)* &mut slot) };
            // SAFETY: the host wrote `slot` for this call.
            unsafe { #convert }
        }

        #(#attrs)*
        #[cfg(not(target_arch = "wasm32"))]
        #[allow(unused_variables)]
        #vis fn #ident(#(#params),*) -> ::core::result::Result<#ret, #pdk::Error> {
            ::core::result::Result::Err(#pdk::Error::new(#unavailable))
        }
    })
}
