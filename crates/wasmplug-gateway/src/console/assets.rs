//! The console's static files, embedded in the binary from `crates/wasmplug-gateway/console/`
//! (plain HTML, CSS and ES modules, and the vendored uPlot charting library): no CDN and no
//! network at run time.
//!
//! `/console` answers the single page (`index.html`), or, when no admin token is
//! configured, a page that explains how to turn the admin API on. Assets are served from
//! `/console/assets/<path>` with their content type; an unknown path is a 404.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::extract::UrlPath;
use crate::state::AppState;

macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_bytes!(concat!("../../console/", $path)) as &[u8])),*]
    };
}

/// Every file under `/console/assets/`.
static ASSETS: &[(&str, &[u8])] = embed![
    "console.css",
    "js/api.js",
    "js/app.js",
    "js/charts.js",
    "js/dom.js",
    "js/events.js",
    "js/format.js",
    "js/plugin.js",
    "js/plugins.js",
    "vendor/uplot/uPlot.esm.js",
    "vendor/uplot/uPlot.min.css",
    "vendor/uplot/LICENSE",
];

static INDEX: &[u8] = include_bytes!("../../console/index.html");
static DISABLED: &[u8] = include_bytes!("../../console/disabled.html");

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    }
}

fn file(path: &str, bytes: &'static [u8]) -> Response {
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    // Embedded files change only with the binary; revalidate rather than go stale.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `GET /console`: the page, or how to enable it.
pub(crate) async fn page(State(state): State<AppState>) -> Response {
    match state.admin_token() {
        Some(_) => file("index.html", INDEX),
        None => file("disabled.html", DISABLED),
    }
}

/// `GET /console/assets/{*path}`.
pub(crate) async fn asset(UrlPath(path): UrlPath<String>) -> Result<Response, ApiError> {
    ASSETS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(p, bytes)| file(p, bytes))
        .ok_or(ApiError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_import_is_embedded() {
        // A relative import of an ES module that is not in the table would 404 at run time.
        for (path, bytes) in ASSETS.iter().filter(|(p, _)| p.starts_with("js/")) {
            let text = std::str::from_utf8(bytes).unwrap();
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let target = line.rsplit(['"', '\'']).nth(1).unwrap();
                let resolved = if let Some(rest) = target.strip_prefix("../") {
                    rest.to_string()
                } else {
                    format!("js/{}", target.trim_start_matches("./"))
                };
                assert!(
                    ASSETS.iter().any(|(p, _)| *p == resolved),
                    "{path} imports {target} ({resolved}), which is not embedded"
                );
            }
        }
    }

    #[test]
    fn pages_load_only_embedded_files() {
        let index = std::str::from_utf8(INDEX).unwrap();
        for reference in index.split("/console/assets/").skip(1) {
            let path = reference.split('"').next().unwrap();
            assert!(ASSETS.iter().any(|(p, _)| *p == path), "{path}");
        }
        for page in [INDEX, DISABLED] {
            let text = std::str::from_utf8(page).unwrap();
            assert!(!text.contains("<style"), "no inline style");
            assert!(!text.contains(" style="), "no inline style");
            assert!(!text.contains("<script>"), "no inline script");
            assert!(
                !text.contains("http://") && !text.contains("https://"),
                "no CDN"
            );
        }
    }
}
