//! The event queue: an indexed binary min-heap with one slot per event
//! source (each instance has exactly one pending event: its next failure or
//! its repair completion).
//!
//! Events are totally ordered by time, then by the sequence number given
//! when they were scheduled, so simultaneous events (deterministic
//! distributions) fire in the order they were scheduled. Times are never
//! negative, so their IEEE bit patterns order like the numbers and one
//! integer comparison suffices.

/// One pending event.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// `(time.to_bits() as u128) << 64 | seq`: the total order.
    key: u128,
    slot: u32,
}

#[inline]
fn key(time: f64, seq: u64) -> u128 {
    debug_assert!(time >= 0.0, "event times are never negative");
    ((time.to_bits() as u128) << 64) | seq as u128
}

/// Indexed min-heap of slots keyed by (time, sequence).
///
/// A flat array scanned for its minimum without branches was tried for
/// small systems and measured slower on the pool workload (2.74 against
/// 2.88 × 10⁷ events/s, medians of five runs): the heap stays.
#[derive(Clone, Debug, Default)]
pub struct EventQueue {
    heap: Vec<Entry>,
    /// Position of each slot in `heap`.
    pos: Vec<u32>,
}

impl EventQueue {
    /// Rebuilds the queue with slot i at `times[i]`, scheduled i-th.
    ///
    /// Slots marked in `never` are never scheduled (instances run as part of
    /// a group) and are left out of the heap, which keeps it shallow.
    pub fn rebuild(&mut self, times: &[f64], never: &[bool]) {
        self.heap.clear();
        self.pos.clear();
        self.pos.resize(times.len(), u32::MAX);
        for (slot, &t) in times.iter().enumerate() {
            if !never.get(slot).copied().unwrap_or(false) {
                self.pos[slot] = self.heap.len() as u32;
                self.heap.push(Entry {
                    key: key(t, slot as u64),
                    slot: slot as u32,
                });
            }
        }
        for i in (0..self.heap.len() / 2).rev() {
            self.sift_down(i);
        }
    }

    /// The earliest event: its time and slot.
    #[inline]
    pub fn peek(&self) -> (f64, usize) {
        let e = self.heap[0];
        (f64::from_bits((e.key >> 64) as u64), e.slot as usize)
    }

    /// Reschedules the earliest event's slot to `(time, seq)`.
    #[inline]
    pub fn replace_top(&mut self, time: f64, seq: u64) {
        self.heap[0].key = key(time, seq);
        self.sift_down(0);
    }

    /// Reschedules any slot to `(time, seq)`.
    pub fn update(&mut self, slot: usize, time: f64, seq: u64) {
        let i = self.pos[slot] as usize;
        debug_assert!(i < self.heap.len(), "slot {slot} is never scheduled");
        let old = self.heap[i].key;
        let new = key(time, seq);
        self.heap[i].key = new;
        if new < old {
            self.sift_up(i);
        } else {
            self.sift_down(i);
        }
    }

    /// Moves the entry at `i` down to its place.
    ///
    /// The hottest loop of the engine, so indexing is unchecked: every index
    /// used is below `n = heap.len()` (checked by the loop conditions), and
    /// every slot in the heap is below `pos.len()`, the number of slots
    /// (`rebuild` sizes `pos` to every slot).
    #[inline]
    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        debug_assert!(i < n && self.pos.len() >= n);
        let heap = self.heap.as_mut_slice();
        let pos = self.pos.as_mut_slice();
        // SAFETY: see above; i < n on entry and after every move (i = c < n).
        unsafe {
            let e = *heap.get_unchecked(i);
            loop {
                let l = 2 * i + 1;
                if l >= n {
                    break;
                }
                let r = l + 1;
                let c = if r < n && heap.get_unchecked(r).key < heap.get_unchecked(l).key {
                    r
                } else {
                    l
                };
                let child = *heap.get_unchecked(c);
                if child.key >= e.key {
                    break;
                }
                *heap.get_unchecked_mut(i) = child;
                *pos.get_unchecked_mut(child.slot as usize) = i as u32;
                i = c;
            }
            *heap.get_unchecked_mut(i) = e;
            *pos.get_unchecked_mut(e.slot as usize) = i as u32;
        }
    }

    fn sift_up(&mut self, mut i: usize) {
        let e = self.heap[i];
        while i > 0 {
            let p = (i - 1) / 2;
            if self.heap[p].key <= e.key {
                break;
            }
            self.heap[i] = self.heap[p];
            self.pos[self.heap[i].slot as usize] = i as u32;
            i = p;
        }
        self.heap[i] = e;
        self.pos[e.slot as usize] = i as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_sequence_order() {
        let mut q = EventQueue::default();
        q.rebuild(&[5.0, 1.0, 3.0, 1.0, f64::INFINITY, 0.0], &[]);
        let mut seen = Vec::new();
        for seq in 100..105 {
            let (t, slot) = q.peek();
            seen.push((t, slot));
            q.replace_top(f64::INFINITY, seq);
        }
        assert_eq!(seen, vec![(0.0, 5), (1.0, 1), (1.0, 3), (3.0, 2), (5.0, 0)]);
    }

    /// The queue agrees with a naive minimum over (time, sequence), through
    /// replace_top and update, ties included.
    #[test]
    fn queue_matches_a_naive_minimum() {
        for n in [1usize, 5, 16, 17, 40] {
            let mut state = 12345u64;
            let mut next = || {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 33) % 1000) as f64 / 10.0
            };
            let times: Vec<f64> = (0..n).map(|_| next()).collect();
            let mut q = EventQueue::default();
            q.rebuild(&times, &[]);
            let mut naive: Vec<(f64, u64)> = times
                .iter()
                .enumerate()
                .map(|(i, &t)| (t, i as u64))
                .collect();
            let mut seq = n as u64;
            for round in 0..500 {
                let want = (0..n)
                    .min_by(|&a, &b| {
                        naive[a]
                            .0
                            .total_cmp(&naive[b].0)
                            .then(naive[a].1.cmp(&naive[b].1))
                    })
                    .unwrap();
                let (t, slot) = q.peek();
                assert_eq!((t, slot), (naive[want].0, want), "n = {n}, round {round}");
                // As the engine does: reschedule the popped slot first, then
                // possibly another.
                seq += 1;
                let new = t + next();
                q.replace_top(new, seq);
                naive[slot] = (new, seq);
                if round % 3 == 0 {
                    let other = (slot + 1 + round) % n;
                    seq += 1;
                    let later = naive[other].0 + 1.0;
                    q.update(other, later, seq);
                    naive[other] = (later, seq);
                }
            }
        }
    }

    #[test]
    fn update_moves_slots_both_ways() {
        let mut q = EventQueue::default();
        q.rebuild(&(0..10).map(f64::from).collect::<Vec<_>>(), &[]);
        q.update(7, 0.5, 20);
        assert_eq!(q.peek(), (0.0, 0));
        q.update(0, 100.0, 21);
        assert_eq!(q.peek(), (0.5, 7));
        q.update(7, 50.0, 22);
        assert_eq!(q.peek(), (1.0, 1));
    }
}
