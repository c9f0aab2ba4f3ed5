//! What a run creates, and archiving it at the end. Every product the drift check creates is
//! named with a marker unique to the run; every answer that shows such a product is noted, and
//! at the end (after a failure too) the newest active products are searched for the marker
//! (a create whose answer was lost) and every one not archived is archived. What could not
//! be is listed.

use http::Method;
use serde_json::Value;

use crate::http::{Answer, Auth, Call, Side};
use crate::observe;

/// Active products searched for the marker at the end (the newest; the run's are among them).
const SWEEP: &str = "20";

/// The marker in the names (and SKUs) of the products one run creates.
#[derive(Debug, Clone)]
pub(crate) struct Marker {
    tag: String,
}

impl Marker {
    /// A new marker, random.
    pub(crate) fn new() -> Self {
        let random = uuid::Uuid::new_v4().simple().to_string();
        Self {
            tag: random.chars().take(12).collect(),
        }
    }

    /// What every created product's name starts with: `[paperlink-drift 1a2b3c4d5e6f]`.
    pub(crate) fn name(&self) -> String {
        format!("[paperlink-drift {}]", self.tag)
    }

    /// The run's SKU (products of a run share it, to provoke conflicts).
    pub(crate) fn sku(&self) -> String {
        format!("PLDRIFT-{}", self.tag.to_ascii_uppercase())
    }

    /// An `Idempotency-Key` unique to the run.
    pub(crate) fn idempotency_key(&self, what: &str) -> String {
        format!("paperlink-drift-{}-{what}", self.tag)
    }
}

/// A product the run created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Created {
    /// Its id.
    pub(crate) id: String,
    /// Whether the last answer about it showed it archived.
    pub(crate) archived: bool,
}

/// Everything one run created.
#[derive(Debug)]
pub(crate) struct Tracked {
    marker: Marker,
    products: Vec<Created>,
    /// Whether a request that may create was sent (only then is a sweep needed).
    wrote: bool,
}

/// What the clean-up did.
#[derive(Debug, Default, Clone)]
pub(crate) struct Cleanup {
    /// Products created by the run (all of them, archived or not).
    pub(crate) created: usize,
    /// Archived by the clean-up itself.
    pub(crate) archived_now: usize,
    /// Left behind, with the reason.
    pub(crate) not_archived: Vec<(String, String)>,
}

impl Tracked {
    /// Nothing yet.
    pub(crate) fn new(marker: Marker) -> Self {
        Self {
            marker,
            products: Vec::new(),
            wrote: false,
        }
    }

    /// The run's marker.
    pub(crate) fn marker(&self) -> &Marker {
        &self.marker
    }

    /// Notes that a request that may create is about to be sent.
    pub(crate) fn wrote(&mut self) {
        self.wrote = true;
    }

    /// Notes what an answer shows of the run's products; `deleted` is the id a `DELETE`
    /// named (a bodiless `2xx` to it archives). Returns whether a product new to the run
    /// appeared.
    pub(crate) fn note(&mut self, answer: &Answer, deleted: Option<&str>) -> bool {
        if !(200..300).contains(&answer.status) {
            return false;
        }
        if let Some(id) = deleted
            && answer.json().is_none()
            && let Some(known) = self.products.iter_mut().find(|p| p.id == id)
        {
            known.archived = true;
        }
        let Some(product) = observe::data_object(answer) else {
            return false;
        };
        self.note_product(product)
    }

    fn note_product(&mut self, product: &serde_json::Map<String, Value>) -> bool {
        let field = |name: &str| product.get(name).and_then(Value::as_str);
        let (Some(id), Some(name)) = (field("id"), field("name")) else {
            return false;
        };
        if !name.contains(&self.marker.name()) {
            return false;
        }
        let archived = field("status") == Some("archived");
        match self.products.iter_mut().find(|p| p.id == id) {
            Some(known) => {
                known.archived = archived;
                false
            }
            None => {
                self.products.push(Created {
                    id: id.to_owned(),
                    archived,
                });
                true
            }
        }
    }
}

/// Archives every product the run created and left active, on the target, with the write
/// key (from the requests set aside for it). Never fails: what it cannot do is reported.
pub(crate) async fn archive(side: &mut Side, tracked: &mut Tracked) -> Cleanup {
    let mut report = Cleanup::default();
    if !tracked.wrote || side.write_key().is_none() {
        report.created = tracked.products.len();
        return report;
    }
    let sweep = Call::new(Method::GET, ["products"])
        .query("status", "active")
        .query("limit", SWEEP)
        .auth(Auth::Write)
        .paid_from_reserve();
    if let Ok(listed) = side.send(None, &sweep).await
        && (200..300).contains(&listed.status)
        && let Some(items) = listed
            .json()
            .and_then(|v| v.pointer("/data/data"))
            .and_then(Value::as_array)
    {
        for item in items.iter().filter_map(Value::as_object) {
            tracked.note_product(item);
        }
    }
    report.created = tracked.products.len();
    for product in tracked.products.iter_mut().filter(|p| !p.archived) {
        let call = Call::new(Method::DELETE, ["products", product.id.as_str()])
            .auth(Auth::Write)
            .paid_from_reserve();
        match side.send(None, &call).await {
            Ok(answer) if (200..300).contains(&answer.status) => {
                let shown = observe::data_object(&answer).and_then(|d| d.get("status"));
                if shown.is_none_or(|s| s == "archived") {
                    product.archived = true;
                    report.archived_now += 1;
                } else {
                    report.not_archived.push((
                        product.id.clone(),
                        format!(
                            "DELETE answered {} but the product is not archived",
                            answer.status
                        ),
                    ));
                }
            }
            Ok(answer) => report.not_archived.push((
                product.id.clone(),
                format!("DELETE answered {}", observe::error_text(&answer)),
            )),
            Err(error) => report
                .not_archived
                .push((product.id.clone(), error.to_string())),
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Body;

    fn answer(status: u16, value: Value) -> Answer {
        Answer {
            status,
            headers: http::HeaderMap::new(),
            body: Body::Json {
                raw: bytes::Bytes::from(value.to_string()),
                value,
            },
        }
    }

    #[test]
    fn only_products_named_with_the_runs_marker_are_tracked() {
        let marker = Marker::new();
        let mut tracked = Tracked::new(marker.clone());
        let ours = serde_json::json!({"data": {"id": "a", "name": format!("{} product", marker.name()), "status": "active"}});
        let theirs =
            serde_json::json!({"data": {"id": "b", "name": "Web Design", "status": "active"}});
        assert!(tracked.note(&answer(201, ours), None));
        assert!(!tracked.note(&answer(201, theirs), None));
        assert!(!tracked.note(
            &answer(
                409,
                serde_json::json!({"data": {"id": "c", "name": marker.name()}})
            ),
            None
        ));
        assert_eq!(
            tracked.products,
            [Created {
                id: "a".into(),
                archived: false
            }]
        );
    }

    #[test]
    fn an_answer_showing_the_product_archived_or_unarchived_is_followed() {
        let marker = Marker::new();
        let mut tracked = Tracked::new(marker.clone());
        let with = |status: &str| serde_json::json!({"data": {"id": "a", "name": marker.name(), "status": status}});
        tracked.note(&answer(201, with("active")), None);
        tracked.note(&answer(200, with("archived")), None);
        assert!(tracked.products[0].archived);
        tracked.note(&answer(200, with("active")), None);
        assert!(!tracked.products[0].archived, "a PATCH that restored it");
        let bodiless = Answer {
            status: 204,
            headers: http::HeaderMap::new(),
            body: Body::Empty,
        };
        tracked.note(&bodiless, Some("a"));
        assert!(tracked.products[0].archived);
    }

    #[test]
    fn two_markers_differ() {
        assert_ne!(Marker::new().name(), Marker::new().name());
    }
}
