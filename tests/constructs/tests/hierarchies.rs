//! A discriminated hierarchy whose children extend their parent keeps
//! every child: a group of shapes decodes as a group, its members as what
//! they are.

#[path = "../../common/mod.rs"]
mod common;

use apikeys_constructs::hierarchies::{Client, types};
use common::{Reply, ScriptedServer};

#[tokio::test]
async fn a_recursive_union_reads_every_child_as_what_it_is() {
    let server = ScriptedServer::start(vec![Reply::json(
        200,
        r#"{"shapeType":"group","label":"top","members":[
            {"shapeType":"circle","radius":2.5},
            {"shapeType":"group","members":[{"shapeType":"circle","radius":1}]}
        ]}"#,
    )])
    .await;
    let client = Client::builder()
        .base_url(&server.base_url)
        .build()
        .unwrap();
    let drawing = client.get_drawing("d1").await.unwrap().into_inner();
    let types::Shape::Group(top) = drawing else {
        panic!("the top shape is a group: {drawing:?}");
    };
    assert_eq!(top.label.as_deref(), Some("top"));
    assert!(
        matches!(&top.members[0], types::Shape::Circle(c) if c.radius == 2.5),
        "{:?}",
        top.members[0]
    );
    let types::Shape::Group(inner) = &top.members[1] else {
        panic!("the second member is a group: {:?}", top.members[1]);
    };
    assert!(matches!(&inner.members[0], types::Shape::Circle(c) if c.radius == 1.0));
}
