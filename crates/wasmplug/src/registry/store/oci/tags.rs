//! Listing a repository's tags, and picking the newest version among them: what a gateway
//! that follows an `[[oci]]` reference polls to learn about a newly pushed version.

use oci_client::secrets::RegistryAuth;

use super::{OciError, OciReference, OciStore, client};

/// Tags asked for per page of the listing.
const PAGE: usize = 1000;

impl OciStore {
    /// The tags of `reference`'s repository (its own tag or digest is ignored).
    ///
    /// # Errors
    /// [`OciError::NotFound`] / [`OciError::Registry`] when the registry cannot list them.
    pub async fn tags(&self, reference: &OciReference) -> Result<Vec<String>, OciError> {
        let client = client::connect(reference, self.insecure).await;
        let response = client
            .list_tags(
                reference.client_reference(),
                &RegistryAuth::Anonymous,
                Some(PAGE),
                None,
            )
            .await
            .map_err(client::map_error(reference, "list the tags of"))?;
        Ok(response.tags)
    }
}

/// The newest tag that is a semver version (a leading `v` allowed) and at least `floor`.
pub fn newest_version_tag<'a>(
    tags: &'a [String],
    floor: Option<&semver::Version>,
) -> Option<(&'a str, semver::Version)> {
    tags.iter()
        .filter_map(|t| {
            let v = semver::Version::parse(t.strip_prefix('v').unwrap_or(t)).ok()?;
            Some((t.as_str(), v))
        })
        .filter(|(_, v)| floor.is_none_or(|f| v >= f))
        .max_by(|a, b| a.1.cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_version_tag_wins_and_others_are_ignored() {
        let tags: Vec<String> = ["latest", "1.0.0", "v1.2.0", "1.10.0-beta", "1.9.1", "x"]
            .map(String::from)
            .into();
        let (tag, v) = newest_version_tag(&tags, None).unwrap();
        assert_eq!(
            (tag, v.to_string().as_str()),
            ("1.10.0-beta", "1.10.0-beta")
        );
        let floor = semver::Version::new(2, 0, 0);
        assert!(newest_version_tag(&tags, Some(&floor)).is_none());
        assert!(newest_version_tag(&["latest".to_string()], None).is_none());
    }
}
