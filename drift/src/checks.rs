//! Every check the drift check makes, in the order it makes them, each named by the entry of
//! `paperlink-mock/DECISIONS.md` (its "Question" column) that it tests, where it tests one.
//! A check without a decision tests what Paperlink's docs state.

macro_rules! checks {
    ($($variant:ident => $id:literal, $decision:expr, $what:literal;)*) => {
        /// One check.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) enum Check {
            $(#[doc = concat!("`", $id, "`")] $variant,)*
        }

        impl Check {
            /// Every check, in the order of a run.
            pub(crate) const ALL: &[Check] = &[$(Check::$variant,)*];

            /// Its name in the report.
            pub(crate) fn id(self) -> &'static str {
                match self { $(Check::$variant => $id,)* }
            }

            /// The DECISIONS.md entry it tests, if any.
            pub(crate) fn decision(self) -> Option<&'static str> {
                match self { $(Check::$variant => $decision,)* }
            }

            /// What it looks at.
            pub(crate) fn what(self) -> &'static str {
                match self { $(Check::$variant => $what,)* }
            }
        }
    };
}

const CHECKS_ORDER: Option<&str> = Some("Order of checks");
const CURSORS: Option<&str> = Some("Order and cursors");
const NON_UUID: Option<&str> = Some("Non-UUID id");
const VALIDATION: Option<&str> = Some("Validation");
const RATE: Option<&str> = Some("Rate limit");
const AUTH: Option<&str> = Some("401 body");
const CREATE: Option<&str> = Some("Create");
const UPDATE: Option<&str> = Some("Update");
const DELETE: Option<&str> = Some("Delete");
const IDEMPOTENCY: Option<&str> = Some("Idempotency-Key");
const MONEY_TIME: Option<&str> = Some("Money and time");
const SKU: Option<&str> = Some("Duplicate SKU");

checks! {
    ListEnvelope => "list.envelope", None,
        "GET /products?limit=3: status and the list envelope's fields and JSON types";
    ListProductShape => "list.product-shape", None,
        "the first listed product's fields and their JSON types";
    ListTimestamps => "list.timestamps", MONEY_TIME,
        "the first listed product's createdAt/updatedAt format (RFC 3339 UTC, milliseconds)";
    ListOrder => "list.order", CURSORS,
        "the first page is newest first (createdAt never increases)";
    ListDefaultStatus => "list.default-status", DELETE,
        "the default list shows active products only (archived ones leave it)";
    ReadKeyProbe => "scope.read-key-probe", CHECKS_ORDER,
        "PATCH of a random id with --key: 403 scope_insufficient (Read-only, scope before lookup) or 404 product_not_found";
    ListPagination => "list.pagination", CURSORS,
        "GET ?limit=1: nextCursor is the last id when hasMore, else null";
    RefusalNotCounted => "scope.refusal-not-counted", RATE,
        "a write refused with 403 does not count against the rate limit (X-RateLimit-Remaining)";
    ListFollowCursor => "list.follow-cursor", CURSORS,
        "following nextCursor gives the next product, not the same one";
    ListLimitZero => "list.limit-zero", VALIDATION,
        "GET ?limit=0: 400 validation_error on limit";
    ListLimitMax => "list.limit-max", None,
        "GET ?limit=100: accepted (the documented largest page)";
    ListLimitOver => "list.limit-over", VALIDATION,
        "GET ?limit=101: 400 validation_error on limit";
    ListUnknownCursor => "list.unknown-cursor", CURSORS,
        "GET ?after=<a UUID this list never issued>: 400 validation_error on after";
    ListNonUuidCursor => "list.non-uuid-cursor", NON_UUID,
        "GET ?after=not-a-cursor: 400 validation_error on after";
    ListStatusArchived => "list.status-archived", None,
        "GET ?status=archived: only archived products";
    ListStatusAll => "list.status-all", None,
        "GET ?status=all: accepted";
    ListStatusInvalid => "list.status-invalid", VALIDATION,
        "GET ?status=bogus: 400 validation_error on status";
    Head => "list.head", Some("HEAD"),
        "HEAD /products: the GET's status, no body";
    GetUnknownId => "get.unknown-id", None,
        "GET /products/<random UUID>: 404 product_not_found";
    GetNonUuidId => "get.non-uuid-id", NON_UUID,
        "GET /products/not-a-uuid: 404 product_not_found";
    GetNonCanonicalId => "get.non-canonical-id", NON_UUID,
        "GET a listed id in its 32-digit form: 404 (only the hyphenated spelling is an id)";
    GetUppercaseId => "get.uppercase-id", NON_UUID,
        "GET a listed id in capitals: the same product (either letter case)";
    AuthMissing => "auth.missing", AUTH,
        "no Authorization header: 401 unauthorized with WWW-Authenticate: Bearer";
    AuthUnknownKey => "auth.unknown-key", AUTH,
        "a well-formed key the target never issued: 401 unauthorized with WWW-Authenticate";
    AuthMalformed => "auth.malformed", AUTH,
        "a malformed Bearer value: 401 unauthorized with WWW-Authenticate";
    AuthSameBody => "auth.same-body", AUTH,
        "the unknown key's and the malformed header's 401 bodies compared";
    RouteUnknown => "route.unknown", CHECKS_ORDER,
        "GET /nowhere: 404 not_found (the route is checked first)";
    RouteMethod => "route.method-not-allowed", CHECKS_ORDER,
        "PUT /products: 405 method_not_allowed and its Allow header";
    OpenApi => "openapi.served", Some("`openapi.json`"),
        "GET /openapi.json without a key: served";
    ReadOnlyPost => "read-only.post", CHECKS_ORDER,
        "POST of an invalid body with a Read-only key: 403 scope_insufficient (scope before validation)";
    ReadOnlyDelete => "read-only.delete", CHECKS_ORDER,
        "DELETE of a random id with a Read-only key: 403 scope_insufficient";
    WriteKeyProbe => "scope.write-key-probe", CHECKS_ORDER,
        "PATCH of a random id with --write-key: 404 product_not_found (the body is valid)";
    CreateStatus => "create.status", CREATE,
        "POST /products: the status and the Location header";
    CreateBody => "create.body", CREATE,
        "the created product's fields and their JSON types";
    CreateDefaults => "create.defaults", CREATE,
        "type and unitOfMeasure when not sent";
    CreateMoney => "create.money", MONEY_TIME,
        "unitPrice 120.10 comes back as sent";
    CreateTimestamps => "create.timestamps", MONEY_TIME,
        "createdAt/updatedAt of the created product: format, and equal";
    CreateReplay => "create.replay", IDEMPOTENCY,
        "the same Idempotency-Key and body: the first answer again, with Idempotent-Replayed: true";
    CreateKeyReused => "create.key-reused", IDEMPOTENCY,
        "the same Idempotency-Key with another body: 409 idempotency_key_reused";
    CreateSkuConflict => "create.sku-conflict", SKU,
        "another product with the same sku: 409 sku_conflict";
    CreateInvalid => "create.invalid", VALIDATION,
        "a negative unitPrice and a lowercase currency: 400 validation_error with details";
    CreateContentType => "create.content-type", Some("Wrong content type / big body"),
        "a text/plain body: 415 unsupported_media_type";
    UpdateEmpty => "update.empty", UPDATE,
        "PATCH {}: 200 and nothing changes, not even updatedAt";
    DeleteFirst => "delete.first", DELETE,
        "DELETE: its status and body (the product, archived)";
    DeleteSecond => "delete.second", DELETE,
        "DELETE again: the same answer, nothing changed";
    DeleteGetAfter => "delete.get-after", DELETE,
        "GET after DELETE: the product, archived";
    DeleteListedArchived => "delete.listed-archived", DELETE,
        "the archived product is listed under ?status=archived";
    DeleteSkuKept => "delete.sku-kept", SKU,
        "the archived product's sku stays taken: 409 sku_conflict";
    UpdateNull => "update.null", UPDATE,
        "PATCH with null: description, sku and taxRate cleared (on the archived product)";
    UpdateArchived => "update.archived", UPDATE,
        "an archived product can be updated and stays archived";
    UpdateStatusIgnored => "update.status-ignored", UPDATE,
        "PATCH {\"status\":\"active\"}: ignored, the product stays archived";
    RequestIds => "headers.request-id", Some("Request ids"),
        "X-Request-Id, a UUID, on every answer";
    RateLimitHeaders => "headers.rate-limit", RATE,
        "X-RateLimit-Limit/Remaining/Reset: on which answers";
    RateLimitReset => "headers.rate-limit-reset", RATE,
        "X-RateLimit-Reset: Unix seconds, or seconds from now";
    RetryAfter => "headers.retry-after", RATE,
        "Retry-After on every 429 and on nothing else";
    IdempotentReplayed => "headers.idempotent-replayed", IDEMPOTENCY,
        "Idempotent-Replayed only on a replay";
    ErrorEnvelope => "errors.envelope", AUTH,
        "the shapes of every error body";
}

impl Check {
    /// Whether the check needs `--write-key`.
    pub(crate) fn needs_write_key(self) -> bool {
        self >= Check::WriteKeyProbe && self <= Check::UpdateStatusIgnored
    }

    /// Whether the check needs a Read-only `--key`.
    pub(crate) fn needs_read_only_key(self) -> bool {
        matches!(
            self,
            Check::RefusalNotCounted | Check::ReadOnlyPost | Check::ReadOnlyDelete
        )
    }
}

/// The table `--list-checks` prints.
pub(crate) fn listing() -> String {
    let mut out = String::new();
    for check in Check::ALL {
        let needs = if check.needs_write_key() {
            " [--write-key]"
        } else if check.needs_read_only_key() {
            " [Read-only --key]"
        } else {
            ""
        };
        out.push_str(&format!(
            "{:<28} {:<30} {}{needs}\n",
            check.id(),
            check.decision().unwrap_or("(stated in the docs)"),
            check.what()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decisions table of the mock, read where it lives.
    fn decisions() -> String {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../paperlink-mock/DECISIONS.md"
        );
        std::fs::read_to_string(path).expect("paperlink-mock/DECISIONS.md")
    }

    #[test]
    fn every_decision_a_check_names_is_a_question_of_decisions_md() {
        let table = decisions();
        let questions: Vec<&str> = table
            .lines()
            .filter_map(|line| line.strip_prefix("| "))
            .filter_map(|line| line.split(" |").next())
            .collect();
        for check in Check::ALL {
            if let Some(decision) = check.decision() {
                assert!(
                    questions.contains(&decision),
                    "{} names {decision:?}, which is not a Question of DECISIONS.md: {questions:?}",
                    check.id()
                );
            }
        }
    }

    #[test]
    fn check_ids_are_unique() {
        let mut ids: Vec<_> = Check::ALL.iter().map(|c| c.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Check::ALL.len());
    }

    #[test]
    fn the_write_checks_are_those_between_the_probe_and_the_last_update() {
        assert!(Check::CreateStatus.needs_write_key());
        assert!(Check::UpdateStatusIgnored.needs_write_key());
        assert!(!Check::OpenApi.needs_write_key());
        assert!(!Check::RequestIds.needs_write_key());
    }
}
