//! # myco-zomes: Myco's governance rules
//!
//! A pod's DNA names the zomes whose rules every member's node enforces:
//!
//! | zome | entry types | rules |
//! |---|---|---|
//! | [`membership`] | Genesis proof, `profile`, `leave` | admission by policy; contact data only in Private profiles |
//! | [`governance`] | `proposal`, `vote`, `decision`, `checkpoint` | electorate fixed by a checkpoint; one timely vote each; thresholds over the whole electorate |
//! | [`content`] | `content`, `approval`, `comment`, `reaction` | consent, revenue-share floor, principles, cultural protocols, creator control |
//! | [`value`] | `value_event`, `distribution` | payouts equal the revenue share, by largest remainder |
//!
//! Every rule is pure and deterministic: a verdict depends only on the record, the records it
//! references by hash, and its author's earlier chain, all read through a
//! [`ValidationContext`]. [`validate`] routes a record to the zome that owns it.
//!
//! ```
//! use myco_dna::{ChainAuthor, DnaManifest, Record, SigningKey, Timestamp, ValidationContext, Verdict, ActionHash};
//!
//! struct Nothing;
//! impl ValidationContext for Nothing {
//!     fn get(&self, _: &ActionHash) -> Option<Record> { None }
//!     fn author_records(&self, _: &str, _: &str) -> Vec<Record> { Vec::new() }
//! }
//!
//! let dna = DnaManifest::from_toml(include_str!("../../dna/examples/territory-dk.toml")).unwrap();
//! let mut author = ChainAuthor::new(SigningKey::from_bytes(&[5; 32]), dna.dna_hash());
//! let genesis = author.genesis(Timestamp(1), Vec::new());
//! // territory-dk admits anyone: an empty membrane proof is enough.
//! assert_eq!(myco_zomes::validate(&genesis, &dna, &Nothing), Verdict::Valid);
//! ```

// Library code may not unwrap input; tests may.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod claim;
pub mod codec;
pub mod content;
pub mod governance;
pub mod membership;
pub mod state;
mod text;
pub mod value;

use myco_dna::{ActionBody, DnaManifest, Record, ValidationContext, Verdict, Zome};

/// Name of the membership zome.
pub const ZOME_MEMBERSHIP: &str = "membership";
/// Name of the governance zome.
pub const ZOME_GOVERNANCE: &str = "governance";
/// Name of the content zome.
pub const ZOME_CONTENT: &str = "content";
/// Name of the value zome.
pub const ZOME_VALUE: &str = "value";

/// The zomes a DNA manifest may name.
pub const ZOME_NAMES: [&str; 4] = [ZOME_MEMBERSHIP, ZOME_GOVERNANCE, ZOME_CONTENT, ZOME_VALUE];

/// Parses a manifest and checks that it names only known zomes.
pub fn load_dna(toml: &str) -> Result<DnaManifest, myco_dna::ManifestError> {
    let dna = DnaManifest::from_toml(toml)?;
    dna.check_zomes(&ZOME_NAMES)?;
    Ok(dna)
}

/// The zome with `name`, if Myco has one.
pub fn zome(name: &str) -> Option<&'static dyn Zome> {
    match name {
        ZOME_MEMBERSHIP => Some(&membership::Membership),
        ZOME_GOVERNANCE => Some(&governance::Governance),
        ZOME_CONTENT => Some(&content::ContentZome),
        ZOME_VALUE => Some(&value::ValueZome),
        _ => None,
    }
}

/// App-validates one record that already passed system validation.
///
/// Genesis goes to membership; Create and Update to the zome their entry names, which the pod's
/// DNA must list; Delete and Update must come from the author of what they change. A record
/// written after its author left the pod is refused.
pub fn validate(record: &Record, dna: &DnaManifest, ctx: &dyn ValidationContext) -> Verdict {
    verdict_of(route(record, dna, ctx))
}

fn route(record: &Record, dna: &DnaManifest, ctx: &dyn ValidationContext) -> Result<(), Verdict> {
    let action = record.action();
    if let Some(leave) = ctx
        .author_records(ZOME_MEMBERSHIP, membership::LEAVE)
        .first()
    {
        return Err(Verdict::invalid(format!(
            "the author left this pod in {}; they must join again to write",
            leave.hash()
        )));
    }
    let zome_name = match &action.body {
        ActionBody::Genesis { .. } => ZOME_MEMBERSHIP.to_string(),
        ActionBody::Create(entry) => entry.zome.clone(),
        ActionBody::Update { original, entry } => {
            let original = codec::fetch(ctx, original)?;
            check_same_author(record, &original, "update")?;
            match original.action().body.entry_ref() {
                Some(old) if old.zome == entry.zome && old.entry_type == entry.entry_type => {}
                _ => {
                    return Err(Verdict::invalid(
                        "an update must keep the zome and entry type of what it updates",
                    ))
                }
            }
            entry.zome.clone()
        }
        ActionBody::Delete { target } => {
            let target = codec::fetch(ctx, target)?;
            check_same_author(record, &target, "delete")?;
            match target.action().body.entry_ref() {
                Some(entry) => entry.zome.clone(),
                None => return Err(Verdict::invalid("only a Create or Update can be deleted")),
            }
        }
    };
    let zome_name = zome_name.as_str();
    if !dna.zomes.iter().any(|z| z == zome_name) {
        return Err(Verdict::invalid(format!(
            "this pod's DNA does not use the `{zome_name}` zome"
        )));
    }
    let zome = zome(zome_name).ok_or_else(|| {
        Verdict::invalid(format!(
            "no zome named `{zome_name}` exists in this version of Myco"
        ))
    })?;
    if let Some(entry) = action.body.entry_ref() {
        if !zome.entry_types().contains(&entry.entry_type.as_str()) {
            return Err(unknown_entry_type(zome_name, &entry.entry_type));
        }
    }
    match zome.validate(record, dna, ctx) {
        Verdict::Valid => Ok(()),
        Verdict::Invalid(mut breach) => {
            breach.zome.get_or_insert(zome.name());
            Err(Verdict::Invalid(breach))
        }
        other => Err(other),
    }
}

fn check_same_author(record: &Record, target: &Record, what: &str) -> Result<(), Verdict> {
    if target.action().author != record.action().author {
        return Err(Verdict::invalid(format!(
            "only the author of {} may {what} it",
            target.hash()
        )));
    }
    Ok(())
}

/// Turns a rule's result into a verdict.
pub(crate) fn verdict_of(result: Result<(), Verdict>) -> Verdict {
    match result {
        Ok(()) => Verdict::Valid,
        Err(verdict) => verdict,
    }
}

/// The verdict for an entry type a zome does not define.
pub(crate) fn unknown_entry_type(zome: &str, entry_type: &str) -> Verdict {
    Verdict::invalid(format!(
        "the `{zome}` zome has no entry type `{entry_type}`"
    ))
}
