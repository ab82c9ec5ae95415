//! Source rows, from a JSON export (a list of rows, or an object holding one under the map's
//! `table`; Airtable rows keep their values under `fields`) or a CSV file with a header line.
//! A row that is not a record of fields is kept, with its problem, so the report accounts for
//! it.

use serde_json::{Map, Value};

use super::map::ImportMap;

/// Largest source file read: it is held in memory while it is imported.
pub const MAX_SOURCE_BYTES: u64 = 1024 * 1024 * 1024;

/// One source row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Its position in the source, from 1.
    pub number: usize,
    /// What names it: its id field, else `row N`.
    pub id: String,
    /// Its fields.
    pub fields: Map<String, Value>,
    /// Why it cannot be imported at all, if it cannot (not a record, say).
    pub problem: Option<String>,
}

impl Row {
    /// The field `name` as text: strings as they are, numbers and yes/no as written, lists
    /// joined by commas; `None` when it is missing or null.
    pub fn text(&self, name: &str) -> Option<String> {
        match self.fields.get(name)? {
            Value::Null => None,
            Value::String(text) => Some(text.clone()),
            Value::Array(items) => Some(
                items
                    .iter()
                    .map(|item| match item {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            other => Some(other.to_string()),
        }
    }
}

/// The rows of one source.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// The table the rows came from (the map's `table`, or `rows`).
    pub table: String,
    /// The rows, in source order.
    pub rows: Vec<Row>,
}

/// Why a source cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Not JSON.
    #[error("the source is not JSON ({0}); for a CSV file, name it *.csv")]
    Json(String),
    /// No list of rows where the map says.
    #[error("the source has no list of rows {0}")]
    NoTable(String),
    /// Not CSV.
    #[error("the CSV source does not parse: {0}")]
    Csv(String),
}

impl Source {
    /// The rows of a JSON source.
    pub fn from_json(bytes: &[u8], map: &ImportMap) -> Result<Self, SourceError> {
        let document: Value =
            serde_json::from_slice(bytes).map_err(|e| SourceError::Json(e.to_string()))?;
        let (table, list) = match (&map.source.table, document) {
            (Some(table), Value::Object(mut object)) => match object.remove(table) {
                Some(Value::Array(list)) => (table.clone(), list),
                _ => return Err(SourceError::NoTable(format!("under `{table}`"))),
            },
            (Some(table), _) => {
                return Err(SourceError::NoTable(format!(
                    "under `{table}`: the document is not an object"
                )))
            }
            (None, Value::Array(list)) => ("rows".to_string(), list),
            (None, _) => {
                return Err(SourceError::NoTable(
                    "(the document is not a list; name the key that holds it with `table` in the map's [source])".into(),
                ))
            }
        };
        let rows = list
            .into_iter()
            .enumerate()
            .map(|(i, value)| json_row(i + 1, value, map))
            .collect();
        Ok(Source { table, rows })
    }

    /// The rows of a CSV source with a header line.
    pub fn from_csv(bytes: &[u8], map: &ImportMap) -> Result<Self, SourceError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let headers = reader
            .headers()
            .map_err(|e| SourceError::Csv(e.to_string()))?
            .clone();
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let number = i + 1;
            let row = match record {
                Ok(record) if record.len() != headers.len() => Row {
                    number,
                    id: format!("row {number}"),
                    fields: Map::new(),
                    problem: Some(format!(
                        "it has {} fields where the header names {}",
                        record.len(),
                        headers.len()
                    )),
                },
                Ok(record) => {
                    let fields: Map<String, Value> = headers
                        .iter()
                        .zip(record.iter())
                        .map(|(name, value)| (name.to_string(), Value::String(value.to_string())))
                        .collect();
                    named(number, fields, map)
                }
                Err(error) => Row {
                    number,
                    id: format!("row {number}"),
                    fields: Map::new(),
                    problem: Some(format!("it does not parse ({error})")),
                },
            };
            rows.push(row);
        }
        Ok(Source {
            table: map.source.table.clone().unwrap_or_else(|| "rows".into()),
            rows,
        })
    }
}

/// A JSON row: an object of fields, or an Airtable record (`id` and `fields`).
fn json_row(number: usize, value: Value, map: &ImportMap) -> Row {
    let Value::Object(mut object) = value else {
        return Row {
            number,
            id: format!("row {number}"),
            fields: Map::new(),
            problem: Some("it is not a record of fields".into()),
        };
    };
    let airtable_id = object.get("id").and_then(Value::as_str).map(str::to_string);
    let fields = match object.remove("fields") {
        Some(Value::Object(fields)) => fields,
        Some(_) => {
            return Row {
                number,
                id: airtable_id.unwrap_or_else(|| format!("row {number}")),
                fields: Map::new(),
                problem: Some("its `fields` is not a record of fields".into()),
            }
        }
        None => object.clone(),
    };
    let mut row = named(number, fields, map);
    // An Airtable record's id sits beside its fields.
    if let Some(value) = map.source.id.as_deref().and_then(|name| object.get(name)) {
        row.id = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
    }
    row
}

/// A row of `fields`, named by the map's id field where it has one.
fn named(number: usize, fields: Map<String, Value>, map: &ImportMap) -> Row {
    let mut row = Row {
        number,
        id: format!("row {number}"),
        fields,
        problem: None,
    };
    if let Some(id) = map.source.id.as_deref().and_then(|name| row.text(name)) {
        if !id.trim().is_empty() {
            row.id = id;
        }
    }
    row
}
