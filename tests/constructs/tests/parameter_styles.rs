//! Parameters in the styles progenitor does not write (matrix, label,
//! space- and pipe-delimited) reach the wire as each style spells them.

use apikeys_constructs::parameter_styles::Client;
use httpmock::prelude::*;

#[tokio::test]
async fn each_style_is_spelt_as_openapi_defines_it() {
    let server = MockServer::start_async().await;
    let found = server.mock(|when, then| {
        when.method(GET)
            .path("/shelves/;shelf=top/.3")
            .query_param("words", "old maps")
            .query_param("tags", "rare|signed")
            .query_param("ids", "1")
            .query_param("ids", "2");
        then.status(204);
    });
    let client = Client::builder()
        .base_url(server.base_url())
        .build()
        .unwrap();
    let answer = client
        .find_books(
            "top",
            3,
            Some(&vec![1, 2]),
            Some("rare|signed"),
            Some("old maps"),
        )
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 204);
    assert_eq!(found.calls(), 1);
}
