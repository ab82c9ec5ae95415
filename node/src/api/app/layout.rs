//! The frame every page of the web app shares: its head, its navigation and its styles. The
//! styles fit a 1280-pixel window (tables wrap their cells rather than overflow), and the
//! markup is semantic: a `nav`, a `main`, headings in order, links for every action.

use maud::{html, Markup, DOCTYPE};

/// The styles of every page, kept small and inline so the app needs no build step.
const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafaf7}\
nav{background:#24402f;padding:.6em 1.5em}nav a{color:#fff;margin-right:1.2em;text-decoration:none}\
nav a:focus,nav a:hover{text-decoration:underline}\
main{max-width:72em;margin:1.5em auto;padding:0 1.5em}\
table{border-collapse:collapse;width:100%;table-layout:fixed;margin-bottom:1.2em}\
td,th{border:1px solid #d5d5cf;padding:.35em .6em;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
th{background:#eef0ea}\
article.story{background:#fff;border:1px solid #d5d5cf;padding:1em 1.4em;margin-bottom:1em}\
.meta{color:#5a5a55;font-size:.92em}\
.body{white-space:pre-wrap}\
a.next{display:inline-block;margin-top:.5em}";

/// A whole page: `title` in the tab and as the first heading, `body` below it.
pub fn page(title: &str, body: Markup) -> Markup {
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
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}
