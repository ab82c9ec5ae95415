//! A real headless Chromium, driven through `chromedriver` with the [`fantoccini`] WebDriver
//! client, for the end-to-end tests of the web app.
//!
//! [`Browser::start`] finds `chromedriver` and Chromium, starts the driver on a free loopback
//! port and opens a session with a fresh profile; when either cannot be found or started it
//! says why, and the test skips. The driver runs in a process group of its own, and dropping
//! the [`Browser`] (a test that panics too) closes the session and kills that group, so no
//! browser outlives its test.
//!
//! Every method blocks: the tests around it are plain `#[test]` functions that also call the
//! daemons' blocking API clients, and wait with [`crate::loopback::wait_until`].

use std::future::Future;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tempfile::TempDir;

/// How long the driver may take to listen, and the browser to open a session.
pub const START_PATIENCE: Duration = Duration::from_secs(30);

/// The flags Chromium runs with: headless, in a fresh profile, and quiet on the network (this
/// machine's closed network refuses Chromium's own connections otherwise).
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
];

/// The window's width, in CSS pixels, that every page is checked at.
pub const WINDOW_WIDTH: u32 = 1280;

/// The first of `names` found as a file in a directory of `PATH`, or at one of `paths`.
fn find_program(names: &[&str], paths: &[&str]) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    for name in names {
        for dir in &on_path {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    paths.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// `chromedriver`, on `PATH` or where Debian's `chromium-driver` puts it.
pub fn find_chromedriver() -> Option<PathBuf> {
    find_program(&["chromedriver"], &["/usr/bin/chromedriver"])
}

/// Chromium, where Debian's `chromium` puts it, or on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    let debian = PathBuf::from("/usr/bin/chromium");
    if debian.is_file() {
        return Some(debian);
    }
    find_program(&["chromium", "chromium-browser", "google-chrome"], &[])
}

/// A free TCP port on 127.0.0.1 (free when asked; the driver takes it right after).
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// A running `chromedriver`, in a process group of its own: dropping it kills the group, the
/// driver and the browsers it started.
pub struct Driver {
    child: Child,
    /// Where the driver listens: `http://127.0.0.1:PORT`.
    pub url: String,
    /// The driver's log, for the message of a failure.
    pub log: PathBuf,
}

impl Driver {
    /// Starts `chromedriver` on a free port, logging to `log`; waits until it listens.
    pub fn start(chromedriver: &Path, log: &Path) -> Result<Driver, String> {
        use std::os::unix::process::CommandExt;
        let port = free_port().map_err(|e| format!("no free port for chromedriver: {e}"))?;
        let out = std::fs::File::create(log).map_err(|e| format!("chromedriver log: {e}"))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("chromedriver log: {e}"))?;
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start {} ({e})", chromedriver.display()))?;
        let mut driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log: log.to_path_buf(),
        };
        let started = Instant::now();
        loop {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok(driver);
            }
            if let Ok(Some(status)) = driver.child.try_wait() {
                return Err(format!(
                    "chromedriver exited at once ({status}): {}",
                    driver.log_tail()
                ));
            }
            if started.elapsed() > START_PATIENCE {
                return Err(format!(
                    "chromedriver did not listen on port {port} within {START_PATIENCE:?}: {}",
                    driver.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The end of the driver's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group is the driver's own (`process_group(0)`): its id is the driver's pid.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session in a headless Chromium, with blocking helpers for the tests.
pub struct Browser {
    // Field order is drop order after `Drop::drop`: the session closes, then the runtime
    // goes, then the driver is killed and the profile removed.
    client: Option<Client>,
    runtime: tokio::runtime::Runtime,
    driver: Driver,
    profile: TempDir,
}

impl Browser {
    /// Starts `chromedriver` and a headless Chromium in a fresh profile. `Err` says why not
    /// (no chromedriver, no Chromium, or one of them would not start): the test skips then.
    pub fn start() -> Result<Browser, String> {
        let chromedriver = find_chromedriver().ok_or(
            "chromedriver is not installed (Debian: apt-get install chromium chromium-driver)",
        )?;
        let chromium = find_chromium().ok_or(
            "Chromium is not installed (Debian: apt-get install chromium chromium-driver)",
        )?;
        let profile = tempfile::tempdir().map_err(|e| format!("no temp dir: {e}"))?;
        let user_data = profile.path().join("profile");
        let driver = Driver::start(&chromedriver, &profile.path().join("chromedriver.log"))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("no tokio runtime: {e}"))?;
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", user_data.display()));
        let mut capabilities = Capabilities::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "args": args, "binary": chromium }),
        );
        let connect = async {
            tokio::time::timeout(
                START_PATIENCE,
                ClientBuilder::new(HttpConnector::new())
                    .capabilities(capabilities)
                    .connect(&driver.url),
            )
            .await
        };
        let client = match runtime.block_on(connect) {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => {
                return Err(format!(
                    "Chromium ({}) would not start a session: {e}\n{}",
                    chromium.display(),
                    driver.log_tail()
                ))
            }
            Err(_) => {
                return Err(format!(
                    "Chromium ({}) did not start a session within {START_PATIENCE:?}\n{}",
                    chromium.display(),
                    driver.log_tail()
                ))
            }
        };
        Ok(Browser {
            client: Some(client),
            runtime,
            driver,
            profile,
        })
    }

    /// The WebDriver session, for what the helpers below do not cover (run it with
    /// [`Browser::block_on`]).
    pub fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("the session is open until drop")
    }

    /// Runs `future` (a WebDriver command) to completion.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Opens `url` and waits for it to load.
    pub fn goto(&self, url: &str) {
        self.block_on(self.client().goto(url))
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The address the browser shows.
    pub fn url(&self) -> String {
        self.block_on(self.client().current_url())
            .expect("current url")
            .to_string()
    }

    /// The page's title (`document.title`).
    pub fn title(&self) -> String {
        self.block_on(self.client().title()).expect("title")
    }

    /// The first element matching the CSS selector `css`; panics, naming the page, if none.
    pub fn find(&self, css: &str) -> Element {
        self.block_on(self.client().find(Locator::Css(css)))
            .unwrap_or_else(|e| panic!("no `{css}` on {}: {e}\n{}", self.url(), self.text("body")))
    }

    /// Every element matching `css` (none is no error).
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        self.block_on(self.client().find_all(Locator::Css(css)))
            .unwrap_or_else(|e| panic!("look for `{css}`: {e}"))
    }

    /// The rendered text of the first element matching `css` (`""` if there is none).
    pub fn text(&self, css: &str) -> String {
        self.block_on(async {
            match self.client().find(Locator::Css(css)).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            }
        })
    }

    /// The current `value` of the form field `css`.
    pub fn value(&self, css: &str) -> String {
        let element = self.find(css);
        self.block_on(element.prop("value"))
            .expect("value")
            .unwrap_or_default()
    }

    /// The attribute `name` of the first element matching `css`.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        let element = self.find(css);
        self.block_on(element.attr(name)).expect("attribute")
    }

    /// Clicks the element `css` (a link, a box, a button).
    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.block_on(element.click())
            .unwrap_or_else(|e| panic!("click `{css}` on {}: {e}", self.url()));
    }

    /// Clicks the link or submit button `css` and waits until the page it leads to has
    /// replaced this one (a refused form comes back at the same address, so the address
    /// alone cannot tell).
    pub fn click_through(&self, css: &str) {
        let old = self.find("html");
        self.click(css);
        crate::loopback::wait_until(&format!("the page `{css}` leads to"), || {
            self.block_on(old.tag_name()).is_err()
        });
    }

    /// Empties the text field `css` and types `text` into it, key by key.
    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.block_on(async {
            element.clear().await?;
            element.send_keys(text).await
        })
        .unwrap_or_else(|e| panic!("type into `{css}`: {e}"));
    }

    /// Ticks (`on`) or unticks the check box `css`, by clicking it if it is not so already.
    pub fn set_checked(&self, css: &str, on: bool) {
        let element = self.find(css);
        let ticked = self.block_on(element.is_selected()).expect("is selected");
        if ticked != on {
            self.block_on(element.click())
                .unwrap_or_else(|e| panic!("click `{css}`: {e}"));
        }
        assert_eq!(
            self.block_on(element.is_selected()).expect("is selected"),
            on,
            "`{css}` did not change"
        );
    }

    /// Whether the check box or radio button `css` is ticked.
    pub fn is_checked(&self, css: &str) -> bool {
        let element = self.find(css);
        self.block_on(element.is_selected()).expect("is selected")
    }

    /// Chooses the option `value` of the `select` element `css`.
    pub fn select(&self, css: &str, value: &str) {
        let element = self.find(css);
        self.block_on(element.select_by_value(value))
            .unwrap_or_else(|e| panic!("choose `{value}` in `{css}`: {e}"));
    }

    /// The text of the alert, confirm or prompt dialog a page opened, if one is open.
    pub fn open_dialog(&self) -> Option<String> {
        self.block_on(self.client().get_alert_text()).ok()
    }

    /// Signs in with the login link of the daemon whose data dir is `data_dir` (its
    /// `api.token` and `api.addr`), landing on `next`; returns the API's base address,
    /// `http://127.0.0.1:PORT`.
    pub fn sign_in(&self, data_dir: &Path, next: &str) -> String {
        let base = api_base(data_dir);
        let token = std::fs::read_to_string(data_dir.join("api.token")).expect("api.token");
        self.goto(&myco_node::api::session::login_link(
            &base,
            token.trim(),
            next,
        ));
        let landed = self.url();
        assert_eq!(
            landed.strip_prefix(&base),
            Some(next),
            "the login link lands on {next} and leaves the token behind: {}",
            self.text("body")
        );
        base
    }

    /// A PNG of the whole page at [`WINDOW_WIDTH`], written to `path`: the window is made as
    /// tall as the page (at most 6000 pixels) for the shot, then set back.
    pub fn screenshot(&self, path: &Path) {
        let client = self.client();
        let png = self
            .block_on(async {
                let (width, height) = client.get_window_size().await?;
                let sizes = client
                    .execute(
                        "return [document.documentElement.scrollHeight, window.innerHeight]",
                        vec![],
                    )
                    .await?;
                let size = |i: usize| sizes.get(i).and_then(|v| v.as_u64()).unwrap_or(height);
                // The window is taller than its viewport by the browser's own frame.
                let frame = height.saturating_sub(size(1));
                let tall = (size(0) + frame).clamp(height, 6000);
                let tall = u32::try_from(tall).unwrap_or(6000);
                client.set_window_size(WINDOW_WIDTH, tall).await?;
                let png = client.screenshot().await;
                let width = u32::try_from(width).unwrap_or(WINDOW_WIDTH);
                let height = u32::try_from(height).unwrap_or(1000);
                client.set_window_size(width, height).await?;
                png
            })
            .unwrap_or_else(|e| panic!("screenshot of {}: {e}", self.url()));
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// The driver's log, for a test's failure message.
    pub fn driver_log(&self) -> String {
        self.driver.log_tail()
    }

    /// The browser's fresh profile directory.
    pub fn profile(&self) -> &Path {
        self.profile.path()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(5), client.close()).await
            });
        }
        // Then the driver field drops, killing the driver's group: the browser too.
    }
}

/// The base address of the API of the daemon whose data dir is `data_dir`:
/// `http://127.0.0.1:PORT`, from its `api.addr`.
pub fn api_base(data_dir: &Path) -> String {
    let address = std::fs::read_to_string(data_dir.join("api.addr")).expect("api.addr");
    format!("http://{}", address.trim())
}

/// The folder a test's artifacts go in, `<target>/artifacts/<name>/`, created: `<target>` is
/// `CARGO_TARGET_DIR` if set, else the workspace's `target/`.
pub fn artifacts_dir(name: &str) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // A relative CARGO_TARGET_DIR is the workspace's, as cargo reads it from there.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|t| workspace.join(t))
        .unwrap_or_else(|| workspace.join("target"));
    let dir = target.join("artifacts").join(name);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}
