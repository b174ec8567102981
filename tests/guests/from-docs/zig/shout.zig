//! docs/abi.md by hand, in Zig: allocate/deallocate, one plugin function, the sections.
const std = @import("std");
const gpa = std.heap.wasm_allocator;

comptime {
    asm (
        \\.section .custom_section.wasmplug.abi,"",@
        \\.ascii "\x01\x00\x00\x00"
        \\.section .custom_section.wasmplug.meta,"",@
        \\.ascii "{\"name\":\"shout-zig\",\"version\":\"1.0.0\"}"
        \\.section .custom_section.wasmplug.functions,"",@
        \\.ascii "shout\n"
        \\.text
    );
}

extern "wasmplug" fn set_error(msg: [*]const u8, len: u32, code: i32) void;

export fn allocate(len: u32) u32 {
    const buf = gpa.alloc(u8, @max(len, 1)) catch return 0;
    return @intFromPtr(buf.ptr);
}

export fn deallocate(ptr: u32, len: u32) void {
    const p: [*]u8 = @ptrFromInt(ptr);
    gpa.free(p[0..@max(len, 1)]);
}

export fn shout(ptr: u32, len: u32) u64 {
    if (len == 0) {
        const msg = "nothing to shout";
        set_error(msg, msg.len, 7);
        return 0;
    }
    const p: [*]u8 = @ptrFromInt(ptr);
    for (p[0..len]) |*c| c.* = std.ascii.toUpper(c.*);
    return (@as(u64, ptr) << 32) | len;
}
