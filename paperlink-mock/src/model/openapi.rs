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
}
