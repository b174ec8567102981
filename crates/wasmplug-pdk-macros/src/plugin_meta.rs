//! `plugin_meta!`: the `wasmplug.abi` and `wasmplug.meta` custom sections and the
//! `allocate`, `deallocate` and `init` exports.

use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token};

use crate::names::{check_plugin_name, check_version};

/// The ABI version this PDK implements.
const ABI_VERSION: u32 = 1;

/// The keys `plugin_meta!` accepts.
const KEYS: &[&str] = &["name", "version", "description", "author"];

/// One `key: "value"` entry.
struct Entry {
    key: Ident,
    value: LitStr,
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        if !KEYS.contains(&key.to_string().as_str()) {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown key `{key}` in `plugin_meta!`: expected one of {}",
                    KEYS.join(", ")
                ),
            ));
        }
        input.parse::<Token![:]>()?;
        let value = if input.peek(LitStr) {
            input.parse()?
        } else {
            return Err(input.error(format!("`{key}` must be a string literal, e.g. \"1.0.0\"")));
        };
        Ok(Self { key, value })
    }
}

/// The metadata, after defaults are applied.
#[derive(Default)]
struct Meta {
    name: Option<(String, Span)>,
    version: Option<(String, Span)>,
    description: Option<String>,
    author: Option<String>,
}

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let entries =
        syn::parse::Parser::parse2(Punctuated::<Entry, Token![,]>::parse_terminated, input)?;
    let mut meta = Meta::default();
    let mut seen: Vec<String> = Vec::new();
    for Entry { key, value } in entries {
        let key_name = key.to_string();
        if seen.contains(&key_name) {
            return Err(syn::Error::new(
                key.span(),
                format!("`{key_name}` is given more than once"),
            ));
        }
        seen.push(key_name.clone());
        let (text, span) = (value.value(), value.span());
        match key_name.as_str() {
            "name" => meta.name = Some((text, span)),
            "version" => meta.version = Some((text, span)),
            "description" => meta.description = Some(text),
            "author" => meta.author = Some(text),
            _ => unreachable!("keys are checked while parsing"),
        }
    }

    let from_cargo = meta.name.is_none();
    let (name, name_span) = match meta.name {
        Some(name) => name,
        None => (cargo_env("CARGO_PKG_NAME")?, Span::call_site()),
    };
    check_plugin_name(&name).map_err(|e| {
        let hint = if from_cargo {
            " (taken from the crate name; set `name: \"...\"` in `plugin_meta!`)"
        } else {
            ""
        };
        syn::Error::new(name_span, format!("{e}{hint}"))
    })?;
    let (version, version_span) = match meta.version {
        Some(version) => version,
        None => (cargo_env("CARGO_PKG_VERSION")?, Span::call_site()),
    };
    check_version(&version).map_err(|e| syn::Error::new(version_span, e))?;
    let description = meta
        .description
        .or_else(|| std::env::var("CARGO_PKG_DESCRIPTION").ok())
        .filter(|d| !d.is_empty());
    let author = meta.author.or_else(|| {
        std::env::var("CARGO_PKG_AUTHORS")
            .ok()
            .filter(|a| !a.is_empty())
            .map(|a| a.split(':').collect::<Vec<_>>().join(", "))
    });

    let mut json = serde_json::Map::new();
    json.insert("name".into(), name.into());
    json.insert("version".into(), version.into());
    if let Some(description) = description {
        json.insert("description".into(), description.into());
    }
    if let Some(author) = author {
        json.insert("author".into(), author.into());
    }
    let json = serde_json::Value::Object(json).to_string();
    Ok(generate(json.as_bytes()))
}

/// An environment variable that cargo sets for the crate being compiled.
fn cargo_env(var: &str) -> syn::Result<String> {
    std::env::var(var).map_err(|_| {
        syn::Error::new(
            Span::call_site(),
            format!("`{var}` is not set (not built by cargo?): give the value in `plugin_meta!`"),
        )
    })
}

fn generate(meta_json: &[u8]) -> TokenStream {
    let abi = ABI_VERSION.to_le_bytes();
    let abi_len = abi.len();
    let abi = Literal::byte_string(&abi);
    let meta_len = meta_json.len();
    let meta = Literal::byte_string(meta_json);
    quote! {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            #[used]
            #[unsafe(link_section = "wasmplug.abi")]
            static WASMPLUG_ABI: [u8; #abi_len] = *#abi;

            #[used]
            #[unsafe(link_section = "wasmplug.meta")]
            static WASMPLUG_META: [u8; #meta_len] = *#meta;

            #[unsafe(export_name = "allocate")]
            extern "C" fn __wasmplug_allocate(len: u32) -> u32 {
                ::wasmplug_pdk::__private::allocate(len)
            }

            #[unsafe(export_name = "deallocate")]
            unsafe extern "C" fn __wasmplug_deallocate(ptr: u32, len: u32) {
                // SAFETY: the host gives back buffers from `allocate` or outputs, with their length.
                unsafe { ::wasmplug_pdk::__private::deallocate(ptr, len) }
            }

            #[unsafe(export_name = "init")]
            unsafe extern "C" fn __wasmplug_init(ptr: u32, len: u32) -> u64 {
                // SAFETY: the host passes a buffer from `allocate(len)`, or `(0, 0)`.
                unsafe { ::wasmplug_pdk::__private::init(ptr, len) }
            }
        };
    }
}
