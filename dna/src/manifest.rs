//! DNA manifests: a pod's name, territory, zomes and governance properties, read from TOML and
//! hashed into the pod id ([`DnaHash`]).
//!
//! Parsing goes from the TOML text to a raw serde struct and then to the typed
//! [`DnaManifest`], checking every value on the way; a manifest that parses is a valid one.

mod write;

use serde::{Deserialize, Serialize};

use crate::action::Visibility;
use crate::encoding::to_canonical_cbor;
use crate::hash::{blake2b_256, DnaHash, KeyHash};

/// A share in basis points: 10000 is 100%.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BasisPoints(pub u16);

impl BasisPoints {
    /// 100%.
    pub const WHOLE: BasisPoints = BasisPoints(10_000);
}

/// Why a manifest was refused. Each variant names the field and what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The text is not valid TOML, or has unknown or missing fields.
    #[error("manifest is not valid: {0}")]
    Syntax(String),
    /// A field has a value outside what it allows.
    #[error("manifest field `{field}`: {problem}")]
    Invalid {
        /// The field, as a TOML path.
        field: String,
        /// What is wrong and what is allowed.
        problem: String,
    },
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ManifestError {
    ManifestError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Where a pod's data lives: a territory code, name, and optional parent (for nesting).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Territory {
    /// Short code, for example `DK`.
    pub code: String,
    /// Human name, for example `Denmark`.
    pub name: String,
    /// Parent territory's code, for example `EU`.
    #[serde(default)]
    pub parent: Option<String>,
}

/// How new members are admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Admission {
    /// Anyone may join.
    Open,
    /// The membrane proof is a steward's unexpired invitation for the joiner's key hash.
    Invite,
    /// The membrane proof references a passed Admit decision for the joiner's key hash.
    Vote,
}

/// How the community's part of any value is shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BenefitModel {
    /// Equal parts to every member.
    Equal,
    /// In proportion to each member's published content.
    Contribution,
    /// As the distribution lists, checked only against the revenue share.
    Custom,
}

/// A vote rule: the share of the whole electorate that must vote yes, and how long a vote is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRule {
    /// Yes votes needed, as basis points of the electorate (1..=10000).
    pub threshold_bp: BasisPoints,
    /// How long a proposal stays open, in seconds (> 0).
    pub window_secs: u64,
}

/// Voting settings: the normal rule and an optional emergency rule (stewards only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voting {
    /// The rule for ordinary proposals.
    pub rule: VoteRule,
    /// The rule for emergencies: stewards vote, with a shorter window and a higher threshold.
    pub emergency: Option<VoteRule>,
}

/// A named cultural protocol that stories can be tagged with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CulturalProtocol {
    /// The protocol's name, used as the tag.
    pub name: String,
    /// Tagged stories are served to no one but the author until a steward approves them.
    pub requires_steward_approval: bool,
    /// The widest visibility a tagged story may have.
    pub max_visibility: Visibility,
}

/// The governance properties every member's node enforces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Properties {
    /// Key hashes that are members and stewards from the start.
    pub founders: Vec<KeyHash>,
    /// The admission policy.
    pub admission: Admission,
    /// The floor on a creator's revenue share.
    pub min_creator_share_bp: BasisPoints,
    /// Charter principles that content must affirm.
    pub required_principles: Vec<String>,
    /// Regions where pod-visible data may be held; empty means anywhere.
    pub allowed_regions: Vec<String>,
    /// Named cultural protocols.
    pub cultural_protocols: Vec<CulturalProtocol>,
    /// How the community's part of value is shared.
    pub benefit_model: BenefitModel,
    /// Vote thresholds and windows.
    pub voting: Voting,
}

/// A parsed, checked DNA manifest. Its canonical hash is the pod id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnaManifest {
    /// The pod's name.
    pub name: String,
    /// Distinguishes pods that otherwise share a manifest.
    pub network_seed: String,
    /// The pod's territory.
    pub territory: Territory,
    /// The zomes whose rules the pod uses, by name.
    pub zomes: Vec<String>,
    /// Governance properties.
    pub properties: Properties,
}

impl DnaManifest {
    /// Parses and checks a TOML manifest.
    pub fn from_toml(text: &str) -> Result<Self, ManifestError> {
        let raw: RawManifest =
            toml::from_str(text).map_err(|e| ManifestError::Syntax(e.to_string()))?;
        raw.into_manifest()
    }

    /// The pod id: blake2b-256 of the manifest's canonical CBOR.
    pub fn dna_hash(&self) -> DnaHash {
        DnaHash(blake2b_256(&to_canonical_cbor(self)))
    }

    /// Refuses zome names not in `known`.
    pub fn check_zomes(&self, known: &[&str]) -> Result<(), ManifestError> {
        for (index, zome) in self.zomes.iter().enumerate() {
            if !known.contains(&zome.as_str()) {
                return Err(invalid(
                    format!("zomes[{index}]"),
                    format!(
                        "unknown zome `{zome}`; known zomes are {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Longest name or text field in a manifest, in bytes.
pub const MAX_MANIFEST_TEXT: usize = 256;
/// Most items in any manifest list.
pub const MAX_MANIFEST_LIST: usize = 256;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: String,
    network_seed: String,
    territory: Territory,
    zomes: Vec<String>,
    properties: RawProperties,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProperties {
    #[serde(default)]
    founders: Vec<String>,
    admission: Admission,
    #[serde(default)]
    min_creator_share_bp: u64,
    #[serde(default)]
    required_principles: Vec<String>,
    #[serde(default)]
    allowed_regions: Vec<String>,
    #[serde(default)]
    cultural_protocols: Vec<RawProtocol>,
    #[serde(default = "default_benefit")]
    benefit_model: BenefitModel,
    voting: RawVoting,
}

fn default_benefit() -> BenefitModel {
    BenefitModel::Equal
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVoting {
    threshold_bp: u64,
    window_secs: u64,
    #[serde(default)]
    emergency: Option<RawVoteRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVoteRule {
    threshold_bp: u64,
    window_secs: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProtocol {
    #[serde(default)]
    name: String,
    #[serde(default)]
    requires_steward_approval: bool,
    #[serde(default = "default_max_visibility")]
    max_visibility: Visibility,
}

fn default_max_visibility() -> Visibility {
    Visibility::Public
}

fn text(field: &str, value: String) -> Result<String, ManifestError> {
    if value.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.len() > MAX_MANIFEST_TEXT {
        return Err(invalid(
            field,
            format!(
                "is {} bytes; at most {MAX_MANIFEST_TEXT} allowed",
                value.len()
            ),
        ));
    }
    Ok(value)
}

fn list(field: &str, values: Vec<String>) -> Result<Vec<String>, ManifestError> {
    if values.len() > MAX_MANIFEST_LIST {
        return Err(invalid(
            field,
            format!("has more than {MAX_MANIFEST_LIST} items"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for (index, value) in values.into_iter().enumerate() {
        let value = text(&format!("{field}[{index}]"), value)?;
        if out.contains(&value) {
            return Err(invalid(
                format!("{field}[{index}]"),
                format!("`{value}` is listed twice"),
            ));
        }
        out.push(value);
    }
    Ok(out)
}

fn basis_points(field: &str, value: u64, min: u64) -> Result<BasisPoints, ManifestError> {
    if value < min || value > 10_000 {
        return Err(invalid(
            field,
            format!("{value} bp is out of range: use {min} to 10000 basis points (10000 = 100%)"),
        ));
    }
    // In range 0..=10000, so it fits a u16.
    Ok(BasisPoints(value as u16))
}

fn vote_rule(field: &str, raw: &RawVoteRule) -> Result<VoteRule, ManifestError> {
    if raw.threshold_bp == 0 {
        return Err(invalid(
            format!("{field}.threshold_bp"),
            "a zero threshold would pass any proposal with no votes; use 1 to 10000",
        ));
    }
    let threshold_bp = basis_points(&format!("{field}.threshold_bp"), raw.threshold_bp, 1)?;
    if raw.window_secs == 0 {
        return Err(invalid(
            format!("{field}.window_secs"),
            "must be more than 0 seconds",
        ));
    }
    Ok(VoteRule {
        threshold_bp,
        window_secs: raw.window_secs,
    })
}

impl RawManifest {
    fn into_manifest(self) -> Result<DnaManifest, ManifestError> {
        let territory = Territory {
            code: text("territory.code", self.territory.code)?,
            name: text("territory.name", self.territory.name)?,
            parent: match self.territory.parent {
                Some(parent) => Some(text("territory.parent", parent)?),
                None => None,
            },
        };
        let zomes = list("zomes", self.zomes)?;
        if zomes.is_empty() {
            return Err(invalid("zomes", "a pod needs at least one zome"));
        }
        Ok(DnaManifest {
            name: text("name", self.name)?,
            network_seed: text("network_seed", self.network_seed)?,
            territory,
            zomes,
            properties: self.properties.into_properties()?,
        })
    }
}

impl RawProperties {
    fn into_properties(self) -> Result<Properties, ManifestError> {
        let mut founders = Vec::with_capacity(self.founders.len());
        for (index, founder) in self.founders.iter().enumerate() {
            let field = format!("properties.founders[{index}]");
            let hash: KeyHash = founder
                .parse()
                .map_err(|e| invalid(&field, format!("{e}")))?;
            if founders.contains(&hash) {
                return Err(invalid(field, "founder listed twice"));
            }
            founders.push(hash);
        }
        if founders.is_empty() && self.admission != Admission::Open {
            return Err(invalid(
                "properties.founders",
                "invite and vote admission need at least one founder to act as steward",
            ));
        }
        let rule = vote_rule(
            "properties.voting",
            &RawVoteRule {
                threshold_bp: self.voting.threshold_bp,
                window_secs: self.voting.window_secs,
            },
        )?;
        let emergency = match &self.voting.emergency {
            Some(raw) => {
                let emergency = vote_rule("properties.voting.emergency", raw)?;
                if emergency.threshold_bp < rule.threshold_bp {
                    return Err(invalid(
                        "properties.voting.emergency.threshold_bp",
                        "an emergency threshold must be at least the normal threshold",
                    ));
                }
                if emergency.window_secs > rule.window_secs {
                    return Err(invalid(
                        "properties.voting.emergency.window_secs",
                        "an emergency window must not be longer than the normal window",
                    ));
                }
                Some(emergency)
            }
            None => None,
        };
        let mut protocols: Vec<CulturalProtocol> = Vec::new();
        for (index, raw) in self.cultural_protocols.into_iter().enumerate() {
            let field = format!("properties.cultural_protocols[{index}].name");
            let name = text(&field, raw.name)
                .map_err(|_| invalid(&field, "a cultural protocol needs a name"))?;
            if protocols.iter().any(|p| p.name == name) {
                return Err(invalid(
                    field,
                    format!("protocol `{name}` is defined twice"),
                ));
            }
            protocols.push(CulturalProtocol {
                name,
                requires_steward_approval: raw.requires_steward_approval,
                max_visibility: raw.max_visibility,
            });
        }
        Ok(Properties {
            founders,
            admission: self.admission,
            min_creator_share_bp: basis_points(
                "properties.min_creator_share_bp",
                self.min_creator_share_bp,
                0,
            )?,
            required_principles: list("properties.required_principles", self.required_principles)?,
            allowed_regions: list("properties.allowed_regions", self.allowed_regions)?,
            cultural_protocols: protocols,
            benefit_model: self.benefit_model,
            voting: Voting { rule, emergency },
        })
    }
}
