//! Run with: wasmplug run examples/plugins/greet-zig/plugin.toml greet --input world
//!
//! The greet example in Zig: `greet` turns a name into "<greeting>, <name>!". The greeting
//! is the `greeting` key of the plugin configuration, "Hello" by default. An empty name is
//! an error value with code 1.
const std = @import("std");
const wasmplug = @import("wasmplug.zig");

pub const panic = wasmplug.panic;

comptime {
    wasmplug.plugin(.{
        .name = "greet-zig",
        .version = "1.0.0",
        .description = "Greets people, with a configurable greeting (Zig)",
        .author = "wasmplug",
    }, .{ .greet = greet });
}

/// Error code for an empty name.
const empty_name = 1;

fn greet(arena: std.mem.Allocator, input: []const u8) anyerror![]const u8 {
    const name = std.mem.trim(u8, try wasmplug.text(input), " \t\r\n\x0b\x0c");
    if (name.len == 0) return wasmplug.fail(empty_name, "name must not be empty", .{});
    const greeting = try wasmplug.config(arena, "greeting") orelse "Hello";
    return std.fmt.allocPrint(arena, "{s}, {s}!", .{ greeting, name });
}
