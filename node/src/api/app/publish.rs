//! Publishing and editing a story through a form: its text, its visibility, the consent the
//! storyteller gives (one box per use), the pod's principles to affirm and its cultural
//! protocols. Revoking and deleting are one button each. A refused form comes back with what
//! was typed in it and the pod's reason, so nothing is lost.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};
use myco_dna::{ActionHash, DnaHash, DnaManifest};

use super::form::{Csrf, Fields};
use super::stories::{consent_of, CONSENT_NAMES};
use super::{layout, parse, PageError};
use crate::api::handlers::{visibility, write};
use crate::api::reads::{dna_of, load_story};
use crate::api::types::{ConsentBody, PublishRequest};
use crate::api::types::{ConsentChanges, EditRequest};
use crate::api::AppState;
use crate::daemon::writes::Write;

/// What a story form holds: a new story's blank, an edit's current version, or what was sent.
#[derive(Clone, Debug, Default)]
pub(super) struct Draft {
    title: String,
    body: String,
    kind: String,
    visibility: String,
    consent: ConsentBody,
    principles: Vec<String>,
    protocols: Vec<String>,
    attribution: String,
}

impl Draft {
    fn blank() -> Self {
        Draft {
            kind: "story".into(),
            visibility: "pod".into(),
            consent: ConsentBody::community(),
            ..Draft::default()
        }
    }

    fn from_fields(fields: &Fields) -> Self {
        Draft {
            title: fields.one("title").unwrap_or_default().to_string(),
            body: fields.text("body").to_string(),
            kind: fields.one("kind").unwrap_or("story").to_string(),
            visibility: fields.one("visibility").unwrap_or("pod").to_string(),
            consent: consent_of(|flag| fields.ticked("consent", flag)),
            principles: fields
                .all("principle")
                .into_iter()
                .map(String::from)
                .collect(),
            protocols: fields
                .all("protocol")
                .into_iter()
                .map(String::from)
                .collect(),
            attribution: fields.one("attribution").unwrap_or_default().to_string(),
        }
    }

    fn flag(&self, name: &str) -> bool {
        let mut consent = self.consent.clone();
        consent.flag_mut(name).is_some_and(|on| *on)
    }
}

/// The story form, posting to `action`.
fn story_form(
    dna: &DnaManifest,
    id: &str,
    action: &str,
    draft: &Draft,
    csrf: &Csrf,
    submit: &str,
) -> Markup {
    let principles = &dna.properties.required_principles;
    html! {
        form class="wide" id=(id) method="post" action=(action) {
            (csrf.field())
            label for="title" { "Title" }
            input type="text" id="title" name="title" required maxlength="200" value=(draft.title);
            label for="body" { "Story" }
            textarea id="body" name="body" rows="10" { (draft.body) }
            label for="kind" { "Kind of work" }
            input type="text" id="kind" name="kind" value=(draft.kind);
            label for="visibility" { "Who may see it" }
            select id="visibility" name="visibility" {
                @for (value, label) in [("private", "only me"), ("pod", "the pod's members"), ("public", "anyone")] {
                    option value=(value) selected[draft.visibility == value] { (label) }
                }
            }
            fieldset {
                legend { "Consent: what others may do with it" }
                @for (flag, name) in ConsentBody::FLAGS.iter().zip(CONSENT_NAMES) {
                    div {
                        input type="checkbox" id={ "consent-" (flag) } name="consent" value=(flag) checked[draft.flag(flag)];
                        " " label for={ "consent-" (flag) } { (name) }
                    }
                }
            }
            @if !principles.is_empty() {
                fieldset {
                    legend { "The pod's principles: a story affirms each" }
                    @for p in principles {
                        div {
                            input type="checkbox" id={ "principle-" (p) } name="principle" value=(p) checked[draft.principles.contains(p)];
                            " " label for={ "principle-" (p) } { (p) }
                        }
                    }
                }
            }
            @if !dna.properties.cultural_protocols.is_empty() {
                fieldset {
                    legend { "Cultural protocols that apply" }
                    @for p in &dna.properties.cultural_protocols {
                        div {
                            input type="checkbox" id={ "protocol-" (p.name) } name="protocol" value=(p.name) checked[draft.protocols.contains(&p.name)];
                            " " label for={ "protocol-" (p.name) } {
                                (p.name)
                                @if p.requires_steward_approval { " (a steward approves it before anyone else sees it)" }
                            }
                        }
                    }
                }
            }
            label for="attribution" { "Attribution (optional)" }
            input type="text" id="attribution" name="attribution" value=(draft.attribution);
            div { button type="submit" id="submit" { (submit) } }
        }
    }
}

/// A refusal shown above the form that caused it.
fn refusal(message: &str) -> Markup {
    html! { p class="notice" role="alert" { strong { "Not saved: " } (message) } }
}

/// Sends the browser on to `path` after a write (303, so a reload does not post again).
pub(super) fn see(path: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, path.to_string())],
    )
        .into_response()
}

/// `GET /app/pods/{pod}/publish`.
pub(super) async fn publish_form(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    csrf: Csrf,
) -> Result<Html<String>, PageError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let dna = dna_of(&state, pod).await?;
    let action = format!("/app/pods/{pod}/publish");
    let body = story_form(&dna, "publish", &action, &Draft::blank(), &csrf, "Publish");
    Ok(Html(
        layout::pod_page("Publish a story", &pod.to_string(), body).into_string(),
    ))
}

/// `POST /app/pods/{pod}/publish`: a new story; on to its page.
pub(super) async fn publish(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    csrf: Csrf,
    fields: Fields,
) -> Result<Response, PageError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let dna = dna_of(&state, pod).await?;
    let draft = Draft::from_fields(&fields);
    let request = PublishRequest {
        title: draft.title.clone(),
        body: draft.body.clone(),
        kind: Some(draft.kind.clone()),
        visibility: draft.visibility.clone(),
        consent: draft.consent.clone(),
        principles: draft.principles.clone(),
        protocols: draft.protocols.clone(),
        attribution: Some(draft.attribution.clone()).filter(|a| !a.is_empty()),
        revenue_share: None,
    };
    let written = match visibility(&draft.visibility) {
        Ok(visibility) => {
            write(
                &state,
                pod,
                Write::Content {
                    request: Box::new(request),
                    visibility,
                },
            )
            .await
        }
        Err(refused) => Err(refused),
    };
    match written {
        Ok(axum::Json(written)) => Ok(see(&format!("/app/stories/{}", written.hash))),
        Err(refused) => {
            let action = format!("/app/pods/{pod}/publish");
            let body = html! {
                (refusal(&refused.message))
                (story_form(&dna, "publish", &action, &draft, &csrf, "Publish"))
            };
            let page = layout::pod_page("Publish a story", &pod.to_string(), body);
            Ok((refused.status, Html(page.into_string())).into_response())
        }
    }
}

/// `GET /app/stories/{hash}/edit`: the newest version, in the form.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    csrf: Csrf,
) -> Result<Html<String>, PageError> {
    let hash: ActionHash = parse(&hash, "record hash (act_…)")?;
    let story = load_story(&state, hash, None).await?;
    let pod: DnaHash = parse(&story.pod, "pod id (dna_…)")?;
    let dna = dna_of(&state, pod).await?;
    let consent = story.consent.as_ref();
    let draft = Draft {
        title: story.title.clone(),
        body: story.body.clone(),
        kind: story.kind.clone(),
        visibility: story.visibility.clone(),
        consent: consent_of(|flag| {
            consent.is_some_and(|c| match flag {
                "public_sharing" => c.public_sharing,
                "community_sharing" => c.community_sharing,
                "ai_analysis" => c.ai_analysis,
                "commercial_use" => c.commercial_use,
                "attribution_required" => c.attribution_required,
                "modification_allowed" => c.modification_allowed,
                _ => false,
            })
        }),
        principles: story.principles.clone(),
        protocols: story.protocols.clone(),
        attribution: story.attribution.clone().unwrap_or_default(),
    };
    let action = format!("/app/stories/{}/edit", story.latest);
    let body = html! {
        p class="meta" { "A new version replaces this one. Narrowing who may see it, or what they may do with it, purges the wider copies on every member's node." }
        (story_form(&dna, "edit", &action, &draft, &csrf, "Save a new version"))
    };
    Ok(Html(
        layout::pod_page(&format!("Edit “{}”", story.title), &story.pod, body).into_string(),
    ))
}

fn every_flag(consent: &ConsentBody) -> ConsentChanges {
    ConsentChanges {
        public_sharing: Some(consent.public_sharing),
        community_sharing: Some(consent.community_sharing),
        ai_analysis: Some(consent.ai_analysis),
        commercial_use: Some(consent.commercial_use),
        attribution_required: Some(consent.attribution_required),
        modification_allowed: Some(consent.modification_allowed),
    }
}

/// The pod a held record is in.
async fn pod_of_record(state: &AppState, hash: ActionHash) -> Result<DnaHash, PageError> {
    let story = load_story(state, hash, None).await?;
    parse(&story.pod, "pod id (dna_…)")
}

/// Writes `changes` as a new version of `target`; on to the new version's page, or the form
/// again with the reason it was refused.
async fn revise(
    state: &AppState,
    target: ActionHash,
    changes: EditRequest,
    draft: Option<Draft>,
    csrf: &Csrf,
) -> Result<Response, PageError> {
    let pod = pod_of_record(state, target).await?;
    let written = write(
        state,
        pod,
        Write::Revise {
            target,
            changes: Box::new(changes),
        },
    )
    .await;
    match (written, draft) {
        (Ok(axum::Json(written)), _) => Ok(see(&format!("/app/stories/{}", written.hash))),
        (Err(refused), Some(draft)) => {
            let dna = dna_of(state, pod).await?;
            let action = format!("/app/stories/{target}/edit");
            let body = html! {
                (refusal(&refused.message))
                (story_form(&dna, "edit", &action, &draft, csrf, "Save a new version"))
            };
            let page = layout::pod_page("Edit a story", &pod.to_string(), body);
            Ok((refused.status, Html(page.into_string())).into_response())
        }
        (Err(refused), None) => Err(refused.into()),
    }
}

/// `POST /app/stories/{hash}/edit`: a new version with what the form holds.
pub(super) async fn edit(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    csrf: Csrf,
    fields: Fields,
) -> Result<Response, PageError> {
    let target: ActionHash = parse(&hash, "record hash (act_…)")?;
    let draft = Draft::from_fields(&fields);
    let changes = EditRequest {
        title: Some(draft.title.clone()),
        body: Some(draft.body.clone()),
        kind: Some(draft.kind.clone()),
        visibility: Some(draft.visibility.clone()),
        consent: Some(every_flag(&draft.consent)),
        principles: Some(draft.principles.clone()),
        protocols: Some(draft.protocols.clone()),
        attribution: Some(draft.attribution.clone()).filter(|a| !a.is_empty()),
    };
    revise(&state, target, changes, Some(draft), &csrf).await
}

/// `POST /app/stories/{hash}/revoke`: a new version, private, with every consent withdrawn.
pub(super) async fn revoke(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    csrf: Csrf,
    _fields: Fields,
) -> Result<Response, PageError> {
    let target: ActionHash = parse(&hash, "record hash (act_…)")?;
    let changes = EditRequest {
        visibility: Some("private".into()),
        consent: Some(every_flag(&ConsentBody::default())),
        ..EditRequest::default()
    };
    revise(&state, target, changes, None, &csrf).await
}

/// `POST /app/stories/{hash}/delete`: deletes the story; back to its page, which shows the
/// receipts as the members' nodes purge it.
pub(super) async fn delete(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    _fields: Fields,
) -> Result<Response, PageError> {
    let target: ActionHash = parse(&hash, "record hash (act_…)")?;
    let pod = pod_of_record(&state, target).await?;
    let _written = write(&state, pod, Write::Delete { target }).await?;
    Ok(see(&format!("/app/stories/{target}")))
}
