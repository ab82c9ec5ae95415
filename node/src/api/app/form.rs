//! The web app's forms: a posted form's fields, and the hidden CSRF field every form carries.
//!
//! Forms post `application/x-www-form-urlencoded` bodies, as browsers send them without a
//! script. A field may repeat (one per ticked box), so the body is read as a list of pairs.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use maud::{html, Markup};

use super::PageError;
use crate::api::session::{csrf_of_request, CSRF_FIELD};
use crate::api::{ApiError, AppState};

/// A posted form's fields, in the order sent.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Parses a form body.
    pub fn parse(body: &[u8]) -> Result<Self, PageError> {
        serde_urlencoded::from_bytes(body).map(Fields).map_err(|e| {
            PageError::from(ApiError::bad_request(format!(
                "the form did not arrive whole ({e}): reload the page and send it again"
            )))
        })
    }

    /// The first value of `name`, trimmed; `None` if it is missing or empty.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The first value of `name` as written (a story's body keeps its spacing), or "".
    pub fn text(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name` (the ticked boxes of a group).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// True if the box `value` of group `name` is ticked.
    pub fn ticked(&self, name: &str, value: &str) -> bool {
        self.0.iter().any(|(n, v)| n == name && v == value)
    }
}

impl FromRequest<AppState> for Fields {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            PageError::from(ApiError::bad_request(format!(
                "the form could not be read: {}",
                e.body_text()
            )))
        })?;
        Fields::parse(&body)
    }
}

/// The CSRF token of the signed-in browser asking for a page, for its forms. A client with
/// the bearer token has none, and needs none.
pub struct Csrf(pub Option<String>);

impl FromRequestParts<AppState> for Csrf {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        Ok(Csrf(csrf_of_request(&state.sessions, &parts.headers)))
    }
}

impl Csrf {
    /// The hidden field that carries the token in a form.
    pub fn field(&self) -> Markup {
        html! {
            @if let Some(token) = &self.0 {
                input type="hidden" name=(CSRF_FIELD) value=(token);
            }
        }
    }
}

/// A form that posts to `action` with one button, `label` (a delete, a vote).
pub fn button(csrf: &Csrf, id: &str, action: &str, label: &str, fields: Markup) -> Markup {
    html! {
        form id=(id) method="post" action=(action) {
            (csrf.field())
            (fields)
            button type="submit" { (label) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_repeat_trim_and_keep_a_body_as_written() {
        let fields =
            Fields::parse(b"title=+A+%3Cb%3E&consent=ai_analysis&consent=commercial_use&body=++two%0Alines&empty=").unwrap();
        assert_eq!(fields.one("title"), Some("A <b>"));
        assert_eq!(fields.all("consent"), ["ai_analysis", "commercial_use"]);
        assert!(fields.ticked("consent", "ai_analysis"));
        assert!(!fields.ticked("consent", "public_sharing"));
        assert_eq!(fields.text("body"), "  two\nlines");
        assert_eq!(fields.one("empty"), None);
        assert_eq!(fields.one("missing"), None);
    }
}
