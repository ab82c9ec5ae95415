//! The membership zome: admission through the Genesis membrane proof, profiles, leaving.

mod types;

pub use types::*;

use myco_dna::encoding::{from_canonical_cbor, to_canonical_cbor};
use myco_dna::manifest::Admission;
use myco_dna::signing::verify_message;
use myco_dna::{DnaManifest, Record, ValidationContext, Verdict, Visibility, Zome};

use crate::codec::decode;
use crate::governance::{check_role, decided_proposal, ProposalKind, ReplicaTarget, Role};
use crate::text::{bounded, required};
use crate::ZOME_MEMBERSHIP;

/// Longest profile text field, in bytes.
pub const MAX_PROFILE_FIELD: usize = 1024;

/// The membership zome.
pub struct Membership;

impl Zome for Membership {
    fn name(&self) -> &'static str {
        ZOME_MEMBERSHIP
    }

    fn entry_types(&self) -> &'static [&'static str] {
        &[PROFILE, LEAVE]
    }

    fn validate(&self, record: &Record, dna: &DnaManifest, ctx: &dyn ValidationContext) -> Verdict {
        crate::verdict_of(validate(record, dna, ctx))
    }
}

/// Encodes a membrane proof for a Genesis: empty bytes for [`MembraneProof::None`].
pub fn encode_membrane_proof(proof: &MembraneProof) -> Vec<u8> {
    match proof {
        MembraneProof::None => Vec::new(),
        other => to_canonical_cbor(other),
    }
}

/// Signs an invitation as `steward`.
pub fn sign_invitation(
    steward: &myco_dna::SigningKey,
    terms: InvitationTerms,
    role: crate::governance::RoleProof,
) -> Invitation {
    let signature =
        myco_dna::signing::sign_message(steward, INVITATION_DOMAIN, &to_canonical_cbor(&terms));
    Invitation {
        terms,
        steward: myco_dna::agent_key_of(steward),
        role,
        signature,
    }
}

/// Decodes a Genesis's membrane proof: empty bytes are [`MembraneProof::None`].
pub fn decode_membrane_proof(bytes: &[u8]) -> Result<MembraneProof, String> {
    if bytes.is_empty() {
        return Ok(MembraneProof::None);
    }
    from_canonical_cbor("membrane proof", bytes).map_err(|e| e.to_string())
}

/// True if `record` is the Genesis of an archivist ([`MembraneProof::Replica`]): it gives a
/// chain, not membership.
pub fn is_archivist_genesis(record: &Record) -> bool {
    match &record.action().body {
        myco_dna::ActionBody::Genesis { membrane_proof } => matches!(
            decode_membrane_proof(membrane_proof),
            Ok(MembraneProof::Replica { .. })
        ),
        _ => false,
    }
}

/// Checks that `decision` is a passed ApproveReplica decision naming `archivist`.
pub fn check_archivist_approval(
    decision: &myco_dna::ActionHash,
    archivist: &myco_dna::KeyHash,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let (_, proposal) = decided_proposal(decision, ctx)?;
    match proposal.kind {
        ProposalKind::ApproveReplica(ReplicaTarget::Archivist(node))
            if node.agent == *archivist =>
        {
            Ok(())
        }
        _ => Err(Verdict::invalid(format!(
            "decision {decision} does not approve {archivist} as an archivist"
        ))),
    }
}

fn validate(
    record: &Record,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let action = record.action();
    if let myco_dna::ActionBody::Genesis { membrane_proof } = &action.body {
        return validate_genesis(record, membrane_proof, dna, ctx);
    }
    let Some(entry_ref) = action.body.entry_ref() else {
        return Ok(());
    };
    match entry_ref.entry_type.as_str() {
        PROFILE => match decode::<Profile>(record, "profile")? {
            Some(profile) => validate_profile(&profile, entry_ref.visibility),
            None => Ok(()),
        },
        LEAVE => {
            if entry_ref.visibility == Visibility::Private {
                return Err(Verdict::invalid(
                    "a Leave must be visible to the pod; it cannot be Private",
                ));
            }
            if let Some(leave) = decode::<Leave>(record, "leave")? {
                bounded(
                    "leave reason",
                    leave.reason.as_deref().unwrap_or(""),
                    MAX_PROFILE_FIELD,
                )?;
            }
            Ok(())
        }
        other => Err(crate::unknown_entry_type(ZOME_MEMBERSHIP, other)),
    }
}

fn validate_profile(profile: &Profile, visibility: Visibility) -> Result<(), Verdict> {
    for (field, value) in [
        ("username", &profile.username),
        ("display name", &profile.display_name),
        ("bio", &profile.bio),
    ] {
        bounded(field, value, MAX_PROFILE_FIELD)?;
    }
    required("username", &profile.username)?;
    let has_contact = profile.contact.as_ref().is_some_and(|c| !c.is_empty());
    if has_contact && visibility != Visibility::Private {
        return Err(Verdict::invalid(format!(
            "contact data (email, phone, legal name) is allowed only in a Private profile, not a {visibility:?} one; move it to a Private entry"
        )));
    }
    if visibility == Visibility::Public && !profile.profile_public {
        return Err(Verdict::invalid(
            "a profile with profile_public = false cannot be Public; set profile_public or use Pod visibility",
        ));
    }
    Ok(())
}

fn validate_genesis(
    record: &Record,
    proof_bytes: &[u8],
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let action = record.action();
    let joiner = action.author.key_hash();
    let proof = decode_membrane_proof(proof_bytes)
        .map_err(|e| Verdict::invalid(format!("the membrane proof does not decode: {e}")))?;
    if let MembraneProof::Replica { decision } = proof {
        // Checked whatever the admission policy: it decides whether members serve the node.
        return check_archivist_approval(&decision, &joiner, ctx);
    }
    if dna.properties.founders.contains(&joiner) {
        return Ok(());
    }
    match (dna.properties.admission, proof) {
        (Admission::Open, _) => Ok(()),
        (Admission::Invite, MembraneProof::Invite(invitation)) => {
            let terms = &invitation.terms;
            if terms.pod != action.pod {
                return Err(Verdict::invalid("the invitation is for another pod"));
            }
            if terms.invitee != joiner {
                return Err(Verdict::invalid(format!(
                    "the invitation is for {}, not for the joining key {joiner}",
                    terms.invitee
                )));
            }
            if action.timestamp > terms.expires {
                return Err(Verdict::invalid(
                    "the invitation expired before this Genesis was written",
                ));
            }
            verify_message(
                &invitation.steward,
                INVITATION_DOMAIN,
                &to_canonical_cbor(terms),
                &invitation.signature,
            )
            .map_err(|e| {
                Verdict::invalid(format!(
                    "the invitation's signature is not the steward's: {e}"
                ))
            })?;
            check_role(
                &invitation.role,
                &invitation.steward.key_hash(),
                Role::Steward,
                dna,
                ctx,
            )
        }
        (Admission::Vote, MembraneProof::Admit { decision }) => {
            let (_, proposal) = decided_proposal(&decision, ctx)?;
            match proposal.kind {
                ProposalKind::Admit { member } if member == joiner => Ok(()),
                _ => Err(Verdict::invalid(format!(
                    "decision {decision} does not admit {joiner}"
                ))),
            }
        }
        (Admission::Invite, _) => Err(Verdict::invalid(
            "this pod admits by steward invitation; the Genesis carries no invitation",
        )),
        (Admission::Vote, _) => Err(Verdict::invalid(
            "this pod admits by vote; the Genesis must reference a passed Admit decision",
        )),
    }
}
