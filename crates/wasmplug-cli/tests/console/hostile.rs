//! The XSS test (issue 17 item 3): a plugin whose description, guest error message and
//! rejection reason carry markup. The console must show it as text: the payloads appear
//! verbatim in the page's text, no element they describe exists, and nothing they would
//! run ran (`window.__xss` stays unset). The CSP would also block inline scripts and
//! handlers; the verbatim-text checks are what prove that nothing was parsed as HTML.

use serde_json::json;

use crate::browser::Browser;
use crate::gateway::{Gateway, TOKEN};
use crate::guests::Guest;
use crate::sign_in;

const DESCRIPTION: &str =
    "<script>window.__xss='description'</script><img src=x onerror=window.__xss='description-img'>";
const ERROR: &str =
    "<img src=x onerror=window.__xss='error'><script>window.__xss='error-script'</script>";
const INIT_ERROR: &str = "<script>window.__xss='rejection'</script><svg onload=window.__xss='svg'>";

/// Nothing the payloads describe exists in the page, and nothing ran.
async fn assert_inert(b: &Browser, page: &str) {
    let injected = b
        .js(
            "return [...document.querySelectorAll('#app img, #app script, #app svg, #app iframe')]
               .filter((e) => !e.closest('.uplot')).length;",
            vec![],
        )
        .await;
    assert_eq!(
        injected,
        json!(0),
        "{page}: markup from a plugin became elements"
    );
    assert_eq!(b.xss().await, json!(null), "{page}: a payload ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_renders_plugin_supplied_markup_as_text() {
    let Some(b) = Browser::start("hostile").await else {
        return;
    };
    let plugins = tempfile::tempdir().unwrap();
    let hostile = Guest {
        name: "hostile",
        version: "1.0.0",
        description: DESCRIPTION,
        function: "fail",
        output: "",
        error: Some(ERROR),
        init_error: None,
    };
    hostile.write(&plugins.path().join("hostile"));
    let gw = Gateway::start(plugins.path());
    let statuses = gw.call("hostile", "fail", 3);
    assert!(statuses.iter().all(|s| *s == 422), "{statuses:?}");

    b.client.goto(&gw.url("/console")).await.unwrap();
    sign_in(&b, TOKEN).await;
    // The plugins page: the description and the last error, verbatim.
    let description = b
        .until(
            "the hostile card",
            "const d = document.querySelector(\"section[data-plugin='hostile'] .description\");
             return d ? d.textContent : null;",
            vec![],
        )
        .await;
    assert_eq!(description, json!(DESCRIPTION));
    let last = b
        .until(
            "the last error",
            "const m = document.querySelector('tr.last-error .message');
             return m && m.textContent ? m.textContent : null;",
            vec![],
        )
        .await;
    assert!(last.as_str().unwrap().contains(ERROR), "{last}");
    assert_inert(&b, "plugins").await;
    b.shot("06-hostile-plugins").await;

    // A candidate whose `init` fails with markup: the upload's answer and the history.
    b.click("section[data-plugin='hostile'] a.plugin-name")
        .await;
    b.until(
        "the hostile page",
        "return document.querySelectorAll('#weights input.weight').length === 1;",
        vec![],
    )
    .await;
    let candidate = Guest {
        version: "1.1.0",
        init_error: Some(INIT_ERROR),
        ..hostile
    };
    let (manifest, module) = candidate.write(&gw.scratch().join("hostile-1.1.0"));
    b.keys("#upload-manifest", manifest.to_str().unwrap()).await;
    b.keys("#upload-module", module.to_str().unwrap()).await;
    b.click("#action-upload").await;
    b.confirm().await;
    let answer = b
        .until(
            "the refusal",
            "const a = document.getElementById('answer');
             return a.dataset.status === '422' ? a.textContent : null;",
            vec![],
        )
        .await;
    assert!(answer.as_str().unwrap().contains(INIT_ERROR), "{answer}");
    let history = b
        .until(
            "the rejection in the history",
            "const r = document.querySelector('#history li[data-event=\"rejected\"]');
             return r ? r.textContent : null;",
            vec![],
        )
        .await;
    assert!(history.as_str().unwrap().contains(INIT_ERROR), "{history}");
    assert_eq!(
        b.text("#plugin-description").await,
        DESCRIPTION,
        "the plugin page's description is text too"
    );
    assert_inert(&b, "plugin").await;
    b.shot_at("07-hostile-plugin", "#history").await;

    // The events page.
    b.click("#nav-events").await;
    let events = b
        .until(
            "the rejection event",
            "const r = document.querySelector('#events li[data-event=\"rejected\"]');
             return r ? r.textContent : null;",
            vec![],
        )
        .await;
    assert!(events.as_str().unwrap().contains(INIT_ERROR), "{events}");
    assert_inert(&b, "events").await;
    b.close().await;
}
