//! The API Keys page in a real browser: headless Chromium driven over WebDriver, through the
//! flow of Paperlink's own page (create a key and see its token once, call the API with it,
//! see "last used", revoke it after a confirmation, see it refused and still listed), and the
//! role rule (a Member cannot open the page). It also takes the README's screenshot.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them):
//!
//! ```text
//! cargo test -p paperlink-tests --features browser --test browser
//! PAPERLINK_UPDATE_SCREENSHOT=1 cargo test -p paperlink-tests --features browser --test browser
//! ```

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use paperlink_mock::PaperlinkMock;
use paperlink_mock::standalone::Server;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Result<Self, BoxError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("{CHROMEDRIVER} could not start ({e}); apt-get install chromium-driver")
            })?;
        // Ready once it says so (it prints one line when it listens).
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("started successfully") => break,
                Some(Ok(_)) => {}
                _ => return Err("chromedriver stopped before it was ready".into()),
            }
        }
        Ok(Self { child, port })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Driver) -> Result<Client, BoxError> {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,900"],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await?;
    Ok(client)
}

/// The text of an element, once the page that has it is there (a click's navigation may
/// still be under way; the wait is bounded).
async fn text(client: &Client, css: &str) -> Result<String, BoxError> {
    let element = client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await?;
    Ok(element.text().await?)
}

/// The row of the key with this name.
async fn row_text(client: &Client, name: &str) -> Result<Option<String>, BoxError> {
    for row in client.find_all(Locator::Css("tr.key")).await? {
        let text = row.text().await?;
        if text.starts_with(name) {
            return Ok(Some(text));
        }
    }
    Ok(None)
}

async fn api_status(root: &str, token: &str) -> Result<u16, BoxError> {
    Ok(reqwest::Client::new()
        .get(format!("{root}/api/v1/products"))
        .bearer_auth(token)
        .send()
        .await?
        .status()
        .as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keys_page_works_in_a_real_browser() -> Result<(), BoxError> {
    paperlink_tests::install_tls();
    let server = Server::bind(PaperlinkMock::builder().seed(3), "127.0.0.1:0".parse()?)
        .await?
        .spawn();
    let root = format!("http://{}", server.local_addr());
    let driver = Driver::start()?;
    let client = browser(&driver).await?;
    let outcome = flow(&client, &root).await;
    client.close().await?;
    outcome
}

async fn flow(client: &Client, root: &str) -> Result<(), BoxError> {
    client.goto(&format!("{root}/__admin/ui")).await?;
    assert_eq!(text(client, "h1").await?, "API Keys");

    // Create a key: the form asks for a name, a mode and a scope.
    client.find(Locator::Css("#create")).await?.click().await?;
    text(client, "#name").await?;
    client
        .find(Locator::Css("#name"))
        .await?
        .send_keys("Browser test")
        .await?;
    client
        .find(Locator::Css("input[name=scope][value=READ_ONLY]"))
        .await?
        .click()
        .await?;
    client.find(Locator::Css("#submit")).await?.click().await?;
    let token = text(client, "#token").await?;
    assert!(
        token.starts_with("pk_test_") && token.len() == 40,
        "{token}"
    );
    let curl = text(client, "#curl").await?;
    assert!(curl.contains(&format!("{root}/api/v1/products")) && curl.contains(&token));

    // The cURL's call works.
    assert_eq!(api_status(root, &token).await?, 200);

    // The token is never shown again: not after the back button, not in the list, not on a
    // reload of the list.
    client.back().await?;
    text(client, "h1").await?;
    assert!(!client.source().await?.contains(&token), "after back");
    client.goto(&format!("{root}/__admin/ui")).await?;
    client.refresh().await?;
    let source = client.source().await?;
    assert!(!source.contains(&token), "in the list");
    let row = row_text(client, "Browser test")
        .await?
        .ok_or("the new key is listed")?;
    assert!(row.contains(&format!("{}…", &token[..11])), "{row}");
    assert!(
        row.contains("Read-only") && row.contains("just now"),
        "last used: {row}"
    );

    screenshot(client).await?;

    // Revoke, after a confirmation.
    let rows = client.find_all(Locator::Css("tr.key")).await?;
    let mut revoked = false;
    for row in rows {
        if row.text().await?.starts_with("Browser test") {
            row.find(Locator::Css("a.revoke")).await?.click().await?;
            revoked = true;
            break;
        }
    }
    assert!(revoked, "a revoke link");
    text(client, "#confirm").await?;
    assert_eq!(text(client, "h1").await?, "Revoke API key");
    assert_eq!(
        api_status(root, &token).await?,
        200,
        "not before the confirmation"
    );
    client.find(Locator::Css("#confirm")).await?.click().await?;
    text(client, "tr.key.revoked").await?;
    assert_eq!(text(client, "h1").await?, "API Keys");
    assert_eq!(api_status(root, &token).await?, 401);
    let row = row_text(client, "Browser test")
        .await?
        .ok_or("still listed")?;
    assert!(row.contains("Revoked just now by owner"), "{row}");

    // A Member cannot open the page.
    let added = reqwest::Client::new()
        .post(format!("{root}/__admin/teams/default/members"))
        .header("content-type", "application/json")
        .body(r#"{"name":"mo","role":"MEMBER"}"#)
        .send()
        .await?;
    assert_eq!(added.status(), 201);
    client.goto(&format!("{root}/__admin/ui?as=mo")).await?;
    let denied = text(client, "#denied h1").await?;
    assert_eq!(denied, "You don't have access to the API Keys page");
    assert!(
        client
            .find_all(Locator::Css("table#keys"))
            .await?
            .is_empty()
    );
    Ok(())
}

/// The README's screenshot: under target/ by default, into docs/ when asked.
async fn screenshot(client: &Client) -> Result<(), BoxError> {
    let png = client.screenshot().await?;
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = if std::env::var_os("PAPERLINK_UPDATE_SCREENSHOT").is_some() {
        root.join("docs/api-keys-page.png")
    } else {
        root.join("target/api-keys-page.png")
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, png)?;
    Ok(())
}
