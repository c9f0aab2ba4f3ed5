//! Route handlers over the plain state, one file per resource.

pub(crate) mod admin;
pub(crate) mod products;
