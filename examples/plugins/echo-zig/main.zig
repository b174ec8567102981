//! Run with: wasmplug run examples/plugins/echo-zig/plugin.toml echo --input hello
//!
//! The echo example in Zig: `echo` returns its input unchanged (no copy), `noop` does
//! nothing (to measure call overhead), `len` returns the input length in decimal, and
//! `panic` panics with its input as the message.
const std = @import("std");
const wasmplug = @import("wasmplug.zig");

pub const panic = wasmplug.panic;

comptime {
    wasmplug.plugin(.{
        .name = "echo-zig",
        .version = "1.0.0",
        .description = "Returns its input unchanged; also a no-op, a length function and a panic (Zig)",
        .author = "wasmplug",
    }, .{ .echo = echo, .noop = noop, .len = len, .panic = panics });
}

fn echo(_: std.mem.Allocator, input: []const u8) anyerror![]const u8 {
    return input;
}

fn noop(_: std.mem.Allocator, _: []const u8) anyerror![]const u8 {
    return "";
}

fn len(arena: std.mem.Allocator, input: []const u8) anyerror![]const u8 {
    return std.fmt.allocPrint(arena, "{d}", .{input.len});
}

fn panics(_: std.mem.Allocator, input: []const u8) anyerror![]const u8 {
    wasmplug.panicf("panicked: {s}", .{try wasmplug.text(input)});
}
