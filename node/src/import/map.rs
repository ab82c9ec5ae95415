//! The import map: which source field becomes which part of a story, and the defaults for
//! what the source lacks.
//!
//! ```toml
//! [source]
//! table = "records"      # the list of rows in a JSON export (Airtable: "records")
//! id = "id"              # names a row in the report
//!
//! [fields]
//! title = "Title"
//! body = "Story"
//! kind = "Type"
//! visibility = "Visibility"      # values public, pod or private
//! attribution = "Credit"
//! protocols = "Protocols"        # a list, or names separated by commas
//! consent = { community_sharing = "Shared" }   # a flag from a yes/no field
//!
//! [defaults]
//! visibility = "pod"
//! consent = { community_sharing = true }
//! principles = ["consent-first"] # affirmed for every row: the importer states them
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use super::source::Row;
use crate::api::types::{ConsentBody, PublishRequest};

/// Largest map file read.
pub const MAX_MAP_BYTES: u64 = 64 * 1024;

/// Where the rows are and what names them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// In a JSON object, the key of the list of rows; a JSON list is the rows itself.
    #[serde(default)]
    pub table: Option<String>,
    /// The field that names a row (its position otherwise).
    #[serde(default)]
    pub id: Option<String>,
}

/// Source field names, by the part of a story they fill.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    /// The title (required in every row, or rows without one are refused).
    pub title: String,
    /// The text.
    #[serde(default)]
    pub body: Option<String>,
    /// The kind of work.
    #[serde(default)]
    pub kind: Option<String>,
    /// public, pod or private.
    #[serde(default)]
    pub visibility: Option<String>,
    /// How to credit the author.
    #[serde(default)]
    pub attribution: Option<String>,
    /// Cultural protocol tags.
    #[serde(default)]
    pub protocols: Option<String>,
    /// Consent flags read from yes/no fields, by flag name.
    #[serde(default)]
    pub consent: BTreeMap<String, String>,
}

/// What a row gets where the source says nothing.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Visibility (default `pod`).
    #[serde(default)]
    pub visibility: Option<String>,
    /// Kind (default `story`).
    #[serde(default)]
    pub kind: Option<String>,
    /// Consent flags, by name.
    #[serde(default)]
    pub consent: BTreeMap<String, bool>,
    /// The principles every row affirms: the importer states them, as `myco publish
    /// --principle` does.
    #[serde(default)]
    pub principles: Vec<String>,
    /// Protocol tags.
    #[serde(default)]
    pub protocols: Vec<String>,
    /// Attribution.
    #[serde(default)]
    pub attribution: Option<String>,
}

/// The whole map.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportMap {
    /// The rows.
    #[serde(default)]
    pub source: SourceSpec,
    /// The fields.
    pub fields: Fields,
    /// The defaults.
    #[serde(default)]
    pub defaults: Defaults,
}

/// Why a map cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// It does not parse.
    #[error("the import map does not parse: {0}")]
    Syntax(String),
    /// A consent flag it names does not exist.
    #[error("the import map names consent flag `{0}`; the flags are {flags}", flags = ConsentBody::FLAGS.join(", "))]
    UnknownFlag(String),
    /// A default visibility that is not one.
    #[error("the import map's default visibility `{0}` is not one of public, pod, private")]
    Visibility(String),
}

impl ImportMap {
    /// Parses and checks a map.
    pub fn from_toml(text: &str) -> Result<Self, MapError> {
        let map: ImportMap = toml::from_str(text).map_err(|e| MapError::Syntax(e.to_string()))?;
        for flag in map.fields.consent.keys().chain(map.defaults.consent.keys()) {
            if !ConsentBody::FLAGS.contains(&flag.as_str()) {
                return Err(MapError::UnknownFlag(flag.clone()));
            }
        }
        if let Some(visibility) = &map.defaults.visibility {
            if crate::daemon::writes::parse_visibility(visibility).is_none() {
                return Err(MapError::Visibility(visibility.clone()));
            }
        }
        Ok(map)
    }

    /// The story a row becomes, or why it cannot be one.
    pub fn story(&self, row: &Row) -> Result<PublishRequest, String> {
        if let Some(problem) = &row.problem {
            return Err(problem.clone());
        }
        let title = row.text(&self.fields.title).unwrap_or_default();
        if title.trim().is_empty() {
            return Err(format!(
                "no title: its field `{}` is missing or empty",
                self.fields.title
            ));
        }
        let field = |name: &Option<String>| name.as_deref().and_then(|n| row.text(n));
        let visibility = field(&self.fields.visibility)
            .filter(|v| !v.trim().is_empty())
            .or_else(|| self.defaults.visibility.clone())
            .unwrap_or_else(|| "pod".into())
            .trim()
            .to_lowercase();
        if crate::daemon::writes::parse_visibility(&visibility).is_none() {
            return Err(format!(
                "visibility `{visibility}` is not one of public, pod, private"
            ));
        }
        let mut consent = ConsentBody::default();
        for (flag, value) in &self.defaults.consent {
            if let Some(slot) = consent.flag_mut(flag) {
                *slot = *value;
            }
        }
        for (flag, name) in &self.fields.consent {
            if let Some(value) = row.text(name) {
                let value = yes_or_no(&value)
                    .ok_or_else(|| format!("field `{name}` is `{value}`, not yes or no"))?;
                if let Some(slot) = consent.flag_mut(flag) {
                    *slot = value;
                }
            }
        }
        let protocols = match field(&self.fields.protocols) {
            Some(list) => list
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
            None => self.defaults.protocols.clone(),
        };
        Ok(PublishRequest {
            title,
            body: field(&self.fields.body).unwrap_or_default(),
            kind: field(&self.fields.kind)
                .filter(|k| !k.trim().is_empty())
                .or_else(|| self.defaults.kind.clone()),
            visibility,
            consent,
            principles: self.defaults.principles.clone(),
            protocols,
            attribution: field(&self.fields.attribution)
                .or_else(|| self.defaults.attribution.clone()),
            revenue_share: None,
        })
    }
}

/// A yes/no field's value.
fn yes_or_no(value: &str) -> Option<bool> {
    match value.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "x" | "checked" => Some(true),
        "false" | "no" | "n" | "0" | "" => Some(false),
        _ => None,
    }
}
