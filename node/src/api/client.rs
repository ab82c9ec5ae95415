//! A blocking client of the local API, for the CLI, `myco devnet` and tests. It finds the
//! daemon through the data dir: the address in [`ADDR_FILE`](super::ADDR_FILE) and the token
//! in [`TOKEN_FILE`](super::TOKEN_FILE).

use std::path::Path;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::types::ErrorBody;
use super::{ADDR_FILE, TOKEN_FILE};

/// How long one API call may take: a lookup crosses the network and may take a while.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest answer read: a pod's folded state of many records can be large.
pub const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;
/// How long a kept-alive connection is reused: below the daemon's shortest header timeout
/// (1 s, see [`API_HEADER_TIMEOUT`](super::API_HEADER_TIMEOUT)), so a call never goes out on a
/// connection the daemon is closing for idleness.
pub const REUSE_FOR: Duration = Duration::from_millis(500);

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The daemon's files are not in the data dir: it is not running.
    #[error("no running daemon for data dir {dir}: start one with `myco run` (cannot read {file}: {source})")]
    NotRunning {
        /// The data dir.
        dir: String,
        /// The missing file.
        file: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// The daemon could not be reached.
    #[error("cannot reach the daemon's API at {address}: {detail}; is `myco run` still running?")]
    Unreachable {
        /// Its address.
        address: String,
        /// Why.
        detail: String,
    },
    /// The daemon answered with an error.
    #[error("{message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The daemon's message.
        message: String,
    },
    /// The answer did not parse.
    #[error("the daemon's answer does not parse: {0}")]
    BadAnswer(String),
}

/// A client of one daemon's API.
pub struct ApiClient {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl ApiClient {
    /// A client of the daemon running on `data_dir`.
    pub fn for_data_dir(data_dir: &Path) -> Result<Self, ClientError> {
        let read = |file: &'static str| {
            std::fs::read_to_string(data_dir.join(file)).map_err(|source| ClientError::NotRunning {
                dir: data_dir.display().to_string(),
                file,
                source,
            })
        };
        let address = read(ADDR_FILE)?;
        let token = read(TOKEN_FILE)?;
        Ok(Self::new(address.trim(), token.trim()))
    }

    /// A client of the API at `address` (`127.0.0.1:PORT`) with `token`.
    pub fn new(address: &str, token: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(CALL_TIMEOUT))
            .max_idle_age(REUSE_FOR)
            .build()
            .into();
        ApiClient {
            base: format!("http://{address}"),
            token: token.to_string(),
            agent,
        }
    }

    /// A link that signs a browser in to this API and opens `path` (see
    /// [`session`](super::session)).
    pub fn login_link(&self, path: &str) -> String {
        super::session::login_link(&self.base, &self.token, path)
    }

    /// The answer's body, or the daemon's refusal (its `{"error": …}` message, else the body).
    fn answer(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<String, ClientError> {
        let mut response = result.map_err(|e| ClientError::Unreachable {
            address: self.base.clone(),
            detail: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_str::<ErrorBody>(&text).map_or(text, |e| e.error);
            return Err(ClientError::Refused { status, message });
        }
        Ok(text)
    }

    /// The answer's body, as JSON.
    fn answer_json<T: DeserializeOwned>(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, ClientError> {
        let text = self.answer(result)?;
        serde_json::from_str(&text).map_err(|e| ClientError::BadAnswer(e.to_string()))
    }

    /// `GET path` with the token.
    fn call_get(&self, path: &str) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        self.agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
    }

    /// `GET path`, as JSON.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.answer_json(self.call_get(path))
    }

    /// `GET path`, as text (the page, the metrics).
    pub fn get_text(&self, path: &str) -> Result<String, ClientError> {
        self.answer(self.call_get(path))
    }

    /// `GET path`, its body copied into `out` as it arrives, however long it is; `seen` is
    /// told the bytes so far. Returns the bytes copied. A body cut short is an error.
    pub fn download(
        &self,
        path: &str,
        out: &mut impl std::io::Write,
        mut seen: impl FnMut(u64),
    ) -> Result<u64, ClientError> {
        let result = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .config()
            .timeout_global(None)
            .timeout_recv_body(Some(CALL_TIMEOUT))
            .build()
            .call();
        let response = match result {
            Ok(response) if response.status().is_success() => response,
            other => {
                return self
                    .answer(other)
                    .and(Err(ClientError::BadAnswer("an empty refusal".into())))
            }
        };
        let mut body = response
            .into_body()
            .into_with_config()
            .limit(u64::MAX)
            .reader();
        let mut buffer = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = std::io::Read::read(&mut body, &mut buffer).map_err(|e| {
                ClientError::BadAnswer(format!("the answer was cut after {total} bytes: {e}"))
            })?;
            if n == 0 {
                return Ok(total);
            }
            out.write_all(&buffer[..n])
                .map_err(|e| ClientError::BadAnswer(format!("cannot keep the answer: {e}")))?;
            total += n as u64;
            seen(total);
        }
    }

    /// `POST path` with a JSON body, answered with JSON, allowing the call `timeout` (for a
    /// command that crosses the network several times, such as recovery).
    pub fn post_slow<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        timeout: Duration,
    ) -> Result<T, ClientError> {
        self.post_within(path, body, Some(timeout))
    }

    /// `POST path` with a JSON body, answered with JSON.
    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.post_within(path, body, None)
    }

    /// `POST path` within `timeout` (else [`CALL_TIMEOUT`]).
    fn post_within<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        timeout: Option<Duration>,
    ) -> Result<T, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        let request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", "application/json");
        let result = match timeout {
            Some(timeout) => request
                .config()
                .timeout_global(Some(timeout))
                .build()
                .send(&bytes[..]),
            None => request.send(&bytes[..]),
        };
        self.answer_json(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_as_the_daemons_own_words() {
        let refused = ClientError::Refused {
            status: 422,
            message: "the title is empty; give the story a title".into(),
        };
        assert_eq!(
            refused.to_string(),
            "the title is empty; give the story a title"
        );
    }
}
