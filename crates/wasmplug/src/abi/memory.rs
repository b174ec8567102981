//! Bounds-checked access to a guest's linear memory.
//!
//! Guest pointers are `u32` offsets read from untrusted wasm. Every range is computed in
//! 64-bit arithmetic (so `ptr + len` cannot wrap) and checked against the memory's current
//! size before a slice is taken. Nothing here uses `unsafe`: wasmtime hands out the memory as
//! a byte slice, and the checks turn a bad pointer into `None` instead of a panic.

use std::ops::Range;

/// The byte range `ptr..ptr + len` if it lies inside a memory of `memory_size` bytes.
pub(crate) fn checked_range(memory_size: usize, ptr: u32, len: u32) -> Option<Range<usize>> {
    let start = u64::from(ptr);
    let end = start + u64::from(len);
    if end > memory_size as u64 {
        return None;
    }
    Some(start as usize..end as usize)
}

/// The guest bytes at `ptr..ptr + len`, or `None` if out of bounds.
pub(crate) fn read(memory: &[u8], ptr: u32, len: u32) -> Option<&[u8]> {
    checked_range(memory.len(), ptr, len).map(|r| &memory[r])
}

/// Copies `data` to guest address `ptr`; `None` (and nothing written) if out of bounds.
pub(crate) fn write(memory: &mut [u8], ptr: u32, data: &[u8]) -> Option<()> {
    let len = u32::try_from(data.len()).ok()?;
    let range = checked_range(memory.len(), ptr, len)?;
    memory[range].copy_from_slice(data);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_bounds_ranges_are_returned() {
        let mem = [1u8, 2, 3, 4];
        assert_eq!(read(&mem, 1, 2), Some(&[2u8, 3][..]));
        assert_eq!(
            read(&mem, 4, 0),
            Some(&[][..]),
            "empty range at the end is fine"
        );
        assert_eq!(read(&mem, 0, 4), Some(&mem[..]));
    }

    #[test]
    fn out_of_bounds_and_wrapping_ranges_are_refused() {
        let mem = [0u8; 16];
        assert_eq!(read(&mem, 15, 2), None);
        assert_eq!(read(&mem, 17, 0), None);
        assert_eq!(read(&mem, u32::MAX, 2), None, "ptr + len wraps 32 bits");
        assert_eq!(
            checked_range(usize::MAX, u32::MAX, u32::MAX),
            Some(u32::MAX as usize..(2 * u32::MAX as usize))
        );
    }

    #[test]
    fn write_checks_before_touching_memory() {
        let mut mem = [0u8; 4];
        assert_eq!(write(&mut mem, 3, b"ab"), None);
        assert_eq!(mem, [0; 4]);
        assert_eq!(write(&mut mem, 2, b"ab"), Some(()));
        assert_eq!(mem, [0, 0, b'a', b'b']);
    }
}
