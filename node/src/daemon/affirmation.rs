//! Content as its author states it: the consent and principles they gave, nothing added on
//! their behalf, and the check, before anything is written, that they stated what the pod and
//! the visibility need, naming the flag to pass when not.

use myco_dna::{DnaManifest, Visibility};
use myco_zomes::content::{Consent, Content};

use super::writes::WriteError;

/// Content as the author stated it: the consent and principles they gave, nothing added.
pub fn content(request: crate::api::types::PublishRequest) -> Result<Content, WriteError> {
    let c = request.consent;
    let revenue_share = request
        .revenue_share
        .map(|shares| shares.iter().map(share_of).collect::<Result<Vec<_>, _>>())
        .transpose()?;
    Ok(Content {
        title: request.title,
        body: request.body,
        blob: None,
        kind: request.kind.unwrap_or_else(|| "story".into()),
        consent: Consent {
            public_sharing: c.public_sharing,
            community_sharing: c.community_sharing,
            ai_analysis: c.ai_analysis,
            commercial_use: c.commercial_use,
            attribution_required: c.attribution_required,
            modification_allowed: c.modification_allowed,
            distribution_channels: Vec::new(),
        },
        revenue_share,
        principles: request.principles,
        protocols: request.protocols,
        attribution: request.attribution,
    })
}

fn share_of(
    share: &crate::api::types::ShareBody,
) -> Result<myco_zomes::content::Share, WriteError> {
    use myco_zomes::content::{Recipient, Share};
    let recipient = if share.recipient.trim().eq_ignore_ascii_case("community") {
        Recipient::Community
    } else {
        Recipient::Member(share.recipient.trim().parse().map_err(|_| {
            WriteError::NotAffirmed(format!(
                "revenue-share recipient `{}` is neither a key hash (kh_…) nor `community`",
                share.recipient
            ))
        })?)
    };
    Ok(Share {
        recipient,
        bp: myco_dna::BasisPoints(share.bp),
    })
}

/// Refuses, before anything is written, content whose author has not stated what the pod
/// and the visibility need: every required principle, and the sharing consent of the
/// visibility. The zomes refuse the same; this says which flag to pass.
pub fn affirmed(
    dna: &DnaManifest,
    content: &Content,
    visibility: Visibility,
) -> Result<(), WriteError> {
    if let Some(missing) = dna
        .properties
        .required_principles
        .iter()
        .find(|p| !content.principles.contains(p))
    {
        return Err(WriteError::NotAffirmed(format!(
            "the content does not affirm the pod's required principle `{missing}`: the author states it with --principle {missing} (API: list it in `principles`); the daemon never affirms on anyone's behalf"
        )));
    }
    let needs = match visibility {
        Visibility::Public if !content.consent.public_sharing => Some("public_sharing"),
        Visibility::Pod if !content.consent.community_sharing => Some("community_sharing"),
        _ => None,
    };
    if let Some(flag) = needs {
        let name = match visibility {
            Visibility::Public => "public",
            _ => "pod",
        };
        return Err(WriteError::NotAffirmed(format!(
            "{name} visibility needs the author's {flag} consent: pass --consent {flag} (API: consent.{flag} = true), or choose a narrower --visibility; the daemon never consents on anyone's behalf"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::{ConsentBody, PublishRequest};

    fn storytelling() -> DnaManifest {
        myco_zomes::load_dna(include_str!("../../../dna/examples/storytelling.toml"))
            .expect("the example DNA loads")
    }

    #[test]
    fn nothing_is_affirmed_on_the_authors_behalf() {
        let dna = storytelling();
        let bare = content(PublishRequest::story(
            "t",
            "",
            "pod",
            &[],
            ConsentBody::default(),
        ))
        .expect("content");
        // Nothing was filled in: no principle, no consent.
        assert!(bare.principles.is_empty());
        assert_eq!(bare.consent, Consent::default());
        let error = affirmed(&dna, &bare, Visibility::Pod).expect_err("refused");
        assert!(
            error.to_string().contains("--principle collective-benefit"),
            "{error}"
        );

        let principles: Vec<&str> = dna
            .properties
            .required_principles
            .iter()
            .map(String::as_str)
            .collect();
        let unconsented = content(PublishRequest::story(
            "t",
            "",
            "pod",
            &principles,
            ConsentBody::default(),
        ))
        .expect("content");
        let error = affirmed(&dna, &unconsented, Visibility::Pod).expect_err("refused");
        assert!(
            error.to_string().contains("--consent community_sharing"),
            "{error}"
        );
        assert!(affirmed(&dna, &unconsented, Visibility::Private).is_ok());
        let stated = content(PublishRequest::story(
            "t",
            "",
            "pod",
            &principles,
            ConsentBody::community(),
        ))
        .expect("content");
        assert!(affirmed(&dna, &stated, Visibility::Pod).is_ok());
        let error = affirmed(&dna, &stated, Visibility::Public).expect_err("refused");
        assert!(
            error.to_string().contains("--consent public_sharing"),
            "{error}"
        );
    }
}
