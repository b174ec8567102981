//! Where plugin versions come from besides a plugin directory: [`oci`], plugins pushed to
//! and pulled from an OCI registry. A pulled plugin is unpacked into a cache folder and then
//! loaded through [`crate::Registry::load`] like a folder of the plugin directory, so it
//! gets the same validation.

pub mod oci;
