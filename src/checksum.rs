//! A keyed checksum of a chunk's statistics (SipHash-2-4, written out here
//! so that its bits never change with a dependency or a Rust release).
//!
//! A partial report stores one per piece of statistics, keyed with the
//! scenario hash and the seed and covering the piece's block range and every
//! number in it: a piece edited by hand, copied from another position or
//! from another run no longer matches. It guards against accidents and
//! casual edits, not against someone who reads this file.

use crate::sim::{ObjectiveTally, Tally};
use crate::stats::Moments;

/// SipHash-2-4 over a stream of 64-bit words.
struct SipHasher {
    v: [u64; 4],
    words: u64,
}

impl SipHasher {
    fn new(k0: u64, k1: u64) -> SipHasher {
        SipHasher {
            v: [
                k0 ^ 0x736f_6d65_7073_6575,
                k1 ^ 0x646f_7261_6e64_6f6d,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
            words: 0,
        }
    }

    fn round(&mut self) {
        let v = &mut self.v;
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }

    fn word(&mut self, m: u64) {
        self.v[3] ^= m;
        self.round();
        self.round();
        self.v[0] ^= m;
        self.words += 1;
    }

    fn f64(&mut self, x: f64) {
        self.word(x.to_bits());
    }

    fn f64s(&mut self, xs: &[f64]) {
        self.word(xs.len() as u64);
        xs.iter().for_each(|&x| self.f64(x));
    }

    fn u64s(&mut self, xs: &[u64]) {
        self.word(xs.len() as u64);
        xs.iter().for_each(|&x| self.word(x));
    }

    fn moments(&mut self, m: &Moments) {
        self.word(m.n);
        self.f64(m.mean);
        self.f64(m.m2);
    }

    fn finish(mut self) -> u64 {
        // Messages are whole words: the final block holds only the length.
        self.word((self.words.wrapping_mul(8) & 0xff) << 56);
        self.v[2] ^= 0xff;
        for _ in 0..4 {
            self.round();
        }
        self.v.iter().fold(0, |a, &x| a ^ x)
    }
}

/// The checksum of the statistics `tally` of blocks `first_block ..
/// first_block + blocks` of the run with scenario hash `scenario_hash`
/// (16 hex digits) and `seed`, as 16 hex digits.
pub fn piece_checksum(
    scenario_hash: &str,
    seed: u64,
    first_block: u64,
    blocks: u64,
    tally: &Tally,
) -> String {
    let key = u64::from_str_radix(scenario_hash, 16).unwrap_or(0);
    let mut h = SipHasher::new(key, seed);
    h.word(first_block);
    h.word(blocks);
    // Destructured so that a new field cannot be left out of the checksum.
    let Tally {
        down,
        down_values,
        outages,
        system_down_hours,
        first_failure_exposure,
        first_failures,
        instance_down_hours,
        instance_share_hours,
        transient_up,
        requests,
        objectives,
        events,
        data,
        years_without_downtime,
        year_down_hours,
        bin_down,
        bin_down_sq,
        first_failure_at,
        upkeep,
        mechanisms,
    } = tally;
    h.moments(down);
    h.f64s(down_values);
    h.word(*outages);
    h.f64(*system_down_hours);
    h.f64(*first_failure_exposure);
    h.word(*first_failures);
    h.f64s(instance_down_hours);
    h.f64s(instance_share_hours);
    h.u64s(transient_up);
    h.moments(requests);
    h.word(objectives.len() as u64);
    for o in objectives {
        let ObjectiveTally {
            windows,
            met,
            availability_sum,
            nines_histogram,
        } = o;
        h.word(*windows);
        h.word(*met);
        h.f64(*availability_sum);
        h.u64s(nines_histogram);
    }
    h.word(*events);
    h.word(*years_without_downtime);
    h.f64s(year_down_hours);
    h.f64s(bin_down);
    h.f64s(bin_down_sq);
    h.u64s(first_failure_at);
    if !mechanisms.is_empty() {
        // Only runs with standby nodes, balancers or crews have these:
        // other checksums stay as they were.
        let crate::sim::MechanismTally {
            standby_hours,
            standby_down_hours,
            balancer_hours,
            balancer_lag_hours,
            crew_utilisation,
            crew_started,
            crew_wait_hours,
        } = mechanisms;
        h.f64s(standby_hours);
        h.f64s(standby_down_hours);
        h.f64s(balancer_hours);
        h.f64s(balancer_lag_hours);
        h.word(crew_utilisation.len() as u64);
        crew_utilisation.iter().for_each(|m| h.moments(m));
        h.u64s(crew_started);
        h.f64s(crew_wait_hours);
    }
    if *upkeep != crate::sim::UpkeepTally::default() {
        // Only runs with §9 constructs have these: other checksums stay as
        // they were.
        h.u64s(&upkeep.words());
    }
    let crate::sim::DataTally {
        losses,
        sources,
        restore_hours,
    } = data;
    // Hashed only when present, so that parts without data keep their
    // checksums.
    if !(losses.is_empty() && restore_hours.is_empty()) {
        h.f64s(losses);
        h.word(sources.len() as u64);
        sources.iter().for_each(|&s| h.word(u64::from(s)));
        h.f64s(restore_hours);
    }
    format!("{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siphash_matches_the_reference_vector() {
        // SipHash-2-4 reference (Aumasson & Bernstein): key 00..0f, the
        // 8-byte message 00..07 gives 0x93f5f5799a932462.
        let k0 = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        let k1 = u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]);
        let mut h = SipHasher::new(k0, k1);
        h.word(u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]));
        assert_eq!(h.finish(), 0x93f5_f579_9a93_2462);
    }

    #[test]
    fn checksums_change_with_key_range_and_numbers() {
        let mut t = Tally::new(2, 3, 0);
        t.down.push(0.25);
        t.down_values.push(0.25);
        let c = piece_checksum("00000000000000aa", 1, 0, 1, &t);
        assert_ne!(c, piece_checksum("00000000000000ab", 1, 0, 1, &t));
        assert_ne!(c, piece_checksum("00000000000000aa", 2, 0, 1, &t));
        assert_ne!(c, piece_checksum("00000000000000aa", 1, 1, 1, &t));
        let mut u = t.clone();
        u.transient_up[2] = 1;
        assert_ne!(c, piece_checksum("00000000000000aa", 1, 0, 1, &u));
    }
}
