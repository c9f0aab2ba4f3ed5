//! [`ClientBuilder`]: settings with defaults; every check happens once, in `build()`.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;
use url::Url;

use crate::auth::ApiKey;
use crate::client::{Client, Inner, ReadOnlyClient, Sleep};
use crate::error::{ConfigError, Error, Result};
use crate::retry::RetryConfig;

/// Paperlink's production API.
pub const DEFAULT_BASE_URL: &str = "https://app.paperlink.online/api/v1";
/// How long one attempt may take, from sending to the last byte of the body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response body read by default (16 MiB; a page of 100 products is about 50 KB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;
/// The range [`ClientBuilder::max_response_bytes`] accepts: 1 KiB to 1 GiB.
pub const MAX_RESPONSE_BYTES_RANGE: std::ops::RangeInclusive<u64> = 1024..=1024 * 1024 * 1024;
/// The environment variable [`Client::from_env`] reads the key from.
pub const ENV_API_KEY: &str = "PAPERLINK_API_KEY";
/// The environment variable [`Client::from_env`] reads an optional base URL from.
pub const ENV_BASE_URL: &str = "PAPERLINK_BASE_URL";

impl Client {
    /// A client with every default (production base URL, 3 attempts).
    pub fn new(key: ApiKey) -> Result<Self> {
        Self::builder().api_key(key).build()
    }

    /// A builder for every setting.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client from `PAPERLINK_API_KEY` and, when set, `PAPERLINK_BASE_URL`.
    pub fn from_env() -> Result<Self> {
        ClientBuilder::from_env().build()
    }
}

impl ReadOnlyClient {
    /// A read-only client with every default, built directly (no full [`Client`] is held).
    pub fn new(key: ApiKey) -> Result<Self> {
        Client::builder().api_key(key).build_read_only()
    }
}

/// Configures a [`Client`]. Setters never fail; [`build`](Self::build) reports the first
/// problem.
///
/// ```
/// use std::time::Duration;
/// use paperlink_sdk::{ApiKey, Client, RetryConfig};
///
/// let client = Client::builder()
///     .api_key(ApiKey::new("pk_test_AbCdEfGhIjKlMnOpQrStUvWxYz012345")?)
///     .base_url("http://127.0.0.1:12111/api/v1/")
///     .timeout(Duration::from_secs(5))
///     .retry(RetryConfig::default().max_attempts(4))
///     .app_name("invoice-sync/2.1")
///     .build()?;
/// assert_eq!(client.base_url().as_str(), "http://127.0.0.1:12111/api/v1/");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    key: Option<ApiKey>,
    base_url: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    retry: RetryConfig,
    app_name: Option<String>,
    http: Option<reqwest::Client>,
    max_response_bytes: u64,
    sleep: Option<Sleep>,
    deferred: Option<Error>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            key: None,
            base_url: None,
            timeout: Some(DEFAULT_TIMEOUT),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryConfig::default(),
            app_name: None,
            http: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            sleep: None,
            deferred: None,
        }
    }
}

impl ClientBuilder {
    /// A builder with every default and no key.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with the key from `PAPERLINK_API_KEY` and, when set, the base URL from
    /// `PAPERLINK_BASE_URL`. A missing or invalid variable is reported by `build()`.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name))
    }

    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Result<String, std::env::VarError>) -> Self {
        let mut builder = Self::new();
        match lookup(ENV_API_KEY) {
            Ok(token) => match ApiKey::new(token) {
                Ok(key) => builder.key = Some(key),
                Err(e) => builder.deferred = Some(Error::InvalidKey(e)),
            },
            Err(std::env::VarError::NotPresent) => {
                builder.deferred =
                    Some(ConfigError::new(format!("{ENV_API_KEY} is not set")).into());
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                builder.deferred =
                    Some(ConfigError::new(format!("{ENV_API_KEY} is not valid unicode")).into());
            }
        }
        if let Ok(url) = lookup(ENV_BASE_URL) {
            builder.base_url = Some(url);
        }
        builder
    }

    /// The API key (required).
    pub fn api_key(mut self, key: ApiKey) -> Self {
        self.key = Some(key);
        self
    }

    /// The API's base URL, with or without a trailing slash (default [`DEFAULT_BASE_URL`]).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The timeout of one attempt (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// No timeout per attempt. The retry deadline
    /// ([`RetryConfig::total_deadline`](crate::RetryConfig::total_deadline)) still bounds
    /// the whole call, the attempt in flight included.
    ///
    /// # Tests and time
    ///
    /// The simplest test does not pause time at all: give the client the mock's sleep with
    /// [`sleep_with`](Self::sleep_with) (`paperlink_mock::PaperlinkMock::sleeper`), and every
    /// wait moves the mock's clock at once instead of sleeping.
    ///
    /// Under tokio's paused time (`start_paused = true`), every timer the client arms fires as
    /// soon as the runtime idles waiting on the network, so a real server's answer looks like
    /// a timeout. Both timers must then be off, or a call gives up after one attempt:
    ///
    /// ```
    /// use paperlink_sdk::{Client, RetryConfig};
    /// let builder = Client::builder()
    ///     .no_timeout()
    ///     .retry(RetryConfig::default().total_deadline(None));
    /// # let _ = builder;
    /// ```
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// The function the client waits with between attempts (default: `tokio::time::sleep`).
    ///
    /// Any `Fn(Duration) -> impl Future<Output = ()>` serves. In tests, pass the mock's
    /// [`sleeper`](https://docs.rs/paperlink-mock/latest/paperlink_mock/struct.PaperlinkMock.html#method.sleeper):
    /// it advances the mock's clock by the wait and returns at once, so a `429` with
    /// `Retry-After: 60` is retried after 60 s of mock time, at once, with the default
    /// [`RetryConfig`](crate::RetryConfig), and rate windows, revocation delays and
    /// idempotency expiry all follow that one clock.
    ///
    /// The retry deadline counts each wait as the duration asked for, whatever the function
    /// did with it; attempts count in real time.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock, RateLimitPolicy};
    /// use paperlink_sdk::{ApiKey, Client, ListProducts};
    ///
    /// let mock = PaperlinkMock::builder()
    ///     .rate_limit(RateLimitPolicy::new(1, Duration::from_secs(60)))
    ///     .start()
    ///     .await?;
    /// let client = Client::builder()
    ///     .api_key(ApiKey::from_secret(mock.token(KeyMode::Test, KeyScope::ReadOnly))?)
    ///     .base_url(mock.base_url())
    ///     .sleep_with(mock.sleeper())
    ///     .build()?;
    /// let before = mock.now();
    /// client.products().list(ListProducts::new()).await?;
    /// client.products().list(ListProducts::new()).await?; // a 429, then 60 s of mock time
    /// assert_eq!(mock.now() - before, time::Duration::seconds(60));
    /// # Ok(())
    /// # }
    /// ```
    pub fn sleep_with<F, Fut>(mut self, sleep: F) -> Self
    where
        F: Fn(Duration) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.sleep = Some(Arc::new(move |delay| Box::pin(sleep(delay))));
        self
    }

    /// The connect timeout (default [`DEFAULT_CONNECT_TIMEOUT`]); ignored with
    /// [`http_client`](Self::http_client).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The retry policy (default [`RetryConfig::default`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Appended to the user agent: `paperlink-sdk/<version> <app>`.
    pub fn app_name(mut self, app: impl Into<String>) -> Self {
        self.app_name = Some(app.into());
        self
    }

    /// The largest response body the client reads (default [`DEFAULT_MAX_RESPONSE_BYTES`];
    /// from 1 KiB to 1 GiB). A larger body is not read on: the call fails with
    /// [`Error::ResponseTooLarge`](crate::Error::ResponseTooLarge), whether the server
    /// announces its length or streams it.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        if MAX_RESPONSE_BYTES_RANGE.contains(&limit) {
            self.max_response_bytes = limit;
        } else if self.deferred.is_none() {
            self.deferred = Some(Error::Config(ConfigError::new(format!(
                "max_response_bytes must be from {} to {} bytes",
                MAX_RESPONSE_BYTES_RANGE.start(),
                MAX_RESPONSE_BYTES_RANGE.end()
            ))));
        }
        self
    }

    /// Use this `reqwest::Client` (for proxies, custom TLS, connection pools shared with the
    /// rest of your service). Timeouts per attempt are still applied per request. The
    /// client's own redirect policy then applies; a response that ends at another origin
    /// than the base URL's is refused with [`Error::Redirected`](crate::Error::Redirected).
    /// The SDK's own client follows no redirect: the API never redirects, and following one
    /// could send a write's body and `Idempotency-Key` elsewhere.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the settings and builds a client for a Read-only key: one that never holds a
    /// full [`Client`], so a job handed a Read-only key cannot compile a write.
    pub fn build_read_only(self) -> Result<ReadOnlyClient> {
        self.build().map(|client| client.read_only())
    }

    /// Checks the settings and builds the client. Nothing is sent.
    pub fn build(self) -> Result<Client> {
        if let Some(error) = self.deferred {
            return Err(error);
        }
        let key = self.key.ok_or_else(|| {
            ConfigError::new(format!(
                "no api key: call ClientBuilder::api_key or set {ENV_API_KEY}"
            ))
        })?;
        let base_url = parse_base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let mut agent = format!("paperlink-sdk/{}", env!("CARGO_PKG_VERSION"));
        if let Some(app) = &self.app_name {
            agent.push(' ');
            agent.push_str(app);
        }
        let user_agent = HeaderValue::from_str(&agent)
            .map_err(|_| ConfigError::new("the app name must be visible ASCII"))?;
        let http = match self.http {
            Some(http) => http,
            None => {
                install_crypto_provider();
                reqwest::Client::builder()
                    .connect_timeout(self.connect_timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| ConfigError::with_source("could not build the HTTP client", e))?
            }
        };
        Ok(Client::from_inner(Inner {
            http,
            base_url,
            authorization: key.authorization_header()?,
            user_agent,
            mode: key.mode(),
            key_hint: key.hint().to_owned(),
            timeout: self.timeout,
            retry: self.retry,
            max_response_bytes: self.max_response_bytes,
            sleep: self.sleep,
            last_rate_limit: Default::default(),
        }))
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("key", &self.key)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("app_name", &self.app_name)
            .field("custom_http_client", &self.http.is_some())
            .field("max_response_bytes", &self.max_response_bytes)
            .field("custom_sleep", &self.sleep.is_some())
            .field("deferred_error", &self.deferred)
            .finish()
    }
}

/// Installs *ring* as this process's default rustls crypto provider, unless the application
/// installed one already. [`ClientBuilder::build`] does this itself; call it before you build
/// your own `reqwest::Client` with the SDK's reqwest features (`rustls-no-provider`), which
/// panics without a provider.
///
/// The SDK uses *ring* on purpose: it builds in a few seconds (see the README). rustls 0.23.48 deprecates `rustls::crypto::ring::default_provider` because
/// *ring* has no post-quantum key exchange; this function is the one place that calls it, so
/// neither the SDK nor your code warns. To have post-quantum key exchange, install
/// aws-lc-rs's provider first (or pass your own client with
/// [`ClientBuilder::http_client`]): this function then leaves it in place.
///
/// ```
/// paperlink_sdk::install_crypto_provider();
/// let http = reqwest::Client::builder().build()?;
/// # drop(http);
/// # Ok::<(), reqwest::Error>(())
/// ```
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Deprecated in rustls 0.23.48 ("no support for post-quantum algorithms"), still the
        // provider this crate chooses; the only call in the SDK.
        #[allow(deprecated)]
        let ring = rustls::crypto::ring::default_provider();
        // An error means another thread installed one first, which is just as good.
        let _ = ring.install_default();
    }
}

fn parse_base_url(text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text)
        .map_err(|e| ConfigError::with_source("the base URL is not a valid URL", e))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(ConfigError::new(
            "the base URL must be an http or https URL",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(
            "the base URL must not have a query or fragment",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new("the base URL must not carry credentials"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::env::VarError;

    const TOKEN: &str = "pk_test_AbCdEfGhIjKlMnOpQrStUvWxYz012345";

    fn lookup<'a>(
        vars: &'a [(&'a str, &'a str)],
    ) -> impl Fn(&str) -> Result<String, VarError> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
                .ok_or(VarError::NotPresent)
        }
    }

    #[test]
    fn from_env_reads_the_key_and_the_optional_base_url() {
        let client = ClientBuilder::from_lookup(lookup(&[(ENV_API_KEY, TOKEN)]))
            .build()
            .expect("builds");
        assert_eq!(client.base_url().as_str(), DEFAULT_BASE_URL);
        assert_eq!(client.mode(), crate::Mode::Test);
        let client = ClientBuilder::from_lookup(lookup(&[
            (ENV_API_KEY, TOKEN),
            (ENV_BASE_URL, "http://127.0.0.1:9/api/v1"),
        ]))
        .build()
        .expect("builds");
        assert_eq!(client.base_url().as_str(), "http://127.0.0.1:9/api/v1");
    }

    #[test]
    fn from_env_reports_a_missing_or_bad_key_at_build() {
        let missing = ClientBuilder::from_lookup(lookup(&[]))
            .build()
            .expect_err("no key");
        assert!(matches!(missing, Error::Config(_)), "{missing:?}");
        // What an error-chain reporter prints: each message once.
        let source = std::error::Error::source(&missing).map(ToString::to_string);
        assert!(source.as_deref().is_some_and(|s| s.contains(ENV_API_KEY)));
        assert!(
            !missing.to_string().contains(ENV_API_KEY),
            "the source is not repeated"
        );
        let bad = ClientBuilder::from_lookup(lookup(&[(ENV_API_KEY, "pk_test_SECRET ")]))
            .build()
            .expect_err("bad key");
        assert!(matches!(bad, Error::InvalidKey(_)));
        assert!(!format!("{bad} {bad:?}").contains("SECRET"));
    }

    #[test]
    fn bad_base_urls_are_configuration_errors() {
        let key = || ApiKey::new(TOKEN).expect("key");
        for bad in [
            "not a url",
            "ftp://x/api",
            "mailto:a@b",
            "http://h/api?x=1",
            "http://u:p@h/api",
            "http://h/api#f",
        ] {
            let err = Client::builder()
                .api_key(key())
                .base_url(bad)
                .build()
                .expect_err(bad);
            assert!(matches!(err, Error::Config(_)), "{bad}: {err:?}");
        }
        let err = Client::builder()
            .api_key(key())
            .app_name("bad\napp")
            .build()
            .expect_err("bad ua");
        assert!(matches!(err, Error::Config(_)));
        assert!(matches!(Client::builder().build(), Err(Error::Config(_))));
    }

    #[test]
    fn debug_output_never_contains_the_token() {
        let builder = Client::builder().api_key(ApiKey::new(TOKEN).expect("key"));
        let text = format!("{builder:?}");
        assert!(
            text.contains("pk_test_AbC…") && !text.contains("AbCd"),
            "{text}"
        );
        let client = builder.build().expect("builds");
        let text = format!(
            "{client:?} {:?} {:?}",
            client.read_only(),
            client.products()
        );
        assert!(!text.contains("AbCd"), "{text}");
    }
}
