// docs/abi.md by hand, in AssemblyScript: unmanaged buffers for the host; the sections are
// written by `wasmplug build` from plugin.toml.

// @ts-ignore: decorator
@external("wasmplug", "set_error")
declare function set_error(msg: usize, len: u32, code: i32): void;

export function allocate(len: u32): u32 {
  return <u32>heap.alloc(<usize>(len == 0 ? 1 : len));
}

export function deallocate(ptr: u32, len: u32): void {
  heap.free(<usize>ptr);
}

export function shout(ptr: u32, len: u32): u64 {
  if (len == 0) {
    const msg = String.UTF8.encode("nothing to shout");
    set_error(changetype<usize>(msg), <u32>msg.byteLength, 7);
    return 0;
  }
  for (let i: u32 = 0; i < len; i++) {
    const c = load<u8>(<usize>(ptr + i));
    if (c >= 97 && c <= 122) store<u8>(<usize>(ptr + i), c - 32);
  }
  return (<u64>ptr << 32) | <u64>len;
}

// `throw` calls abort; route it to the host's panic (asc --use abort=index/abort).
// @ts-ignore: decorator
@external("wasmplug", "panic")
declare function host_panic(msg: usize, len: u32): void;
export function abort(message: string | null, file: string | null, line: u32, col: u32): void {
  const b = String.UTF8.encode(message === null ? "abort" : message);
  host_panic(changetype<usize>(b), <u32>b.byteLength);
}
