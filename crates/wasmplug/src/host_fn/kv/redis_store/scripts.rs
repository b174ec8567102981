//! The Lua scripts behind writes. Redis runs a script atomically, so the quota check, the
//! entry, the key index and the usage counter change in one step for every client of the
//! server. Scripts are sent by hash and reloaded when the server lost them (a restart).

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionManager;

use super::keys::NamespaceKeys;

/// KEYS: entries, index, usage. ARGV: key, value, limit. Returns `{applied, used, old}`:
/// `applied` 1 or 0 (refused: over quota), `used` the namespace's bytes before the write,
/// `old` the replaced entry's bytes or -1.
static SET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local key_len = string.len(ARGV[1])
local new = key_len + string.len(ARGV[2])
local old = -1
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  old = key_len + redis.call('HSTRLEN', KEYS[1], ARGV[1])
end
local used = tonumber(redis.call('GET', KEYS[3]) or '0')
local freed = math.max(old, 0)
if new > freed and used - freed + new > tonumber(ARGV[3]) then
  return {0, used, old}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if old < 0 then
  redis.call('ZADD', KEYS[2], 0, ARGV[1])
end
if redis.call('INCRBY', KEYS[3], new - freed) <= 0 then
  redis.call('DEL', KEYS[3])
end
return {1, used, old}
",
    )
});

/// KEYS: entries, index, usage. ARGV: key. Returns 1 if the key existed (and is gone), else 0.
static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local value_len = redis.call('HSTRLEN', KEYS[1], ARGV[1])
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('DECRBY', KEYS[3], string.len(ARGV[1]) + value_len) <= 0 then
  redis.call('DEL', KEYS[3])
end
return 1
",
    )
});

/// What the set script did.
pub(super) struct SetOutcome {
    /// Whether the entry was written.
    pub(super) applied: bool,
    /// Namespace usage before the write.
    pub(super) used: u64,
    /// Bytes of the entry it replaced (or would have), if there was one.
    pub(super) old: Option<u64>,
}

pub(super) async fn set(
    connection: &mut ConnectionManager,
    keys: &NamespaceKeys,
    key: &[u8],
    value: &[u8],
    limit: u64,
) -> redis::RedisResult<SetOutcome> {
    let (applied, used, old): (i64, i64, i64) = SET
        .key(&keys.entries)
        .key(&keys.index)
        .key(&keys.usage)
        .arg(key)
        .arg(value)
        .arg(limit)
        .invoke_async(connection)
        .await?;
    Ok(SetOutcome {
        applied: applied == 1,
        used: u64::try_from(used).unwrap_or(0),
        old: u64::try_from(old).ok(),
    })
}

pub(super) async fn delete(
    connection: &mut ConnectionManager,
    keys: &NamespaceKeys,
    key: &[u8],
) -> redis::RedisResult<bool> {
    let existed: i64 = DELETE
        .key(&keys.entries)
        .key(&keys.index)
        .key(&keys.usage)
        .arg(key)
        .invoke_async(connection)
        .await?;
    Ok(existed == 1)
}
