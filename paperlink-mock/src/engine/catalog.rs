//! The product catalogs, one per (team, mode): products by id, newest-first indexes per
//! status for keyset pagination in O(log n), and the SKU index.

use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::collections::hash_map::Entry;
use std::ops::Bound;

use hashbrown::hash_map::EntryRef;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::ids::{draw_unused, random_uuid};
use crate::engine::sharded::ShardedMap;
use crate::model::{KeyMode, NewProduct, ProductInput, ProductRecord, ProductStatus, sku_key};

/// Product catalogs by (team, mode).
pub(crate) type Catalogs = PerTeam<Catalog>;

/// Maps keyed by (team, mode), such as [`Catalogs`].
pub(crate) type PerTeam<V> = hashbrown::HashMap<(String, KeyMode), V>;

/// A (team, mode) borrowed from the request: finding an entry copies nothing; the team's name
/// is copied only when its entry is made. Hashes as the owned key does.
#[derive(Hash)]
pub(crate) struct TeamMode<'a>(pub(crate) &'a str, pub(crate) KeyMode);

impl hashbrown::Equivalent<(String, KeyMode)> for TeamMode<'_> {
    fn equivalent(&self, key: &(String, KeyMode)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

/// The entry of a team and mode, made empty the first time it is needed.
pub(crate) fn per_team<'a, V: Default>(
    map: &'a mut PerTeam<V>,
    team: &str,
    mode: KeyMode,
) -> &'a mut V {
    match map.entry_ref(&TeamMode(team, mode)) {
        EntryRef::Occupied(found) => found.into_mut(),
        EntryRef::Vacant(slot) => slot.insert_with_key((team.to_owned(), mode), V::default()),
    }
}

/// The catalog of a team and mode, made empty the first time it is needed.
pub(crate) fn catalog_of<'a>(
    catalogs: &'a mut Catalogs,
    team: &str,
    mode: KeyMode,
) -> &'a mut Catalog {
    per_team(catalogs, team, mode)
}

/// Newest first; products created in the same instant, last created first (by the catalog's
/// creation sequence, which an update never changes, so cursors stay put). The id rides
/// along to find the product.
type SortKey = (Reverse<i128>, Reverse<u64>, Uuid);

fn sort_key(p: &ProductEntry) -> SortKey {
    (
        Reverse(p.record.created_at.unix_timestamp_nanos()),
        Reverse(p.seq),
        p.record.id,
    )
}

/// A new product's record: its fields as sent, the `(type, unitOfMeasure)` defaults where
/// absent, active, created and updated `now`.
pub(crate) fn new_record(
    id: Uuid,
    new: NewProduct,
    now: OffsetDateTime,
    defaults: (&str, &str),
) -> ProductRecord {
    let NewProduct {
        name,
        unit_price,
        currency,
        rest: input,
    } = new;
    ProductRecord {
        id,
        name,
        unit_price,
        currency,
        description: input.description.flatten(),
        sku: input.sku.flatten(),
        tax_rate: input.tax_rate.flatten(),
        product_type: input.product_type.unwrap_or_else(|| defaults.0.to_owned()),
        unit_of_measure: input
            .unit_of_measure
            .unwrap_or_else(|| defaults.1.to_owned()),
        status: ProductStatus::Active,
        created_at: now,
        updated_at: now,
    }
}

/// Which products a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    Active,
    Archived,
    All,
}

/// Why a write was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CatalogError {
    NotFound,
    SkuTaken,
}

/// A product in its catalog, with its JSON (made once per change, so that reads only copy
/// bytes).
#[derive(Debug, Clone)]
pub(crate) struct ProductEntry {
    pub(crate) record: ProductRecord,
    pub(crate) json: Box<str>,
    /// The order this catalog first filed the product in (creation order; a restored file
    /// is read back in the order its products were created).
    seq: u64,
}

impl ProductEntry {
    fn new(record: ProductRecord) -> Self {
        let json = record.to_json();
        Self {
            record,
            json,
            seq: 0,
        }
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Catalog {
    /// Boxed, so that growing a shard moves pointers, not products.
    products: ShardedMap<Uuid, Box<ProductEntry>>,
    indexes: Indexes,
    /// The next creation sequence number.
    next_seq: u64,
}

/// Everything a catalog keeps about its products besides the products themselves.
#[derive(Debug, Default, Clone)]
struct Indexes {
    all: BTreeSet<SortKey>,
    active: BTreeSet<SortKey>,
    archived: BTreeSet<SortKey>,
    skus: ShardedMap<String, Uuid>,
}

impl Indexes {
    fn by_status(&mut self, status: ProductStatus) -> &mut BTreeSet<SortKey> {
        match status {
            ProductStatus::Active => &mut self.active,
            ProductStatus::Archived => &mut self.archived,
        }
    }

    /// Files a product under its sort key and, unless the caller already claimed it, its SKU.
    fn add(&mut self, entry: &ProductEntry, sku_claimed: bool) {
        let key = sort_key(entry);
        let record = &entry.record;
        self.all.insert(key);
        self.by_status(record.status).insert(key);
        if let Some(sku) = record.sku.as_deref().filter(|_| !sku_claimed) {
            self.skus.insert(sku_key(sku).to_owned(), record.id);
        }
    }

    fn remove(&mut self, entry: &ProductEntry) {
        let key = sort_key(entry);
        let record = &entry.record;
        self.all.remove(&key);
        self.by_status(record.status).remove(&key);
        if let Some(sku) = &record.sku
            && self.skus.get(sku_key(sku)) == Some(&record.id)
        {
            self.skus.remove(sku_key(sku));
        }
    }
}

/// One page: the items' ids and JSON, and whether more follow.
pub(crate) struct Listing<'a> {
    pub(crate) items: Vec<(Uuid, &'a str)>,
    pub(crate) has_more: bool,
}

impl Catalog {
    /// A product's JSON.
    pub(crate) fn json(&self, id: &Uuid) -> Option<&str> {
        self.products.get(id).map(|p| &*p.json)
    }

    pub(crate) fn contains(&self, id: &Uuid) -> bool {
        self.products.contains_key(id)
    }

    /// All products, in the order this catalog first filed them (creation order).
    #[cfg(feature = "durable")]
    pub(crate) fn in_creation_order(&self) -> impl Iterator<Item = &ProductRecord> {
        let mut entries: Vec<&ProductEntry> =
            self.products.iter().map(|(_, entry)| &**entry).collect();
        entries.sort_by_key(|entry| entry.seq);
        entries.into_iter().map(|entry| &entry.record)
    }

    /// All products, newest first.
    pub(crate) fn snapshot(&self) -> Vec<ProductRecord> {
        self.indexes
            .all
            .iter()
            .filter_map(|(_, _, id)| self.products.get(id).map(|p| p.record.clone()))
            .collect()
    }

    /// A page after the product `after` (which must exist), in newest-first order.
    pub(crate) fn list(&self, filter: Filter, limit: usize, after: Option<&Uuid>) -> Listing<'_> {
        let index = match filter {
            Filter::Active => &self.indexes.active,
            Filter::Archived => &self.indexes.archived,
            Filter::All => &self.indexes.all,
        };
        let start = match after.and_then(|id| self.products.get(id)) {
            Some(p) => Bound::Excluded(sort_key(p)),
            None => Bound::Unbounded,
        };
        let mut keys = index.range((start, Bound::Unbounded));
        let items: Vec<(Uuid, &str)> = keys
            .by_ref()
            .take(limit)
            .filter_map(|(_, _, id)| self.json(id).map(|json| (*id, json)))
            .collect();
        Listing {
            has_more: keys.next().is_some(),
            items,
        }
    }

    fn sku_owner(&self, sku: &str) -> Option<Uuid> {
        self.indexes.skus.get(sku_key(sku)).copied()
    }

    /// Inserts a new product built from a validated create body. The SKU is claimed and the
    /// product filed through their map entries, so each map is probed once.
    pub(crate) fn create(
        &mut self,
        id: Uuid,
        new: NewProduct,
        now: OffsetDateTime,
        defaults: (&str, &str),
    ) -> Result<&ProductEntry, CatalogError> {
        let record = new_record(id, new, now, defaults);
        if let Some(sku) = &record.sku {
            match self.indexes.skus.entry(sku_key(sku).to_owned()) {
                Entry::Occupied(_) => return Err(CatalogError::SkuTaken),
                Entry::Vacant(slot) => {
                    slot.insert(id);
                }
            }
        }
        Ok(self.file(Box::new(ProductEntry::new(record)), true))
    }

    /// Replaces the product with this id by a new one built from a create body (its SKU must
    /// be free or its own).
    pub(crate) fn replace(
        &mut self,
        id: Uuid,
        new: NewProduct,
        now: OffsetDateTime,
        defaults: (&str, &str),
    ) -> Result<&ProductEntry, CatalogError> {
        let record = new_record(id, new, now, defaults);
        if let Some(sku) = &record.sku
            && self.sku_owner(sku).is_some_and(|owner| owner != id)
        {
            return Err(CatalogError::SkuTaken);
        }
        Ok(self.insert(record))
    }

    /// Inserts a record as is (seeding, restoring state, updates), replacing one with the same
    /// id.
    pub(crate) fn insert(&mut self, record: ProductRecord) -> &ProductEntry {
        self.file(Box::new(ProductEntry::new(record)), false)
    }

    /// An id no product of this catalog has, so that a new product never overwrites one.
    pub(crate) fn unused_id(&self, rng: &mut fastrand::Rng) -> Uuid {
        draw_unused(|| random_uuid(rng), |id| self.contains(id))
    }

    /// Stores a product, replacing one with the same id. With `sku_claimed`, the product's
    /// SKU is already in the index (a create claims it first).
    fn file(&mut self, mut entry: Box<ProductEntry>, sku_claimed: bool) -> &ProductEntry {
        let Self {
            products,
            indexes,
            next_seq,
        } = self;
        match products.entry(entry.record.id) {
            Entry::Vacant(slot) => {
                entry.seq = *next_seq;
                *next_seq = next_seq.saturating_add(1);
                indexes.add(&entry, sku_claimed);
                slot.insert(entry)
            }
            Entry::Occupied(mut slot) => {
                entry.seq = slot.get().seq;
                let old = slot.insert(entry);
                // The old record may hold the same SKU under the same id: file the new one
                // after the old one is gone.
                indexes.remove(&old);
                indexes.add(slot.get(), false);
                slot.into_mut()
            }
        }
    }

    /// Applies a validated partial update. An empty update changes nothing, not even
    /// `updatedAt`.
    pub(crate) fn update(
        &mut self,
        id: &Uuid,
        input: ProductInput,
        now: OffsetDateTime,
    ) -> Result<&ProductEntry, CatalogError> {
        let current = &self.products.get(id).ok_or(CatalogError::NotFound)?.record;
        if input.is_empty() {
            return self
                .products
                .get(id)
                .map(|p| &**p)
                .ok_or(CatalogError::NotFound);
        }
        if let Some(Some(sku)) = &input.sku
            && self.sku_owner(sku).is_some_and(|owner| owner != *id)
        {
            return Err(CatalogError::SkuTaken);
        }
        let mut next = current.clone();
        if let Some(v) = input.name {
            next.name = v;
        }
        if let Some(v) = input.unit_price {
            next.unit_price = v;
        }
        if let Some(v) = input.currency {
            next.currency = v;
        }
        if let Some(v) = input.description {
            next.description = v;
        }
        if let Some(v) = input.sku {
            next.sku = v;
        }
        if let Some(v) = input.tax_rate {
            next.tax_rate = v;
        }
        if let Some(v) = input.product_type {
            next.product_type = v;
        }
        if let Some(v) = input.unit_of_measure {
            next.unit_of_measure = v;
        }
        next.updated_at = now;
        Ok(self.insert(next))
    }

    /// Archives a product; archiving an archived product changes nothing.
    pub(crate) fn archive(
        &mut self,
        id: &Uuid,
        now: OffsetDateTime,
    ) -> Result<&ProductEntry, CatalogError> {
        let current = &self.products.get(id).ok_or(CatalogError::NotFound)?.record;
        if current.status == ProductStatus::Archived {
            return self
                .products
                .get(id)
                .map(|p| &**p)
                .ok_or(CatalogError::NotFound);
        }
        let mut next = current.clone();
        next.status = ProductStatus::Archived;
        next.updated_at = now;
        Ok(self.insert(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Number, create_input, product_input};

    fn input(name: &str, sku: Option<&str>) -> NewProduct {
        let sku = sku.map(|s| format!(r#","sku":"{s}""#)).unwrap_or_default();
        create_input(
            format!(r#"{{"name":"{name}","unitPrice":1.50,"currency":"EUR"{sku}}}"#).as_bytes(),
        )
        .expect("valid")
    }

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000 + seconds).expect("time")
    }

    const DEFAULTS: (&str, &str) = ("SERVICES", "unit");

    #[test]
    fn lists_are_newest_first_and_pages_follow_the_last_id() {
        let mut c = Catalog::default();
        let ids: Vec<Uuid> = (0..5u128)
            .map(|i| {
                c.create(
                    Uuid::from_u128(i + 1),
                    input(&format!("p{i}"), None),
                    at(i as i64),
                    DEFAULTS,
                )
                .expect("created")
                .record
                .id
            })
            .collect();
        let first = c.list(Filter::Active, 2, None);
        assert_eq!(
            first.items.iter().map(|p| p.0).collect::<Vec<_>>(),
            [ids[4], ids[3]]
        );
        assert!(first.has_more);
        let last = c.list(Filter::Active, 3, Some(&ids[3]));
        assert_eq!(
            last.items.iter().map(|p| p.0).collect::<Vec<_>>(),
            [ids[2], ids[1], ids[0]]
        );
        assert!(!last.has_more);
    }

    #[test]
    fn same_millisecond_products_list_last_created_first_and_updates_keep_their_place() {
        let mut c = Catalog::default();
        for i in [3u128, 1, 2] {
            c.create(Uuid::from_u128(i), input("p", None), at(0), DEFAULTS)
                .expect("created");
        }
        let ids = |c: &Catalog| -> Vec<u128> {
            c.list(Filter::All, 10, None)
                .items
                .iter()
                .map(|p| p.0.as_u128())
                .collect()
        };
        assert_eq!(ids(&c), [2, 1, 3]);
        let rename = product_input(br#"{"name":"q"}"#, false).expect("valid");
        c.update(&Uuid::from_u128(3), rename, at(9))
            .expect("updated");
        assert_eq!(ids(&c), [2, 1, 3], "an update keeps the product's place");
        let after_first = c.list(Filter::All, 1, Some(&Uuid::from_u128(2)));
        assert_eq!(
            after_first.items[0].0.as_u128(),
            1,
            "the cursor still points there"
        );
    }

    #[test]
    fn archiving_moves_between_indexes_and_keeps_the_sku() {
        let mut c = Catalog::default();
        let p = c
            .create(
                Uuid::from_u128(1),
                input("p", Some("SKU-1")),
                at(0),
                DEFAULTS,
            )
            .expect("created")
            .record
            .id;
        let archived = &c.archive(&p, at(5)).expect("archived").record;
        assert_eq!(
            (archived.status, archived.updated_at),
            (ProductStatus::Archived, at(5))
        );
        assert_eq!(
            c.archive(&p, at(9)).expect("again").record.updated_at,
            at(5)
        );
        assert!(c.list(Filter::Active, 10, None).items.is_empty());
        assert_eq!(c.list(Filter::Archived, 10, None).items.len(), 1);
        assert_eq!(
            c.create(
                Uuid::from_u128(2),
                input("q", Some(" SKU-1 ")),
                at(1),
                DEFAULTS
            )
            .err(),
            Some(CatalogError::SkuTaken)
        );
    }

    #[test]
    fn updates_keep_the_sku_index_true() {
        let mut c = Catalog::default();
        let a = c
            .create(Uuid::from_u128(1), input("a", Some("A")), at(0), DEFAULTS)
            .expect("a")
            .record
            .id;
        let b = c
            .create(Uuid::from_u128(2), input("b", Some("B")), at(0), DEFAULTS)
            .expect("b")
            .record
            .id;
        let to_a = product_input(br#"{"sku":"A"}"#, false).expect("valid");
        assert_eq!(
            c.update(&b, to_a.clone(), at(1)).err(),
            Some(CatalogError::SkuTaken)
        );
        let clear = product_input(br#"{"sku":null,"unitPrice":2.10}"#, false).expect("valid");
        let cleared = &c.update(&a, clear, at(2)).expect("cleared").record;
        assert_eq!(
            (cleared.sku.clone(), cleared.unit_price.clone()),
            (None, Number::parse("2.10").expect("n"))
        );
        assert!(c.update(&b, to_a, at(3)).is_ok());
        let empty = product_input(b"{}", false).expect("valid");
        assert_eq!(
            c.update(&b, empty, at(9)).expect("same").record.updated_at,
            at(3)
        );
    }
}
