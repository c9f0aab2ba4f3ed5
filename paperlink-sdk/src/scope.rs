//! Key scopes as types, so that a Read-only integration cannot even compile a write.

mod sealed {
    pub trait Sealed {}
}

/// A key scope known at compile time: [`ReadWrite`] or [`ReadOnly`]. Sealed.
pub trait Scope: sealed::Sealed + Send + Sync + Copy + 'static {}

/// Read & Write keys: `GET`, `POST`, `PATCH`, `DELETE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadWrite;

/// Read-only keys: `GET` only. Handles of this scope have no write methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOnly;

impl sealed::Sealed for ReadWrite {}
impl sealed::Sealed for ReadOnly {}
impl Scope for ReadWrite {}
impl Scope for ReadOnly {}
