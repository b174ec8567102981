//! Changes while the traffic flows, one step every [`STEP`]: hot reloads (a good plugin's
//! folder rewritten with a new version; a broken module dropped into another folder) and
//! admin API calls (upload a new version, split the weights, roll back, list, unload a
//! hostile plugin).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::json;

use crate::plugins::{self, BROKEN, CANARY, RELOADED, Setup, TOKEN};
use crate::traffic::{Stats, Stop};

/// Time between two churn steps.
pub const STEP: Duration = Duration::from_millis(1500);

/// The churn task.
pub struct Churn {
    client: reqwest::Client,
    base: Arc<str>,
    setup: Setup,
    stats: Arc<Stats>,
}

impl Churn {
    /// A churn over `setup`'s plugin directory and the gateway at `base`.
    pub fn new(client: reqwest::Client, base: Arc<str>, setup: Setup, stats: Arc<Stats>) -> Churn {
        Churn {
            client,
            base,
            setup,
            stats,
        }
    }

    /// Runs steps until the run ends.
    pub async fn run(self, stop: Stop) {
        let mut step = 0u64;
        while !stop.done() {
            tokio::time::sleep(STEP).await;
            step += 1;
            let what = match step % 6 {
                0 | 3 => self.reload(step),
                1 => self.upload(step).await,
                2 => {
                    self.admin(
                        "PUT",
                        &format!("{CANARY}/weights"),
                        Some(self.split().await),
                    )
                    .await
                }
                4 => {
                    self.admin("POST", &format!("{CANARY}/rollback"), None)
                        .await
                }
                _ => self.admin_misc(step).await,
            };
            self.stats.action(what);
        }
    }

    /// Rewrites `soak-echo` with version `1.0.<step>`, or drops a broken module.
    fn reload(&self, step: u64) -> String {
        let dir = &self.setup.plugin_dir;
        let result = if step % 4 == 3 {
            let garbage: Vec<u8> = (0..4096u64).map(|i| (i * 7 + step) as u8).collect();
            plugins::write_plugin(dir, BROKEN, "1.0.0", ("plugin.wasm", &garbage), "")
                .map(|()| "reload broken")
        } else {
            let version = format!("1.0.{step}");
            let text = plugins::echo_plugin(&self.setup.echo_template, RELOADED, &version);
            plugins::write_plugin(dir, RELOADED, &version, ("plugin.wat", text.as_bytes()), "")
                .map(|()| "reload good")
        };
        match result {
            Ok(what) => what.to_string(),
            Err(e) => format!("reload write failed: {e}"),
        }
    }

    /// Uploads `soak-canary` version `2.0.<step>` through the admin API.
    async fn upload(&self, step: u64) -> String {
        let version = format!("2.0.{step}");
        let text = plugins::echo_plugin(&self.setup.echo_template, CANARY, &version);
        let manifest =
            format!("name = \"{CANARY}\"\nversion = \"{version}\"\nwasm = \"plugin.wat\"\n");
        let body = json!({
            "manifest": manifest,
            "wasm_base64": base64::engine::general_purpose::STANDARD.encode(text),
        });
        self.admin("PUT", CANARY, Some(body)).await
    }

    /// Weights splitting traffic evenly over the canary's loaded versions.
    async fn split(&self) -> serde_json::Value {
        let url = format!("{}/v1/admin/plugins/{CANARY}", self.base);
        let versions: Vec<String> = match self.client.get(url).bearer_auth(TOKEN).send().await {
            Ok(r) => r
                .bytes()
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| {
                    v["versions"].as_array().map(|vs| {
                        vs.iter()
                            .filter_map(|v| v["version"].as_str().map(str::to_string))
                            .collect()
                    })
                }),
            Err(_) => None,
        }
        .unwrap_or_default();
        let weights: serde_json::Map<String, serde_json::Value> =
            versions.into_iter().map(|v| (v, json!(50))).collect();
        json!({ "weights": weights })
    }

    /// Lists the plugins, or unloads a hostile plugin (it may come back from its folder).
    async fn admin_misc(&self, step: u64) -> String {
        if step % 12 == 5 {
            let (victim, _) = &self.setup.hostile[(step as usize / 12) % self.setup.hostile.len()];
            self.admin("DELETE", victim, None).await
        } else {
            self.admin("GET", "", None).await
        }
    }

    /// One admin request; returns `"<METHOD> <what> <status>"`.
    async fn admin(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> String {
        let url = format!("{}/v1/admin/plugins/{path}", self.base)
            .trim_end_matches('/')
            .to_string();
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self.client.request(method.clone(), url).bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body).expect("JSON serialises"));
        }
        self.stats
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let what = path
            .rsplit('/')
            .next()
            .filter(|w| !w.is_empty() && path.contains('/'))
            .unwrap_or(if path.is_empty() { "list" } else { "plugin" });
        match request.send().await {
            Ok(r) => format!("{method} {what} {}", r.status().as_u16()),
            Err(_) => format!("{method} {what} transport"),
        }
    }
}
