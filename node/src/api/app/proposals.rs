//! Proposals and voting: the pod's proposals, newest first, with how many of each electorate
//! took part (as a plot too); one proposal with its votes, a vote form while it is open, and
//! a button to record the decision once enough members said yes.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::{Html, Response};
use maud::{html, Markup};
use myco_dna::{ActionHash, DnaHash, DnaManifest, KeyHash, Record, Timestamp, ValidationContext};
use myco_zomes::codec::read;
use myco_zomes::governance::{
    electorate, rule_for, votes_needed, Choice, Proposal, Vote, PROPOSAL,
};
use serde::Deserialize;

use super::form::{button, Csrf, Fields};
use super::plots::columns;
use super::publish::see;
use super::{date, layout, parse, PageError};
use crate::api::handlers::write;
use crate::api::reads::{dna_of, store_error, usernames};
use crate::api::{ApiError, ApiQuery, AppState};
use crate::daemon::writes::{parse_choice, Write};
use crate::store::{Relation, SqliteReader};

/// Proposals per page.
const PROPOSALS_PAGE: usize = 20;
/// Most votes a proposal page reads (a decision lists at most this many too).
const MAX_VOTES_SHOWN: usize = myco_zomes::governance::MAX_DECISION_VOTES;

/// Reads what a proposal's electorate rests on (its roster checkpoint) from the store.
struct ReaderContext<'a>(&'a SqliteReader);

impl ValidationContext for ReaderContext<'_> {
    fn get(&self, hash: &ActionHash) -> Option<Record> {
        self.0.get(hash).ok().flatten()
    }

    /// The electorate never reads an author's earlier records.
    fn author_records(&self, _zome: &str, _entry_type: &str) -> Vec<Record> {
        Vec::new()
    }
}

/// One proposal, counted from its votes.
struct Tally {
    hash: ActionHash,
    author: KeyHash,
    proposal: Proposal,
    electorate: Vec<KeyHash>,
    needed: usize,
    votes: BTreeMap<KeyHash, Choice>,
    decision: Option<ActionHash>,
}

impl Tally {
    fn count(&self, choice: Choice) -> usize {
        self.votes.values().filter(|c| **c == choice).count()
    }

    fn participation_pct(&self) -> u64 {
        (self.votes.len() as u64 * 100)
            .checked_div(self.electorate.len() as u64)
            .unwrap_or(0)
    }

    fn is_open(&self, now: Timestamp) -> bool {
        self.decision.is_none() && now < self.proposal.closes_at
    }

    fn status(&self, now: Timestamp) -> &'static str {
        match (self.decision, self.is_open(now)) {
            (Some(_), _) => "passed",
            (None, true) => "open",
            (None, false) => "closed without a decision",
        }
    }
}

/// Counts the votes on `record` that its electorate cast (each member's newest counts).
fn tally(
    reader: &SqliteReader,
    dna: &DnaManifest,
    record: &Record,
) -> Result<Option<Tally>, ApiError> {
    let Some(proposal) = read::<Proposal>(record, "proposal") else {
        return Ok(None);
    };
    let hash = record.hash();
    let ctx = ReaderContext(reader);
    let electorate = electorate(&proposal, dna, &ctx).unwrap_or_default();
    let needed = rule_for(&proposal, dna).map_or(1, |rule| {
        votes_needed(rule.threshold_bp.0, electorate.len())
    });
    let mut votes = BTreeMap::new();
    for vote in reader
        .referring(&hash, Relation::Vote, None, MAX_VOTES_SHOWN)
        .map_err(store_error)?
    {
        let voter = vote.action().author.key_hash();
        let cast_in_time = vote.action().timestamp <= proposal.closes_at;
        if let Some(v) = read::<Vote>(&vote, "vote") {
            if cast_in_time && electorate.binary_search(&voter).is_ok() {
                votes.insert(voter, v.choice);
            }
        }
    }
    let decision = reader
        .referring(&hash, Relation::Decision, None, 1)
        .map_err(store_error)?
        .first()
        .map(Record::hash);
    Ok(Some(Tally {
        hash,
        author: record.action().author.key_hash(),
        proposal,
        electorate,
        needed,
        votes,
        decision,
    }))
}

fn choice_name(choice: Choice) -> &'static str {
    match choice {
        Choice::Yes => "yes",
        Choice::No => "no",
        Choice::Abstain => "abstain",
    }
}

/// The query of the proposals page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ProposalsParams {
    /// Skip the proposals newer than this one (the cursor of the page before).
    before: Option<String>,
}

/// `GET /app/pods/{pod}/proposals`.
pub(super) async fn proposals(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiQuery(params): ApiQuery<ProposalsParams>,
) -> Result<Html<String>, PageError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let before = params
        .before
        .as_deref()
        .map(|b| parse::<ActionHash>(b, "proposal hash (act_…)"))
        .transpose()?;
    let dna = dna_of(&state, pod).await?;
    let now = Timestamp(crate::daemon::now_micros());
    let (page, next, names) = state
        .reads
        .with(move |reader| {
            let all = reader
                .pod_typed(&pod, myco_zomes::ZOME_GOVERNANCE, PROPOSAL)
                .map_err(store_error)?;
            let start = before
                .and_then(|b| all.iter().position(|r| r.hash() == b))
                .map_or(0, |at| at + 1);
            let mut page = Vec::new();
            for record in all.iter().skip(start).take(PROPOSALS_PAGE) {
                page.extend(tally(reader, &dna, record)?);
            }
            let next = (all.len() > start + PROPOSALS_PAGE)
                .then(|| page.last().map(|t: &Tally| t.hash))
                .flatten();
            Ok((page, next, usernames(reader, &pod).map_err(store_error)?))
        })
        .await?;
    let mut turnout: Vec<(String, u64)> = page
        .iter()
        .map(|t| {
            (
                crate::dates::micros_as_day(t.proposal.opened_at.0),
                t.participation_pct(),
            )
        })
        .collect();
    turnout.reverse();
    let body = html! {
        p { "Every member's node counts these from the signed votes it holds. Open proposals take votes until they close." }
        @if page.is_empty() {
            p { "No proposals yet. Open one with " code { "myco propose" } "." }
        } @else {
            (columns("Vote participation, proposal by proposal (oldest on the left)", "%", &turnout, 100))
            table {
                thead { tr {
                    th scope="col" { "Opened" } th scope="col" { "Proposal" } th scope="col" { "Status" }
                    th scope="col" { "Yes / no / abstain" } th scope="col" { "Took part" }
                } }
                tbody { @for t in &page {
                    tr {
                        td { (date(t.proposal.opened_at.0)) }
                        td { a href={ "/app/proposals/" (t.hash) } { (t.proposal.kind.name()) ": " (excerpt(&t.proposal.text)) } }
                        td { (t.status(now)) }
                        td { (t.count(Choice::Yes)) " / " (t.count(Choice::No)) " / " (t.count(Choice::Abstain)) }
                        td { (t.votes.len()) " of " (t.electorate.len()) " (" (t.participation_pct()) "%)" }
                    }
                } }
            }
            @if let Some(next) = next {
                a class="next" href={ "/app/pods/" (pod) "/proposals?before=" (next) } { "Older proposals" }
            }
        }
        p class="meta" { "Proposers: " @for (i, t) in page.iter().enumerate() { @if i > 0 { ", " } (super::who(names.get(&t.author).map(String::as_str), &t.author.to_string())) } }
    };
    Ok(Html(
        layout::pod_page("Proposals", &pod.to_string(), body).into_string(),
    ))
}

fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(120).collect();
    if text.chars().count() > 120 {
        out.push('…');
    }
    out
}

/// `GET /app/proposals/{hash}`.
pub(super) async fn proposal(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    csrf: Csrf,
) -> Result<Html<String>, PageError> {
    let hash: ActionHash = parse(&hash, "proposal hash (act_…)")?;
    let (pod, tally, names) = load(&state, hash).await?;
    let me = state.reads.me();
    let now = Timestamp(crate::daemon::now_micros());
    let name = |key: &KeyHash| super::who(names.get(key).map(String::as_str), &key.to_string());
    let mine = tally.votes.get(&me).copied();
    let may_vote = tally.is_open(now) && tally.electorate.binary_search(&me).is_ok();
    let body = html! {
        p class="meta" {
            (tally.proposal.kind.name()) " · opened by " (name(&tally.author)) " on " (date(tally.proposal.opened_at.0))
            " · closes " (date(tally.proposal.closes_at.0))
        }
        div class="body" { (tally.proposal.text) }
        h2 { "Where it stands" }
        p id="status" {
            strong { (tally.status(now)) } ": "
            (tally.count(Choice::Yes)) " yes, " (tally.count(Choice::No)) " no, " (tally.count(Choice::Abstain)) " abstain; "
            (tally.votes.len()) " of " (tally.electorate.len()) " took part. It passes with " (tally.needed) " yes vote(s)."
        }
        @if let Some(choice) = mine {
            p id="my-vote" { "You voted " strong { (choice_name(choice)) } "." }
        }
        @if may_vote {
            (vote_form(&csrf, &tally, mine.is_some()))
        }
        @if tally.decision.is_none() && tally.count(Choice::Yes) >= tally.needed {
            (button(&csrf, "decide", &format!("/app/proposals/{}/decide", tally.hash), "Record the decision", html! {}))
        }
        h2 { "Votes" }
        table {
            thead { tr { th scope="col" { "Member" } th scope="col" { "Vote" } } }
            tbody {
                @if tally.votes.is_empty() { tr { td colspan="2" { "none yet" } } }
                @for (voter, choice) in tally.votes.iter().take(200) {
                    tr { td { (name(voter)) } td { (choice_name(*choice)) } }
                }
            }
        }
        p { a href={ "/app/pods/" (pod) "/proposals" } { "All proposals" } }
    };
    let title = format!("Proposal: {}", tally.proposal.kind.name());
    Ok(Html(
        layout::pod_page(&title, &pod.to_string(), body).into_string(),
    ))
}

fn vote_form(csrf: &Csrf, tally: &Tally, again: bool) -> Markup {
    html! {
        form class="wide" id="vote" method="post" action={ "/app/proposals/" (tally.hash) "/vote" } {
            (csrf.field())
            fieldset {
                legend { @if again { "Change your vote" } @else { "Your vote" } }
                @for choice in ["yes", "no", "abstain"] {
                    div {
                        input type="radio" id={ "choice-" (choice) } name="choice" value=(choice) required;
                        " " label for={ "choice-" (choice) } { (choice) }
                    }
                }
            }
            button type="submit" id="cast" { "Vote" }
        }
    }
}

/// The proposal `hash`, its pod and tally, and the usernames of the pod's members.
async fn load(
    state: &AppState,
    hash: ActionHash,
) -> Result<(DnaHash, Tally, BTreeMap<KeyHash, String>), PageError> {
    let pod = state
        .reads
        .with(move |reader| {
            reader
                .get(&hash)
                .map_err(store_error)?
                .map(|r| r.action().pod)
                .ok_or_else(|| ApiError::bad_request(format!("this node holds no proposal {hash}")))
        })
        .await?;
    let dna = dna_of(state, pod).await?;
    let (tally, names) = state
        .reads
        .with(move |reader| {
            let record = reader.get(&hash).map_err(store_error)?;
            let tally = match record {
                Some(record) => tally(reader, &dna, &record)?,
                None => None,
            };
            Ok((tally, usernames(reader, &pod).map_err(store_error)?))
        })
        .await?;
    let tally = tally.ok_or_else(|| ApiError::bad_request(format!("{hash} is not a proposal")))?;
    Ok((pod, tally, names))
}

/// `POST /app/proposals/{hash}/vote`.
pub(super) async fn vote(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    fields: Fields,
) -> Result<Response, PageError> {
    let proposal: ActionHash = parse(&hash, "proposal hash (act_…)")?;
    let choice = fields
        .one("choice")
        .and_then(parse_choice)
        .ok_or_else(|| ApiError::bad_request("choose yes, no or abstain, then vote"))?;
    let (pod, _, _) = load(&state, proposal).await?;
    let _written = write(&state, pod, Write::Vote { proposal, choice }).await?;
    Ok(see(&format!("/app/proposals/{proposal}")))
}

/// `POST /app/proposals/{hash}/decide`: the decision, listing the yes votes held here.
pub(super) async fn decide(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    _fields: Fields,
) -> Result<Response, PageError> {
    let proposal: ActionHash = parse(&hash, "proposal hash (act_…)")?;
    let (pod, _, _) = load(&state, proposal).await?;
    let _written = write(&state, pod, Write::Decide { proposal }).await?;
    Ok(see(&format!("/app/proposals/{proposal}")))
}
