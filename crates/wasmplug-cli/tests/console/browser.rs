//! A real headless Chromium driven through chromedriver (WebDriver, `fantoccini`).
//!
//! Both come from Debian (`scripts/browser.sh` installs `chromium` and `chromium-driver`).
//! A missing browser fails the test, with the command that installs it; set
//! `WASMPLUG_SKIP_BROWSER=1` to skip the browser tests on a machine without one (CI never
//! sets it). `WASMPLUG_CHROMIUM` / `WASMPLUG_CHROMEDRIVER` override the binaries.
//! Screenshots go to `target/console-screenshots/`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// Skips the browser tests when set to `1` (local machines without a browser only).
pub const SKIP_ENV: &str = "WASMPLUG_SKIP_BROWSER";

/// How long a condition may take to hold in the page.
const PATIENCE: Duration = Duration::from_secs(30);

/// One browser session; the browser and its driver are stopped on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    test: &'static str,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn binary(env: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` not found: install it with `scripts/browser.sh` (Debian chromium + \
                 chromium-driver), or set {SKIP_ENV}=1 to skip the browser tests locally"
            )
        })
}

/// Where screenshots are kept: `target/console-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless chromium; `None` when skipped by [`SKIP_ENV`].
    pub async fn start(test: &'static str) -> Option<Browser> {
        if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
            eprintln!("{test}: skipped ({SKIP_ENV}=1)");
            return None;
        }
        let chromium = binary("WASMPLUG_CHROMIUM", "chromium");
        let chromedriver = binary("WASMPLUG_CHROMEDRIVER", "chromedriver");
        let port = free_port();
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if Instant::now() > deadline || driver.try_wait().ok().flatten().is_some() {
                let _ = driver.kill();
                panic!("chromedriver did not start on port {port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1360,1500",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        });
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps.as_object().unwrap().clone());
        let client = match builder.connect(&format!("http://{addr}")).await {
            Ok(c) => c,
            Err(e) => {
                let _ = driver.kill();
                panic!("chromium did not start through chromedriver: {e}");
            }
        };
        Some(Browser {
            client,
            driver,
            _profile: profile,
            test,
        })
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until `script` returns something truthy and returns it; on timeout saves a
    /// screenshot, prints the page text and fails naming `what`.
    pub async fn until(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let value = self.js(script, args.clone()).await;
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                let name = format!("failed-{}", self.test);
                self.shot(&name).await;
                let text = self.js("return document.body.innerText;", vec![]).await;
                panic!(
                    "timed out waiting for {what} (screenshot {name}.png); the page says:\n{}",
                    text.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text content of the element matching `css` (also when it is not displayed,
    /// e.g. inside a closed `<details>`).
    pub async fn text(&self, css: &str) -> String {
        let text = self
            .js(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                vec![Value::from(css)],
            )
            .await;
        text.as_str()
            .unwrap_or_else(|| panic!("no `{css}`"))
            .to_string()
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}`: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click `{css}`: {e}"));
    }

    /// Types `keys` into the element matching `css` (file inputs take a path).
    pub async fn keys(&self, css: &str, keys: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}`: {e}"))
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("cannot type into `{css}`: {e}"));
    }

    /// Accepts the console's confirmation dialog; returns its question.
    pub async fn confirm(&self) -> String {
        self.until(
            "the confirmation dialog",
            "return document.getElementById('confirm').open;",
            vec![],
        )
        .await;
        let question = self.text("#confirm-text").await;
        self.click("#confirm-ok").await;
        question
    }

    /// Saves a screenshot of the window as `target/console-screenshots/<name>.png`.
    pub async fn shot(&self, name: &str) -> PathBuf {
        self.js("window.scrollTo(0, 0);", vec![]).await;
        let png = self.client.screenshot().await.unwrap();
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Like [`Browser::shot`], with the element matching `css` scrolled into view.
    pub async fn shot_at(&self, name: &str, css: &str) -> PathBuf {
        self.js(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'end'});",
            vec![Value::from(css)],
        )
        .await;
        let png = self.client.screenshot().await.unwrap();
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// What the page set in `window.__xss` (a test guest's payload would set it).
    pub async fn xss(&self) -> Value {
        self.js(
            "return window.__xss === undefined ? null : String(window.__xss);",
            vec![],
        )
        .await
    }

    /// Ends the WebDriver session.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}
