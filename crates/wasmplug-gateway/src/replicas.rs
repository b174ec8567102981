//! Replicas of one service: the `[sync]` table of `wasmplug.toml` and the admin view of
//! every replica, `GET /v1/admin/replicas`.
//!
//! ```toml
//! [sync]
//! redis = "redis://127.0.0.1:6379/"  # shared by every replica of the service
//! id = "gw-1"                         # this replica's id (default <hostname>:<pid>)
//! prefix = "wasmplug:sync:"           # key prefix (one per service sharing a server)
//! check_interval = "1s"               # revision check and status refresh
//! ```
//!
//! Invariant: the URL is parsed when the file is read (a bad one is a config error naming
//! its line); the server itself may be down at start-up.

use std::path::Path;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use wasmplug::sync::SyncConfig;

use crate::error::ApiError;
use crate::state::AppState;

/// The `[sync]` table: routing state shared with the other replicas through Redis.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SyncSettings {
    /// `redis://[user:password@]host[:port][/db]`.
    #[serde(deserialize_with = "de_url")]
    pub redis: String,
    /// This replica's id. By default `<hostname>:<pid>`.
    #[serde(default)]
    pub id: Option<String>,
    /// Key prefix. By default `wasmplug:sync:`.
    #[serde(default)]
    pub prefix: Option<String>,
    /// How often the shared revision is checked (pub/sub announces changes sooner). By
    /// default 1 s.
    #[serde(default, deserialize_with = "de_opt_duration")]
    pub check_interval: Option<Duration>,
}

impl SyncSettings {
    /// The library's configuration; versions learnt from other replicas go to `plugin_dir`.
    pub fn config(&self, plugin_dir: &Path) -> SyncConfig {
        let mut config = SyncConfig::new(&self.redis, plugin_dir);
        if let Some(id) = &self.id {
            config = config.id(id);
        }
        if let Some(prefix) = &self.prefix {
            config = config.prefix(prefix);
        }
        if let Some(interval) = self.check_interval {
            config = config.check_interval(interval);
        }
        config
    }
}

/// `GET /v1/admin/replicas`: every live replica's id, the versions it serves per plugin and
/// what it refused.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let Some(replica) = state.registry().replica() else {
        return Err(ApiError::BadRequest(
            "this gateway has no [sync] table: it is not one of several replicas".into(),
        ));
    };
    let replicas = replica
        .replicas()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(json!({
        "self": replica.id(),
        "revision": replica.seen_revision(),
        "replicas": replicas,
    })))
}

fn de_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    redis_url_ok(&text).then_some(text).ok_or_else(|| {
        serde::de::Error::custom("expected redis://[user:password@]host[:port][/db]")
    })
}

fn redis_url_ok(text: &str) -> bool {
    (text.starts_with("redis://") || text.starts_with("rediss://")) && text.len() > "redis://".len()
}

fn de_opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    wasmplug::parse_duration(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use crate::GatewayConfig;

    #[test]
    fn sync_table_parses_and_bad_ones_name_their_line() {
        assert!(GatewayConfig::parse("").unwrap().sync.is_none());
        let c = GatewayConfig::parse(
            "[sync]\nredis = \"redis://127.0.0.1:6379/\"\nid = \"gw-1\"\ncheck_interval = \"200ms\"\n",
        )
        .unwrap();
        let sync = c.sync.unwrap().config(std::path::Path::new("/srv/plugins"));
        assert_eq!(sync.id, "gw-1");
        assert_eq!(sync.check_interval, std::time::Duration::from_millis(200));
        assert_eq!(sync.prefix, "wasmplug:sync:");
        for (text, expected) in [
            ("[sync]\nredis = \"http://h/\"\n", "redis://"),
            ("[sync]\nid = \"x\"\n", "redis"),
            ("[sync]\nredis = \"redis://h/\"\nurl = \"x\"\n", "url"),
            (
                "[sync]\nredis = \"redis://h/\"\ncheck_interval = \"soon\"\n",
                "soon",
            ),
        ] {
            let err = GatewayConfig::parse(text).unwrap_err();
            assert!(
                err.contains(expected) && err.contains("line"),
                "{text}: {err}"
            );
        }
    }
}
