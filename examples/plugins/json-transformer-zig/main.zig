//! Run with: wasmplug run examples/plugins/json-transformer-zig/plugin.toml execute --input '{"request_id":"r1","parameters":{"a":1}}'
//!
//! The json-transformer example in Zig: the `execute` function of the original Go + wazero
//! design (docs/abi.md section 6). Input is a PluginContext, output a PluginResult: the
//! parameters with `_request_id` and `_processed` added, in their original order, written
//! compactly with strings escaped as serde_json does. Invalid input is reported in the
//! result (`"success": false`), not as an error value. Numbers are copied as written.
const std = @import("std");
const wasmplug = @import("wasmplug.zig");

pub const panic = wasmplug.panic;

comptime {
    wasmplug.plugin(.{
        .name = "json-transformer-zig",
        .version = "1.0.0",
        .description = "Port of the Go plugin example: tags request parameters with the request id (Zig)",
        .author = "wasmplug",
    }, .{ .execute = execute });
}

const Writer = std.ArrayList(u8).Writer;
const Scanner = std.json.Scanner;

/// One key of an object and its value, already written compactly.
const Member = struct { key: []const u8, value: []const u8 };
const Members = std.ArrayList(Member);

fn execute(arena: std.mem.Allocator, input: []const u8) anyerror![]const u8 {
    var out = std.ArrayList(u8).init(arena);
    var message: []const u8 = "";
    if (transform(arena, input, &message)) |data| {
        try out.appendSlice("{\"success\":true,\"data\":");
        try out.appendSlice(data);
        try out.append('}');
    } else |err| {
        try out.appendSlice("{\"success\":false,\"data\":null,\"error\":");
        const text = if (message.len != 0) message else @errorName(err);
        try writeString(out.writer(), text);
        try out.append('}');
    }
    return out.items;
}

/// The parameters with `_request_id` and `_processed` set; `message` explains a failure.
fn transform(arena: std.mem.Allocator, input: []const u8, message: *[]const u8) ![]const u8 {
    var scanner = Scanner.initCompleteInput(arena, input);
    if (try scanner.next() != .object_begin) {
        message.* = "expected a PluginContext object";
        return error.SyntaxError;
    }
    var request_id: ?[]const u8 = null;
    var params = Members.init(arena);
    while (true) {
        const key = switch (try scanner.nextAlloc(arena, .alloc_always)) {
            .allocated_string => |s| s,
            .object_end => break,
            else => return error.SyntaxError,
        };
        if (std.mem.eql(u8, key, "request_id")) {
            request_id = switch (try scanner.nextAlloc(arena, .alloc_always)) {
                .allocated_string => |s| s,
                else => {
                    message.* = "`request_id` must be a string";
                    return error.SyntaxError;
                },
            };
        } else if (std.mem.eql(u8, key, "parameters")) {
            if (try scanner.next() != .object_begin) {
                message.* = "`parameters` must be an object";
                return error.SyntaxError;
            }
            params.clearRetainingCapacity();
            try readMembers(arena, &scanner, &params);
        } else {
            var skipped = std.ArrayList(u8).init(arena);
            try writeValue(arena, &scanner, skipped.writer());
        }
    }
    if (try scanner.next() != .end_of_document) return error.SyntaxError;
    const id = request_id orelse {
        message.* = "missing field `request_id`";
        return error.MissingField;
    };
    var id_json = std.ArrayList(u8).init(arena);
    try writeString(id_json.writer(), id);
    try set(&params, "_request_id", id_json.items);
    try set(&params, "_processed", "true");
    var out = std.ArrayList(u8).init(arena);
    try writeMembers(out.writer(), params.items);
    return out.items;
}

/// Replaces key's value in place, or appends it (as serde_json's ordered map).
fn set(members: *Members, key: []const u8, value: []const u8) !void {
    for (members.items) |*m| {
        if (std.mem.eql(u8, m.key, key)) {
            m.value = value;
            return;
        }
    }
    try members.append(.{ .key = key, .value = value });
}

/// Reads the members of an object whose `{` was just read.
fn readMembers(arena: std.mem.Allocator, scanner: *Scanner, members: *Members) anyerror!void {
    while (true) {
        const key = switch (try scanner.nextAlloc(arena, .alloc_always)) {
            .allocated_string => |s| s,
            .object_end => return,
            else => return error.SyntaxError,
        };
        var value = std.ArrayList(u8).init(arena);
        try writeValue(arena, scanner, value.writer());
        try set(members, key, value.items);
    }
}

/// Copies the next value compactly, objects in key order.
fn writeValue(arena: std.mem.Allocator, scanner: *Scanner, out: Writer) anyerror!void {
    switch (try scanner.nextAlloc(arena, .alloc_always)) {
        .object_begin => {
            var members = Members.init(arena);
            try readMembers(arena, scanner, &members);
            try writeMembers(out, members.items);
        },
        .array_begin => {
            try out.writeByte('[');
            var first = true;
            while (try scanner.peekNextTokenType() != .array_end) {
                if (!first) try out.writeByte(',');
                first = false;
                try writeValue(arena, scanner, out);
            }
            _ = try scanner.next();
            try out.writeByte(']');
        },
        .allocated_string => |s| try writeString(out, s),
        .allocated_number => |n| try out.writeAll(n),
        .true => try out.writeAll("true"),
        .false => try out.writeAll("false"),
        .null => try out.writeAll("null"),
        else => return error.SyntaxError,
    }
}

fn writeMembers(out: Writer, members: []const Member) !void {
    try out.writeByte('{');
    for (members, 0..) |m, i| {
        if (i != 0) try out.writeByte(',');
        try writeString(out, m.key);
        try out.writeByte(':');
        try out.writeAll(m.value);
    }
    try out.writeByte('}');
}

/// Writes `s` as a JSON string escaped the way serde_json does it.
fn writeString(out: Writer, s: []const u8) !void {
    const hex = "0123456789abcdef";
    try out.writeByte('"');
    for (s) |c| {
        switch (c) {
            '"' => try out.writeAll("\\\""),
            '\\' => try out.writeAll("\\\\"),
            '\n' => try out.writeAll("\\n"),
            '\r' => try out.writeAll("\\r"),
            '\t' => try out.writeAll("\\t"),
            0x08 => try out.writeAll("\\b"),
            0x0c => try out.writeAll("\\f"),
            0...0x07, 0x0b, 0x0e...0x1f => try out.writeAll(&[_]u8{ '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] }),
            else => try out.writeByte(c),
        }
    }
    try out.writeByte('"');
}
