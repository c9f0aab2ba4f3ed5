//! The OpenAPI 3.1 document served at `GET /api/v1/openapi.json`, describing exactly what the
//! mock does, errors included.

/// The document.
pub const DOCUMENT: &str = include_str!("../../openapi.json");

#[cfg(test)]
mod tests {
    use super::DOCUMENT;
    use crate::engine::API_ROUTES;

    #[test]
    fn every_served_route_and_method_is_documented() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("valid JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().expect("paths");
        assert_eq!(paths.len(), API_ROUTES.len());
        for (path, methods) in API_ROUTES {
            let item = &paths[*path];
            for method in *methods {
                assert!(
                    item.get(method.to_lowercase()).is_some(),
                    "{method} {path} is not documented"
                );
            }
        }
    }

    fn document() -> serde_json::Value {
        serde_json::from_str(DOCUMENT).expect("valid JSON")
    }

    #[test]
    fn the_mock_itself_is_the_first_server() {
        let doc = document();
        assert_eq!(doc["servers"][0]["url"], "/api/v1");
        assert_eq!(
            doc["servers"][1]["url"],
            "https://app.paperlink.online/api/v1"
        );
    }

    #[test]
    fn every_schema_and_response_has_an_example() {
        let doc = document();
        for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
            assert!(
                schema["examples"].is_array(),
                "schema {name} has no example"
            );
        }
        let responses = doc["components"]["responses"]
            .as_object()
            .expect("responses");
        let inline = doc["paths"]
            .as_object()
            .expect("paths")
            .values()
            .flat_map(|item| item.as_object().expect("path item").values())
            .filter_map(|op| op["responses"].as_object())
            .flat_map(|r| r.values())
            .filter(|r| r.get("$ref").is_none());
        for response in responses.values().chain(inline) {
            let content = &response["content"]["application/json"];
            assert!(
                content["examples"]
                    .as_object()
                    .is_some_and(|e| !e.is_empty()),
                "{response}"
            );
        }
        for header in doc["components"]["headers"]
            .as_object()
            .expect("headers")
            .values()
        {
            assert!(header.get("example").is_some(), "{header}");
        }
    }

    #[test]
    fn a_create_links_to_get_patch_and_delete() {
        let doc = document();
        let links = &doc["paths"]["/products"]["post"]["responses"]["201"]["links"];
        for (link, operation) in [
            ("getProduct", "getProduct"),
            ("updateProduct", "updateProduct"),
            ("deleteProduct", "deleteProduct"),
        ] {
            assert_eq!(links[link]["operationId"], operation);
            assert_eq!(links[link]["parameters"]["id"], "$response.body#/data/id");
        }
    }

    /// The document's rules are the server's: each is read from the document and checked
    /// against the constant or function the server enforces.
    #[test]
    fn the_rules_the_server_enforces_are_in_the_schema() {
        use crate::engine::idempotency::MAX_IDEMPOTENCY_KEY;
        use crate::model::number::MAX_NUMBER;
        use crate::model::{MAX_NAME, MAX_SKU};

        let doc = document();
        let list = &doc["paths"]["/products"]["get"]["parameters"];
        let after = list
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == "after"))
            .expect("after");
        assert_eq!(after["schema"]["minLength"], 1);
        let key = &doc["paths"]["/products"]["post"]["parameters"][0]["schema"];
        assert_eq!(key["maxLength"], MAX_IDEMPOTENCY_KEY);
        assert_eq!(key["pattern"], "^[!-~]+$");
        let create = &doc["components"]["schemas"]["CreateProduct"]["properties"];
        assert_eq!(create["name"]["maxLength"], MAX_NAME);
        assert_eq!(create["sku"]["maxLength"], MAX_SKU);
        // A float would round it: read the number's own text.
        assert!(DOCUMENT.contains(&format!(r#""maximum": {MAX_NUMBER},"#)));
        assert_eq!(create["taxRate"]["maximum"], 100);
        // "Not blank" is "holds a character that is not whitespace", as Rust's `trim` counts
        // whitespace: the class lists exactly the characters `char::is_whitespace` accepts.
        for field in ["name", "sku"] {
            let pattern = create[field]["pattern"].as_str().expect("pattern");
            let class: Vec<char> = pattern
                .strip_prefix("[^")
                .and_then(|p| p.strip_suffix(']'))
                .expect("a negated class")
                .chars()
                .collect();
            let mut blank = std::collections::BTreeSet::new();
            let mut i = 0;
            while i < class.len() {
                if class.get(i + 1) == Some(&'-') && i + 2 < class.len() {
                    blank.extend(class[i]..=class[i + 2]);
                    i += 3;
                } else {
                    blank.insert(class[i]);
                    i += 1;
                }
            }
            let whitespace: std::collections::BTreeSet<char> =
                ('\0'..=char::MAX).filter(|c| c.is_whitespace()).collect();
            assert_eq!(blank, whitespace, "{field}");
        }
    }
}
