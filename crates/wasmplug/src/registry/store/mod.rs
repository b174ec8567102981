//! Where plugin versions come from: a plugin directory on disk ([`dir`]), with versions
//! side by side, and [`oci`], plugins pushed to and pulled from an OCI registry. A pulled
//! plugin is unpacked into a cache folder and then loaded through [`crate::Registry::load`]
//! like a folder of the plugin directory, so it gets the same validation.

pub(crate) mod dir;
pub mod oci;
