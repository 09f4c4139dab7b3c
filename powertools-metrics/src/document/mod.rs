//! One EMF document in the making: the metrics, dimensions and metadata recorded so far, the
//! rules they must keep, and the JSON they become.

mod json;
mod render;
pub mod rules;

use crate::error::{KeyKind, MetricsError};
use crate::{Resolution, Unit};

use rules::{MAX_DIMENSIONS_PER_SET, MAX_METRICS_PER_DOCUMENT, MAX_VALUES_PER_METRIC};

/// What every document of a [`Metrics`](crate::Metrics) shares: the namespace and the dimensions
/// present in every dimension set (the default dimensions and `service`), with their JSON
/// rendered once.
#[derive(Debug, Clone)]
pub(crate) struct Base {
    pub(crate) namespace: String,
    pub(crate) dimensions: Vec<(String, String)>,
    /// `,"CloudWatchMetrics":[{"Namespace":"…","Dimensions":[`
    namespace_json: Vec<u8>,
    /// `"k1","k2"`
    keys_json: Vec<u8>,
    /// `,"k1":"v1","k2":"v2"`
    members_json: Vec<u8>,
    /// `,"level":"WARN"` when Lambda's application log-level filter drops `INFO` lines (a line
    /// without a level counts as `INFO`), so that no filter drops the metrics; else empty.
    level_json: Vec<u8>,
}

impl Base {
    pub(crate) fn new(namespace: String, dimensions: Vec<(String, String)>) -> Self {
        let mut namespace_json = b",\"CloudWatchMetrics\":[{\"Namespace\":".to_vec();
        json::write_str(&mut namespace_json, &namespace);
        namespace_json.extend_from_slice(b",\"Dimensions\":[");
        let mut keys_json = Vec::new();
        let mut members_json = Vec::new();
        for (i, (k, v)) in dimensions.iter().enumerate() {
            if i > 0 {
                keys_json.push(b',');
            }
            json::write_str(&mut keys_json, k);
            members_json.push(b',');
            json::write_str(&mut members_json, k);
            members_json.push(b':');
            json::write_str(&mut members_json, v);
        }
        let level_json = powertools_core::output::lambda_filter_level()
            .map(|level| format!(",\"level\":\"{level}\"").into_bytes())
            .unwrap_or_default();
        Self {
            namespace,
            dimensions,
            namespace_json,
            keys_json,
            members_json,
            level_json,
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// One value to record, as the recording methods receive it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recording<'a> {
    pub(crate) name: &'a str,
    pub(crate) unit: Unit,
    pub(crate) resolution: Resolution,
    pub(crate) value: f64,
    pub(crate) merge: Merge,
}

/// How a value joins a metric already in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Merge {
    /// A new value (the default: CloudWatch computes statistics over all of them).
    Append,
    /// Added to the last value (a counter).
    #[cfg_attr(not(feature = "metrics-facade"), allow(dead_code))]
    Sum,
    /// Replaces the last value (a gauge).
    #[cfg_attr(not(feature = "metrics-facade"), allow(dead_code))]
    Replace,
}

/// One metric of a document. An entry outlives the document's metrics (see [`Document`]): when
/// a later document records the same metric at the same place, which an invocation recording the
/// same metrics as the previous one does, its JSON is reused as it is.
#[derive(Debug)]
struct MetricEntry {
    /// Length and first bytes of the name: most lookups compare only this.
    fingerprint: u64,
    name: String,
    unit: Unit,
    resolution: Resolution,
    /// `,"…":`, the member holding the values.
    member: Vec<u8>,
    first: f64,
    rest: Vec<f64>,
}

impl MetricEntry {
    fn new(fingerprint: u64, name: &str, unit: Unit, resolution: Resolution, value: f64) -> Self {
        let mut entry = Self {
            fingerprint,
            name: name.to_owned(),
            unit,
            resolution,
            member: Vec::with_capacity(name.len() + 4),
            first: value,
            rest: Vec::new(),
        };
        entry.write_member();
        entry
    }

    /// Makes this (spare) entry hold `name` with no values but `value`, re-rendering its JSON
    /// only if the name changes (`same_name`: it holds `name` already). Whether its definition (name, unit, resolution) changed.
    fn reuse(
        &mut self,
        same_name: bool,
        fingerprint: u64,
        name: &str,
        unit: Unit,
        resolution: Resolution,
        value: f64,
    ) -> bool {
        if !same_name {
            self.fingerprint = fingerprint;
            self.name.clear();
            self.name.push_str(name);
            self.write_member();
        }
        let changed = !same_name || self.unit != unit || self.resolution != resolution;
        self.unit = unit;
        self.resolution = resolution;
        self.first = value;
        self.rest.clear();
        changed
    }

    fn write_member(&mut self) {
        self.member.clear();
        self.member.push(b',');
        json::write_str(&mut self.member, &self.name);
        self.member.push(b':');
    }

    /// `{"Name":"…","Unit":"…"}` (with `,"StorageResolution":1` at high resolution): the
    /// metric's definition in the `_aws` member.
    fn write_definition(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"Name\":");
        json::write_str(out, &self.name);
        out.extend_from_slice(b",\"Unit\":\"");
        out.extend_from_slice(self.unit.as_str().as_bytes());
        out.push(b'"');
        if self.resolution == Resolution::High {
            out.extend_from_slice(b",\"StorageResolution\":1");
        }
        out.push(b'}');
    }

    fn count(&self) -> usize {
        1 + self.rest.len()
    }

    fn last_mut(&mut self) -> &mut f64 {
        match self.rest.last_mut() {
            Some(v) => v,
            None => &mut self.first,
        }
    }
}

fn fingerprint(name: &str) -> u64 {
    const FIRST_7: u64 = (1 << 56) - 1;
    let bytes = name.as_bytes();
    let len = (bytes.len() as u64) << 56;
    if let Some(first_8) = bytes.first_chunk::<8>() {
        return len | (u64::from_le_bytes(*first_8) & FIRST_7);
    }
    let mut head = len;
    for (i, &b) in bytes.iter().enumerate() {
        head |= u64::from(b) << (8 * i);
    }
    head
}

/// Slots of a document's name index: a power of two, more than twice the metrics a document
/// holds, so that a lookup probes one or two slots.
const INDEX_SLOTS: usize = 256;

/// The number of metrics from which a document looks names up in an index rather than by
/// fingerprint.
const INDEXED_FROM: usize = 16;
const _: () = assert!(INDEXED_FROM < MAX_METRICS_PER_DOCUMENT);

/// A hash of the whole name (a fingerprint compares only its first bytes).
fn name_hash(name: &str) -> usize {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let bytes = name.as_bytes();
    let mut hash = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    hash = (hash.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
    (hash >> 40) as usize
}

/// The most the dimensions and metadata of one document may take, in bytes of JSON: the rest of
/// a CloudWatch Logs event is left for at least one metric with 100 values (at most about 6 KiB).
pub(crate) const MAX_FIXED_BYTES: usize = powertools_core::output::MAX_LINE_BYTES - 16 * 1024;

fn collision_error(key: &str, existing: KeyKind, new: KeyKind) -> MetricsError {
    MetricsError::KeyCollision {
        key: key.to_owned(),
        existing,
        new,
    }
}

/// Whether a document must be written now (a limit was reached).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fill {
    /// Room for more.
    Open,
    /// 100 metrics, or 100 values of one metric: write it and start the next one.
    Full,
}

/// The metrics, dimensions and metadata of one document in the making.
///
/// Buffers are kept when the document is cleared, so a recycled document records and renders
/// without allocating.
#[derive(Debug, Default)]
pub(crate) struct Document {
    /// `entries[..len]` are the metrics; the rest are spare, kept for their buffers.
    entries: Vec<MetricEntry>,
    len: usize,
    /// Every dimension value this document sets (including overrides of the base ones).
    dimensions: Vec<(String, String)>,
    /// Whether `dimensions` overrides a base dimension's value.
    overrides_base: bool,
    /// Indices in `dimensions` of the primary set's own keys, in the order added.
    primary: Vec<usize>,
    /// Additional dimension sets: indices in `dimensions` (the base keys are implied).
    sets: Vec<Vec<usize>>,
    /// Metadata: key and the value's JSON.
    metadata: Vec<(String, String)>,
    timestamp_ms: Option<u64>,
    /// Something was recorded since the last `clear`.
    recorded: bool,
    /// Something was recorded since the last `reset` (for the whole invocation).
    ever_recorded: bool,
    /// The definitions of `entries[..defined]`, comma-separated, as `_aws` lists them: kept
    /// while the entries keep their metrics, so that a document recording the same metrics as
    /// the previous one copies them at once.
    definitions: Vec<u8>,
    /// Where each of these definitions ends in `definitions`.
    definition_ends: Vec<usize>,
    defined: usize,
    /// Open-addressing index of the metrics by name: `entries[slot - 1]`, 0 for an empty slot
    /// (empty below [`INDEXED_FROM`] metrics).
    index: Vec<u16>,
    /// A spare entry may hold the name of another entry: one was given a new name since the
    /// entries last were all metrics (which have distinct names). While clear, a spare entry
    /// holding the name being recorded shows that no metric of the document has that name.
    spares_renamed: bool,
    pub(crate) buffer: Vec<u8>,
}

impl Document {
    /// Whether it holds metrics to write.
    pub(crate) fn has_metrics(&self) -> bool {
        self.len > 0
    }

    /// Whether anything was recorded since the last [`Document::clear`].
    pub(crate) fn recorded(&self) -> bool {
        self.recorded
    }

    /// Whether anything was recorded since the last [`Document::reset`].
    pub(crate) fn ever_recorded(&self) -> bool {
        self.ever_recorded
    }

    /// Forgets everything, keeping the buffers, for reuse by another invocation.
    pub(crate) fn reset(&mut self) {
        self.clear();
        self.ever_recorded = false;
    }

    /// Forgets the metrics, keeping dimensions, metadata and timestamp (after a document was
    /// written because it was full).
    pub(crate) fn clear_metrics(&mut self) {
        if self.len == self.entries.len() {
            self.spares_renamed = false;
        }
        self.len = 0;
        // Kept (cleared) once a document needed one: it is reused for documents alike.
        if !self.index.is_empty() {
            self.index.fill(0);
        }
    }

    /// Forgets everything, keeping the buffers.
    pub(crate) fn clear(&mut self) {
        self.clear_metrics();
        self.dimensions.clear();
        self.overrides_base = false;
        self.primary.clear();
        self.sets.clear();
        self.metadata.clear();
        self.timestamp_ms = None;
        self.recorded = false;
    }

    fn dimension_index(&self, key: &str) -> Option<usize> {
        self.dimensions.iter().position(|(k, _)| k == key)
    }

    fn dimension_value<'a>(&'a self, base: &'a Base, key: &str) -> Option<&'a str> {
        match self.dimension_index(key) {
            Some(i) => Some(self.dimensions[i].1.as_str()),
            None => base.get(key),
        }
    }

    fn is_metric(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// The index in `entries` of the metric named `name`; else, when the document has an index,
    /// the index slot where it goes (`usize::MAX` without one).
    ///
    /// A document of a few metrics is searched by fingerprint, which costs less than hashing
    /// the name; from [`INDEXED_FROM`] metrics on, an open-addressing index keeps a lookup
    /// independent of the number of metrics.
    #[inline]
    fn find(&self, name: &str) -> Result<usize, usize> {
        if self.index.is_empty() {
            let fp = fingerprint(name);
            return self.entries[..self.len]
                .iter()
                .position(|e| e.fingerprint == fp && e.name == name)
                .ok_or(usize::MAX);
        }
        let mut slot = name_hash(name) & (INDEX_SLOTS - 1);
        loop {
            match self.index[slot] {
                0 => return Err(slot),
                n => {
                    let i = usize::from(n) - 1;
                    if self.entries[i].name == name {
                        return Ok(i);
                    }
                }
            }
            slot = (slot + 1) & (INDEX_SLOTS - 1);
        }
    }

    /// Adds `entries[i]` (just recorded) to the index at `slot` (from [`Document::find`]), or
    /// builds the index once the document reaches [`INDEXED_FROM`] metrics.
    fn index_at(&mut self, slot: usize, i: usize) {
        if !self.index.is_empty() {
            self.index[slot] = (i + 1) as u16;
        } else if i + 1 >= INDEXED_FROM {
            self.index = vec![0; INDEX_SLOTS];
            for j in 0..=i {
                let mut slot = name_hash(&self.entries[j].name) & (INDEX_SLOTS - 1);
                while self.index[slot] != 0 {
                    slot = (slot + 1) & (INDEX_SLOTS - 1);
                }
                self.index[slot] = (j + 1) as u16;
            }
        }
    }

    /// The bytes of JSON the document's dimensions and metadata take (an upper bound), plus
    /// `adding`: what a change would add.
    fn check_fixed_size(&self, base: &Base, key: &str, adding: usize) -> Result<(), MetricsError> {
        let sets = 1 + self.sets.len();
        let mut bytes = 96 + base.namespace_json.len() + base.level_json.len() + adding;
        bytes += sets * (base.keys_json.len() + 4) + base.members_json.len();
        for (k, v) in &self.dimensions {
            bytes += (1 + sets) * (json::escaped_len(k) + 1) + json::escaped_len(v) + 2;
        }
        for (k, v) in &self.metadata {
            bytes += json::escaped_len(k) + v.len() + 2;
        }
        if bytes > MAX_FIXED_BYTES {
            return Err(MetricsError::TooLarge {
                key: key.chars().take(300).collect(),
                bytes,
                max: MAX_FIXED_BYTES,
            });
        }
        Ok(())
    }

    fn is_metadata(&self, key: &str) -> bool {
        self.metadata.iter().any(|(k, _)| k == key)
    }

    /// The kind of key `key` already is in this document, other than `new`.
    fn existing_kind(&self, base: &Base, key: &str, new: KeyKind) -> Option<KeyKind> {
        // A new metric's name was just looked up among the metrics: not there.
        if new != KeyKind::Metric && self.is_metric(key) {
            Some(KeyKind::Metric)
        } else if new != KeyKind::Dimension && self.dimension_value(base, key).is_some() {
            Some(KeyKind::Dimension)
        } else if new != KeyKind::Metadata && self.is_metadata(key) {
            Some(KeyKind::Metadata)
        } else {
            None
        }
    }

    /// An error if `key` is already another kind of key than `new` in this document.
    fn collision(&self, base: &Base, key: &str, new: KeyKind) -> Result<(), MetricsError> {
        match self.existing_kind(base, key, new) {
            Some(existing) => Err(collision_error(key, existing, new)),
            None => Ok(()),
        }
    }

    /// Records one value of a metric.
    pub(crate) fn record(
        &mut self,
        base: &Base,
        name: &str,
        unit: Unit,
        resolution: Resolution,
        value: f64,
        merge: Merge,
    ) -> Result<Fill, MetricsError> {
        let recording = Recording {
            name,
            unit,
            resolution,
            value,
            merge,
        };
        self.record_boxed(base, &recording).map_err(|e| *e)
    }

    /// [`Document::record`] with the error boxed: the result fits in a register, which keeps
    /// recording (a call through a closure and a lock) from copying a large `Result` around.
    #[inline]
    pub(crate) fn record_boxed(
        &mut self,
        base: &Base,
        recording: &Recording<'_>,
    ) -> Result<Fill, Box<MetricsError>> {
        match self.record_as_before(recording) {
            Some(fill) => Ok(fill),
            None => self.record_general(base, recording),
        }
    }

    /// The commonest recording, done inline: a new metric that the spare entry at its place
    /// held before (with a spare name distinct from the metrics', no dimensions or metadata of
    /// the document's own to collide with, no index to update). `None` for any other.
    #[inline]
    fn record_as_before(&mut self, recording: &Recording<'_>) -> Option<Fill> {
        let Recording {
            name,
            unit,
            resolution,
            value,
            ..
        } = *recording;
        if self.spares_renamed
            || self.len + 1 >= INDEXED_FROM
            || !self.index.is_empty()
            || !self.dimensions.is_empty()
            || !self.metadata.is_empty()
            || !value.is_finite()
        {
            return None;
        }
        let fp = fingerprint(name);
        let spare = self.entries.get_mut(self.len)?;
        if spare.fingerprint != fp || spare.name != name {
            return None;
        }
        if spare.reuse(true, fp, name, unit, resolution, value) {
            self.defined = self.defined.min(self.len);
        }
        self.len += 1;
        self.recorded = true;
        self.ever_recorded = true;
        // Below `INDEXED_FROM` metrics, so below `MAX_METRICS_PER_DOCUMENT`.
        Some(Fill::Open)
    }

    /// [`Document::record_boxed`] for any recording.
    #[inline(never)]
    fn record_general(
        &mut self,
        base: &Base,
        recording: &Recording<'_>,
    ) -> Result<Fill, Box<MetricsError>> {
        let Recording {
            name,
            unit,
            resolution,
            value,
            merge,
        } = *recording;
        if !value.is_finite() {
            return Err(Box::new(MetricsError::NonFiniteValue {
                name: name.to_owned(),
                value,
            }));
        }
        let fp = fingerprint(name);
        // The spare entry at this place held the same name in an earlier document of the same
        // `Metrics` (an invocation recording what the previous one did).
        let same_as_spare = self
            .entries
            .get(self.len)
            .is_some_and(|spare| spare.fingerprint == fp && spare.name == name);
        // Without an index and with distinct names in all entries, that spare's name is none
        // of the metrics': no need to look for it.
        let known_new = same_as_spare && self.index.is_empty() && !self.spares_renamed;
        let found = if known_new {
            Err(usize::MAX)
        } else {
            self.find(name)
        };
        let slot = match found {
            Err(slot) => slot,
            Ok(i) => {
                let entry = &mut self.entries[i];
                if entry.unit != unit || entry.resolution != resolution {
                    return Err(Box::new(MetricsError::ConflictingDefinition {
                        name: name.to_owned(),
                        existing_unit: entry.unit,
                        new_unit: unit,
                        existing_resolution: entry.resolution,
                        new_resolution: resolution,
                    }));
                }
                match merge {
                    Merge::Append => entry.rest.push(value),
                    Merge::Sum => *entry.last_mut() += value,
                    Merge::Replace => *entry.last_mut() = value,
                }
                self.recorded = true;
                self.ever_recorded = true;
                return Ok(if entry.count() >= MAX_VALUES_PER_METRIC {
                    Fill::Full
                } else {
                    Fill::Open
                });
            }
        };
        // A spare entry holding the same name: the name was checked when it was recorded then,
        // against the same base. Only this document's own keys are left to check.
        let checked_before =
            same_as_spare && self.dimensions.is_empty() && self.metadata.is_empty();
        if !checked_before {
            rules::check_metric_name(name).map_err(Box::new)?;
            if let Some(existing) = self.existing_kind(base, name, KeyKind::Metric) {
                return Err(Box::new(collision_error(name, existing, KeyKind::Metric)));
            }
        }
        if !same_as_spare && self.len + 1 < self.entries.len() {
            self.spares_renamed = true;
        }
        let same_definition = if let Some(spare) = self.entries.get_mut(self.len) {
            !spare.reuse(same_as_spare, fp, name, unit, resolution, value)
        } else {
            self.entries
                .push(MetricEntry::new(fp, name, unit, resolution, value));
            false
        };
        if !same_definition {
            self.defined = self.defined.min(self.len);
        }
        self.index_at(slot, self.len);
        self.len += 1;
        self.recorded = true;
        self.ever_recorded = true;
        Ok(if self.len >= MAX_METRICS_PER_DOCUMENT {
            Fill::Full
        } else {
            Fill::Open
        })
    }

    /// Adds a dimension to the primary dimension set (or overrides a default dimension's value).
    pub(crate) fn add_dimension(
        &mut self,
        base: &Base,
        key: &str,
        value: &str,
    ) -> Result<(), MetricsError> {
        rules::check_dimension_name(key)?;
        rules::check_dimension_value(value)?;
        self.collision(base, key, KeyKind::Dimension)?;
        let adding = 2 * json::escaped_len(key) + json::escaped_len(value) + 4;
        self.check_fixed_size(base, key, adding)?;
        let in_base = base.get(key).is_some();
        if let Some(i) = self.dimension_index(key) {
            if self.dimensions[i].1 != value {
                if self.sets.iter().any(|set| set.contains(&i)) {
                    return Err(MetricsError::DimensionConflict {
                        key: key.to_owned(),
                        existing: self.dimensions[i].1.clone(),
                        new: value.to_owned(),
                    });
                }
                value.clone_into(&mut self.dimensions[i].1);
            }
            if !in_base && !self.primary.contains(&i) {
                Self::check_count(self.primary.len() + 1 + base.dimensions.len())?;
                self.primary.push(i);
            }
            return Ok(());
        }
        if in_base {
            self.overrides_base = true;
        } else {
            Self::check_count(self.primary.len() + 1 + base.dimensions.len())?;
            self.primary.push(self.dimensions.len());
        }
        self.dimensions.push((key.to_owned(), value.to_owned()));
        Ok(())
    }

    fn check_count(count: usize) -> Result<(), MetricsError> {
        if count > MAX_DIMENSIONS_PER_SET {
            return Err(MetricsError::TooManyDimensions {
                count,
                max: MAX_DIMENSIONS_PER_SET,
            });
        }
        Ok(())
    }

    /// Adds another dimension set (its keys plus the base ones).
    pub(crate) fn add_dimension_set<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        base: &Base,
        set: &[(K, V)],
    ) -> Result<(), MetricsError> {
        let mut own: Vec<(&str, &str)> = Vec::with_capacity(set.len());
        for (k, v) in set {
            let (k, v) = (k.as_ref(), v.as_ref());
            rules::check_dimension_name(k)?;
            rules::check_dimension_value(v)?;
            self.collision(base, k, KeyKind::Dimension)?;
            let existing = self
                .dimension_value(base, k)
                .or_else(|| own.iter().find(|(ok, _)| *ok == k).map(|(_, ov)| *ov));
            if let Some(existing) = existing
                && existing != v
            {
                return Err(MetricsError::DimensionConflict {
                    key: k.to_owned(),
                    existing: existing.to_owned(),
                    new: v.to_owned(),
                });
            }
            if base.get(k).is_none() && !own.iter().any(|(ok, _)| *ok == k) {
                own.push((k, v));
            }
        }
        Self::check_count(own.len() + base.dimensions.len())?;
        let adding = 4
            + own
                .iter()
                .map(|(k, v)| 2 * json::escaped_len(k) + json::escaped_len(v) + 4)
                .sum::<usize>()
            + base.keys_json.len();
        let key = own.first().map_or("", |(k, _)| *k);
        self.check_fixed_size(base, key, adding)?;
        let mut indices = Vec::with_capacity(own.len());
        for (k, v) in own {
            let i = if let Some(i) = self.dimension_index(k) {
                i
            } else {
                self.dimensions.push((k.to_owned(), v.to_owned()));
                self.dimensions.len() - 1
            };
            indices.push(i);
        }
        self.sets.push(indices);
        Ok(())
    }

    /// Adds (or replaces) a metadata member; `json` is the value's JSON text.
    pub(crate) fn add_metadata(
        &mut self,
        base: &Base,
        key: &str,
        json: String,
    ) -> Result<(), MetricsError> {
        rules::check_metadata_key(key)?;
        self.collision(base, key, KeyKind::Metadata)?;
        let replaced = self
            .metadata
            .iter()
            .find(|(k, _)| k == key)
            .map_or(0, |(k, v)| json::escaped_len(k) + v.len() + 2);
        let adding = (json::escaped_len(key) + json.len() + 2).saturating_sub(replaced);
        self.check_fixed_size(base, key, adding)?;
        match self.metadata.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = json,
            None => self.metadata.push((key.to_owned(), json)),
        }
        Ok(())
    }

    /// Sets the document's timestamp (milliseconds since the epoch).
    pub(crate) fn set_timestamp(&mut self, millis: u64) {
        self.timestamp_ms = Some(millis);
    }
}

#[cfg(test)]
mod tests;
