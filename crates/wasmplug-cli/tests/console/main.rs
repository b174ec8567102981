//! Issue 17: the operations console in a real headless Chromium, against the real
//! `wasmplug serve` on a free loopback port. Needs Debian's `chromium` and
//! `chromium-driver` (`scripts/browser.sh`); see `browser.rs` for skipping locally.
//! Screenshots of every page land in `target/console-screenshots/`.

#[path = "../common/mod.rs"]
mod common;

mod browser;
mod gateway;
mod guests;
mod hostile;

use serde_json::json;

use browser::Browser;
use gateway::{Gateway, Load, TOKEN, examples_dir};
use guests::Guest;

/// Signs in with `token` (the form, as a person would).
async fn sign_in(b: &Browser, token: &str) {
    b.until(
        "the sign-in form",
        "return !document.getElementById('login').hidden;",
        vec![],
    )
    .await;
    b.keys("#token", token).await;
    b.click("#login-submit").await;
}

/// The text of a live cell of a version row on the current page.
const CELL: &str = "const row = [...document.querySelectorAll('tr[data-version]')]
      .find((r) => r.dataset.plugin === arguments[0] && r.dataset.version === arguments[1]);
    return row ? row.querySelector(`[data-field=\"${arguments[2]}\"]`).textContent : null;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_signs_in_shows_live_plugins_splits_a_canary_and_shows_a_rejection() {
    let Some(b) = Browser::start("end-to-end").await else {
        return;
    };
    let plugins = examples_dir();
    let gw = Gateway::start(plugins.path());

    // A wrong token is refused and nothing is stored; the token never shows in the URL.
    b.client.goto(&gw.url("/console")).await.unwrap();
    sign_in(&b, "not-the-token").await;
    let refused = b
        .until(
            "the refusal",
            "return document.getElementById('login-error').textContent;",
            vec![],
        )
        .await;
    assert!(
        refused.as_str().unwrap().contains("Wrong token"),
        "{refused}"
    );
    assert_eq!(
        b.js("return sessionStorage.length;", vec![]).await,
        json!(0)
    );
    b.shot("01-login-refused").await;

    // The right token: the bundled plugins are listed.
    b.js("document.getElementById('token').value = '';", vec![])
        .await;
    sign_in(&b, TOKEN).await;
    let names = b
        .until(
            "the plugin cards",
            "const cards = [...document.querySelectorAll('section.plugin')];
             return cards.length === 4 ? cards.map((c) => c.dataset.plugin) : null;",
            vec![],
        )
        .await;
    assert_eq!(
        names,
        json!(["api-proxy", "echo", "greet", "json-transformer"])
    );
    assert_eq!(
        b.js(
            "return sessionStorage.getItem('wasmplug.console.token');",
            vec![]
        )
        .await,
        json!(TOKEN)
    );
    let url = b.client.current_url().await.unwrap().to_string();
    assert!(!url.contains(TOKEN), "{url}");
    let grants = b.text("section[data-plugin='api-proxy'] .grants").await;
    assert!(grants.contains("http://127.0.0.1:8080"), "{grants}");
    assert!(
        grants.contains("upstream = ••••"),
        "config values masked: {grants}"
    );

    // Calls move the counters, live (the page is not reloaded).
    assert!(gw.call("greet", "greet", 25).iter().all(|s| *s == 200));
    b.until(
        "25 calls",
        &format!("return ((() => {{ {CELL} }})() === '25');"),
        vec![json!("greet"), json!("1.0.0"), json!("calls")],
    )
    .await;
    b.until(
        "a calls/s rate",
        &format!("return ((() => {{ {CELL} }})() || '0.0/s') !== '0.0/s';"),
        vec![json!("greet"), json!("1.0.0"), json!("calls_per_s")],
    )
    .await;
    assert_eq!(b.text("#live").await, "live", "the stream is connected");

    // The greet page: upload 1.1.0 with the file pickers, confirm, see the answer.
    b.click("section[data-plugin='greet'] a.plugin-name").await;
    b.until(
        "the greet page",
        "return document.querySelectorAll('#weights input.weight').length === 1;",
        vec![],
    )
    .await;
    let canary = Guest {
        name: "greet",
        version: "1.1.0",
        description: "Greets people, briefly (canary)",
        function: "greet",
        output: "Hi!",
        error: None,
        init_error: None,
    };
    let (manifest, module) = canary.write(&gw.scratch().join("greet-1.1.0"));
    b.keys("#upload-manifest", manifest.to_str().unwrap()).await;
    b.keys("#upload-module", module.to_str().unwrap()).await;
    b.click("#action-upload").await;
    let question = b.confirm().await;
    assert!(question.contains("greet.wat"), "{question}");
    b.until(
        "the upload's answer",
        "return document.getElementById('answer').dataset.status === '201';",
        vec![],
    )
    .await;

    // 90/10 with the sliders (keyboard, as a person would), confirmed.
    b.until(
        "two sliders",
        "return document.querySelectorAll('#weights input.weight').length === 2;",
        vec![],
    )
    .await;
    let right = |n: usize| format!("\u{E011}{}", "\u{E014}".repeat(n));
    b.keys("input[data-version='1.0.0']", &right(90)).await;
    b.keys("input[data-version='1.1.0']", &right(10)).await;
    assert_eq!(b.text("output[id='weight-value-1.0.0']").await, "90");
    assert_eq!(b.text("output[id='weight-value-1.1.0']").await, "10");
    b.click("#apply-weights").await;
    let question = b.confirm().await;
    assert!(question.contains("1.0.0: 90, 1.1.0: 10"), "{question}");
    b.until(
        "the weights' answer",
        "return document.getElementById('answer').dataset.status === '200';",
        vec![],
    )
    .await;
    assert_eq!(
        gw.weights("greet"),
        [("1.0.0".to_string(), 90), ("1.1.0".to_string(), 10)],
        "/v1/admin/plugins agrees with the sliders"
    );

    // Traffic on both versions: the charts and both rows fill in.
    let load = Load::start(&gw, "greet", "greet");
    b.until(
        "calls on the canary",
        &format!("return !['0', null].includes((() => {{ {CELL} }})());"),
        vec![json!("greet"), json!("1.1.0"), json!("calls")],
    )
    .await;
    b.until(
        "three charts",
        "return document.querySelectorAll('#charts .uplot').length === 3;",
        vec![],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    b.shot("03-plugin-canary").await;

    // The plugins page with live numbers and the 90/10 split.
    b.click("#nav-plugins").await;
    b.until(
        "a live rate on the canary",
        &format!("return ((() => {{ {CELL} }})() || '0.0/s') !== '0.0/s';"),
        vec![json!("greet"), json!("1.1.0"), json!("calls_per_s")],
    )
    .await;
    let routing = b.text("section[data-plugin='greet'] .routing").await;
    assert!(routing.contains("1.0.0: 90, 1.1.0: 10"), "{routing}");
    b.shot("02-plugins-live-canary").await;
    let calls = load.stop();
    assert!(calls > 0);

    // A broken module is refused; the answer and the history give class and reason.
    b.click("section[data-plugin='greet'] a.plugin-name").await;
    let dir = gw.scratch().join("greet-1.2.0");
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("greet.wasm");
    std::fs::write(&broken, b"\0asm\x01\0\0\0not really a module").unwrap();
    let manifest = dir.join("plugin.toml");
    std::fs::write(
        &manifest,
        "name = \"greet\"\nversion = \"1.2.0\"\nwasm = \"greet.wasm\"\n",
    )
    .unwrap();
    b.until(
        "the greet page",
        "return document.querySelectorAll('#weights input.weight').length === 2;",
        vec![],
    )
    .await;
    b.keys("#upload-manifest", manifest.to_str().unwrap()).await;
    b.keys("#upload-module", broken.to_str().unwrap()).await;
    b.click("#action-upload").await;
    b.confirm().await;
    let answer = b
        .until(
            "the refusal",
            "const a = document.getElementById('answer');
             return a.dataset.status === '422' ? a.dataset.class + '|' + a.textContent : null;",
            vec![],
        )
        .await;
    let answer = answer.as_str().unwrap();
    assert!(answer.starts_with("invalid_wasm|"), "{answer}");
    assert!(answer.contains("HTTP 422"), "{answer}");
    let reason = b
        .until(
            "the rejection in the history",
            "const r = document.querySelector('#history li[data-event=\"rejected\"]');
             return r ? r.textContent : null;",
            vec![],
        )
        .await;
    assert!(
        reason.as_str().unwrap().contains("invalid_wasm"),
        "{reason}"
    );
    b.shot_at("04-plugin-rejected", "#history").await;
    assert_eq!(
        gw.weights("greet"),
        [("1.0.0".to_string(), 90), ("1.1.0".to_string(), 10)],
        "a refused candidate changes nothing"
    );

    // The events page: everything that happened, filterable by plugin.
    b.click("#nav-events").await;
    let kinds = b
        .until(
            "the events",
            "const items = [...document.querySelectorAll('#events li')];
             const kinds = new Set(items.map((i) => i.dataset.event));
             return ['loaded', 'rejected', 'weights_changed'].every((k) => kinds.has(k))
               ? [...kinds].sort() : null;",
            vec![],
        )
        .await;
    assert!(
        kinds.as_array().unwrap().contains(&json!("loaded")),
        "{kinds}"
    );
    b.shot("05-events").await;
    b.until(
        "greet in the filter",
        "return [...document.querySelectorAll('#event-filter option')].some((o) => o.value === 'greet');",
        vec![],
    )
    .await;
    b.js(
        "const f = document.getElementById('event-filter'); f.value = 'greet';
         f.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await;
    b.until(
        "only greet's events",
        "const items = [...document.querySelectorAll('#events li')];
         return items.length > 0 && items.every((i) => i.dataset.plugin === 'greet');",
        vec![],
    )
    .await;

    // Signing out forgets the token.
    b.click("#logout").await;
    b.until(
        "the sign-in form",
        "return !document.getElementById('login').hidden && sessionStorage.length === 0;",
        vec![],
    )
    .await;
    assert_eq!(b.xss().await, json!(null));
    b.close().await;
}
