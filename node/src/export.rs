//! The export file: everything about one agent in one JSON document, readable without Myco,
//! and checkable offline ([`verify`]).
//!
//! Each record is kept twice:
//! - `record`: its canonical wire bytes in hex (a version byte, then canonical CBOR, the bytes
//!   that were hashed and signed), which [`verify`] checks;
//! - beside them, a plain view for people and other tools: seq, hash, time, kind, entry type,
//!   visibility, and the entry decoded from CBOR to JSON.
//!
//! [`verify`] decodes every record, checks its hash, signature and entry hash, the chain's
//! links from Genesis, that the author is the exported agent, that each DNA hashes to its pod,
//! and that every plain view says what its record says. A changed byte anywhere is named.
//!
//! ```
//! use myco_node::export::{verify, Export};
//! let agent = myco_dna::agent_key_of(&myco_dna::SigningKey::from_bytes(&[3u8; 32]));
//! let export = Export::new(&agent, 0);
//! let report = verify(&export.to_json()).expect("an empty export is sound");
//! assert_eq!(report.records, 0);
//! assert!(verify(b"{\"format\": \"something else\"}").is_err());
//! ```

use myco_dna::{AgentKey, DnaHash, Entry, Record};
use serde::{Deserialize, Serialize};

/// The value of every export's `format` field.
pub const EXPORT_FORMAT: &str = "myco-export";
/// The export version this build writes and reads.
pub const EXPORT_VERSION: u32 = 1;

/// One agent's export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// [`EXPORT_VERSION`].
    pub version: u32,
    /// The agent (`agent_…`).
    pub agent_key: String,
    /// Its key hash (`kh_…`), the registry key.
    pub key_hash: String,
    /// When the export was made, in microseconds since the Unix epoch.
    pub exported_at: u64,
    /// The agent's pods.
    pub pods: Vec<PodExport>,
    /// The registry pointer this node last published for the agent, if it has: what the
    /// global registry says of the agent (its key and its pods, nothing else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_pointer: Option<PointerExport>,
}

/// The agent's registry pointer, as signed and as people read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointerExport {
    /// The pods it lists (`dna_…`).
    pub pods: Vec<String>,
    /// Its sequence number: newer pointers have higher ones.
    pub seq: u64,
    /// When it stops being valid, µs since the Unix epoch.
    pub expires: u64,
    /// The signed pointer's canonical bytes, hex.
    pub pointer: String,
}

impl PointerExport {
    /// The export of `pointer`.
    pub fn of(pointer: &crate::registry::Pointer) -> Self {
        PointerExport {
            pods: pointer.terms.pods.iter().map(ToString::to_string).collect(),
            seq: pointer.terms.seq,
            expires: pointer.terms.expires.0,
            pointer: hex::encode(pointer.to_bytes()),
        }
    }
}

/// One pod of an export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PodExport {
    /// The pod (`dna_…`).
    pub pod: String,
    /// The pod's DNA manifest, as TOML: it hashes to `pod`.
    pub dna_toml: String,
    /// The agent's own chain in the pod, from Genesis, in seq order.
    pub chain: Vec<ExportedRecord>,
    /// Records others signed about the agent: the deletion receipts members sent for the
    /// agent's purged records, and the distributions that paid the agent (value received).
    #[serde(default)]
    pub received: Vec<ExportedRecord>,
}

/// One record, as signed and as people read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportedRecord {
    /// The plain view.
    #[serde(flatten)]
    pub view: RecordView,
    /// The canonical wire bytes, hex.
    pub record: String,
}

/// What a record says, in plain JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordView {
    /// Position in the chain.
    pub seq: u64,
    /// The action hash (`act_…`).
    pub hash: String,
    /// When it was written, microseconds since the Unix epoch.
    pub timestamp: u64,
    /// `genesis`, `create`, `update` or `delete`.
    pub kind: String,
    /// `zome/entry_type` of its entry, if it writes one.
    pub entry_type: Option<String>,
    /// `public`, `pod` or `private`, if it writes an entry.
    pub visibility: Option<String>,
    /// The entry, decoded from CBOR; `null` when this node held no entry (purged, say).
    pub entry: Option<serde_json::Value>,
}

impl RecordView {
    /// The view of `record`.
    pub fn of(record: &Record) -> Self {
        let action = record.action();
        let entry_ref = action.body.entry_ref();
        RecordView {
            seq: action.seq,
            hash: record.hash().to_string(),
            timestamp: action.timestamp.0,
            kind: action.body.kind().to_string(),
            entry_type: entry_ref.map(|e| format!("{}/{}", e.zome, e.entry_type)),
            visibility: entry_ref.map(|e| format!("{:?}", e.visibility).to_lowercase()),
            entry: record.entry.as_ref().map(entry_json),
        }
    }
}

/// An entry's CBOR as JSON (byte strings as arrays of numbers); an entry that is not CBOR
/// as `{"bytes_hex": …}`.
fn entry_json(entry: &Entry) -> serde_json::Value {
    ciborium::from_reader::<ciborium::Value, _>(entry.0.as_slice())
        .ok()
        .and_then(|value| serde_json::to_value(value).ok())
        .unwrap_or_else(|| serde_json::json!({ "bytes_hex": hex::encode(&entry.0) }))
}

impl ExportedRecord {
    /// `record`, as exported.
    pub fn of(record: &Record) -> Self {
        ExportedRecord {
            view: RecordView::of(record),
            record: hex::encode(record.to_bytes()),
        }
    }
}

impl Export {
    /// An export of `agent` with no pods yet.
    pub fn new(agent: &AgentKey, exported_at: u64) -> Self {
        Export {
            format: EXPORT_FORMAT.into(),
            version: EXPORT_VERSION,
            agent_key: agent.to_string(),
            key_hash: agent.key_hash().to_string(),
            exported_at,
            pods: Vec::new(),
            registry_pointer: None,
        }
    }

    /// Adds a pod: its DNA's TOML, the agent's chain in it in seq order, and the records
    /// others signed about it (`received`).
    pub fn add_pod(
        &mut self,
        pod: &DnaHash,
        dna_toml: String,
        chain: &[Record],
        received: &[Record],
    ) {
        self.pods.push(PodExport {
            pod: pod.to_string(),
            dna_toml,
            chain: chain.iter().map(ExportedRecord::of).collect(),
            received: received.iter().map(ExportedRecord::of).collect(),
        });
    }

    /// The export file's bytes: pretty JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("an export always serializes")
    }
}

/// What [`verify`] found sound.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// The agent.
    pub agent_key: String,
    /// Pods.
    pub pods: usize,
    /// Records, all pods together.
    pub records: usize,
    /// Records whose entry the file holds.
    pub entries: usize,
    /// Records whose entry it does not hold (purged, or never held).
    pub without_entry: usize,
    /// Records others signed about the agent (deletion receipts, distributions that paid it).
    pub received: usize,
    /// Whether the file holds the agent's registry pointer, checked.
    pub registry_pointer: bool,
}

/// Why an export is not sound: what is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The file is not an export this build reads.
    #[error("not a Myco export ({0}); check the file, or export again with `myco export`")]
    NotAnExport(String),
    /// Something in the file is wrong: where, and what.
    #[error(
        "{place}: {problem}; the file was altered or damaged: export again with `myco export`"
    )]
    Tampered {
        /// Where: pod, record index, seq and hash.
        place: String,
        /// What is wrong.
        problem: String,
    },
}

fn tampered(place: impl Into<String>, problem: impl Into<String>) -> ExportError {
    ExportError::Tampered {
        place: place.into(),
        problem: problem.into(),
    }
}

/// Checks an export file's bytes offline: every signature, hash, entry hash and chain link,
/// each DNA against its pod, and each plain view against its record.
pub fn verify(bytes: &[u8]) -> Result<VerifyReport, ExportError> {
    let export: Export = serde_json::from_slice(bytes)
        .map_err(|e| ExportError::NotAnExport(format!("not the export's JSON: {e}")))?;
    if export.format != EXPORT_FORMAT {
        return Err(ExportError::NotAnExport(format!(
            "its format is {:?}, not {EXPORT_FORMAT:?}",
            export.format
        )));
    }
    if export.version != EXPORT_VERSION {
        return Err(ExportError::NotAnExport(format!(
            "version {} (this build reads version {EXPORT_VERSION}; upgrade myco)",
            export.version
        )));
    }
    let agent: AgentKey = export
        .agent_key
        .parse()
        .map_err(|e| tampered("agent_key", format!("not an agent key: {e}")))?;
    if agent.key_hash().to_string() != export.key_hash {
        return Err(tampered("key_hash", "it is not the hash of agent_key"));
    }
    let mut report = VerifyReport {
        agent_key: export.agent_key.clone(),
        pods: export.pods.len(),
        records: 0,
        entries: 0,
        without_entry: 0,
        received: 0,
        registry_pointer: false,
    };
    if let Some(pointer) = &export.registry_pointer {
        verify_pointer(&agent, export.exported_at, pointer)?;
        report.registry_pointer = true;
    }
    for pod in &export.pods {
        let records = verify_pod(&agent, pod)?;
        report.records += records.len();
        report.entries += records.iter().filter(|r| r.entry.is_some()).count();
        report.without_entry += records.iter().filter(|r| r.entry.is_none()).count();
        report.received += pod.received.len();
    }
    Ok(report)
}

/// Checks the pointer's signature and key, that it was valid when the file was made, and
/// that its plain fields say what it says.
fn verify_pointer(
    agent: &AgentKey,
    exported_at: u64,
    exported: &PointerExport,
) -> Result<(), ExportError> {
    let place = "registry_pointer";
    let bytes = hex::decode(&exported.pointer)
        .map_err(|e| tampered(place, format!("its pointer is not hex: {e}")))?;
    let pointer = crate::registry::Pointer::validate(
        &agent.key_hash(),
        &bytes,
        myco_dna::Timestamp(exported_at),
        None,
    )
    .map_err(|e| tampered(place, e.to_string()))?;
    if PointerExport::of(&pointer) != *exported {
        return Err(tampered(
            place,
            "its plain fields do not say what its signed pointer says",
        ));
    }
    Ok(())
}

/// The record of `exported`, decoded, whose plain view says what it says.
fn decode(place: &str, exported: &ExportedRecord) -> Result<Record, ExportError> {
    let bytes = hex::decode(&exported.record)
        .map_err(|e| tampered(place, format!("its record is not hex: {e}")))?;
    let record = Record::from_bytes(&bytes)
        .map_err(|e| tampered(place, format!("its record does not decode: {e}")))?;
    if RecordView::of(&record) != exported.view {
        return Err(tampered(
            place,
            "its plain view does not say what its signed record says",
        ));
    }
    Ok(record)
}

/// One pod's DNA, chain and received records; returns the chain's decoded records.
fn verify_pod(agent: &AgentKey, pod: &PodExport) -> Result<Vec<Record>, ExportError> {
    let place = format!("pod {}", pod.pod);
    let id: DnaHash = pod
        .pod
        .parse()
        .map_err(|e| tampered(&place, format!("not a pod id: {e}")))?;
    let dna = myco_zomes::load_dna(&pod.dna_toml)
        .map_err(|e| tampered(&place, format!("its DNA does not load: {e}")))?;
    if dna.dna_hash() != id {
        return Err(tampered(&place, "its DNA does not hash to the pod id"));
    }
    let mut records = Vec::with_capacity(pod.chain.len());
    for (index, exported) in pod.chain.iter().enumerate() {
        let where_ = format!("{place}, record {index} ({})", exported.view.hash);
        let record = decode(&where_, exported)?;
        if record.action().pod != id {
            return Err(tampered(&where_, "the record belongs to another pod"));
        }
        if record.action().author != *agent {
            return Err(tampered(
                &where_,
                "the record's author is not the exported agent",
            ));
        }
        records.push(record);
    }
    myco_dna::chain::validate_chain(&records).map_err(|(index, error)| {
        tampered(
            format!("{place}, record {index} ({})", records[index].hash()),
            error.to_string(),
        )
    })?;
    for (index, exported) in pod.received.iter().enumerate() {
        let where_ = format!("{place}, received record {index} ({})", exported.view.hash);
        let record = decode(&where_, exported)?;
        if record.action().pod != id {
            return Err(tampered(&where_, "the record belongs to another pod"));
        }
        // One record of another member's chain: checked on its own, signature included.
        myco_dna::chain::check_record(&record).map_err(|e| tampered(&where_, e.to_string()))?;
    }
    Ok(records)
}

#[cfg(test)]
mod tests;
