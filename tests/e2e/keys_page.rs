//! The API Keys page at `/__admin/ui`, over HTTP as a browser would use it (forms, a cookie,
//! no script), its HTML parsed, never grepped: the list, the one-time token, revocation after
//! a confirmation, the requests view, the role rule, escaping, cross-site forms, the admin
//! token's session, and the 90 days a revoked key stays listed.

use paperlink_mock::PaperlinkMockBuilder;
use paperlink_mock::standalone::{Running, Server};
use reqwest::header::{HeaderMap, LOCATION};
use scraper::{ElementRef, Html, Selector};

use crate::helpers::{builder, install_tls};

/// A standalone mock and a browser-like client that follows no redirect.
pub(crate) struct Page {
    pub(crate) root: String,
    pub(crate) http: reqwest::Client,
    pub(crate) cookie: Option<String>,
    pub(crate) server: Running,
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) html: Html,
    pub(crate) text: String,
}

impl Answer {
    pub(crate) fn all(&self, css: &str) -> Vec<ElementRef<'_>> {
        let selector = Selector::parse(css).expect("a selector");
        self.html.select(&selector).collect()
    }

    pub(crate) fn text_of(&self, css: &str) -> Option<String> {
        self.all(css)
            .first()
            .map(|e| e.text().collect::<String>().trim().to_owned())
    }

    pub(crate) fn input(&self, name: &str) -> String {
        self.all(&format!("input[name={name}]"))
            .first()
            .and_then(|e| e.value().attr("value"))
            .expect("the input")
            .to_owned()
    }
}

/// A form's fields as `application/x-www-form-urlencoded`, as a browser sends them.
trait Form {
    fn form(self, fields: &[(&str, &str)]) -> Self;
}

impl Form for reqwest::RequestBuilder {
    fn form(self, fields: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }
}

fn text(element: &ElementRef<'_>, css: &str) -> String {
    let selector = Selector::parse(css).expect("a selector");
    element
        .select(&selector)
        .next()
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .unwrap_or_default()
}

impl Page {
    pub(crate) async fn start(builder: PaperlinkMockBuilder) -> Self {
        install_tls();
        let server = Server::bind(builder, "127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("binds")
            .spawn();
        Self {
            root: format!("http://{}", server.local_addr()),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookie: None,
            server,
        }
    }

    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        let response = request.send().await.expect("answered");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        Answer {
            status,
            headers,
            html: Html::parse_document(&text),
            text,
        }
    }

    /// A raw call with these headers and body: its status and JSON answer (`Null` for none).
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, serde_json::Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.root));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .body(body.to_owned())
            .send()
            .await
            .expect("answered");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or_default())
    }

    pub(crate) async fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(format!("{}{path}", self.root)))
            .await
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.send(self.http.post(format!("{}{path}", self.root)).form(form))
            .await
    }

    /// Creates a key through the form, as `who`; the confirmation page.
    pub(crate) async fn create(&self, who: &str, name: &str, mode: &str, scope: &str) -> Answer {
        let form = self.get(&format!("/__admin/ui/keys/new?as={who}")).await;
        assert_eq!(form.status, 200, "{}", form.text);
        let csrf = form.input("csrf");
        self.post(
            "/__admin/ui/keys",
            &[
                ("csrf", &csrf),
                ("team", "default"),
                ("as", who),
                ("name", name),
                ("mode", mode),
                ("scope", scope),
            ],
        )
        .await
    }

    pub(crate) async fn api_status(&self, token: &str) -> u16 {
        self.http
            .get(format!("{}/api/v1/products?limit=1", self.root))
            .bearer_auth(token)
            .send()
            .await
            .expect("answered")
            .status()
            .as_u16()
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: &str) -> u16 {
        self.http
            .request(method, format!("{}/__admin{path}", self.root))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("answered")
            .status()
            .as_u16()
    }
}

#[tokio::test]
async fn the_list_shows_each_keys_dashboard_columns() {
    let page = Page::start(builder()).await;
    let list = page.get("/__admin/ui").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.headers["cache-control"], "no-store");
    let rows = list.all("table#keys tr.key");
    assert_eq!(rows.len(), 4, "the four seeded keys");
    for row in &rows {
        let prefix = text(row, "td.prefix");
        let mode = text(row, "td.mode .badge");
        assert!(
            prefix.starts_with(&format!("pk_{}_", mode.to_lowercase())),
            "{prefix}"
        );
        assert!(
            prefix.ends_with('…') && prefix.chars().count() == 8 + 3 + 1,
            "{prefix}"
        );
        assert!(["Read & Write", "Read-only"].contains(&text(row, "td.scope").as_str()));
        assert_eq!(text(row, "td.created-by"), "owner");
        assert_eq!(text(row, "td.last-used"), "Never");
        assert_eq!(text(row, "td.status"), "Active");
    }
    let badge_classes: Vec<String> = list
        .all("td.mode .badge")
        .iter()
        .map(|b| b.value().attr("class").unwrap_or_default().to_owned())
        .collect();
    assert!(badge_classes.contains(&"badge live".to_owned()));
    assert!(badge_classes.contains(&"badge test".to_owned()));

    // A call marks its key as used: relative and exact.
    let token = page
        .server
        .token(
            paperlink_mock::KeyMode::Test,
            paperlink_mock::KeyScope::ReadOnly,
        )
        .expect("seeded");
    assert_eq!(
        page.api_status(secrecy::ExposeSecret::expose_secret(&token))
            .await,
        200
    );
    let list = page.get("/__admin/ui").await;
    let used: Vec<String> = list
        .all("td.last-used time")
        .iter()
        .map(|t| t.text().collect())
        .collect();
    assert_eq!(used, ["just now"]);
    let exact = list.all("td.last-used time")[0]
        .value()
        .attr("datetime")
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        list.text_of("td.last-used .exact").as_deref(),
        Some(exact.as_str())
    );
}

#[tokio::test]
async fn a_new_keys_token_is_shown_once_with_a_curl_that_works() {
    let page = Page::start(builder()).await;
    let created = page
        .create("owner", "Invoice sync", "test", "READ_ONLY")
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.headers["cache-control"], "no-store");
    let token = created.text_of("#token").expect("the token");
    assert!(
        token.starts_with("pk_test_") && token.len() == 8 + 32,
        "{token}"
    );
    let curl = created.text_of("#curl").expect("a curl");
    assert!(
        curl.contains(&format!("{}/api/v1/products", page.root)),
        "{curl}"
    );
    assert!(
        curl.contains(&format!("Authorization: Bearer {token}")),
        "{curl}"
    );
    assert_eq!(page.api_status(&token).await, 200);

    // Sending the same form again (a reload) creates nothing and shows no token.
    let form_csrf = created.all("a#done").len();
    assert_eq!(form_csrf, 1);
    let keys_before = page.get("/__admin/ui").await.all("tr.key").len();
    let again = page
        .post(
            "/__admin/ui/keys",
            &[
                ("csrf", "reused-or-made-up"),
                ("name", "again"),
                ("as", "owner"),
            ],
        )
        .await;
    assert_eq!(again.status, 403);
    assert!(again.all("#token").is_empty());
    let list = page.get("/__admin/ui").await;
    assert_eq!(list.all("tr.key").len(), keys_before, "no second key");
    // The list shows the prefix, never the token.
    let row = list
        .all("tr.key")
        .into_iter()
        .find(|r| text(r, "td.name") == "Invoice sync")
        .expect("the new key");
    assert_eq!(text(&row, "td.prefix"), format!("{}…", &token[..11]));
    assert!(!list.text.contains(&token[8..]));
    assert_eq!(text(&row, "td.scope"), "Read-only");
}

#[tokio::test]
async fn a_used_form_cannot_be_sent_twice() {
    let page = Page::start(builder()).await;
    let form = page.get("/__admin/ui/keys/new").await;
    let csrf = form.input("csrf");
    let fields = [
        ("csrf", csrf.as_str()),
        ("name", "once"),
        ("mode", "live"),
        ("scope", "READ_WRITE"),
    ];
    assert_eq!(page.post("/__admin/ui/keys", &fields).await.status, 201);
    let twice = page.post("/__admin/ui/keys", &fields).await;
    assert_eq!(twice.status, 403);
    assert_eq!(
        twice.text_of("h1").as_deref(),
        Some("This form was already used")
    );
}

#[tokio::test]
async fn revoking_asks_first_then_the_key_is_refused_and_stays_listed_for_90_days() {
    let page = Page::start(builder()).await;
    assert_eq!(
        page.admin(
            reqwest::Method::POST,
            "/teams/default/members",
            r#"{"name":"ana","role":"ADMIN"}"#
        )
        .await,
        201
    );
    let created = page.create("ana", "CI", "live", "READ_WRITE").await;
    let token = created.text_of("#token").expect("token");
    let list = page.get("/__admin/ui?as=ana").await;
    let row = list
        .all("tr.key")
        .into_iter()
        .find(|r| text(r, "td.name") == "CI")
        .expect("listed");
    assert_eq!(text(&row, "td.created-by"), "ana");
    let revoke = row
        .select(&Selector::parse("a.revoke").expect("selector"))
        .next()
        .and_then(|a| a.value().attr("href"))
        .expect("a revoke link")
        .to_owned();

    let confirm = page.get(&revoke).await;
    assert_eq!(confirm.status, 200);
    assert_eq!(page.api_status(&token).await, 200, "asking revokes nothing");
    let action = confirm.all("form#revoke")[0]
        .value()
        .attr("action")
        .expect("action")
        .to_owned();
    let done = page
        .post(
            &action,
            &[
                ("csrf", &confirm.input("csrf")),
                ("team", "default"),
                ("as", "ana"),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    let back = done.headers[LOCATION]
        .to_str()
        .expect("location")
        .to_owned();
    assert_eq!(back, "/__admin/ui?team=default&as=ana");
    assert_eq!(page.api_status(&token).await, 401);

    let revoked_row = |list: &Answer| {
        list.all("tr.key.revoked")
            .iter()
            .find(|r| text(r, "td.name") == "CI")
            .map(|r| (text(r, "td.status"), text(r, ".revoked-by")))
    };
    let list = page.get(&back).await;
    let (status, by) = revoked_row(&list).expect("still listed");
    assert!(status.starts_with("Revoked just now by ana"), "{status}");
    assert_eq!(by, "ana");
    assert!(
        list.all("tr.key.revoked a.revoke").is_empty(),
        "no second revoke"
    );

    let advance = |days: u64| format!(r#"{{"seconds":{}}}"#, days * 86_400);
    assert_eq!(
        page.admin(reqwest::Method::POST, "/clock/advance", &advance(89))
            .await,
        200
    );
    let list = page.get(&back).await;
    assert!(revoked_row(&list).is_some_and(|(s, _)| s.starts_with("Revoked 89 days ago")));
    assert_eq!(
        page.admin(reqwest::Method::POST, "/clock/advance", &advance(2))
            .await,
        200
    );
    assert!(
        revoked_row(&page.get(&back).await).is_none(),
        "gone after 90 days"
    );
}

#[tokio::test]
async fn a_manager_or_a_member_has_no_access() {
    let page = Page::start(builder()).await;
    for (name, role) in [("mia", "MANAGER"), ("mo", "MEMBER")] {
        let body = format!(r#"{{"name":"{name}","role":"{role}"}}"#);
        assert_eq!(
            page.admin(reqwest::Method::POST, "/teams/default/members", &body)
                .await,
            201
        );
        for path in [
            "/__admin/ui",
            "/__admin/ui/keys/new",
            "/__admin/ui/requests",
        ] {
            let denied = page.get(&format!("{path}?as={name}")).await;
            assert_eq!(denied.status, 403, "{name} {path}");
            assert_eq!(
                denied.text_of("#denied h1").as_deref(),
                Some("You don't have access to the API Keys page")
            );
            assert!(denied.all("table#keys").is_empty());
        }
        // A form made for the Owner, sent as the member: refused, nothing created.
        let csrf = page.get("/__admin/ui/keys/new").await.input("csrf");
        let refused = page
            .post(
                "/__admin/ui/keys",
                &[("csrf", &csrf), ("as", name), ("name", "sneaky")],
            )
            .await;
        assert_eq!(refused.status, 403);
        assert!(refused.all("#token").is_empty());
    }
    let list = page.get("/__admin/ui").await;
    assert!(
        list.all("tr.key")
            .iter()
            .all(|r| text(r, "td.name") != "sneaky")
    );
}

#[tokio::test]
async fn a_key_name_is_shown_as_text_never_as_markup() {
    let page = Page::start(builder()).await;
    let name = r#"<script>alert("x")</script><b>bold</b>"#;
    let created = page.create("owner", name, "test", "READ_WRITE").await;
    assert_eq!(created.status, 201);
    assert_eq!(created.text_of("#created-name").as_deref(), Some(name));
    let list = page.get("/__admin/ui").await;
    assert!(list.all("script").is_empty() && list.all("main b").is_empty());
    assert!(
        list.all("tr.key td.name")
            .iter()
            .any(|td| td.text().collect::<String>() == name)
    );
}

#[tokio::test]
async fn a_form_from_another_site_is_refused() {
    let page = Page::start(builder()).await;
    let csrf = page.get("/__admin/ui/keys/new").await.input("csrf");
    let request = page
        .http
        .post(format!("{}/__admin/ui/keys", page.root))
        .header("origin", "http://evil.example")
        .form(&[("csrf", csrf.as_str()), ("name", "x")]);
    let refused = page.send(request).await;
    assert_eq!(refused.status, 403);
    assert!(refused.all("#token").is_empty());
    // Same origin: accepted (the token was not used up by the refused attempt).
    let request = page
        .http
        .post(format!("{}/__admin/ui/keys", page.root))
        .header("origin", page.root.as_str())
        .form(&[("csrf", csrf.as_str()), ("name", "x")]);
    assert_eq!(page.send(request).await.status, 201);
}

#[tokio::test]
async fn with_an_admin_token_the_page_asks_once_and_keeps_a_strict_session() {
    let mut page = Page::start(builder().admin_token("s3cret-admin")).await;
    let first = page.get("/__admin/ui").await;
    assert_eq!(first.status, 303);
    assert_eq!(first.headers[LOCATION], "/__admin/ui/login");
    let login = page.get("/__admin/ui/login").await;
    assert_eq!(login.all("input#token[type=password]").len(), 1);
    let wrong = page
        .post(
            "/__admin/ui/login",
            &[("csrf", &login.input("csrf")), ("token", "nope")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.headers.get("set-cookie").is_none());
    let signed = page
        .post(
            "/__admin/ui/login",
            &[("csrf", &wrong.input("csrf")), ("token", "s3cret-admin")],
        )
        .await;
    assert_eq!(signed.status, 303);
    let location = signed.headers[LOCATION].to_str().expect("location");
    assert!(!location.contains("s3cret"), "never in a URL");
    let cookie = signed.headers["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/__admin/ui"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    page.cookie = cookie.split(';').next().map(str::to_owned);
    assert_eq!(page.get("/__admin/ui").await.status, 200);
    // The JSON control plane still wants the header, not the cookie.
    assert_eq!(page.admin(reqwest::Method::GET, "/keys", "").await, 401);
}

#[tokio::test]
async fn the_requests_view_lists_the_teams_calls_newest_first_filtered_by_key() {
    let page = Page::start(builder()).await;
    let a = page
        .create("owner", "A", "test", "READ_ONLY")
        .await
        .text_of("#token")
        .expect("a");
    let b = page
        .create("owner", "B", "test", "READ_ONLY")
        .await
        .text_of("#token")
        .expect("b");
    for (token, path) in [
        (&a, "/products?limit=1"),
        (&b, "/products?limit=2"),
        (&a, "/products/00000000-0000-0000-0000-000000000000"),
    ] {
        page.http
            .get(format!("{}/api/v1{path}", page.root))
            .bearer_auth(token)
            .send()
            .await
            .expect("answered");
    }
    let view = page.get("/__admin/ui/requests").await;
    let rows: Vec<(String, String, String, String)> = view
        .all("tr.request")
        .iter()
        .map(|r| {
            (
                text(r, "td.method"),
                text(r, "td.path"),
                text(r, "td.status"),
                text(r, "td.key"),
            )
        })
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0],
        (
            "GET".into(),
            "/api/v1/products/00000000-0000-0000-0000-000000000000".into(),
            "404".into(),
            a[..11].to_owned()
        )
    );
    assert_eq!(
        rows[2].1, "/api/v1/products?limit=1",
        "newest first, query kept"
    );
    // The filter names a key by its id, as the page's own select does.
    let b_id = view
        .all("select#key option")
        .iter()
        .find(|o| o.text().collect::<String>().starts_with(&b[..11]))
        .and_then(|o| o.value().attr("value"))
        .expect("b is listed")
        .to_owned();
    let only_b = page.get(&format!("/__admin/ui/requests?key={b_id}")).await;
    let paths: Vec<String> = only_b
        .all("tr.request td.path")
        .iter()
        .map(|t| t.text().collect())
        .collect();
    assert_eq!(paths, ["/api/v1/products?limit=2"]);
}

#[tokio::test]
async fn switching_team_with_a_member_of_another_team_acts_as_its_owner_and_says_so() {
    let page = Page::start(builder()).await;
    let body = r#"{"name":"ana","role":"ADMIN"}"#;
    assert_eq!(
        page.admin(reqwest::Method::POST, "/teams/default/members", body)
            .await,
        201
    );
    // The switcher sends the team chosen and the member of the team before.
    let switched = page.get("/__admin/ui?team=suite-42&as=ana").await;
    assert_eq!(switched.status, 200);
    assert_eq!(
        switched.text_of("#notice").as_deref(),
        Some("Team suite-42 has no member named ana: acting as its Owner.")
    );
    let acting = switched.all("select#as option[selected]");
    assert_eq!(acting[0].value().attr("value"), Some("owner"));
    let team = switched.all("select#team option[selected]");
    assert_eq!(team[0].value().attr("value"), Some("suite-42"));
}
