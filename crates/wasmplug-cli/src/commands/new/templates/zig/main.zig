//! Run with: wasmplug build . && wasmplug run plugin.toml greet --input world
const std = @import("std");
const wasmplug = @import("wasmplug.zig");

pub const panic = wasmplug.panic;

comptime {
    wasmplug.plugin(.{ .name = "{{name}}", .version = "0.1.0", .description = "A wasmplug plugin written in Zig" }, .{
        .greet = greet,
    });
}

/// Greets the input name with the configured greeting.
fn greet(arena: std.mem.Allocator, input: []const u8) anyerror![]const u8 {
    const name = std.mem.trim(u8, try wasmplug.text(input), " \t\r\n\x0b\x0c");
    if (name.len == 0) return wasmplug.fail(1, "name must not be empty", .{});
    const greeting = try wasmplug.config(arena, "greeting") orelse "Hello";
    return std.fmt.allocPrint(arena, "{s}, {s}!", .{ greeting, name });
}
