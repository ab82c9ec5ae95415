//! The web app's forms, posted as a browser posts them (url-encoded, no script) to real
//! daemons: publishing affirms the pod's principles, narrowing consent with the toggles makes
//! the other member's node purge the wider version, deleting brings receipts, and a vote
//! counts. A form without the session's CSRF token, or with another one, writes nothing.

use std::path::Path;

use myco_node::api::views::StoryView;
use myco_tests::loopback::{holds, wait_until, STORYTELLING_PRINCIPLES};
use myco_tests::storyteller::{hash_of, myco, storytelling_pod};

/// A browser signed in to one daemon's web app: its cookie, and no redirects followed.
struct Browser {
    base: String,
    cookie: String,
    agent: ureq::Agent,
}

/// A page as the browser got it.
struct Answer {
    status: u16,
    location: String,
    csp: String,
    body: String,
}

impl Browser {
    fn sign_in(dir: &Path) -> Browser {
        let token = std::fs::read_to_string(dir.join("api.token")).expect("token");
        let address = std::fs::read_to_string(dir.join("api.addr")).expect("address");
        let base = format!("http://{}", address.trim());
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let login = myco_node::api::session::login_link(&base, token.trim(), "/app");
        let response = agent.get(&login).call().expect("answered");
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .expect("text")
            .split(';')
            .next()
            .expect("name=value")
            .to_string();
        Browser {
            base,
            cookie,
            agent,
        }
    }

    fn answer(mut response: ureq::http::Response<ureq::Body>) -> Answer {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let (location, csp) = (header("location"), header("content-security-policy"));
        Answer {
            status: response.status().as_u16(),
            location,
            csp,
            body: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    fn get(&self, path: &str) -> Answer {
        Self::answer(
            self.agent
                .get(format!("{}{path}", self.base))
                .header("Cookie", &self.cookie)
                .call()
                .expect("answered"),
        )
    }

    fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body = serde_urlencoded::to_string(fields).expect("encodes");
        Self::answer(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("Cookie", &self.cookie)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .send(body)
                .expect("answered"),
        )
    }
}

/// The CSRF token a page's forms carry.
fn csrf_in(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no CSRF field in {page}"));
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').expect("closing quote")].to_string()
}

/// The story a page's 303 leads to.
fn story_of(answer: &Answer) -> String {
    assert_eq!(answer.status, 303, "{}", answer.body);
    answer
        .location
        .strip_prefix("/app/stories/")
        .unwrap_or_else(|| panic!("not a story page: {}", answer.location))
        .to_string()
}

#[test]
fn forms_publish_narrow_delete_and_vote_with_the_sessions_csrf_token_and_nothing_else() {
    let (net, pod) = storytelling_pod(2, "forms");
    let browser = Browser::sign_in(&net.dir(0));
    let other = &net.daemons[1].api;

    // The publish form lists the pod's principles to affirm; its answer forbids scripts.
    let form = browser.get(&format!("/app/pods/{pod}/publish"));
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.csp.contains("script-src") || form.csp.contains("default-src 'none'"));
    for principle in STORYTELLING_PRINCIPLES {
        assert!(
            form.body.contains(&format!("id=\"principle-{principle}\"")),
            "{principle} is offered: {}",
            form.body
        );
    }
    let csrf = csrf_in(&form.body);
    let publish = format!("/app/pods/{pod}/publish");
    let mut story: Vec<(&str, &str)> = vec![
        ("title", "The eel weir"),
        ("body", "told at the weir"),
        ("kind", "story"),
        ("visibility", "pod"),
        ("consent", "community_sharing"),
    ];
    story.extend(STORYTELLING_PRINCIPLES.iter().map(|p| ("principle", *p)));

    // Without the session's token, or with another, nothing is written.
    assert_eq!(browser.post(&publish, &story).status, 401);
    let mut forged = story.clone();
    forged.push(("csrf", "0000"));
    assert_eq!(browser.post(&publish, &forged).status, 401);

    // Leaving a principle out is refused with the pod's reason, and the form keeps the text.
    let mut partial: Vec<(&str, &str)> = story
        .iter()
        .filter(|(name, value)| !(*name == "principle" && *value == STORYTELLING_PRINCIPLES[0]))
        .cloned()
        .collect();
    partial.push(("csrf", &csrf));
    let refused = browser.post(&publish, &partial);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("role=\"alert\""), "{}", refused.body);
    assert!(
        refused.body.contains("value=\"The eel weir\""),
        "{}",
        refused.body
    );
    let feed: myco_node::api::views::FeedView = net.daemons[0]
        .api
        .get(&format!("/pods/{pod}/feed"))
        .expect("feed");
    assert!(feed.items.is_empty(), "nothing was published yet: {feed:?}");

    // With the token and every principle, the story is published and replicated.
    story.push(("csrf", &csrf));
    let first = story_of(&browser.post(&publish, &story));
    wait_until("the other member to hold the story", || {
        holds(other, &first)
    });

    // Narrowing its consent with the toggles: the other node purges the wider version.
    let edit = browser.get(&format!("/app/stories/{first}/edit"));
    assert!(
        edit.body.contains("value=\"The eel weir\""),
        "{}",
        edit.body
    );
    assert!(
        edit.body.contains(
            "id=\"consent-community_sharing\" name=\"consent\" value=\"community_sharing\" checked"
        ),
        "{}",
        edit.body
    );
    let mut narrowed: Vec<(&str, &str)> = story
        .iter()
        .filter(|(name, _)| *name != "consent" && *name != "visibility")
        .cloned()
        .collect();
    narrowed.push(("visibility", "private"));
    let second = story_of(&browser.post(&format!("/app/stories/{first}/edit"), &narrowed));
    assert_ne!(first, second);
    wait_until("the other member to purge the wider version", || {
        other
            .get::<StoryView>(&format!("/content/{first}"))
            .is_ok_and(|s| !s.held && s.versions.first().is_some_and(|v| v.entry == "purged"))
    });
    let page = browser.get(&format!("/app/stories/{second}"));
    assert!(
        page.body
            .contains("Nothing beyond what the visibility needs."),
        "{}",
        page.body
    );

    // Deleting another story: the page says so, and the other node's receipt comes back.
    let mut told: Vec<(&str, &str)> = story
        .iter()
        .map(|&(n, v)| {
            if n == "title" {
                (n, "The ferry")
            } else {
                (n, v)
            }
        })
        .collect();
    told.retain(|(n, _)| *n != "csrf");
    told.push(("csrf", &csrf));
    let ferry = story_of(&browser.post(&publish, &told));
    wait_until("the other member to hold the second story", || {
        holds(other, &ferry)
    });
    let deleted = browser.post(&format!("/app/stories/{ferry}/delete"), &[("csrf", &csrf)]);
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    wait_until("the other node's erasure receipt", || {
        browser
            .get(&format!("/app/stories/{ferry}"))
            .body
            .contains("1 receipt(s) confirmed, 0 still owed")
    });

    // A proposal from the other member: this one votes yes in the browser.
    let ka = net.daemons[0].key_hash.to_string();
    let proposal = hash_of(
        &myco(
            &net.dir(1),
            &[
                "propose",
                "--pod",
                &pod,
                "--kind",
                "grant_role",
                "--member",
                &ka,
                "--role",
                "treasurer",
            ],
        )
        .ok(),
    );
    wait_until("this node to hold the proposal", || {
        holds(&net.daemons[0].api, &proposal)
    });
    let page = browser.get(&format!("/app/proposals/{proposal}"));
    assert!(page.body.contains("id=\"vote\""), "{}", page.body);
    let voted = browser.post(
        &format!("/app/proposals/{proposal}/vote"),
        &[("choice", "yes"), ("csrf", &csrf)],
    );
    assert_eq!(voted.status, 303, "{}", voted.body);
    let page = browser.get(&format!("/app/proposals/{proposal}"));
    assert!(
        page.body.contains("You voted <strong>yes</strong>"),
        "{}",
        page.body
    );
    wait_until("the other member to count the vote", || {
        other
            .get_text(&format!("/app/proposals/{proposal}"))
            .is_ok_and(|p| p.contains("1 yes, 0 no, 0 abstain"))
    });
    let list = browser.get(&format!("/app/pods/{pod}/proposals"));
    assert!(list.body.contains("Vote participation"), "{}", list.body);
    assert!(list.body.contains("1 of 2 (50%)"), "{}", list.body);

    // The rest of the app answers whole pages.
    for (path, holds_text) in [
        (
            format!("/app/pods/{pod}/dashboard"),
            "Your storyteller dashboard",
        ),
        (format!("/app/pods/{pod}/value"), "value event(s) recorded"),
        (format!("/pods/{pod}/page"), "Vote participation"),
    ] {
        let page = browser.get(&path);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(page.body.contains(holds_text), "{path}: {}", page.body);
    }
}
