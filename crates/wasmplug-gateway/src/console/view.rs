//! What the console's plugins page shows of each plugin: the registry's status, each
//! version's metadata, functions, grants, config keys and limits, and its live figures.
//!
//! Secrets never leave the gateway: environment grants show the variable's name only
//! (`NAME=<value>`), config entries show their keys only. Everything here is text the page
//! renders with `textContent` (descriptions and error messages come from plugins).

use serde_json::{Value, json};
use wasmplug::{Plugin, PluginStatus, Registry, VersionStatus};

use super::sampler::{LiveVersion, Samples};

/// `{"plugins": [..]}`, every plugin with its versions.
pub(crate) fn overview(registry: &Registry, samples: &Samples) -> Value {
    let plugins: Vec<Value> = registry
        .plugins()
        .into_iter()
        .map(|p| plugin(registry, samples, p))
        .collect();
    json!({ "plugins": plugins })
}

fn plugin(registry: &Registry, samples: &Samples, status: PluginStatus) -> Value {
    let name = status.name.clone();
    let versions: Vec<Value> = status
        .versions
        .iter()
        .map(|v| version(registry, samples, &name, v))
        .collect();
    // The serving version describes the plugin; else the newest.
    let describing = status
        .current
        .as_deref()
        .and_then(|c| versions.iter().find(|v| v["version"] == c))
        .or_else(|| versions.last());
    let description = describing.map_or(Value::Null, |v| v["description"].clone());
    json!({
        "name": name,
        "description": description,
        "current": status.current,
        "rollback_to": status.rollback_to,
        "degraded": status.degraded,
        "rules": registry.rules(&name),
        "versions": versions,
    })
}

fn version(registry: &Registry, samples: &Samples, name: &str, v: &VersionStatus) -> Value {
    let live = LiveVersion::new(name, v, samples.rates(name, &v.version));
    let plugin = semver::Version::parse(&v.version)
        .ok()
        .and_then(|version| registry.version(name, &version));
    let details = plugin.as_ref().map_or(Value::Null, details);
    json!({
        "version": v.version,
        "weight": v.weight,
        "sha256": v.sha256,
        "functions": v.functions,
        "description": details["description"],
        "author": details["author"],
        "grants": details["grants"],
        "config_keys": details["config_keys"],
        "limits": details["limits"],
        "live": live,
    })
}

/// Metadata, grants (secrets masked), config keys and limits of one loaded version.
fn details(plugin: &Plugin) -> Value {
    let compiled = plugin.compiled();
    let caps = compiled.capabilities();
    let limits = compiled.limits();
    let policy = compiled.policy();
    let strings = |items: Vec<String>| Value::from(items);
    json!({
        "description": plugin.meta().description,
        "author": plugin.meta().author,
        "grants": {
            "fs": strings(caps.fs.iter().map(ToString::to_string).collect()),
            // `EnvGrant`'s Display shows `NAME=<value>`, never the value.
            "env": strings(caps.env.iter().map(ToString::to_string).collect()),
            "net": strings(caps.net.iter().map(ToString::to_string).collect()),
        },
        "config_keys": strings(compiled.config().keys().cloned().collect()),
        "limits": {
            "memory": limits.memory.to_string(),
            "timeout": limits.timeout.map(|t| format!("{t:?}")),
            "fuel": limits.fuel,
            "max_input": limits.max_input.to_string(),
            "max_output": limits.max_output.to_string(),
            "isolation": policy.isolation,
            "instances_max": policy.max,
        },
    })
}
