//! What the examples share: connect to the real API when `PAPERLINK_API_KEY` is set, otherwise
//! to a fresh in-process [`PaperlinkMock`].

use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};
use paperlink_sdk::{ApiKey, Client};

/// Logs to stderr at the level in `RUST_LOG` (nothing when it is unset). The SDK's spans never
/// carry the key, whatever the level.
pub fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init();
    }
}

/// The examples' error type.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where an example's client points.
pub struct Backend {
    /// The client.
    pub client: Client,
    /// The mock, when running offline (the default).
    pub mock: Option<PaperlinkMock>,
}

impl Backend {
    /// The real API with `PAPERLINK_API_KEY` (and optional `PAPERLINK_BASE_URL`), or else a
    /// mock and its seeded Test key of `scope`.
    pub async fn connect(scope: KeyScope) -> Result<Self, BoxError> {
        init_tracing();
        if std::env::var_os(paperlink_sdk::ENV_API_KEY).is_some() {
            let client = Client::from_env()?;
            println!(
                "using the real API as {} ({} mode)",
                client.key_hint(),
                client.mode()
            );
            return Ok(Self { client, mock: None });
        }
        let mock = PaperlinkMock::start().await;
        let client = Client::builder()
            .api_key(ApiKey::from_secret(mock.token(KeyMode::Test, scope))?)
            .base_url(mock.base_url())
            .app_name("paperlink-examples")
            .build()?;
        println!(
            "using paperlink-mock at {} as {}",
            mock.base_url(),
            client.key_hint()
        );
        Ok(Self {
            client,
            mock: Some(mock),
        })
    }
}
