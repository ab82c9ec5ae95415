//! The web app through its HTTP pages, as a signed-in browser gets them from a real daemon:
//! my pods, the feed and one story, with members by username, times as dates, and whatever a
//! member wrote shown as text, never as markup.

use myco_node::api::types::{ConsentBody, ProfileRequestBody, PublishRequest, Written};
use myco_tests::loopback::{start_net, wait_until};

#[test]
fn a_signed_in_browser_reads_its_pods_the_feed_and_a_story_with_markup_shown_as_text() {
    let net = start_net(2);
    let pod = net.create_pod("web");
    let author = &net.daemons[0].api;
    let _: Written = author
        .post(
            &format!("/pods/{pod}/profile"),
            &ProfileRequestBody {
                username: "ana".into(),
                display_name: "Ana".into(),
                bio: String::new(),
                profile_public: false,
                visibility: None,
            },
        )
        .expect("profile set");
    let hostile = PublishRequest::story(
        "<script>alert('title')</script> & friends",
        "<b>bold?</b><img src=x onerror=alert(1)>",
        "pod",
        &[],
        ConsentBody {
            community_sharing: true,
            ..ConsentBody::default()
        },
    );
    let story: Written = author
        .post(&format!("/pods/{pod}/content"), &hostile)
        .expect("published");
    wait_until("the other member to hold the story", || {
        myco_tests::loopback::holds(&net.daemons[1].api, &story.hash)
    });

    // The reader signs in with its own link, as `myco pod page` prints it, landing on /app.
    let dir = net.dir(1);
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
    assert_eq!(response.status().as_u16(), 303);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("text")
        .split(';')
        .next()
        .expect("name=value")
        .to_string();
    let page = |path: &str| {
        let mut response = agent
            .get(format!("{base}{path}"))
            .header("Cookie", &cookie)
            .call()
            .expect("answered");
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    };

    let (status, pods) = page("/app");
    assert_eq!(status, 200, "{pods}");
    assert!(pods.contains(&format!("/app/pods/{pod}")), "{pods}");
    // Your data, from the same page: the export and an encrypted backup, as downloads.
    assert!(pods.contains("href=\"/export\"") && pods.contains("href=\"/backup\""));
    let mut backup = agent
        .get(format!("{base}/backup"))
        .header("Cookie", &cookie)
        .call()
        .expect("answered");
    assert_eq!(backup.status().as_u16(), 200);
    let bytes = backup
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .expect("the backup");
    assert!(bytes.starts_with(myco_node::backup::MAGIC), "a backup file");

    // Wait for the author's profile too, so the feed names her.
    wait_until("the other member to hold the author's profile", || {
        page(&format!("/app/pods/{pod}")).1.contains(" by ana on ")
    });
    let (status, feed) = page(&format!("/app/pods/{pod}"));
    assert_eq!(status, 200, "{feed}");
    assert!(feed.contains("UTC"), "times are dates: {feed}");
    for page_text in [&feed, &page(&format!("/app/stories/{}", story.hash)).1] {
        assert!(
            page_text.contains("&lt;script&gt;alert('title')&lt;/script&gt; &amp; friends"),
            "the title is text: {page_text}"
        );
        assert!(
            !page_text.contains("<script>"),
            "no markup a member wrote: {page_text}"
        );
        assert!(!page_text.contains("<img"), "{page_text}");
    }
    let (_, shown) = page(&format!("/app/stories/{}", story.hash));
    assert!(shown.contains("&lt;b&gt;bold?&lt;/b&gt;"), "{shown}");
    assert!(shown.contains("community sharing"), "{shown}");

    // The transparency page names members too, and dates what happened.
    let (status, transparency) = page(&format!("/pods/{pod}/page"));
    assert_eq!(status, 200, "{transparency}");
    assert!(transparency.contains("<td>ana</td>"), "{transparency}");
    assert!(transparency.contains("UTC"), "{transparency}");
    assert!(transparency.contains("erasure receipts / still owed"));

    // Without the session, the pages need signing in.
    let status = agent
        .get(format!("{base}/app"))
        .call()
        .expect("answered")
        .status()
        .as_u16();
    assert_eq!(status, 401);
}
