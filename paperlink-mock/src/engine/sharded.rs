//! A hash map kept in shards. A map that grows to millions of entries (products, SKUs,
//! idempotency records in a long-running sandbox) grows one shard at a time, so no request
//! waits while all of it is rehashed: one table of 2,000,000 entries took 1.5 s to grow.

use std::borrow::Borrow;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, Hash};

use foldhash::HashMap;
use foldhash::fast::RandomState;

/// Growing one shard of a 2,000,000-entry map moves about 8,000 entries.
const SHARDS: usize = 256;

/// A hash map in [`SHARDS`] shards, picked by a hash of their own (so that the keys of one
/// shard still spread over its table).
#[derive(Debug, Clone)]
pub(crate) struct ShardedMap<K, V> {
    /// Empty until the first insert: an unused map allocates nothing.
    shards: Vec<HashMap<K, V>>,
    pick: RandomState,
}

impl<K, V> Default for ShardedMap<K, V> {
    fn default() -> Self {
        Self {
            shards: Vec::new(),
            pick: RandomState::default(),
        }
    }
}

impl<K: Hash + Eq, V> ShardedMap<K, V> {
    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> usize {
        // The top bits: SHARDS is 2^8.
        (self.pick.hash_one(key) >> 56) as usize
    }

    fn shard_mut(&mut self, key: &K) -> &mut HashMap<K, V> {
        if self.shards.is_empty() {
            self.shards = (0..SHARDS).map(|_| HashMap::default()).collect();
        }
        let index = self.shard(key);
        &mut self.shards[index]
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.shards.get(self.shard(key))?.get(key)
    }

    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key).is_some()
    }

    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.shard_mut(&key).insert(key, value)
    }

    pub(crate) fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        self.shard_mut(&key).entry(key)
    }

    pub(crate) fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let index = self.shard(key);
        self.shards.get_mut(index)?.remove(key)
    }

    /// Empties the map and gives its memory back.
    pub(crate) fn clear(&mut self) {
        self.shards = Vec::new();
    }

    #[cfg(any(test, feature = "durable"))]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.shards.iter().flat_map(|shard| shard.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_one_map() {
        let mut map = ShardedMap::default();
        assert_eq!(map.get("a"), None);
        assert_eq!(map.remove("a"), None);
        assert_eq!(map.iter().count(), 0);
        for i in 0..10_000 {
            assert_eq!(map.insert(format!("k{i}"), i), None);
        }
        assert_eq!(map.insert("k7".to_owned(), 70), Some(7));
        assert_eq!(map.get("k7"), Some(&70));
        assert!(map.contains_key("k9999") && !map.contains_key("k10000"));
        assert!(matches!(map.entry("k1".to_owned()), Entry::Occupied(_)));
        assert!(matches!(map.entry("new".to_owned()), Entry::Vacant(_)));
        assert_eq!(map.remove("k1"), Some(1));
        assert_eq!(map.iter().count(), 9_999);
        let used = map.shards.iter().filter(|shard| !shard.is_empty()).count();
        assert_eq!(used, SHARDS, "keys spread over every shard");
        let copy = map.clone();
        map.clear();
        assert_eq!((map.iter().count(), map.get("k2")), (0, None));
        assert_eq!(copy.get("k2"), Some(&2));
    }
}
