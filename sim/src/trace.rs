//! The trace hash: blake2b-256 chained over the ordered events a run delivered. Two runs with
//! the same seed deliver the same events in the same order, so they end with the same hash;
//! one different byte anywhere changes it.

/// Bytes buffered before they are folded into the running hash.
const FOLD_BYTES: usize = 64 * 1024;

/// A running hash over a run's delivered events.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    acc: [u8; 32],
    buf: Vec<u8>,
}

impl Trace {
    /// Adds raw bytes to the trace.
    pub fn add(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= FOLD_BYTES {
            self.fold();
        }
    }

    /// A message delivered at `at` from `from` to `to`, with its content digest and size.
    pub fn delivery(&mut self, at: u64, from: u32, to: u32, content: &[u8], size: usize) {
        self.add(&at.to_be_bytes());
        self.add(&from.to_be_bytes());
        self.add(&to.to_be_bytes());
        self.add(&(size as u64).to_be_bytes());
        self.add(content);
    }

    /// A local event (timer, write, attack, churn) of `node`, by kind.
    pub fn event(&mut self, at: u64, node: u32, kind: u8, seq: u64) {
        self.add(&at.to_be_bytes());
        self.add(&node.to_be_bytes());
        self.add(&[kind]);
        self.add(&seq.to_be_bytes());
    }

    fn fold(&mut self) {
        let mut chained = Vec::with_capacity(32 + self.buf.len());
        chained.extend_from_slice(&self.acc);
        chained.extend_from_slice(&self.buf);
        self.acc = myco_dna::blake2b_256(&chained);
        self.buf.clear();
    }

    /// The final hash.
    pub fn finish(mut self) -> [u8; 32] {
        self.fold();
        self.acc
    }
}

/// Combines per-part hashes (pods, then the registry) in order into one.
pub fn combine(parts: &[[u8; 32]]) -> [u8; 32] {
    myco_dna::blake2b_256(&parts.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_different_byte_changes_the_hash() {
        let mut a = Trace::default();
        let mut b = Trace::default();
        a.delivery(1, 2, 3, b"hello", 5);
        b.delivery(1, 2, 3, b"hellp", 5);
        assert_ne!(a.finish(), b.finish());
    }
}
