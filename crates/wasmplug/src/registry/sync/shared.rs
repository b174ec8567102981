//! [`SharedStore`]: the Redis commands of sync (keys in the module docs of `sync`), each
//! bounded by a timeout so that a dead server never stalls the tasks.

use std::collections::HashMap;
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::doc::{Artefact, PluginDoc, SharedVersion};
use super::status::ReplicaStatus;
use super::{SyncConfig, SyncError};

/// Longest one sync command may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Bumps the counter, stores the document and its revision, announces the plugin.
/// KEYS: rev, plugins, revs, changes. ARGV: name, document. Returns the revision.
const PUBLISH: &str = r"
local rev = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], rev)
redis.call('PUBLISH', KEYS[4], ARGV[1])
return rev";

/// The sync keys of one prefix on one server.
#[derive(Clone)]
pub(super) struct SharedStore {
    client: redis::Client,
    connection: ConnectionManager,
    prefix: String,
    address: String,
    script: redis::Script,
}

impl SharedStore {
    pub(super) fn new(
        config: &SyncConfig,
        handle: &tokio::runtime::Handle,
    ) -> Result<SharedStore, SyncError> {
        let invalid = |e: redis::RedisError| SyncError::InvalidUrl {
            url: redacted(&config.redis),
            reason: e.to_string(),
        };
        let client = redis::Client::open(config.redis.as_str()).map_err(invalid)?;
        let address = client.get_connection_info().addr().to_string();
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let connection = {
            let _runtime = handle.enter();
            ConnectionManager::new_lazy_with_config(client.clone(), manager).map_err(invalid)?
        };
        Ok(SharedStore {
            client,
            connection,
            prefix: config.prefix.clone(),
            address,
            script: redis::Script::new(PUBLISH),
        })
    }

    pub(super) fn address(&self) -> &str {
        &self.address
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    /// The pub/sub channel of change announcements.
    pub(super) fn channel(&self) -> String {
        self.key("changes")
    }

    pub(super) fn client(&self) -> &redis::Client {
        &self.client
    }

    async fn run<T>(
        &self,
        op: impl AsyncFnOnce(&mut ConnectionManager) -> redis::RedisResult<T>,
    ) -> Result<T, SyncError> {
        let mut connection = self.connection.clone();
        match tokio::time::timeout(TIMEOUT, op(&mut connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(self.error(e.to_string())),
            Err(_) => Err(self.error(format!("no answer within {TIMEOUT:?}"))),
        }
    }

    pub(super) fn error(&self, reason: String) -> SyncError {
        SyncError::Redis {
            address: self.address.clone(),
            reason,
        }
    }

    /// Stores the artefact of `version` unless it is there already.
    pub(super) async fn put_artefact(
        &self,
        name: &str,
        version: &SharedVersion,
        artefact: &Artefact,
    ) -> Result<(), SyncError> {
        let key = self.key(&Artefact::key(name, version));
        self.run(async |c| {
            if c.exists::<_, bool>(&key).await? {
                return Ok(());
            }
            redis::pipe()
                .atomic()
                .hset(&key, "manifest", &artefact.manifest)
                .hset(&key, "module_file", &artefact.module_file)
                .hset(&key, "module", artefact.module.as_slice())
                .query_async::<()>(c)
                .await
        })
        .await
    }

    /// The artefact of `version`, if Redis has it.
    pub(super) async fn artefact(
        &self,
        name: &str,
        version: &SharedVersion,
    ) -> Result<Option<Artefact>, SyncError> {
        let key = self.key(&Artefact::key(name, version));
        let (manifest, module_file, module): (Option<String>, Option<String>, Option<Vec<u8>>) =
            self.run(async |c| {
                redis::cmd("HMGET")
                    .arg(&key)
                    .arg("manifest")
                    .arg("module_file")
                    .arg("module")
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(match (manifest, module_file, module) {
            (Some(manifest), Some(module_file), Some(module)) => Some(Artefact {
                manifest,
                module_file,
                module,
            }),
            _ => None,
        })
    }

    /// Publishes `doc` for `name`; returns its revision.
    pub(super) async fn publish(&self, name: &str, doc: &PluginDoc) -> Result<u64, SyncError> {
        let json = serde_json::to_string(doc).expect("a plugin document serialises");
        let keys = [
            self.key("rev"),
            self.key("plugins"),
            self.key("revs"),
            self.channel(),
        ];
        self.run(async |c| {
            let mut invocation = self.script.prepare_invoke();
            for key in &keys {
                invocation.key(key);
            }
            invocation.arg(name).arg(&json).invoke_async(c).await
        })
        .await
    }

    /// The global revision counter.
    pub(super) async fn revision(&self) -> Result<u64, SyncError> {
        let key = self.key("rev");
        self.run(async |c| c.get::<_, Option<u64>>(&key).await)
            .await
            .map(Option::unwrap_or_default)
    }

    /// The revision of every plugin document.
    pub(super) async fn revisions(&self) -> Result<HashMap<String, u64>, SyncError> {
        let key = self.key("revs");
        self.run(async |c| c.hgetall(&key).await).await
    }

    /// The document of `name` and its revision, if any.
    pub(super) async fn document(&self, name: &str) -> Result<Option<(PluginDoc, u64)>, SyncError> {
        let (docs, revs) = (self.key("plugins"), self.key("revs"));
        let (doc, rev): (Option<String>, Option<u64>) = self
            .run(async |c| {
                redis::pipe()
                    .atomic()
                    .hget(&docs, name)
                    .hget(&revs, name)
                    .query_async(c)
                    .await
            })
            .await?;
        match (doc, rev) {
            (Some(doc), Some(rev)) => serde_json::from_str(&doc)
                .map(|d| Some((d, rev)))
                .map_err(|e| self.error(format!("the document of `{name}` is unreadable: {e}"))),
            _ => Ok(None),
        }
    }

    /// Refreshes this replica's status, expiring after `ttl`.
    pub(super) async fn put_status(
        &self,
        status: &ReplicaStatus,
        ttl: Duration,
    ) -> Result<(), SyncError> {
        let key = self.key(&format!("replica:{}", status.id));
        let json = serde_json::to_string(status).expect("a status serialises");
        let ms = ttl.as_millis().max(1) as u64;
        self.run(async |c| {
            redis::cmd("SET")
                .arg(&key)
                .arg(&json)
                .arg("PX")
                .arg(ms)
                .query_async::<()>(c)
                .await
        })
        .await
    }

    /// Every status that has not expired, by id.
    pub(super) async fn replicas(&self) -> Result<Vec<ReplicaStatus>, SyncError> {
        let pattern = self.key("replica:*");
        let values: Vec<Option<String>> = self
            .run(async |c| {
                let mut keys: Vec<String> = Vec::new();
                let mut cursor: u64 = 0;
                loop {
                    let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(100)
                        .query_async(c)
                        .await?;
                    keys.extend(batch);
                    if next == 0 {
                        break;
                    }
                    cursor = next;
                }
                if keys.is_empty() {
                    return Ok(Vec::new());
                }
                redis::cmd("MGET").arg(&keys).query_async(c).await
            })
            .await?;
        let mut out: Vec<ReplicaStatus> = values
            .into_iter()
            .flatten()
            .filter_map(|v| serde_json::from_str(&v).ok())
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }
}

/// `url` with the password of its user part replaced by `***`, for error messages and logs
/// (`redis://user:secret@host/0` → `redis://user:***@host/0`; a user part without `:` is
/// all replaced).
pub(super) fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    let user = match rest[..at].split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => "***".to_string(),
    };
    format!("{scheme}://{user}{}", &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redacted("redis://user:s3cret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redacted("redis://:s3cret@host"), "redis://:***@host");
        assert_eq!(redacted("redis://s3cret@host/1"), "redis://***@host/1");
        assert_eq!(redacted("redis://host:6379/0"), "redis://host:6379/0");
        assert_eq!(redacted("redis://host/a@b"), "redis://host/a@b");
        assert_eq!(redacted("not a url"), "not a url");
    }
}
