//! The discrete-event queue: events ordered by (virtual time, sequence number), so two events
//! at the same instant always come out in the order they were scheduled.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One scheduled event.
struct Slot<E> {
    at: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Slot<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<E> Eq for Slot<E> {}

impl<E> PartialOrd for Slot<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Slot<E> {
    /// Reversed, so the max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// A priority queue of events keyed by (time in µs, insertion sequence).
pub struct EventQueue<E> {
    heap: BinaryHeap<Slot<E>>,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `event` at virtual time `at` (µs).
    pub fn push(&mut self, at: u64, event: E) {
        self.seq += 1;
        self.heap.push(Slot {
            at,
            seq: self.seq,
            event,
        });
    }

    /// Removes the earliest event, with its time and sequence number.
    pub fn pop(&mut self) -> Option<(u64, u64, E)> {
        self.heap.pop().map(|s| (s.at, s.seq, s.event))
    }

    /// The time of the earliest event.
    pub fn peek_time(&self) -> Option<u64> {
        self.heap.peek().map(|s| s.at)
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True if nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_out_by_time_then_by_scheduling_order() {
        let mut q = EventQueue::new();
        q.push(20, "late");
        q.push(10, "first at 10");
        q.push(10, "second at 10");
        q.push(5, "earliest");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, _, e)| e)).collect();
        assert_eq!(order, ["earliest", "first at 10", "second at 10", "late"]);
    }
}
