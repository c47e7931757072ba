//! Constructs found in specs others publish, generated from our own
//! `specs/real_world.yaml` and called against a loopback server: what goes
//! on the wire for the rewritten parameters, and that the renamed and
//! re-homed types decode.

#[path = "../../common/mod.rs"]
mod common;

use apikeys_constructs::real_world::{Client, types};
use apikeys_runtime::deps::uuid::Uuid;
use common::{Reply, ScriptedServer};

fn client(base: &str) -> Client {
    Client::builder().base_url(base).build().unwrap()
}

#[tokio::test]
async fn a_deep_object_and_a_list_header_go_out_as_the_spec_spells_them() {
    let server = ScriptedServer::start(vec![Reply::json(
        200,
        r#"[{"id":"k1","owner":null,"tier":"enterprise.v9","limit":7}]"#,
    )])
    .await;
    let keys = client(&server.base_url)
        .list_keys(Some("ops team"), Some(3), Some("a,b"))
        .await
        .unwrap()
        .into_inner();
    // A top-level nullable component reads `null`; an enum value the
    // spec does not list is kept.
    assert!(keys[0].owner.is_none());
    assert_eq!(
        keys[0].tier,
        Some(types::KeyTier::Unknown("enterprise.v9".into()))
    );
    let seen = &server.requests()[0];
    assert_eq!(seen.path, "/keys?filter%5Bowner%5D=ops+team&gen=3");
    assert_eq!(seen.header("x-trace-ids"), Some("a,b"));
}

#[tokio::test]
async fn a_deep_object_of_maps_and_objects_goes_out_field_by_field() {
    let server = ScriptedServer::start(vec![
        Reply::json(204, ""),
        Reply::json(204, ""),
        Reply::json(200, ""),
    ])
    .await;
    let c = client(&server.base_url);
    let created = std::collections::HashMap::from([("gt".to_owned(), "2026-01-01".to_owned())]);
    let window = types::ListEventsWindow {
        from: Some(types::ListEventsWindowFrom { day: Some(3) }),
    };
    c.list_events(Some(&created), Some(&window)).await.unwrap();
    c.list_events(None, None).await.unwrap();
    let crop = types::GetAvatarCrop {
        box_: Some(types::GetAvatarCropBox { x: Some(-4) }),
    };
    c.get_avatar("k1", Some(&crop)).await.unwrap();
    let seen = server.requests();
    assert_eq!(seen[2].path, "/keys/k1/avatar?crop%5Bbox%5D%5Bx%5D=-4");
    assert_eq!(
        seen[0].path,
        "/events?created%5Bgt%5D=2026-01-01&window%5Bfrom%5D%5Bday%5D=3"
    );
    assert_eq!(seen[1].path, "/events");
}

#[tokio::test]
async fn renamed_operations_and_rehomed_types_call_their_own_paths() {
    let id = Uuid::from_u128(0x1234);
    let server = ScriptedServer::start(vec![
        Reply::json(200, r#"{"id":"old"}"#),
        Reply::json(200, r#"{"id":"new"}"#),
        Reply::json(201, r#"{"key":{"id":"k2"},"secret":"s"}"#),
        Reply::json(200, r#"{"count":2,"size":1.5}"#),
    ])
    .await;
    let c = client(&server.base_url);
    // `GetKey` and `getKey` would be one method: the second is `get_key2`.
    assert_eq!(c.get_key("a").await.unwrap().into_inner().id, "old");
    let by_uuid = c.get_key2(&id).await.unwrap().into_inner();
    assert_eq!(by_uuid.id.as_deref(), Some("new"));
    // The inline answer, whose invented name a component has, is
    // `CreateKeyResponse2`; the component `CreateKeyResponse` is untouched.
    let body = types::CreateKeyBody {
        name: "n".into(),
        gen_: None,
    };
    let created: types::CreateKeyResponse2 = c.create_key(&body).await.unwrap().into_inner();
    assert_eq!(created.secret.as_deref(), Some("s"));
    // `gen` is a keyword in Rust 2024: the method is `gen_`. Defaults that
    // did not fit their schema are gone: an absent `since` is `None`.
    let generation = c.gen_("g1", Some("v1.0")).await.unwrap().into_inner();
    assert_eq!(generation.count.map(|c| c.get()), Some(2));
    assert!(generation.since.is_none());

    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/Keys/a".to_owned(),
            format!("/keys/{id}"),
            "/keys".to_owned(),
            "/generations/g1?channel=v1.0".to_owned(),
        ]
    );
}

#[tokio::test]
async fn no_operation_is_skipped_and_the_mock_helpers_match_every_one() {
    use apikeys_constructs::real_world::mock::MockServerExt;
    let server = httpmock::MockServer::start_async().await;
    let mock = server.get_key(|when, then| {
        when.key_id("a/b");
        then.ok(&types::Key {
            id: "k".into(),
            code: None,
            gen_: None,
            limit: None,
            link: None,
            owner: None,
            tier: None,
        });
    });
    let key = client(&server.base_url())
        .get_key("a/b")
        .await
        .unwrap()
        .into_inner();
    assert_eq!(key.id, "k");
    mock.assert();
    // A deepObject map is matched field by field, as it is sent.
    let created = std::collections::HashMap::from([("gt".to_owned(), "2026-01-01".to_owned())]);
    let events = server.list_events(|when, then| {
        when.created(&created);
        then.no_content();
    });
    client(&server.base_url())
        .list_events(Some(&created), None)
        .await
        .unwrap();
    events.assert();
    // uploadAvatar (multipart) is a form the caller builds, matched by a
    // part; no operation of the spec is skipped.
    let header = include_str!(concat!(env!("OUT_DIR"), "/real_world.rs"));
    let skipped: Vec<&str> = header
        .lines()
        .take_while(|l| l.starts_with("//"))
        .filter(|l| l.starts_with("// skipped:"))
        .collect();
    assert!(skipped.is_empty(), "{skipped:?}");
    let uploaded = server.upload_avatar(|when, then| {
        when.key_id("k1").part("file", "PNG");
        then.no_content();
    });
    let form = apikeys_runtime::deps::multipart::Form::new().part(
        "file",
        apikeys_runtime::deps::multipart::Part::bytes(b"\x89PNG".to_vec()).file_name("a.png"),
    );
    client(&server.base_url())
        .upload_avatar("k1", form)
        .await
        .unwrap();
    uploaded.assert();
}

#[tokio::test]
async fn an_xml_body_goes_out_as_the_callers_bytes_with_its_type() {
    let server = ScriptedServer::start(vec![Reply::json(200, r#"{"name":"ops"}"#)]).await;
    let xml = b"<export><format>pem</format></export>".to_vec();
    let owner = client(&server.base_url)
        .export_key("k1", xml.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(owner.and_then(|o| o.name).as_deref(), Some("ops"));
    let seen = &server.requests()[0];
    assert_eq!(seen.header("content-type"), Some("application/xml"));
    assert_eq!(seen.body, xml);
}
