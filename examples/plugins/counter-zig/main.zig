//! Run with: wasmplug run examples/plugins/counter-zig/plugin.toml increment --input visits
//!
//! The counter example in Zig, on the host's key-value store: `increment` adds one to the
//! counter named by the input ("count" when empty) and returns the new value, `get`
//! returns it ("0" when unset), `reset` deletes it. Values are stored as decimal text, so
//! every language's counter reads the others' values. A store error (a quota) is passed on
//! as an error value with code 2; a stored value that is not a number has code 3.
const std = @import("std");
const wasmplug = @import("wasmplug.zig");

pub const panic = wasmplug.panic;

comptime {
    wasmplug.plugin(.{
        .name = "counter-zig",
        .version = "1.0.0",
        .description = "Counters in the host's key-value store (Zig)",
        .author = "wasmplug",
    }, .{ .increment = increment, .get = get, .reset = reset });
}

const store_failed = 2;
const not_a_number = 3;

fn key(arena: std.mem.Allocator, input: []const u8) ![]const u8 {
    const name = try wasmplug.text(input);
    return std.fmt.allocPrint(arena, "counter/{s}", .{if (name.len == 0) "count" else name});
}

/// Turns a host error value into this plugin's error value with code 2.
fn storeError(err: anyerror) anyerror {
    if (err == error.HostError) return wasmplug.fail(store_failed, "{s}", .{wasmplug.hostError()});
    return err;
}

fn read(arena: std.mem.Allocator, k: []const u8) !u64 {
    const value = (wasmplug.kvGet(arena, k) catch |err| return storeError(err)) orelse return 0;
    return std.fmt.parseInt(u64, value, 10) catch
        wasmplug.fail(not_a_number, "`{s}` holds \"{s}\", not a number", .{ k, value });
}

fn increment(arena: std.mem.Allocator, input: []const u8) anyerror![]const u8 {
    const k = try key(arena, input);
    const value = try std.fmt.allocPrint(arena, "{d}", .{try read(arena, k) + 1});
    wasmplug.kvSet(k, value) catch |err| return storeError(err);
    return value;
}

fn get(arena: std.mem.Allocator, input: []const u8) anyerror![]const u8 {
    const k = try key(arena, input);
    return std.fmt.allocPrint(arena, "{d}", .{try read(arena, k)});
}

fn reset(arena: std.mem.Allocator, input: []const u8) anyerror![]const u8 {
    _ = wasmplug.kvDelete(try key(arena, input)) catch |err| return storeError(err);
    return "";
}
