//! Resolving a write against what this node holds, on the engine thread, just before it is
//! built: an edit reads the current version of the content, a comment or reaction takes the
//! content's visibility, a distribution gets its payouts ([`super::ledger`]). Each read is one
//! record by hash or one chain's typed index, never a fold of the whole pod. A member who
//! left a pod writes nothing more in it.

use myco_dna::{ActionBody, ActionHash, DnaHash, DnaManifest, KeyHash, Record, Visibility};
use myco_zomes::codec::is_entry;
use myco_zomes::content::{Content, CONTENT};
use myco_zomes::membership::LEAVE;
use myco_zomes::{ZOME_CONTENT, ZOME_MEMBERSHIP};

use super::engine_thread::EngineSide;
use super::{CommandError, Write};
use crate::api::types::{ConsentChanges, EditRequest};
use crate::store::{ChainId, Store};

/// Most versions read back from a named version to its story's Create: far more than anyone
/// edits a story, and a bound on the reads one write may cost.
pub const MAX_VERSIONS: usize = 10_000;

impl<S: Store> EngineSide<S> {
    /// `write`, resolved against this node's records so that it can be built.
    pub(super) fn prepare(
        &mut self,
        pod: DnaHash,
        dna: &DnaManifest,
        write: Write,
    ) -> Result<Write, CommandError> {
        self.refuse_if_left(pod)?;
        Ok(match write {
            Write::Revise { target, changes } => self.revise(pod, target, *changes)?,
            Write::Comment {
                content,
                text,
                visibility,
            } => {
                let (content, visibility) = self.response_target(pod, content, visibility)?;
                Write::Comment {
                    content,
                    text,
                    visibility: Some(visibility),
                }
            }
            Write::React {
                content,
                reaction,
                visibility,
            } => {
                let (content, visibility) = self.response_target(pod, content, visibility)?;
                Write::React {
                    content,
                    reaction,
                    visibility: Some(visibility),
                }
            }
            Write::Distribute { event, grant } => {
                Write::Distribution(Box::new(self.plan_distribution(pod, dna, event, grant)?))
            }
            other => other,
        })
    }

    /// A record this node holds, or why not: a store failure is not "not held".
    pub(super) fn held(&self, hash: &ActionHash) -> Result<Record, CommandError> {
        self.engine
            .store()
            .get(hash)
            .map_err(|e| CommandError::Store(e.to_string()))?
            .ok_or_else(|| {
                CommandError::Invalid(format!(
                    "this node holds no record {hash}: check the hash (a typo?), or, if it was written on another node moments ago, sync and try again"
                ))
            })
    }

    /// The records of one chain that write `zome`'s `entry_type`, from the store's index.
    pub(super) fn typed(
        &self,
        chain: &ChainId,
        zome: &str,
        entry_type: &str,
    ) -> Result<Vec<Record>, CommandError> {
        self.engine
            .store()
            .typed_records(chain, zome, entry_type)
            .map_err(|e| CommandError::Store(e.to_string()))
    }

    /// The chains of `pod` this node holds: one per member it knows of.
    pub(super) fn pod_chains(&self, pod: DnaHash) -> Result<Vec<ChainId>, CommandError> {
        Ok(self
            .engine
            .store()
            .heads()
            .map_err(|e| CommandError::Store(e.to_string()))?
            .into_keys()
            .filter(|chain| chain.pod == pod)
            .collect())
    }

    fn my_chain(&self, pod: DnaHash) -> ChainId {
        ChainId {
            pod,
            author: *self.engine.agent(),
        }
    }

    fn refuse_if_left(&self, pod: DnaHash) -> Result<(), CommandError> {
        let leaves = self.typed(&self.my_chain(pod), ZOME_MEMBERSHIP, LEAVE)?;
        match leaves.first() {
            None => Ok(()),
            Some(leave) => Err(CommandError::Invalid(format!(
                "this agent left pod {pod} (Leave {}): a member who left writes nothing more in it",
                leave.hash()
            ))),
        }
    }

    /// The content `target` names: its Create and its latest version (`target` itself, or
    /// the last Update in its author's chain that replaces it or a later version of it).
    /// Reads the versions back to the Create by hash, at most [`MAX_VERSIONS`], and the
    /// author's chain's typed index forward.
    fn story(&self, pod: DnaHash, target: ActionHash) -> Result<(Record, Record), CommandError> {
        let record = self.held(&target)?;
        if !is_entry(&record, ZOME_CONTENT, CONTENT) {
            return Err(CommandError::Invalid(format!("{target} is not content")));
        }
        let mut first = record.clone();
        for _ in 0..MAX_VERSIONS {
            let ActionBody::Update { original, .. } = &first.action().body else {
                break;
            };
            first = self.held(original)?;
        }
        let chain = ChainId {
            pod,
            author: record.action().author,
        };
        let mut latest = record;
        for later in self.typed(&chain, ZOME_CONTENT, CONTENT)? {
            if let ActionBody::Update { original, .. } = &later.action().body {
                if *original == latest.hash() {
                    latest = later;
                }
            }
        }
        Ok((first, latest))
    }

    /// The content a comment or reaction answers (its Create, whatever version was named),
    /// and the visibility the response gets: the narrower of the first and the latest
    /// version's, unless the writer narrows it further.
    fn response_target(
        &self,
        pod: DnaHash,
        content: ActionHash,
        narrowed: Option<Visibility>,
    ) -> Result<(ActionHash, Visibility), CommandError> {
        let (first, latest) = self.story(pod, content)?;
        let visibility_of = |r: &Record| {
            r.action()
                .body
                .entry_ref()
                .map_or(Visibility::Private, |e| e.visibility)
        };
        let (a, b) = (visibility_of(&first), visibility_of(&latest));
        let follows = if a.is_at_least_as_wide_as(b) { b } else { a };
        match narrowed {
            None => Ok((first.hash(), follows)),
            Some(v) if follows.is_at_least_as_wide_as(v) => Ok((first.hash(), v)),
            Some(v) => Err(CommandError::Invalid(format!(
                "a {v:?} response cannot be wider than the {follows:?} content it responds to; leave --visibility out to follow the content"
            ))),
        }
    }

    /// The latest version of the agent's content `target`, refused unless the agent wrote it.
    fn current_version(&self, pod: DnaHash, target: ActionHash) -> Result<Record, CommandError> {
        let (first, latest) = self.story(pod, target)?;
        let me = self.engine.agent().key_hash();
        let author: KeyHash = first.action().author.key_hash();
        if author != me {
            return Err(CommandError::Invalid(format!(
                "only the author of {target} ({author}) may edit it; this agent is {me}"
            )));
        }
        Ok(latest)
    }

    fn revise(
        &self,
        pod: DnaHash,
        target: ActionHash,
        changes: EditRequest,
    ) -> Result<Write, CommandError> {
        let current = self.current_version(pod, target)?;
        let Some(before) = current
            .entry
            .as_ref()
            .and_then(|e| myco_dna::encoding::from_canonical_cbor::<Content>("content", &e.0).ok())
        else {
            return Err(CommandError::Invalid(format!(
                "the current version of {target} ({}) has no entry on this node (deleted?); there is nothing to edit",
                current.hash()
            )));
        };
        let visibility = match changes.visibility.as_deref() {
            None => current
                .action()
                .body
                .entry_ref()
                .map_or(Visibility::Private, |e| e.visibility),
            Some(text) => super::writes::parse_visibility(text).ok_or_else(|| {
                CommandError::Invalid(format!(
                    "visibility `{text}` is not one of public, pod, private"
                ))
            })?,
        };
        Ok(Write::Edit {
            original: current.hash(),
            content: Box::new(revised(before, changes)),
            visibility,
        })
    }
}

/// `before` with `changes` applied: every field not changed keeps its value.
fn revised(before: Content, changes: EditRequest) -> Content {
    let mut consent = before.consent;
    let ConsentChanges {
        public_sharing,
        community_sharing,
        ai_analysis,
        commercial_use,
        attribution_required,
        modification_allowed,
    } = changes.consent.unwrap_or_default();
    for (flag, change) in [
        (&mut consent.public_sharing, public_sharing),
        (&mut consent.community_sharing, community_sharing),
        (&mut consent.ai_analysis, ai_analysis),
        (&mut consent.commercial_use, commercial_use),
        (&mut consent.attribution_required, attribution_required),
        (&mut consent.modification_allowed, modification_allowed),
    ] {
        if let Some(value) = change {
            *flag = value;
        }
    }
    Content {
        title: changes.title.unwrap_or(before.title),
        body: changes.body.unwrap_or(before.body),
        blob: before.blob,
        kind: changes.kind.unwrap_or(before.kind),
        consent,
        revenue_share: before.revenue_share,
        principles: changes.principles.unwrap_or(before.principles),
        protocols: changes.protocols.unwrap_or(before.protocols),
        attribution: changes.attribution.or(before.attribution),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use myco_zomes::content::Consent;

    fn story() -> Content {
        Content {
            title: "River".into(),
            body: "old".into(),
            blob: None,
            kind: "story".into(),
            consent: Consent {
                community_sharing: true,
                ai_analysis: true,
                ..Consent::default()
            },
            revenue_share: None,
            principles: vec!["care".into()],
            protocols: Vec::new(),
            attribution: Some("Ana".into()),
        }
    }

    #[test]
    fn an_edit_keeps_every_field_it_does_not_name() {
        let changes = EditRequest {
            body: Some("new".into()),
            consent: Some(ConsentChanges {
                ai_analysis: Some(false),
                ..ConsentChanges::default()
            }),
            ..EditRequest::default()
        };
        let after = revised(story(), changes);
        assert_eq!(after.body, "new");
        assert_eq!(after.title, "River");
        assert_eq!(after.principles, vec!["care".to_string()]);
        assert_eq!(after.attribution.as_deref(), Some("Ana"));
        assert!(after.consent.community_sharing);
        assert!(!after.consent.ai_analysis);
    }
}
