//! Guest memory shared with the host: `allocate`/`deallocate` and buffer ownership transfer
//! (ABI sections 3 and 7).
//!
//! Every buffer that crosses the boundary is allocated with `Layout::from_size_align(len, 1)`,
//! so a buffer of `len` bytes can be rebuilt as a `Vec<u8>` with `len == capacity` and freed
//! by whichever side owns it.

use std::alloc::{Layout, alloc, dealloc};
use std::ptr::{self, NonNull};

use crate::Error;

/// Allocates `len` bytes for the host and returns their address, or `0` on failure.
///
/// `allocate(0)` returns a dangling, non-zero, well-aligned address that must not be read;
/// [`deallocate`] accepts it back with `len == 0`.
pub fn allocate(len: u32) -> u32 {
    let Ok(size) = usize::try_from(len) else {
        return 0;
    };
    if size == 0 {
        return address(NonNull::<u8>::dangling().as_ptr()).unwrap_or(0);
    }
    let Ok(layout) = Layout::from_size_align(size, 1) else {
        return 0;
    };
    // SAFETY: `layout` has a non-zero size.
    let buf = unsafe { alloc(layout) };
    if buf.is_null() {
        return 0;
    }
    match address(buf) {
        Some(addr) => addr,
        None => {
            // Only possible on 64-bit hosts (native tests): the buffer cannot be named by a
            // 32-bit address, so give it back and report failure.
            // SAFETY: `buf` was just allocated with `layout`.
            unsafe { dealloc(buf, layout) };
            0
        }
    }
}

/// Frees a buffer of `len` bytes at `ptr` previously returned by [`allocate`] or handed to
/// the host as an output. `ptr == 0` or `len == 0` does nothing.
///
/// # Safety
///
/// `ptr` and `len` must describe a live buffer allocated by this module (by [`allocate`] or
/// as an output buffer) with exactly this `len`, not freed before.
pub unsafe fn deallocate(ptr: u32, len: u32) {
    if ptr == 0 || len == 0 {
        return;
    }
    let Ok(size) = usize::try_from(len) else {
        return;
    };
    // The layout was valid when the buffer was allocated with the same length.
    let Ok(layout) = Layout::from_size_align(size, 1) else {
        return;
    };
    // SAFETY: by the caller's contract the buffer was allocated by the global allocator with
    // `Layout(len, 1)` and is still live.
    unsafe { dealloc(pointer(ptr), layout) };
}

/// Takes ownership of the host's input buffer (ABI section 3, step 2).
///
/// # Safety
///
/// Unless `len == 0`, `ptr` must have been returned by [`allocate`]`(len)` and not freed:
/// the returned vector owns and eventually frees it.
pub(crate) unsafe fn take_input(ptr: u32, len: u32) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    let len = len as usize; // u32 -> usize is lossless on wasm32 and on 64-bit hosts
    // SAFETY: by the caller's contract the buffer holds `len` initialised bytes (the host
    // copied the input there) allocated with `Layout(len, 1)`, which is what a `Vec<u8>` of
    // capacity `len` frees with.
    unsafe { Vec::from_raw_parts(pointer(ptr), len, len) }
}

/// Hands `output` to the host and returns the packed `(ptr << 32) | len`; empty output is
/// `0`. The host frees the buffer with `deallocate(ptr, len)`.
pub(crate) fn give_output(output: Vec<u8>) -> Result<u64, Error> {
    if output.is_empty() {
        return Ok(0);
    }
    let Ok(len) = u32::try_from(output.len()) else {
        return Err(Error::new("output is larger than 4 GiB"));
    };
    // `into_boxed_slice` shrinks the allocation to exactly `Layout(len, 1)`.
    let buf = output.into_boxed_slice();
    let Some(addr) = address(buf.as_ptr()) else {
        return Err(Error::new(
            "output buffer is outside the 32-bit address space",
        ));
    };
    // Ownership moves to the host, which gives it back through `deallocate`.
    let _ = Box::into_raw(buf);
    Ok(pack(addr, len))
}

/// Packs an output pointer and length as `(ptr << 32) | len`.
pub(crate) fn pack(ptr: u32, len: u32) -> u64 {
    (u64::from(ptr) << 32) | u64::from(len)
}

/// The 32-bit address of `p`, if it has one (always on wasm32).
fn address(p: *const u8) -> Option<u32> {
    u32::try_from(p.expose_provenance()).ok()
}

/// The pointer for a 32-bit address received from the host.
fn pointer(addr: u32) -> *mut u8 {
    ptr::with_exposed_provenance_mut(addr as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing() {
        assert_eq!(pack(0, 0), 0);
        assert_eq!(pack(1, 2), 0x0000_0001_0000_0002);
        assert_eq!(pack(u32::MAX, u32::MAX), u64::MAX);
        assert_eq!(pack(0x8000_0000, 5) >> 32, 0x8000_0000);
        assert_eq!(pack(0x8000_0000, 5) & 0xFFFF_FFFF, 5);
    }

    #[test]
    fn empty_buffers() {
        assert_eq!(give_output(Vec::new()).unwrap(), 0);
        // SAFETY: `len == 0` never touches the pointer.
        assert!(unsafe { take_input(0, 0) }.is_empty());
        assert!(unsafe { take_input(1234, 0) }.is_empty());
        // SAFETY: `ptr == 0` / `len == 0` are no-ops.
        unsafe {
            deallocate(0, 10);
            deallocate(8, 0);
        }
    }

    #[test]
    fn allocate_zero_is_not_null() {
        // On 64-bit hosts the dangling address (1) still fits in 32 bits.
        let p = allocate(0);
        assert_ne!(p, 0);
        // SAFETY: zero-length buffers are accepted and ignored.
        unsafe { deallocate(p, 0) };
    }

    #[test]
    fn allocate_roundtrip_when_addressable() {
        // Native heaps usually live above 4 GiB, in which case `allocate` reports failure
        // (0); when the buffer is addressable, it must round-trip through the ABI helpers.
        let p = allocate(16);
        if p != 0 {
            // SAFETY: `p` came from `allocate(16)`; the vector frees it.
            let mut v = unsafe { take_input(p, 16) };
            v.fill(7);
            assert_eq!(v.capacity(), 16);
        }
    }
}
