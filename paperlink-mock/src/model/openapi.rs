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
        // The pattern spans the whole value, so that it means the same to every engine:
        // JSON Schema searches, Python's `re.match` (openapi-generator's Python client)
        // anchors the start, and Java's `@Pattern` must match the whole value.
        for field in ["name", "sku"] {
            let pattern = create[field]["pattern"].as_str().expect("pattern");
            let class = regex_chars(
                pattern
                    .strip_prefix(r"^[\s\S]*[^")
                    .and_then(|p| p.strip_suffix(r"][\s\S]*$"))
                    .expect("any text around one character of a negated class"),
            );
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

    /// The characters of a regex character class's body, its escapes (`\t`, `\n`, `\f`,
    /// `\r`, `\xHH`, `\uHHHH`) decoded.
    fn regex_chars(class: &str) -> Vec<char> {
        let mut chars = class.chars();
        let mut out = Vec::new();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let hex = |chars: &mut std::str::Chars<'_>, n: usize| {
                let digits: String = chars.take(n).collect();
                u32::from_str_radix(&digits, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .expect("a hex escape")
            };
            out.push(match chars.next().expect("an escape") {
                't' => '\t',
                'n' => '\n',
                'f' => '\u{c}',
                'r' => '\r',
                'x' => hex(&mut chars, 2),
                'u' => hex(&mut chars, 4),
                other => panic!("an escape this test does not know: \\{other}"),
            });
        }
        out
    }

    /// Every string under `node`, with the key it is held under.
    fn strings<'a>(node: &'a serde_json::Value, key: &'a str, out: &mut Vec<(&'a str, &'a str)>) {
        match node {
            serde_json::Value::String(s) => out.push((key, s)),
            serde_json::Value::Array(items) => items.iter().for_each(|i| strings(i, key, out)),
            serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| strings(v, k, out)),
            _ => {}
        }
    }

    /// A generator writes a `pattern` into source code as a string literal: a raw TAB, LF or
    /// CR breaks the literal (openapi-generator's Python client), and other raw characters
    /// change the regex (its Java client). Every pattern is printable ASCII, with escapes.
    #[test]
    fn every_pattern_is_printable_ascii_with_regex_escapes() {
        let doc = document();
        let mut all = Vec::new();
        strings(&doc, "", &mut all);
        let patterns: Vec<&str> = all
            .iter()
            .filter(|(key, _)| *key == "pattern")
            .map(|(_, p)| *p)
            .collect();
        assert!(patterns.len() >= 4, "{patterns:?}");
        for pattern in patterns {
            assert!(
                pattern.chars().all(|c| (' '..='~').contains(&c)),
                "{pattern:?} holds a raw character"
            );
        }
    }

    /// Generators name an inline object schema after where it sits (`ErrorError`,
    /// `CreateProductResponse201`), and make one class per place: every object schema with
    /// properties is a named component, and every body is a `$ref` to one.
    #[test]
    fn every_body_and_object_schema_is_a_named_component() {
        fn inline(node: &serde_json::Value, at: String, root: bool, found: &mut Vec<String>) {
            match node {
                serde_json::Value::Object(map) => {
                    if !root && map.contains_key("properties") {
                        found.push(at.clone());
                    }
                    for (key, value) in map {
                        // Examples are data, not schemas.
                        if key != "examples" && key != "example" {
                            inline(value, format!("{at}/{key}"), false, found);
                        }
                    }
                }
                serde_json::Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        inline(item, format!("{at}/{i}"), false, found);
                    }
                }
                _ => {}
            }
        }
        let doc = document();
        let mut found = Vec::new();
        for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
            inline(schema, format!("schemas/{name}"), true, &mut found);
        }
        let responses = doc["components"]["responses"]
            .as_object()
            .expect("responses");
        let operations = doc["paths"]
            .as_object()
            .expect("paths")
            .values()
            .flat_map(|item| item.as_object().expect("path item").values());
        let mut bodies: Vec<&serde_json::Value> = responses.values().collect();
        for operation in operations {
            if let Some(r) = operation["responses"].as_object() {
                bodies.extend(r.values());
            }
            if operation.get("requestBody").is_some() {
                bodies.push(&operation["requestBody"]);
            }
        }
        for body in bodies {
            if let Some(content) = body["content"].as_object() {
                for media in content.values() {
                    if media["schema"].get("$ref").is_none() {
                        found.push(format!("an inline body schema: {}", media["schema"]));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "inline object schemas:\n{}",
            found.join("\n")
        );
    }

    /// A client passes the page's `nextCursor` on as `after`: both are typed alike.
    #[test]
    fn after_and_next_cursor_have_the_same_type_and_format() {
        let doc = document();
        let after = doc["paths"]["/products"]["get"]["parameters"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == "after"))
            .expect("after");
        let cursor = &doc["components"]["schemas"]["ProductPage"]["properties"]["nextCursor"];
        assert_eq!(after["schema"]["format"], cursor["format"]);
        assert_eq!(after["schema"]["type"], "string");
        assert_eq!(cursor["type"], serde_json::json!(["string", "null"]));
    }

    /// openapi-typescript makes a property with a `default` required in the request type, so
    /// a minimal create would not type-check: request fields carry no `default`, and the
    /// default the mock applies is stated in their description.
    #[test]
    fn request_fields_with_a_default_stay_optional_and_say_their_default() {
        use crate::model::{DEFAULT_PRODUCT_TYPE, DEFAULT_UNIT_OF_MEASURE};
        let doc = document();
        for schema in ["CreateProduct", "UpdateProduct"] {
            let properties = doc["components"]["schemas"][schema]["properties"]
                .as_object()
                .expect("properties");
            for (name, property) in properties {
                assert!(property.get("default").is_none(), "{schema}.{name}");
            }
        }
        let create = &doc["components"]["schemas"]["CreateProduct"];
        let required = create["required"].as_array().expect("required");
        for (field, default) in [
            ("type", DEFAULT_PRODUCT_TYPE),
            ("unitOfMeasure", DEFAULT_UNIT_OF_MEASURE),
        ] {
            assert!(!required.contains(&field.into()), "{field} is required");
            let description = create["properties"][field]["description"]
                .as_str()
                .unwrap_or_default();
            assert!(
                description.contains(&format!("`{default}`")),
                "{field}: {description}"
            );
        }
    }

    /// Operations are grouped by tag, the licence is stated, and `GET /openapi.json` says
    /// what it returns (this document, which must match it).
    #[test]
    fn operations_are_tagged_the_licence_is_stated_and_the_document_has_a_schema() {
        let doc = document();
        let declared: Vec<&str> = doc["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .map(|t| t["name"].as_str().expect("a tag name"))
            .collect();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                if method == "parameters" {
                    continue;
                }
                let tags = operation["tags"].as_array().expect("tags");
                assert!(!tags.is_empty(), "{method} {path}");
                for tag in tags {
                    assert!(declared.contains(&tag.as_str().expect("a tag")), "{tag}");
                }
            }
        }
        assert_eq!(doc["info"]["license"]["identifier"], "MIT OR Apache-2.0");
        let schema = &doc["paths"]["/openapi.json"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"];
        let name = schema["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .expect("a named schema");
        let schema = &doc["components"]["schemas"][name];
        for field in schema["required"].as_array().expect("required") {
            let field = field.as_str().expect("a field");
            assert!(doc.get(field).is_some(), "the document has no {field}");
        }
        assert!(schema["required"].as_array().is_some_and(|r| r.len() >= 3));
    }

    /// Prices stay JSON numbers, and the document tells users of generated clients that
    /// these read as floats and how to keep them exact.
    #[test]
    fn prices_say_they_are_json_numbers_and_how_to_keep_them_exact() {
        let doc = document();
        for schema in ["Product", "CreateProduct", "UpdateProduct"] {
            for field in ["unitPrice", "taxRate"] {
                let property = &doc["components"]["schemas"][schema]["properties"][field];
                let types = &property["type"];
                assert!(
                    types == "number" || types == &serde_json::json!(["number", "null"]),
                    "{schema}.{field}"
                );
                let description = property["description"].as_str().unwrap_or_default();
                for words in ["JSON number", "float", "parse_float=Decimal", "BigDecimal"] {
                    assert!(description.contains(words), "{schema}.{field}: {words}");
                }
            }
        }
    }

    /// Every operation declares the `421 host_not_allowed` answer, with its request id.
    #[test]
    fn every_operation_declares_421_host_not_allowed() {
        let doc = document();
        let resolve = |node: &serde_json::Value| -> serde_json::Value {
            match node["$ref"].as_str() {
                Some(r) => r
                    .trim_start_matches("#/")
                    .split('/')
                    .fold(&doc, |at, part| &at[part])
                    .clone(),
                None => node.clone(),
            }
        };
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                if method == "parameters" {
                    continue;
                }
                let response = resolve(&operation["responses"]["421"]);
                assert!(
                    response["headers"]["X-Request-Id"].is_object(),
                    "{method} {path}"
                );
                let codes: Vec<&str> = response["content"]["application/json"]["examples"]
                    .as_object()
                    .into_iter()
                    .flat_map(|e| e.values())
                    .filter_map(|e| e["value"]["error"]["code"].as_str())
                    .collect();
                assert_eq!(codes, ["host_not_allowed"], "{method} {path}");
            }
        }
    }
}
