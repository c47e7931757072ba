//! The tolerance rules of the codegen, on a spec of our own: each answer is
//! one a real service gives beside what its spec says.

#[path = "../../common/mod.rs"]
mod common;

use apikeys_constructs::tolerance::{Client, types};
use apikeys_runtime::{AuthorizationHeader, ErrorKind, Secret};
use common::{Reply, ScriptedServer};

fn client(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .auth(AuthorizationHeader::bearer(&Secret::new("t0ken")).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn unknown_enum_values_nulls_and_loose_scalars_decode() {
    let server = ScriptedServer::start(vec![Reply::json(
        200,
        r#"{"widgets":[
            {"name":"a","state":"suspended","flavour":"plain.v1","active":"true","count":"3","seen":"2026-11-01T10:00:00","tags":null},
            {"name":"b","state":"active","flavour":"smoky","active":false,"count":4}
        ]}"#,
    )])
    .await;
    let list = client(&server.base_url)
        .list_widgets()
        .await
        .unwrap()
        .into_inner();
    let (a, b) = (&list.widgets[0], &list.widgets[1]);
    assert_eq!(a.state, Some(types::State::Unknown("suspended".into())));
    assert_eq!(a.flavour, Some(types::WidgetFlavour::PlainV1));
    assert_eq!((a.active, a.count), (Some(true), Some(3)));
    assert_eq!(a.seen.unwrap().to_rfc3339(), "2026-11-01T10:00:00+00:00");
    assert_eq!(a.tags, None);
    assert_eq!(b.state, Some(types::State::Active));
    assert_eq!(
        b.flavour,
        Some(types::WidgetFlavour::Unknown("smoky".into()))
    );
    // Written back as they came; parsing a string stays strict.
    let written = serde_json::to_value(a).unwrap();
    assert_eq!(written["state"], "suspended");
    assert_eq!(a.state.as_ref().unwrap().to_string(), "suspended");
    assert!("suspended".parse::<types::State>().is_err());
    assert_eq!(written["active"], true);
}

#[tokio::test]
async fn any_2xx_is_a_success_and_empty_bodies_are_accepted() {
    let server = ScriptedServer::start(vec![
        Reply::json(200, r#"{"name":"made"}"#),
        Reply::json(204, ""),
        Reply::json(200, r#"{"name":"dropped"}"#),
        Reply::json(200, ""),
    ])
    .await;
    let c = client(&server.base_url);
    let body = types::Widget {
        name: "made".into(),
        tags: Some(vec![]),
        ..serde_json::from_str(r#"{"name":"x"}"#).unwrap()
    };
    let made = c.make_widget(&body).await.expect("200 for a declared 201");
    assert_eq!(made.into_inner().name, "made");
    let dropped = c.drop_widget("w1").await.expect("204 without a body");
    assert!(dropped.into_inner().is_none());
    let dropped = c.drop_widget("w1").await.unwrap().into_inner();
    assert_eq!(dropped.unwrap().name, "dropped");
    c.touch_widget("w1").await.expect("200 for a declared 204");
    let sent: serde_json::Value = serde_json::from_slice(&server.requests()[0].body).unwrap();
    assert_eq!(
        sent["tags"],
        serde_json::json!([]),
        "an emptied list is sent"
    );
    assert!(sent.get("state").is_none(), "an unset value is not");
    let touched = &server.requests()[3];
    assert_eq!(touched.header("content-length"), Some("0"));
}

#[tokio::test]
async fn path_parameters_never_leave_their_segment() {
    let server = ScriptedServer::start(vec![Reply::json(204, "")]).await;
    let c = client(&server.base_url);
    for id in ["", ".", ".."] {
        let err = c.touch_widget(id).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(err.to_string().contains("`widget_id`"), "{err}");
    }
    c.touch_widget("a/../b?c#d").await.unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/widgets/a%2F..%2Fb%3Fc%23d");
}

#[test]
fn an_api_with_security_needs_credentials() {
    let err = Client::builder().build().unwrap_err();
    assert!(err.to_string().contains(".auth("), "{err}");
}
