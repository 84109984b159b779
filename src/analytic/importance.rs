//! Importance measures of instances and common causes (SPEC §5 additions):
//! Birnbaum, Fussell–Vesely, risk achievement worth (RAW) and risk
//! reduction worth (RRW), all on unavailability.
//!
//! # Formula
//! ```text
//! U      system unavailability          U₀ᵢ  with i always down
//! U₁ᵢ    with i always up               qᵢ   i's own unavailability
//! Birnbaum  Iᴮ = U₀ᵢ − U₁ᵢ  (= ∂U/∂qᵢ)
//! FV        (U − U₁ᵢ) / U  = qᵢ·Iᴮ / U   (U is linear in qᵢ)
//! RAW       U₀ᵢ / U
//! RRW       U / U₁ᵢ        (null when U₁ᵢ = 0: i is the only way down)
//! ```
//! Exact from the structure function where it applies (steady state of
//! independent units); otherwise estimated from the simulation with the
//! same definitions read as conditional time fractions:
//! U₀ᵢ ≈ P(system down | i down), U₁ᵢ ≈ P(system down | i up). For
//! independent units these are the same quantities; with crews, standby
//! delays or balancers they are observed associations, not a model
//! intervention, and the report marks them `exact: false`.

use serde::{Deserialize, Serialize};

use super::structure::{Probs, Structure};
use super::{steady, steady_down};
use crate::model::Model;

/// Most units (instances and common causes) given exact importances.
pub const EXACT_UNITS: usize = 2000;

/// The importance of one instance (or common cause).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    /// Birnbaum: U with the unit always down minus U with it always up.
    pub birnbaum: Option<f64>,
    /// Fussell–Vesely: the fraction of U removed if the unit never failed.
    pub fussell_vesely: Option<f64>,
    /// Risk achievement worth: U with the unit always down, over U.
    pub raw: Option<f64>,
    /// Risk reduction worth: U over U with the unit always up (null when
    /// that is 0, i.e. infinite).
    pub rrw: Option<f64>,
    /// Whether the figures are exact (structure function, steady state) or
    /// estimated from the simulation.
    pub exact: bool,
}

impl Importance {
    /// The measures from U, U₀ (unit down) and U₁ (unit up) and the unit's
    /// own unavailability `q`; each clamped to its range.
    fn from_unavailabilities(u: f64, u0: f64, u1: f64, q: Option<f64>, exact: bool) -> Importance {
        let birnbaum = (u0 - u1).clamp(0.0, 1.0);
        let positive = |x: f64| (x.is_finite() && x >= 0.0).then_some(x);
        let fussell_vesely = if u > 0.0 {
            match q {
                Some(q) => positive((q * birnbaum / u).min(1.0)),
                None => positive(((u - u1) / u).clamp(0.0, 1.0)),
            }
        } else {
            None
        };
        Importance {
            birnbaum: positive(birnbaum),
            fussell_vesely,
            raw: (u > 0.0).then(|| u0 / u).and_then(positive),
            rrw: (u1 > 0.0).then(|| u / u1).and_then(positive),
            exact,
        }
    }
}

/// The exact steady-state importance of every instance, then every common
/// cause, where the structure function applies.
pub fn exact(model: &Model) -> Option<Vec<Importance>> {
    // One structure evaluation per instance: quadratic, so large models
    // take the estimates from the simulation instead.
    if model.instances.len() + model.common_causes.len() > MAX_EXACT {
        return None;
    }
    // Maintenance, hidden failures, spares and load sharing change the
    // units' availability and couple them: no structure-function figure.
    if model.has_upkeep() {
        return None;
    }
    // Instances that hold data are down for repair and restore: their
    // availability is that of the effective model (`data.rs`).
    if let Some((eff, exact, _)) = super::data::effective_model(model) {
        return if exact { self::exact(&eff) } else { None };
    }
    let sf = Structure::new(model).ok()?;
    let p: Vec<f64> = model
        .instances
        .iter()
        .map(|i| steady(&i.failure, &i.repair))
        .collect();
    let pd: Vec<f64> = model
        .instances
        .iter()
        .map(|i| steady_down(&i.failure, &i.repair))
        .collect();
    let q: Vec<f64> = model
        .common_causes
        .iter()
        .map(|c| steady_down(&c.failure, &c.repair))
        .collect();
    let qd: Vec<f64> = model
        .common_causes
        .iter()
        .map(|c| steady(&c.failure, &c.repair))
        .collect();
    // Unavailabilities computed directly (no 1 − A).
    let unavailability = |up: &[f64], down: &[f64], active: &[f64], inactive: &[f64]| {
        sf.evaluate_both(&Probs {
            up,
            down,
            active,
            inactive,
        })
        .1
    };
    let u = unavailability(&p, &pd, &q, &qd);
    let mut out = Vec::new();
    for i in 0..p.len() {
        let (mut up, mut down) = (p.clone(), pd.clone());
        (up[i], down[i]) = (1.0, 0.0);
        let u1 = unavailability(&up, &down, &q, &qd);
        (up[i], down[i]) = (0.0, 1.0);
        let u0 = unavailability(&up, &down, &q, &qd);
        out.push(Importance::from_unavailabilities(
            u,
            u0,
            u1,
            Some(pd[i]),
            true,
        ));
    }
    for c in 0..q.len() {
        // A common cause is "down" (holding its instances) when active.
        let (mut active, mut inactive) = (q.clone(), qd.clone());
        (active[c], inactive[c]) = (0.0, 1.0);
        let u1 = unavailability(&p, &pd, &active, &inactive);
        (active[c], inactive[c]) = (1.0, 0.0);
        let u0 = unavailability(&p, &pd, &active, &inactive);
        out.push(Importance::from_unavailabilities(
            u,
            u0,
            u1,
            Some(q[c]),
            true,
        ));
    }
    Some(out)
}

/// Most instances and common causes given exact importances.
const MAX_EXACT: usize = 2_000;

/// The importance of one unit estimated from simulated hours: the window's
/// total hours, the system's down hours, the unit's down hours and the
/// system down hours while it was down.
pub fn estimated(total: f64, system_down: f64, unit_down: f64, both_down: f64) -> Importance {
    let u = system_down / total;
    let u0 = if unit_down > 0.0 {
        both_down / unit_down
    } else {
        // Never down: what its failure would do was not observed.
        return Importance {
            birnbaum: None,
            fussell_vesely: (system_down > 0.0).then_some(0.0),
            raw: None,
            rrw: (system_down > 0.0).then_some(1.0),
            exact: false,
        };
    };
    let up_hours = total - unit_down;
    let u1 = if up_hours > 0.0 {
        ((system_down - both_down) / up_hours).max(0.0)
    } else {
        0.0
    };
    Importance::from_unavailabilities(u, u0, u1, None, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_of_two_by_hand() {
        // q1 = 0.1, q2 = 0.2 in series: U = 1 − 0.9·0.8 = 0.28,
        // U₀(1) = 1, U₁(1) = 0.2: Iᴮ = 0.8, FV = 0.1·0.8/0.28, RAW = 1/0.28,
        // RRW = 0.28/0.2.
        let i = Importance::from_unavailabilities(0.28, 1.0, 0.2, Some(0.1), true);
        assert!((i.birnbaum.unwrap() - 0.8).abs() < 1e-15);
        assert!((i.fussell_vesely.unwrap() - 0.08 / 0.28).abs() < 1e-15);
        assert!((i.raw.unwrap() - 1.0 / 0.28).abs() < 1e-12);
        assert!((i.rrw.unwrap() - 1.4).abs() < 1e-12);
    }

    #[test]
    fn estimates_of_independent_units_are_the_definitions() {
        // 1000 h, system down 28 h, unit down 100 h, 100 of them with the
        // system down (series): U₀ = 1, U₁ = 0 − no, (28 − 100)… clamp.
        let i = estimated(1000.0, 280.0, 100.0, 100.0);
        assert!((i.raw.unwrap() - 1.0 / 0.28).abs() < 1e-12);
        assert!((i.rrw.unwrap() - 0.28 / 0.2).abs() < 1e-12);
        assert!((i.birnbaum.unwrap() - 0.8).abs() < 1e-12);
        assert!((i.fussell_vesely.unwrap() - (0.28 - 0.2) / 0.28).abs() < 1e-12);
    }
}
