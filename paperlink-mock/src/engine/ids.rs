//! Ids and tokens: drawn from the mock's generator, never handed out twice.

use uuid::Uuid;

/// A random (or, with a seeded generator, reproducible) v4 UUID.
pub(crate) fn random_uuid(rng: &mut fastrand::Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.u128(..).to_le_bytes()).into_uuid()
}

/// Draws until the value is not `taken`, so that a repeating generator (the same seed after a
/// restart) never hands out an id or a token twice.
pub(crate) fn draw_unused<T>(mut draw: impl FnMut() -> T, taken: impl Fn(&T) -> bool) -> T {
    loop {
        let value = draw();
        if !taken(&value) {
            return value;
        }
    }
}
