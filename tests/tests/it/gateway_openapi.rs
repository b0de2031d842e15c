//! `/openapi.json`: an OpenAPI 3.1 document, generated from the code, that
//! describes every route the gateway serves, with every reference resolving.

use serde_json::Value;
use switchboard_tests::TestApp;

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_is_3_1_describes_every_route_and_every_reference_resolves() {
    let app = TestApp::spawn().await;
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let expected = [
        ("/api/inquiries", "post"),
        ("/api/inquiries", "get"),
        ("/api/inquiries/{id}", "get"),
        ("/api/inquiries/{id}/status", "get"),
        ("/api/inquiries/{id}/events", "get"),
        ("/api/inquiries/{id}/escalate", "post"),
        ("/api/inquiries/{id}/resolve", "post"),
        ("/api/reservations", "post"),
        ("/chat", "post"),
        ("/confirm/{token}", "get"),
        ("/respond", "post"),
        ("/r/{token}", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/openapi.json", "get"),
    ];
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in expected {
        let operation = &paths.get(path).unwrap_or_else(|| panic!("{path} undocumented"))[method];
        assert!(operation.is_object(), "{method} {path} undocumented");
        let responses = operation["responses"].as_object().unwrap_or_else(|| panic!("{method} {path} has no responses"));
        assert!(!responses.is_empty());
        for (code, response) in responses {
            assert!(code.parse::<u16>().is_ok(), "{method} {path}: response {code}");
            assert!(response["description"].is_string(), "{method} {path} {code} lacks a description");
        }
        // Path parameters are declared.
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            let declared = operation["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
            assert!(declared, "{method} {path} does not declare {name}");
        }
    }
    // Errors are documented as problem+json.
    let not_found = &paths["/api/inquiries/{id}"]["get"]["responses"]["404"]["content"];
    assert!(not_found.get("application/problem+json").is_some(), "{not_found}");
    // Authenticated operations name the API key scheme, and it exists.
    assert_eq!(doc["components"]["securitySchemes"]["api_key"]["name"], "x-api-key");
    assert!(paths["/api/inquiries"]["post"]["security"][0].get("api_key").is_some());

    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(schemas.contains_key(name), "{r} does not resolve");
    }
    for (name, schema) in schemas {
        assert!(schema.is_object(), "schema {name}");
    }
    app.stop().await;
}
