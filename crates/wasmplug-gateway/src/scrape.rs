//! What `/metrics` serves: the recorder's Prometheus text without the series of plugins
//! (or plugin versions) that are no longer loaded.
//!
//! The `metrics` facade cannot unregister a series, so the exporter keeps the last value of
//! every label set it has seen. A series whose `plugin` label names a plugin that is not
//! loaded, or whose `version` label names a version of it that is not loaded, is left out
//! of the scrape; series with an empty `plugin` label (calls to unknown plugins) stay.

use std::collections::{BTreeMap, BTreeSet};

/// Loaded plugins and their loaded versions.
pub(crate) type Loaded = BTreeMap<String, BTreeSet<String>>;

/// `text` without the sample lines of unloaded plugins and versions.
pub(crate) fn without_unloaded(text: &str, loaded: &Loaded) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with('#') || keep(line, loaded) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn keep(line: &str, loaded: &Loaded) -> bool {
    let labels = labels(line);
    let Some(plugin) = labels.iter().find(|(k, _)| *k == "plugin").map(|(_, v)| v) else {
        return true;
    };
    if plugin.is_empty() {
        return true;
    }
    let Some(versions) = loaded.get(plugin.as_str()) else {
        return false;
    };
    match labels.iter().find(|(k, _)| *k == "version") {
        Some((_, v)) if !v.is_empty() => versions.contains(v.as_str()),
        _ => true,
    }
}

/// The labels of one sample line (`name{a="1",b="x\"y"} 3`), unescaped.
fn labels(line: &str) -> Vec<(&str, String)> {
    let mut out = Vec::new();
    let Some(open) = line.find('{') else {
        return out;
    };
    let mut rest = &line[open + 1..];
    while let Some(eq) = rest.find("=\"") {
        let key = rest[..eq].trim_start_matches([',', ' ']);
        let mut value = String::new();
        let mut chars = rest[eq + 2..].char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, other)) => value.push(other),
                    None => break,
                },
                '"' => {
                    end = Some(eq + 2 + i + 1);
                    break;
                }
                c => value.push(c),
            }
        }
        out.push((key, value));
        match end {
            Some(end) => rest = &rest[end..],
            None => break,
        }
        if rest.starts_with('}') {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_only_unloaded_plugins_and_versions() {
        let text = "# HELP x x\n# TYPE x counter\n\
            x{plugin=\"a\",version=\"1.0.0\"} 1\n\
            x{plugin=\"a\",version=\"0.9.0\"} 1\n\
            x{plugin=\"gone\",version=\"1.0.0\"} 1\n\
            x{plugin=\"\",version=\"\",class=\"plugin_not_found\"} 4\n\
            y{plugin=\"a\",result=\"loaded\"} 2\n\
            z 5\n";
        let loaded: Loaded = [("a".to_string(), ["1.0.0".to_string()].into())].into();
        let out = without_unloaded(text, &loaded);
        assert!(out.contains("x{plugin=\"a\",version=\"1.0.0\"} 1"), "{out}");
        assert!(!out.contains("0.9.0") && !out.contains("gone"), "{out}");
        assert!(out.contains("plugin_not_found") && out.contains("y{") && out.contains("z 5"));
        assert!(out.starts_with("# HELP x x\n# TYPE x counter\n"));
    }

    #[test]
    fn escaped_label_values_are_read() {
        let got = labels(r#"m{plugin="a\"b",version="1\\2"} 1"#);
        assert_eq!(
            got,
            vec![("plugin", "a\"b".into()), ("version", "1\\2".into())]
        );
    }
}
