//! Version requirements (`[requires]` in plugin.toml, `requires` in `wasmplug.meta`) against
//! what the host provides: the plugin API and the declared host-module versions.

use wasmplug::{
    CallOptions, Error, HostFunctions, PLUGIN_API_VERSION, PluginBuilder, Registry, RegistryConfig,
};

use crate::versioned::Spec;

fn with_requires(version: &str, requires: &str) -> Spec {
    let mut spec = Spec::new("svc", version);
    spec.manifest_extra = format!("[requires]\n{requires}");
    spec
}

#[test]
fn a_plugin_requiring_a_newer_plugin_api_is_refused_naming_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let err = PluginBuilder::new()
        .load(with_requires("1.0.0", "wasmplug = \"^9\"\n").write(dir.path()))
        .unwrap_err();
    assert_eq!(err.class(), "requirement_not_met");
    let text = err.to_string();
    assert!(
        text.contains("`^9`") && text.contains(&PLUGIN_API_VERSION.to_string()),
        "{text}"
    );
    assert!(
        matches!(&err, Error::RequirementNotMet { range, provided: Some(p), .. }
        if range.to_string() == "^9" && *p == PLUGIN_API_VERSION.to_string())
    );
    let ok = PluginBuilder::new()
        .load(with_requires("1.0.0", "wasmplug = \"^0.2\"\n").write(dir.path()))
        .unwrap();
    assert_eq!(
        ok.compiled()
            .requirements()
            .wasmplug
            .as_ref()
            .unwrap()
            .to_string(),
        "^0.2"
    );
}

#[test]
fn host_module_versions_are_declared_by_the_application() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = with_requires("1.0.0", "[requires.host]\nshop = \"^1.2\"\n").write(dir.path());
    let host = |version: Option<&str>| {
        let mut h = HostFunctions::new();
        if let Some(v) = version {
            h.module_version("shop", v.parse().unwrap()).unwrap();
        }
        PluginBuilder::new().host_functions(h)
    };
    host(Some("1.3.0")).load(&manifest).unwrap();
    let err = host(Some("2.0.0")).load(&manifest).unwrap_err();
    assert!(
        err.to_string()
            .contains("host module `shop` `^1.2` but this host provides 2.0.0"),
        "{err}"
    );
    let err = host(None).load(&manifest).unwrap_err();
    assert!(err.to_string().contains("does not declare it"), "{err}");
    let reserved = HostFunctions::new()
        .module_version("wasmplug", "1.0.0".parse().unwrap())
        .map(|_| ())
        .unwrap_err();
    assert_eq!(reserved.class(), "host_function_definition");
}

#[test]
fn requirements_in_the_metadata_section_apply_without_a_manifest() {
    let wat = Spec::new("svc", "1.0.0").wat().replace(
        r#"\"version\":\"1.0.0\"}"#,
        r#"\"version\":\"1.0.0\",\"requires\":{\"wasmplug\":\"^9\"}}"#,
    );
    assert!(wat.contains("requires"));
    let err = PluginBuilder::new().from_bytes(wat.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::RequirementNotMet { .. }), "{err:?}");
    let fine = wat.replace("^9", "^0.2");
    PluginBuilder::new().from_bytes(fine.as_bytes()).unwrap();
}

#[test]
fn an_unsatisfiable_candidate_leaves_the_running_version() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(RegistryConfig::default());
    registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    let err = registry
        .load(&with_requires("1.1.0", "wasmplug = \"^9\"\n").write(dir.path()))
        .unwrap_err();
    assert!(matches!(err, Error::RequirementNotMet { .. }), "{err:?}");
    let out = registry
        .call("svc", "version", b"", &CallOptions::default())
        .unwrap();
    assert_eq!(out.output.output, b"1.0.0");
}
