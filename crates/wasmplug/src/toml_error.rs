//! One-line messages for TOML errors.
//!
//! `toml`'s `Display` spreads an error over several lines (a header with the position, the
//! offending line, a caret, then the reason). Callers that show only the first line (JSON
//! error bodies, log lines) would lose the reason, so manifests and configs report
//! `line L, column C: reason` instead.

/// `line L, column C: reason` for an error `err` met while parsing `text`.
pub fn toml_error_message(text: &str, err: &toml::de::Error) -> String {
    let reason = err.message().trim();
    match err.span() {
        Some(span) => {
            let upto = &text[..span.start.min(text.len())];
            let line = upto.matches('\n').count() + 1;
            let column = upto.len() - upto.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {reason}")
        }
        None => reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        a: u32,
    }

    #[test]
    fn unknown_field_keeps_reason_and_position() {
        let text = "a = 1\n\nx = 2\n";
        let err = toml::from_str::<T>(text).unwrap_err();
        let msg = toml_error_message(text, &err);
        assert!(msg.starts_with("line 3, column 1: "), "{msg}");
        assert!(msg.contains("unknown field `x`"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }
}
