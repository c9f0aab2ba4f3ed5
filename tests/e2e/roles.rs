//! Team roles, as Paperlink's dashboard has them: only an Owner or an Admin manages API keys,
//! and each team has exactly one Owner. Through the control plane (both front doors) and the
//! in-process Rust API, as an integrator uses them.

use paperlink_mock::bounds::DEFAULT_OWNER;
use paperlink_mock::{KeyMode, KeyScope, MockError, TeamRole};

use crate::helpers::{Door, Http, builder, mock};

const DOORS: [Door; 2] = [Door::InProcess, Door::Standalone];

#[tokio::test]
async fn only_an_owner_or_an_admin_creates_or_revokes_keys_over_the_control_plane() {
    for door in DOORS {
        let m = Http::start(door, builder()).await;
        for (name, role) in [("ana", "ADMIN"), ("mia", "manager"), ("mo", "Member")] {
            let body = format!(r#"{{"name":"{name}","role":"{role}"}}"#);
            let added = m.admin("POST", "/teams/default/members", Some(&body)).await;
            assert_eq!(added.status, 201, "{door:?}: {}", added.text);
        }
        let key = |by: &str| {
            format!(r#"{{"name":"CI","mode":"test","scope":"READ_ONLY","createdBy":"{by}"}}"#)
        };
        for by in ["mia", "mo"] {
            let refused = m.admin("POST", "/keys", Some(&key(by))).await;
            assert_eq!(refused.status, 403, "{door:?} {by}");
            assert_eq!(refused.code().as_deref(), Some("role_insufficient"));
        }
        let stranger = m.admin("POST", "/keys", Some(&key("zed"))).await;
        assert_eq!(stranger.code().as_deref(), Some("member_not_found"));
        let made = m.admin("POST", "/keys", Some(&key("ana"))).await;
        assert_eq!(made.status, 201);
        assert_eq!(made.data()["createdBy"], "ana");
        let by_owner = m
            .admin(
                "POST",
                "/keys",
                Some(r#"{"name":"n","mode":"live","scope":"READ_WRITE"}"#),
            )
            .await;
        assert_eq!(
            by_owner.data()["createdBy"],
            DEFAULT_OWNER,
            "no member named: the Owner"
        );

        let id = made.data()["id"].as_str().unwrap().to_owned();
        let revoke = |by: &str| format!(r#"{{"revokedBy":"{by}"}}"#);
        let refused = m
            .admin("POST", &format!("/keys/{id}/revoke"), Some(&revoke("mo")))
            .await;
        assert_eq!(refused.status, 403);
        let token = made.data()["token"].as_str().unwrap().to_owned();
        assert_eq!(m.get("/products", &token).await.status, 200, "still in use");
        let revoked = m
            .admin("POST", &format!("/keys/{id}/revoke"), Some(&revoke("ana")))
            .await;
        assert_eq!(revoked.data()["revokedBy"], "ana");
        // Another team's Admin is a stranger here.
        let other = m
            .admin(
                "POST",
                "/teams/other/members",
                Some(r#"{"name":"olga","role":"ADMIN"}"#),
            )
            .await;
        assert_eq!(other.status, 201);
        let foreign = m
            .admin(
                "POST",
                &format!("/keys/{}/revoke", by_owner.data()["id"].as_str().unwrap()),
                Some(&revoke("olga")),
            )
            .await;
        assert_eq!(foreign.code().as_deref(), Some("member_not_found"));
    }
}

#[tokio::test]
async fn each_team_has_exactly_one_owner_over_the_control_plane() {
    let m = Http::start(Door::Standalone, builder()).await;
    let members = "/teams/default/members";
    let roles = |reply: crate::helpers::Reply| -> Vec<(String, String)> {
        reply
            .data()
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["name"].as_str().unwrap().into(),
                    m["role"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    assert_eq!(
        roles(m.admin("GET", members, None).await),
        [("owner".to_owned(), "OWNER".to_owned())]
    );
    let second = m
        .admin("POST", members, Some(r#"{"name":"x","role":"OWNER"}"#))
        .await;
    assert_eq!(
        (second.status, second.code().as_deref()),
        (409, Some("one_owner"))
    );
    m.admin("POST", members, Some(r#"{"name":"ana","role":"MEMBER"}"#))
        .await;
    let demote = m
        .admin(
            "PATCH",
            &format!("{members}/owner"),
            Some(r#"{"role":"ADMIN"}"#),
        )
        .await;
    assert_eq!(demote.code().as_deref(), Some("one_owner"));
    let transfer = m
        .admin(
            "PATCH",
            &format!("{members}/ana"),
            Some(r#"{"role":"OWNER"}"#),
        )
        .await;
    assert_eq!(transfer.status, 200);
    assert_eq!(
        roles(m.admin("GET", members, None).await),
        [
            ("ana".to_owned(), "OWNER".to_owned()),
            ("owner".to_owned(), "ADMIN".to_owned())
        ]
    );
    let blank = m
        .admin("POST", members, Some(r#"{"name":"  ","role":"ADMIN"}"#))
        .await;
    assert_eq!(blank.status, 400);
    let bad_role = m
        .admin("POST", members, Some(r#"{"name":"z","role":"KING"}"#))
        .await;
    assert_eq!(bad_role.status, 400);
    assert_eq!(m.admin("POST", "/reset", None).await.status, 200);
    assert_eq!(
        roles(m.admin("GET", members, None).await),
        [("owner".to_owned(), "OWNER".to_owned())],
        "a reset returns the team to its first Owner"
    );
}

#[tokio::test]
async fn the_rust_api_follows_the_same_rules() {
    let mock = mock().await;
    mock.add_member("default", "ana", TeamRole::Admin).unwrap();
    mock.add_member("default", "mo", TeamRole::Member).unwrap();
    assert!(matches!(
        mock.add_member("default", "x", TeamRole::Owner),
        Err(MockError::OneOwner(_))
    ));
    let refused = mock.create_key_as("default", "mo", "CI", KeyMode::Test, KeyScope::ReadOnly);
    assert!(
        matches!(&refused, Err(MockError::RoleInsufficient { member, role }) if member == "mo" && *role == TeamRole::Member),
        "{refused:?}"
    );
    assert!(matches!(
        mock.create_key_as("default", "zed", "CI", KeyMode::Test, KeyScope::ReadOnly),
        Err(MockError::UnknownMember { .. })
    ));
    let key = mock
        .create_key_as("default", "ana", "CI", KeyMode::Test, KeyScope::ReadOnly)
        .unwrap();
    assert_eq!(key.info.created_by, "ana");
    assert!(matches!(
        mock.revoke_key_as(key.info.id, "mo"),
        Err(MockError::RoleInsufficient { .. })
    ));
    assert_eq!(
        mock.revoke_key_as(key.info.id, "ana")
            .unwrap()
            .revoked_by
            .as_deref(),
        Some("ana")
    );
    let by_owner = mock
        .create_key("plain", KeyMode::Live, KeyScope::ReadOnly)
        .unwrap();
    assert_eq!(by_owner.info.created_by, DEFAULT_OWNER);
    assert_eq!(
        mock.revoke_key(by_owner.info.id)
            .unwrap()
            .revoked_by
            .as_deref(),
        Some(DEFAULT_OWNER)
    );

    mock.set_member_role("default", "mo", TeamRole::Owner)
        .unwrap();
    let members = mock.members("default");
    assert_eq!(members[0].name, "mo");
    assert_eq!(
        members.iter().filter(|m| m.role == TeamRole::Owner).count(),
        1
    );
    assert!(matches!(
        mock.remove_member("default", "mo"),
        Err(MockError::OneOwner(_))
    ));
    assert_eq!(
        mock.remove_member("default", "ana").unwrap().role,
        TeamRole::Admin
    );
    // A new team starts with its own first Owner.
    assert_eq!(mock.members("suite-42")[0].name, DEFAULT_OWNER);
}
