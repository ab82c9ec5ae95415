//! The frame every page of the web app shares: its head, its navigation and its styles. The
//! styles fit a 1280-pixel window (tables wrap their cells rather than overflow), and the
//! markup is semantic: a `nav`, a `main`, headings in order, labelled fields, real buttons.

use maud::{html, Markup, DOCTYPE};

/// The styles of every page, kept small and inline so the app needs no build step.
const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafaf7}\
nav{background:#24402f;padding:.6em 1.5em}nav a{color:#fff;margin-right:1.2em;text-decoration:none}\
nav a:focus,nav a:hover{text-decoration:underline}\
a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #e0a526;outline-offset:2px}\
main{max-width:72em;margin:1.5em auto;padding:0 1.5em}\
table{border-collapse:collapse;width:100%;table-layout:fixed;margin-bottom:1.2em}\
td,th{border:1px solid #d5d5cf;padding:.35em .6em;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
th{background:#eef0ea}\
article.story{background:#fff;border:1px solid #d5d5cf;padding:1em 1.4em;margin-bottom:1em}\
.meta{color:#5a5a55;font-size:.92em}\
.body{white-space:pre-wrap}\
.notice{background:#eef5ee;border-left:4px solid #3b6e4f;padding:.6em 1em}\
form.wide label{display:block;margin:.8em 0 .2em;font-weight:600}\
form.wide input[type=text],form.wide textarea,form.wide select{width:100%;max-width:48em;font:inherit;padding:.3em}\
fieldset{border:1px solid #d5d5cf;margin:1em 0;max-width:48em}\
fieldset label,form.wide fieldset label{display:inline;margin:0;font-weight:400}fieldset div{margin:.3em 0}\
button{font:inherit;padding:.35em 1.1em;margin:.6em .4em .6em 0;background:#24402f;color:#fff;border:0;border-radius:3px;cursor:pointer}\
form{display:inline-block}form.wide{display:block}\
figure{margin:1em 0}svg{max-width:100%;height:auto}\
a.next{display:inline-block;margin-top:.5em}";

/// A whole page: `title` in the tab and as the first heading, `body` below it.
pub fn page(title: &str, body: Markup) -> Markup {
    frame(title, html! {}, body)
}

/// A page of one pod's, with the pod's own links in its navigation.
pub fn pod_page(title: &str, pod: &str, body: Markup) -> Markup {
    let links = html! {
        a href={ "/app/pods/" (pod) } { "Stories" }
        a href={ "/app/pods/" (pod) "/publish" } { "Publish" }
        a href={ "/app/pods/" (pod) "/proposals" } { "Proposals" }
        a href={ "/app/pods/" (pod) "/value" } { "Value" }
        a href={ "/app/pods/" (pod) "/dashboard" } { "My dashboard" }
        a href={ "/pods/" (pod) "/page" } { "Transparency" }
    };
    frame(title, links, body)
}

fn frame(title: &str, pod_links: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Myco" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                nav aria-label="Main" {
                    a href="/app" { "My pods" }
                    (pod_links)
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}
