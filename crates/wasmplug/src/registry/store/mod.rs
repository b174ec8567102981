//! Where plugin versions come from: a plugin directory on disk ([`dir`]), with versions
//! side by side.

pub(crate) mod dir;
