//! Analytic figures of data protection (SPEC §8): per instance, the
//! destruction incident rate, the mean data lost per incident and the
//! availability including restore time.
//!
//! An instance that holds data alternates between up periods and down
//! periods (repair, then a restore when the failure destroyed the data).
//! With destruction on a fraction p of its own failures, mean life U,
//! repair R and restore S, the mean down period is R + p·S and by the
//! alternating renewal theorem A = U / (U + R + p·S) for any
//! distributions; incidents happen at p / (U + R + p·S) per hour. A
//! separate loss process of rate ν, with exponential lives of rate λ,
//! makes the up period exponential of rate λ + ν, ended by a failure with
//! probability λ/(λ+ν) (down R + p·S) or by a loss (down S).
//!
//! The mean data lost per incident, d + τ/2 + τ(1 − s)/s, assumes the
//! destruction falls uniformly in the backup cycle and every earlier
//! backup was attempted. Two interactions break that, and the check says
//! so: a backup due while the instance is down is skipped, and the first
//! backups after a restore are measured from the restore's end (which
//! lowers the loss). Their weight is bounded by the share of incidents
//! that fall within (τ + d)/s of a down period, about
//! rate_of_down_periods × (τ + d)/s.

use crate::model::{Dist, Model, Node};

/// The analytic data figures of one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceFigures {
    /// Mean up period (hours).
    pub up: f64,
    /// Mean down period, repair and restore (hours).
    pub down: f64,
    /// Destruction incidents per hour, in the long run.
    pub rate: f64,
    /// Mean data lost per incident (hours) by the formula; `None` without
    /// backups.
    pub mean_loss: Option<f64>,
    /// Whether `up`, `down` and `rate` are exact (dedicated repair, no
    /// dormancy, no destroying common cause, and with a loss process
    /// exponential lives).
    pub exact: bool,
    /// Bound on the share of incidents whose loss the schedule
    /// interaction changes (skipped backups, a recent restore).
    pub interaction: f64,
}

/// Whether anything in `model` holds data: a `data` block, or a standby
/// with asynchronous replication.
pub fn has_data(model: &Model) -> bool {
    fn walk(n: &Node) -> bool {
        match n {
            Node::Standby(s) => s.replication_lag.is_some() || s.units.iter().any(walk),
            other => other.children().into_iter().any(walk),
        }
    }
    model.instances.iter().any(|i| i.data.is_some()) || walk(&model.system)
}

/// Whether anything in `model` destroys data.
pub fn destroys_data(model: &Model) -> bool {
    model.instances.iter().any(|i| {
        i.data
            .as_ref()
            .is_some_and(|d| d.loss_on_failure > 0.0 || d.loss.is_some())
    }) || model.common_causes.iter().any(|c| c.destroys_data)
}

/// The figures of instance `i`, if it holds data.
pub fn instance(model: &Model, i: usize) -> Option<InstanceFigures> {
    let inst = &model.instances[i];
    let data = inst.data.as_ref()?;
    let (r, s, p) = (
        inst.repair.mean(),
        data.restore_mean(),
        data.loss_on_failure,
    );
    let (up, down, rate, exp_ok) = match &data.loss {
        None => {
            let (u, d) = (inst.failure.mean(), r + p * s);
            (u, d, p / (u + d), true)
        }
        Some(loss) => {
            let (l, n) = (1.0 / inst.failure.mean(), 1.0 / loss.mean());
            let u = 1.0 / (l + n);
            let d = (l * (r + p * s) + n * s) / (l + n);
            let ok = inst.failure.exponential_rate().is_some() && loss.exponential_rate().is_some();
            (u, d, (l * p + n) / (l + n) / (u + d), ok)
        }
    };
    let destroyed_by_outage = model
        .common_causes
        .iter()
        .any(|c| c.destroys_data && c.affects.contains(&i));
    // Maintenance, hidden failures and spares change when failures happen and
    // how long repairs take; load sharing changes the failure rate.
    let upkeep = inst.upkeep.any() || !model.load_sharing.is_empty();
    let exact =
        exp_ok && inst.crew.is_none() && !destroyed_by_outage && !dormant(model, i) && !upkeep;
    let interaction = data.backup.as_ref().map_or(0.0, |b| {
        ((b.interval + b.duration) / b.success / (up + down)).min(1.0)
    });
    Some(InstanceFigures {
        up,
        down,
        rate,
        mean_loss: data.mean_loss(),
        exact,
        interaction,
    })
}

/// Whether instance `i` sits in a warm or cold standby unit.
fn dormant(model: &Model, i: usize) -> bool {
    fn walk(node: &Node, i: usize, inside: bool) -> bool {
        match node {
            Node::Instance(j) => inside && *j == i,
            Node::Standby(s) => {
                let idle = s.mode.idle_speed() < 1.0;
                s.units.iter().any(|u| walk(u, i, inside || idle))
            }
            other => other.children().into_iter().any(|c| walk(c, i, inside)),
        }
    }
    walk(&model.system, i, false)
}

/// A copy of `model` whose data-holding instances have the up and down
/// means of their repair-and-restore cycle, for the availability methods,
/// with whether that is exact and what was assumed; `None` when nothing
/// destroys data (the model is then analysed as it is).
pub fn effective_model(model: &Model) -> Option<(Model, bool, String)> {
    if !destroys_data(model) {
        return None;
    }
    let mut eff = model.clone();
    let mut exact = true;
    for (i, inst) in eff.instances.iter_mut().enumerate() {
        let Some(f) = instance(model, i) else {
            continue;
        };
        exact &= f.exact;
        if inst.data.as_ref().is_some_and(|d| d.loss.is_some()) {
            inst.failure = Dist::exponential(f.up).unwrap_or_else(|_| inst.failure.clone());
        }
        inst.repair = Dist::fixed(f.down).unwrap_or_else(|_| inst.repair.clone());
        inst.data = None;
    }
    for c in &mut eff.common_causes {
        if c.destroys_data {
            exact = false;
        }
        c.destroys_data = false;
    }
    let note = if exact {
        "instances that hold data: mean down = repair + (fraction destroyed) × restore (alternating renewal, exact)"
    } else {
        "instances that hold data: mean down = repair + (fraction destroyed) × restore, approximate here (crews, dormancy, a destroying common cause or a non-exponential loss process couple repair, restore and life)"
    };
    Some((eff, exact, note.to_string()))
}
