//! The control plane, the API Keys page and the Rust API are front doors over the same
//! rules: the same bad mode, scope or name gets the same refusal through each, and nothing is
//! created.

use paperlink_mock::{KeyMode, KeyScope, MockError, TeamRole};
use serde_json::{Value, json};

use crate::helpers::{builder, mock};
use crate::keys_page::Page;

/// A control-plane call with a JSON body: its status and JSON answer.
async fn admin(page: &Page, method: &str, path: &str, body: Value) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let json = [("content-type", "application/json")];
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    page.call(method, &format!("/__admin{path}"), &json, &body)
        .await
}

/// The field and message of a control-plane validation refusal.
fn refusal(answer: &Value) -> (String, String) {
    let detail = &answer["error"]["details"][0];
    (
        detail["field"].as_str().unwrap_or_default().to_owned(),
        detail["message"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn keys_of(page: &Page) -> usize {
    let (_, keys) = admin(page, "GET", "/keys", Value::Null).await;
    keys["data"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_bad_key_name_gets_the_same_refusal_through_the_control_plane_the_page_and_the_rust_api()
{
    let page = Page::start(builder()).await;
    let rust = mock().await;
    let before = keys_of(&page).await;
    for (name, message) in [
        ("   ", "must not be blank".to_owned()),
        ("CI\u{0}", "must not contain control characters".to_owned()),
        (
            "line\nbreak",
            "must not contain control characters".to_owned(),
        ),
        (
            &*"k".repeat(256),
            "must be at most 255 characters".to_owned(),
        ),
        (
            &*"k".repeat(900_000),
            "must be at most 255 characters".to_owned(),
        ),
    ] {
        let body = json!({"name": name, "mode": "test", "scope": "READ_WRITE"});
        let (status, answer) = admin(&page, "POST", "/keys", body).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(refusal(&answer), ("name".to_owned(), message.clone()));

        let form = page.create("owner", name, "test", "READ_WRITE").await;
        assert_eq!(
            form.status,
            400,
            "{}",
            &form.text[..form.text.len().min(300)]
        );
        let shown = form.text_of("#problem").unwrap_or_default();
        assert!(
            shown.contains("name") && shown.contains(&message),
            "{shown}"
        );

        let refused = rust.create_key(name, KeyMode::Test, KeyScope::ReadWrite);
        assert!(
            matches!(&refused, Err(MockError::InvalidName(e)) if e.field == "name" && e.message == message),
            "{refused:?}"
        );
    }
    assert_eq!(keys_of(&page).await, before, "nothing was created");
    assert_eq!(rust.keys().len(), 4, "nothing was created");
}

#[tokio::test]
async fn an_unknown_mode_or_scope_is_refused_by_the_page_as_by_the_control_plane() {
    let page = Page::start(builder()).await;
    let before = keys_of(&page).await;
    for (mode, scope, field) in [
        ("prod", "READ_WRITE", "mode"),
        ("", "READ_WRITE", "mode"),
        ("test", "read", "scope"),
        ("test", "READ-ONLY", "scope"),
    ] {
        let body = json!({"name": "CI", "mode": mode, "scope": scope});
        let (status, answer) = admin(&page, "POST", "/keys", body).await;
        assert_eq!(status, 400, "{mode} {scope}: {answer}");
        let form = page.create("owner", "CI", mode, scope).await;
        assert_eq!(form.status, 400, "{mode} {scope}");
        let shown = form.text_of("#problem").unwrap_or_default();
        assert!(shown.contains(field), "{mode} {scope}: {shown}");
        assert!(form.all("#token").is_empty());
        // The same one parser says no to the Rust API's spelling too.
        assert!(KeyMode::parse(mode).is_none() || KeyScope::parse(scope).is_none());
    }
    assert_eq!(keys_of(&page).await, before, "nothing was created");
}

#[tokio::test]
async fn the_page_reads_every_spelling_of_a_mode_and_scope_the_control_plane_reads() {
    let page = Page::start(builder()).await;
    for (mode, scope, want_mode, want_scope) in [
        ("LIVE", "read_only", "live", "READ_ONLY"),
        ("Live", "ReadOnly", "live", "READ_ONLY"),
        ("TEST", "read_write", "test", "READ_WRITE"),
    ] {
        let name = format!("spelled {mode} {scope}");
        let created = page.create("owner", &name, mode, scope).await;
        assert_eq!(created.status, 201, "{mode} {scope}");
        let (_, keys) = admin(&page, "GET", "/keys", Value::Null).await;
        let newest = keys["data"]
            .as_array()
            .and_then(|keys| keys.iter().find(|k| k["name"] == name.as_str()))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            (newest["mode"].as_str(), newest["scope"].as_str()),
            (Some(want_mode), Some(want_scope)),
            "{mode} {scope}"
        );
    }
}

#[tokio::test]
async fn member_names_with_control_characters_or_the_owners_look_alike_are_refused() {
    let page = Page::start(builder()).await;
    let rust = mock().await;
    for (name, status, code) in [
        ("ana\u{0}", 400, "validation_error"),
        ("\u{7}", 400, "validation_error"),
        ("ｏｗｎｅｒ", 409, "member_exists"),
    ] {
        let body = json!({"name": name, "role": "ADMIN"});
        let (got, answer) = admin(&page, "POST", "/teams/default/members", body).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{name:?}: {answer}"
        );
        let refused = rust.add_member("default", name, TeamRole::Admin);
        assert!(refused.is_err(), "{name:?}: {refused:?}");
    }
    let (_, members) = admin(&page, "GET", "/teams/default/members", Value::Null).await;
    assert_eq!(
        members["data"].as_array().map(Vec::len),
        Some(1),
        "{members}"
    );
    // Acting as the look-alike is acting as the Owner it normalises to.
    let key = rust
        .create_key_as(
            "default",
            "ｏｗｎｅｒ",
            "CI",
            KeyMode::Test,
            KeyScope::ReadOnly,
        )
        .expect("the Owner");
    assert_eq!(key.info.created_by, "owner");
}

#[tokio::test]
async fn a_team_name_keeps_the_same_rule() {
    let page = Page::start(builder()).await;
    let body = json!({"name": "CI", "mode": "test", "scope": "READ_WRITE", "team": "t\u{0}"});
    let (status, answer) = admin(&page, "POST", "/keys", body).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(refusal(&answer).0, "team");
    let (status, _) = admin(
        &page,
        "POST",
        &format!("/teams/{}/members", "t".repeat(101)),
        json!({"name": "ana", "role": "ADMIN"}),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_control_planes_product_list_refuses_an_unknown_mode() {
    let page = Page::start(builder()).await;
    let (status, answer) = admin(&page, "GET", "/products?mode=prod", Value::Null).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(refusal(&answer).0, "mode");
    let (status, _) = admin(&page, "GET", "/products?mode=LIVE", Value::Null).await;
    assert_eq!(status, 200);
}
