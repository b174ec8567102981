//! wasmplug.zig — the wasmplug guest kit for Zig 0.14 (guest ABI v1, docs/abi.md).
//!
//! A complete plugin (`main.zig` next to this file):
//!
//!     const std = @import("std");
//!     const wasmplug = @import("wasmplug.zig");
//!
//!     pub const panic = wasmplug.panic; // panics reach the host with their message
//!
//!     comptime {
//!         wasmplug.plugin(.{ .name = "greet", .version = "1.0.0" }, .{ .greet = greet });
//!     }
//!
//!     fn greet(arena: std.mem.Allocator, input: []const u8) anyerror![]const u8 {
//!         if (input.len == 0) return wasmplug.fail(1, "name must not be empty", .{});
//!         const greeting = try wasmplug.config(arena, "greeting") orelse "Hello";
//!         return std.fmt.allocPrint(arena, "{s}, {s}!", .{ greeting, input });
//!     }
//!
//! Build: `wasmplug build`, or by hand `zig build-exe main.zig -target wasm32-wasi
//! -fno-entry -rdynamic -O ReleaseSmall --stack 1048576 -femit-bin=greet.wasm`.
//!
//! What the kit does:
//! - `plugin(meta, functions)` exports every function of the `functions` struct literal
//!   under its field name with the ABI signature `(ptr, len) -> packed`, and writes the
//!   `wasmplug.abi`, `wasmplug.meta` and `wasmplug.functions` custom sections with global
//!   assembly (`linksection` would make a data segment, not a custom section). Use it once.
//! - A plugin function gets a per-call arena and the input bytes; everything allocated in
//!   the arena is freed after the call. The output may live anywhere (arena, constant,
//!   the input): the kit copies it into a buffer for the host unless it is the input.
//! - `fail(code, fmt, args)` returns `error.PluginError` after recording an error value;
//!   any other error is reported as an error value with its name and code 0.
//! - `panic` (as the root file's `pub const panic`) ends the call as a trap carrying the
//!   panic message, through the host's `wasmplug.panic`.
//! - `log`, `config`, `kvGet`, `kvSet`, `kvDelete`, `kvList`, `httpRequest` wrap the host
//!   functions; their buffers are copied into the caller's allocator. A host error value
//!   is `error.HostError`, with the message in `hostError()`. `slot` and `takeReply` serve
//!   an application's own host functions (declare them `extern "module" fn ...`).
//! - exports `allocate` / `deallocate` over `std.heap.wasm_allocator`.

const std = @import("std");

/// The allocator behind `allocate` / `deallocate`.
pub const allocator = std.heap.wasm_allocator;

// ---- the raw ABI: host imports (module `wasmplug`) ----------------------------------------

extern "wasmplug" fn set_error(msg: [*]const u8, len: u32, code: i32) void;
const host_panic = @extern(*const fn (msg: [*]const u8, len: u32) callconv(.c) noreturn, .{
    .name = "panic",
    .library_name = "wasmplug",
});
extern "wasmplug" fn log(level: i32, msg: [*]const u8, len: u32) void;
extern "wasmplug" fn config_get(key: [*]const u8, len: u32, out: *u64) i32;
extern "wasmplug" fn kv_get(key: [*]const u8, len: u32, out: *u64) i32;
extern "wasmplug" fn kv_set(key: [*]const u8, key_len: u32, value: [*]const u8, value_len: u32, out: *u64) i32;
extern "wasmplug" fn kv_delete(key: [*]const u8, len: u32, out: *u64) i32;
extern "wasmplug" fn kv_list(prefix: [*]const u8, len: u32, out: *u64) i32;
extern "wasmplug" fn http_request(head: [*]const u8, head_len: u32, body: [*]const u8, body_len: u32, out: *u64) i32;

// ---- memory ---------------------------------------------------------------------------------

export fn allocate(len: u32) u32 {
    const buf = allocator.alloc(u8, @max(len, 1)) catch return 0;
    return @intFromPtr(buf.ptr);
}

export fn deallocate(ptr: u32, len: u32) void {
    if (ptr == 0) return;
    const p: [*]u8 = @ptrFromInt(ptr);
    allocator.free(p[0..@max(len, 1)]);
}

/// The buffer at (ptr, len), allocated by `allocate`.
fn owned(ptr: u32, len: u32) []u8 {
    if (len == 0) return &.{};
    const p: [*]u8 = @ptrFromInt(ptr);
    return p[0..len];
}

fn release(buf: []const u8) void {
    if (buf.len != 0) deallocate(@intFromPtr(buf.ptr), @intCast(buf.len));
}

// ---- errors and panics ------------------------------------------------------------------

/// The signature of a plugin function.
pub const Function = fn (arena: std.mem.Allocator, input: []const u8) anyerror![]const u8;

var pending_message: []u8 = &.{};
var pending_code: i32 = 0;

/// Records an error value (message and code) and returns `error.PluginError`: the host
/// sees `Error::Guest` with this message and code.
pub fn fail(code: i32, comptime fmt: []const u8, args: anytype) error{PluginError} {
    allocator.free(pending_message);
    pending_message = std.fmt.allocPrint(allocator, fmt, args) catch @constCast("out of memory");
    pending_code = code;
    return error.PluginError;
}

/// The root file's panic handler: `pub const panic = wasmplug.panic;`.
pub const panic = std.debug.FullPanic(panicHandler);

fn panicHandler(message: []const u8, first_trace_addr: ?usize) noreturn {
    _ = first_trace_addr;
    host_panic(message.ptr, @intCast(message.len));
}

/// Ends the call as a trap with a formatted message.
pub fn panicf(comptime fmt: []const u8, args: anytype) noreturn {
    var buf: [1024]u8 = undefined;
    const message = std.fmt.bufPrint(&buf, fmt, args) catch buf[0..];
    host_panic(message.ptr, @intCast(message.len));
}

/// `input` when it is valid UTF-8, else an error value worded as every kit words it.
pub fn text(input: []const u8) error{PluginError}![]const u8 {
    if (std.unicode.utf8ValidateSlice(input)) return input;
    var i: usize = 0;
    while (i < input.len) {
        const n = std.unicode.utf8ByteSequenceLength(input[i]) catch break;
        if (i + n > input.len) break;
        _ = std.unicode.utf8Decode(input[i .. i + n]) catch break;
        i += n;
    }
    return fail(0, "input is not valid UTF-8: invalid byte 0x{x:0>2} at index {d}", .{ input[i], i });
}

// ---- exports -------------------------------------------------------------------------------

/// The plugin's metadata (the `wasmplug.meta` section).
pub const Meta = struct {
    name: []const u8,
    version: []const u8,
    description: []const u8 = "",
    author: []const u8 = "",
};

/// Exports the fields of `functions` (a struct literal of `Function`s) as plugin functions
/// and writes the three custom sections. Call it once, in a `comptime` block.
pub fn plugin(comptime meta: Meta, comptime functions: anytype) void {
    const fields = std.meta.fields(@TypeOf(functions));
    comptime var names: []const u8 = "";
    inline for (fields) |field| {
        const f: Function = @field(functions, field.name);
        const wrapper = struct {
            fn call(ptr: u32, len: u32) callconv(.c) u64 {
                return run(f, ptr, len);
            }
        };
        @export(&wrapper.call, .{ .name = field.name });
        names = names ++ field.name ++ "\\n";
    }
    _ = Sections(meta, names);
}

fn Sections(comptime meta: Meta, comptime names: []const u8) type {
    return struct {
        comptime {
            asm (section("wasmplug.abi", "\\x01\\x00\\x00\\x00") ++
                    section("wasmplug.meta", escape(metaJson(meta))) ++
                    section("wasmplug.functions", names));
        }
    };
}

fn section(comptime name: []const u8, comptime bytes: []const u8) []const u8 {
    return ".section .custom_section." ++ name ++ ",\"\",@\n.ascii \"" ++ bytes ++ "\"\n.text\n";
}

fn metaJson(comptime meta: Meta) []const u8 {
    return "{\"name\":\"" ++ meta.name ++ "\",\"version\":\"" ++ meta.version ++
        "\",\"description\":\"" ++ meta.description ++ "\",\"author\":\"" ++ meta.author ++ "\"}";
}

/// Escapes `"` and `\` for an assembler string.
fn escape(comptime s: []const u8) []const u8 {
    comptime var out: []const u8 = "";
    inline for (s) |c| {
        out = out ++ switch (c) {
            '"' => "\\\"",
            '\\' => "\\\\",
            else => &[_]u8{c},
        };
    }
    return out;
}

fn run(comptime f: Function, ptr: u32, len: u32) u64 {
    const input = owned(ptr, len);
    var arena_state = std.heap.ArenaAllocator.init(allocator);
    defer arena_state.deinit();
    const output = f(arena_state.allocator(), input) catch |err| {
        release(input);
        if (err == error.PluginError) {
            set_error(pending_message.ptr, @intCast(pending_message.len), pending_code);
        } else {
            const name = @errorName(err);
            set_error(name.ptr, @intCast(name.len), 0);
        }
        return 0;
    };
    // The input handed back as it is becomes the host's (it frees it with `deallocate`).
    if (output.len != 0 and output.ptr == input.ptr and output.len == input.len) return pack(input);
    const result: u64 = if (output.len == 0) 0 else pack(allocator.dupe(u8, output) catch host_panic("out of memory", 13));
    release(input);
    return result;
}

fn pack(buf: []const u8) u64 {
    return (@as(u64, @intFromPtr(buf.ptr)) << 32) | @as(u64, @intCast(buf.len));
}

// ---- host functions -------------------------------------------------------------------------

/// Statuses of host functions (docs/abi.md 5.1).
pub const Status = enum(i32) { ok = 0, none = 1, @"error" = 2, _ };

/// The result slot to pass to an application's own host function.
pub var slot: u64 = 0;

var host_error: []u8 = &.{};

/// The message of the last `error.HostError`.
pub fn hostError() []const u8 {
    return host_error;
}

/// Reads the reply of a host function that returned `status`: the buffer (copied into
/// `arena`), `null` for NONE, or `error.HostError` (message in `hostError()`).
pub fn takeReply(arena: std.mem.Allocator, status: i32) error{ HostError, OutOfMemory }!?[]u8 {
    const buf = owned(@truncate(slot), @truncate(slot >> 32));
    slot = 0;
    defer release(buf);
    switch (@as(Status, @enumFromInt(status))) {
        .ok => return try arena.dupe(u8, buf),
        .none => return null,
        else => {
            allocator.free(host_error);
            host_error = allocator.dupe(u8, buf) catch &.{};
            return error.HostError;
        },
    }
}

/// Log levels.
pub const Level = enum(i32) { trace = 0, debug = 1, info = 2, warn = 3, err = 4 };

/// One line in the host's log.
pub fn logLine(level: Level, message: []const u8) void {
    log(@intFromEnum(level), message.ptr, @intCast(message.len));
}

/// A configuration value (plugin.toml's `[config]`), or null.
pub fn config(arena: std.mem.Allocator, key: []const u8) !?[]u8 {
    return takeReply(arena, config_get(key.ptr, @intCast(key.len), &slot));
}

/// The value of `key` in the plugin's key-value store, or null.
pub fn kvGet(arena: std.mem.Allocator, key: []const u8) !?[]u8 {
    return takeReply(arena, kv_get(key.ptr, @intCast(key.len), &slot));
}

/// Writes `key` = `value`; a refused write (a quota) is `error.HostError`.
pub fn kvSet(key: []const u8, value: []const u8) !void {
    var scratch = std.heap.FixedBufferAllocator.init(&.{});
    _ = try takeReply(scratch.allocator(), kv_set(key.ptr, @intCast(key.len), value.ptr, @intCast(value.len), &slot));
}

/// Deletes `key`; whether it existed.
pub fn kvDelete(key: []const u8) !bool {
    const status = kv_delete(key.ptr, @intCast(key.len), &slot);
    var scratch = std.heap.FixedBufferAllocator.init(&.{});
    _ = try takeReply(scratch.allocator(), status);
    return status == @intFromEnum(Status.ok);
}

/// The keys starting with `prefix`, in byte order (at most 1000).
pub fn kvList(arena: std.mem.Allocator, prefix: []const u8) ![][]const u8 {
    const buf = try takeReply(arena, kv_list(prefix.ptr, @intCast(prefix.len), &slot)) orelse return &.{};
    var keys = std.ArrayList([]const u8).init(arena);
    var rest: []const u8 = buf;
    while (rest.len >= 4) {
        const n = std.mem.readInt(u32, rest[0..4], .little);
        if (rest.len - 4 < n) break;
        try keys.append(rest[4 .. 4 + n]);
        rest = rest[4 + n ..];
    }
    return keys.toOwnedSlice();
}

/// An HTTP response: the head as JSON (`{"status":200,"headers":[...]}`) and the body.
pub const Response = struct { head: []const u8, body: []const u8 };

/// An outbound HTTP request; `head` is JSON `{"method":"GET","url":"...","headers":[...]}`.
pub fn httpRequest(arena: std.mem.Allocator, head: []const u8, body: []const u8) !Response {
    const buf = try takeReply(arena, http_request(head.ptr, @intCast(head.len), body.ptr, @intCast(body.len), &slot)) orelse &.{};
    if (buf.len < 4) return error.MalformedResponse;
    const n = std.mem.readInt(u32, buf[0..4], .little);
    if (buf.len - 4 < n) return error.MalformedResponse;
    return .{ .head = buf[4 .. 4 + n], .body = buf[4 + n ..] };
}
