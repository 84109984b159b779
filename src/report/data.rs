//! The data-loss figures of a report (SPEC §8): per system and per
//! data-holding instance, the recovery-point objectives, the analytic
//! comparison and the summary lines.

use serde::{Deserialize, Serialize};

use super::text::{human_hours, row};
use super::{ComponentStat, Histogram, Objective, Report};
use crate::analytic::data::{instance, InstanceFigures};
use crate::analytic::{t_verdict, Analysis};
use crate::model::Model;
use crate::scenario::HOURS_PER_YEAR;
use crate::sim::DataTally;
use crate::stats::{quantile, Moments};

/// Data lost by failures, losses and failovers over [warmup, horizon].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataLoss {
    /// Incidents observed over all replications.
    pub incidents: u64,
    /// Incidents per year (mean over replications).
    pub incidents_per_year: f64,
    /// Mean hours of data lost per incident; null without incidents.
    pub mean_hours_per_incident: Option<f64>,
    /// Median hours lost per incident.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// The largest loss seen.
    pub max_hours: Option<f64>,
    /// Hours of data lost per year (mean over replications).
    pub hours_lost_per_year: f64,
    /// Hours spent restoring per year (summed over instances).
    pub restore_hours_per_year: f64,
    /// Incidents by hours lost, for the data-loss plot (system only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Histogram>,
    /// The analytic comparison, where a formula applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytic: Option<DataAnalytic>,
}

/// The analytic data-loss figures and their comparison with the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataAnalytic {
    /// d + τ/2 + τ(1 − s)/s, weighted by incident rates.
    pub mean_hours_per_incident: Option<f64>,
    /// Long-run incidents per year from the failure and loss rates.
    pub incidents_per_year: Option<f64>,
    /// (simulated − analytic) / standard error of the mean loss.
    pub z_mean: Option<f64>,
    /// (simulated − analytic) / standard error of the incident rate
    /// (Poisson counts).
    pub z_rate: Option<f64>,
    /// `pass` or `fail` when every figure compared is exact and the
    /// intervals can be trusted; null otherwise (see `note`).
    pub verdict: Option<String>,
    /// (simulated − analytic) / analytic mean loss.
    pub relative_difference: Option<f64>,
    /// What the figures assume and why a verdict was or was not given.
    pub note: String,
}

/// The system's data loss; `None` when nothing holds or loses data.
pub fn system(model: &Model, t: &DataTally, reps: u64, _a: &Analysis) -> Option<DataLoss> {
    if !holds_data(model) {
        return None;
    }
    let all: Vec<usize> = (0..t.losses.len()).collect();
    let restore: f64 = t.restore_hours.iter().sum();
    let mut loss = figures(model, t, &all, restore, reps);
    let mut sorted = t.losses.clone();
    sorted.sort_unstable_by(f64::total_cmp);
    loss.histogram = (!sorted.is_empty()).then(|| super::histogram(&sorted, |x| x));
    let figures: Vec<InstanceFigures> = (0..model.instances.len())
        .filter_map(|i| instance(model, i))
        .collect();
    let failovers = has_async(model);
    loss.analytic = Some(compare(model, &loss, &t.losses, &figures, failovers));
    Some(loss)
}

/// Adds each data-holding instance's data loss to its row.
pub fn add_to_components(
    mut rows: Vec<ComponentStat>,
    model: &Model,
    t: &DataTally,
    reps: u64,
) -> Vec<ComponentStat> {
    for (i, inst) in model.instances.iter().enumerate() {
        if inst.data.is_none() {
            continue;
        }
        let mine: Vec<usize> = (0..t.sources.len())
            .filter(|&k| t.sources[k] as usize == i)
            .collect();
        let restore = t.restore_hours.get(i).copied().unwrap_or(0.0);
        let mut loss = figures(model, t, &mine, restore, reps);
        let losses: Vec<f64> = mine.iter().map(|&k| t.losses[k]).collect();
        let f: Vec<InstanceFigures> = instance(model, i).into_iter().collect();
        loss.analytic = Some(compare(model, &loss, &losses, &f, false));
        rows[i].data_loss = Some(loss);
    }
    rows
}

/// The RPO objectives: the share of incidents within each.
pub fn rpo_objectives(model: &Model, t: &DataTally) -> Vec<Objective> {
    let n = t.losses.len() as u64;
    model
        .rpo_objectives
        .iter()
        .map(|&rpo| {
            let met = t.losses.iter().filter(|&&x| x <= rpo).count() as u64;
            Objective {
                availability: None,
                window_hours: None,
                rpo_hours: Some(rpo),
                met_fraction: if n == 0 { 1.0 } else { met as f64 / n as f64 },
                windows: None,
                incidents: Some(n),
                window_availability: None,
            }
        })
        .collect()
}

fn holds_data(model: &Model) -> bool {
    crate::analytic::data::has_data(model)
}

fn has_async(model: &Model) -> bool {
    fn walk(n: &crate::model::Node) -> bool {
        match n {
            crate::model::Node::Standby(s) => {
                s.replication_lag.is_some() || s.units.iter().any(walk)
            }
            other => other.children().into_iter().any(walk),
        }
    }
    walk(&model.system)
}

/// The figures of the incidents `which` (indices into the tally).
fn figures(model: &Model, t: &DataTally, which: &[usize], restore: f64, reps: u64) -> DataLoss {
    let years = reps as f64 * model.simulation.window() / HOURS_PER_YEAR;
    let mut sorted: Vec<f64> = which.iter().map(|&k| t.losses[k]).collect();
    sorted.sort_unstable_by(f64::total_cmp);
    let n = sorted.len();
    let total: f64 = sorted.iter().sum();
    let q = |p: f64| (n > 0).then(|| quantile(&sorted, p));
    DataLoss {
        incidents: n as u64,
        incidents_per_year: n as f64 / years,
        mean_hours_per_incident: (n > 0).then(|| total / n as f64),
        p50: q(0.5),
        p90: q(0.9),
        p99: q(0.99),
        max_hours: sorted.last().copied(),
        hours_lost_per_year: total / years,
        restore_hours_per_year: restore / years,
        histogram: None,
        analytic: None,
    }
}

/// Compares the run with the figures of the instances whose incidents it
/// counts (`failovers`: failover incidents count too, which no formula
/// gives a rate for).
fn compare(
    model: &Model,
    sim: &DataLoss,
    losses: &[f64],
    figures: &[InstanceFigures],
    failovers: bool,
) -> DataAnalytic {
    let mut notes: Vec<String> = Vec::new();
    let rate: f64 = figures.iter().map(|f| f.rate).sum();
    let rate_exact = figures.iter().all(|f| f.exact) && !failovers && !figures.is_empty();
    let mean = if figures.is_empty() || failovers || rate <= 0.0 {
        None
    } else {
        figures
            .iter()
            .map(|f| f.mean_loss.map(|m| m * f.rate))
            .sum::<Option<f64>>()
            .map(|x| x / rate)
    };
    let per_year = (!figures.is_empty() && !failovers).then_some(rate * HOURS_PER_YEAR);
    if failovers {
        notes.push("failovers of asynchronously replicated standby nodes lose their lag; no closed form counts them here".into());
    }
    if figures.iter().any(|f| f.mean_loss.is_none()) && !figures.is_empty() {
        notes.push(
            "an instance without backups loses everything since its last restore: no steady mean"
                .into(),
        );
    }
    // Mean loss per incident.
    let mut verdicts: Vec<bool> = Vec::new();
    // A figure whose formula is only approximate here: the overall verdict
    // then cannot be "pass" (too few incidents or a short warmup only leave
    // that figure out).
    let mut undecided = false;
    let mut z_mean = None;
    let mut relative = None;
    if let (Some(m), Some(got)) = (mean, sim.mean_hours_per_incident) {
        relative = Some((got - m) / m);
        let mut mo = Moments::default();
        losses.iter().for_each(|&x| mo.push(x));
        let se = mo.std_error();
        let shift: f64 = figures
            .iter()
            .filter_map(|f| f.mean_loss.map(|m| f.interaction * 2.0 * m * f.rate))
            .sum::<f64>()
            / rate;
        let (v, z) = t_verdict(m, got, se, mo.n.max(2));
        z_mean = z;
        if losses.len() < 30 {
            notes.push(format!(
                "mean loss: only {} incidents, no verdict",
                losses.len()
            ));
        } else if shift > 0.25 * se {
            undecided = true;
            notes.push(format!(
                "mean loss d + τ/2 + τ(1 − s)/s assumes destruction independent of the backup schedule; skipped backups while down and restores shortly before an incident may shift it by up to about {} here (more than a quarter of the standard error): approximate, no verdict",
                human_hours(shift)
            ));
        } else if let Some(ok) = v {
            notes.push("mean loss d + τ/2 + τ(1 − s)/s (destruction independent of the backup schedule; the interaction with down periods is below a quarter of the standard error)".into());
            verdicts.push(ok);
        }
    }
    // Incident rate.
    let mut z_rate = None;
    if let (Some(r), true) = (per_year, rate_exact) {
        let years = sim.incidents as f64 / sim.incidents_per_year.max(f64::MIN_POSITIVE);
        let se = (sim.incidents as f64).max(1.0).sqrt() / years.max(f64::MIN_POSITIVE);
        let cycle = figures.iter().map(|f| f.up + f.down).fold(0.0, f64::max);
        let startup = cycle / model.simulation.window();
        let (v, z) = t_verdict(r, sim.incidents_per_year, se, sim.incidents.max(2));
        z_rate = z;
        if sim.incidents < 30 {
            notes.push(format!(
                "incident rate: only {} incidents, no verdict",
                sim.incidents
            ));
        } else if model.simulation.warmup < 10.0 * cycle && startup * r > 0.25 * se {
            notes.push("incident rate: the start from all up biases the count by about one cycle per replication; add a warmup of ten cycles for a verdict".into());
        } else if let Some(ok) = v {
            notes.push("incident rate from the failure, loss and restore means (alternating renewal; Poisson standard error)".into());
            verdicts.push(ok);
        }
    } else if per_year.is_some() {
        undecided = true;
        notes.push("incident rate approximate (crews, dormancy, a destroying common cause, a non-exponential loss process, maintenance, hidden failures, spares or load sharing), no verdict".into());
    }
    // A failed comparison fails; otherwise "pass" only when every figure
    // compared got a verdict.
    let verdict = if verdicts.contains(&false) {
        Some("fail".to_string())
    } else if verdicts.is_empty() || undecided {
        None
    } else {
        Some("pass".to_string())
    };
    DataAnalytic {
        mean_hours_per_incident: mean,
        incidents_per_year: per_year,
        z_mean,
        z_rate,
        verdict,
        relative_difference: relative,
        note: notes.join("; "),
    }
}

impl Report {
    /// Whether a data-loss check (the system's or an instance's) failed.
    pub fn data_check_failed(&self) -> bool {
        let failed = |d: &DataLoss| {
            d.analytic
                .as_ref()
                .is_some_and(|a| a.verdict.as_deref() == Some("fail"))
        };
        self.data_loss.as_ref().is_some_and(failed)
            || self
                .components
                .iter()
                .flatten()
                .filter_map(|c| c.data_loss.as_ref())
                .any(failed)
    }
}

/// The "data loss" lines of the text summary.
pub fn summary_rows(o: &mut String, r: &Report) {
    let Some(d) = &r.data_loss else {
        return;
    };
    let q = |x: Option<f64>| x.map_or("-".to_string(), human_hours);
    row(
        o,
        "data loss incidents",
        format!("{:.3} /year", d.incidents_per_year),
        format!("{} incidents over all replications", d.incidents),
    );
    row(
        o,
        "data lost per incident",
        q(d.mean_hours_per_incident),
        format!(
            "mean   p50 {}   p90 {}   p99 {}",
            q(d.p50),
            q(d.p90),
            q(d.p99)
        ),
    );
    row(
        o,
        "data lost per year",
        human_hours(d.hours_lost_per_year),
        format!(
            "restoring {} per year",
            human_hours(d.restore_hours_per_year)
        ),
    );
    let analytic_row = |o: &mut String, label: &str, a: &DataAnalytic, got: &DataLoss| {
        if a.mean_hours_per_incident.is_none() && a.incidents_per_year.is_none() {
            return;
        }
        let verdict = a.verdict.clone().unwrap_or_else(|| "no verdict".into());
        row(
            o,
            label,
            q(a.mean_hours_per_incident),
            format!(
                "per incident (simulated {}), {} /year (simulated {:.3})   {verdict}",
                q(got.mean_hours_per_incident),
                a.incidents_per_year
                    .map_or("-".to_string(), |x| format!("{x:.3}")),
                got.incidents_per_year
            ),
        );
    };
    if let Some(a) = &d.analytic {
        analytic_row(o, "analytic data loss", a, d);
    }
    let rows: Vec<_> = r
        .components
        .iter()
        .flatten()
        .filter_map(|c| c.data_loss.as_ref().map(|d| (c, d)))
        .collect();
    if rows.len() <= 8 {
        for (c, d) in rows {
            if let Some(a) = &d.analytic {
                analytic_row(o, &format!("  {}", c.name), a, d);
            }
        }
    }
    for ob in r.objectives.iter().flatten() {
        if let Some(rpo) = ob.rpo_hours {
            row(
                o,
                &format!("objective RPO {}", human_hours(rpo)),
                format!("{:.1}% met", 100.0 * ob.met_fraction),
                format!("of {} incidents", ob.incidents.unwrap_or(0)),
            );
        }
    }
}

/// The data-loss section of `report.html`: a table per system and
/// data-holding instance, and the RPO objectives.
pub fn html_section(o: &mut String, r: &Report) {
    use super::html::escape;
    use std::fmt::Write as _;
    let Some(d) = &r.data_loss else {
        return;
    };
    let q = |x: Option<f64>| x.map_or("—".to_string(), human_hours);
    o.push_str("<h2>Data loss</h2>\n<table>\n<tr><th></th><th>incidents per year</th><th>mean lost per incident</th><th>p50</th><th>p90</th><th>p99</th><th>lost per year</th><th>restoring per year</th><th>analytic mean, rate</th><th>verdict</th></tr>\n");
    let mut rows = vec![("system".to_string(), d)];
    for c in r.components.iter().flatten() {
        if let Some(x) = &c.data_loss {
            rows.push((c.name.clone(), x));
        }
    }
    for (name, x) in rows {
        let (analytic, verdict) = x.analytic.as_ref().map_or(("—".into(), "—".into()), |a| {
            (
                format!(
                    "{}, {}",
                    q(a.mean_hours_per_incident),
                    a.incidents_per_year
                        .map_or("—".to_string(), |v| format!("{v:.3}/y"))
                ),
                a.verdict.clone().unwrap_or_else(|| "no verdict".into()),
            )
        });
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"num\">{:.3}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&name),
            x.incidents_per_year,
            escape(&q(x.mean_hours_per_incident)),
            escape(&q(x.p50)),
            escape(&q(x.p90)),
            escape(&q(x.p99)),
            escape(&human_hours(x.hours_lost_per_year)),
            escape(&human_hours(x.restore_hours_per_year)),
            escape(&analytic),
            escape(&verdict)
        );
    }
    o.push_str("</table>\n");
    if let Some(note) = d
        .analytic
        .as_ref()
        .map(|a| &a.note)
        .filter(|n| !n.is_empty())
    {
        let _ = writeln!(o, "<p class=\"muted\">{}</p>", escape(note));
    }
    for ob in r.objectives.iter().flatten() {
        if let Some(rpo) = ob.rpo_hours {
            let _ = writeln!(
                o,
                "<p>RPO {}: {:.2}% of {} incidents lost no more.</p>",
                escape(&human_hours(rpo)),
                100.0 * ob.met_fraction,
                ob.incidents.unwrap_or(0)
            );
        }
    }
}

/// The data-loss columns of a sweep (empty when no point holds data): per
/// value, incidents per year, mean and p99 lost per incident, hours lost
/// per year and the share of incidents within each RPO objective.
pub fn sweep_table(points: &[(&str, &Report)], width: usize) -> String {
    use std::fmt::Write as _;
    if points.iter().all(|(_, r)| r.data_loss.is_none()) {
        return String::new();
    }
    let q = |x: Option<f64>| x.map_or("-".to_string(), human_hours);
    let mut o = String::new();
    let rpos: Vec<f64> = points
        .first()
        .and_then(|(_, r)| r.objectives.as_ref())
        .map(|l| l.iter().filter_map(|ob| ob.rpo_hours).collect())
        .unwrap_or_default();
    let mut header = format!(
        "  {:<width$}  {:>10}  {:>10}  {:>10}  {:>10}",
        "value", "incid./yr", "mean lost", "p99 lost", "lost/yr"
    );
    for rpo in &rpos {
        let _ = write!(header, "  {:>12}", format!("RPO {}", human_hours(*rpo)));
    }
    let _ = writeln!(o, "{header}");
    for (label, r) in points {
        let Some(d) = &r.data_loss else {
            continue;
        };
        let mut line = format!(
            "  {:<width$}  {:>10.3}  {:>10}  {:>10}  {:>10}",
            label,
            d.incidents_per_year,
            q(d.mean_hours_per_incident),
            q(d.p99),
            human_hours(d.hours_lost_per_year)
        );
        for ob in r
            .objectives
            .iter()
            .flatten()
            .filter(|ob| ob.rpo_hours.is_some())
        {
            let _ = write!(line, "  {:>11.1}%", 100.0 * ob.met_fraction);
        }
        let _ = writeln!(o, "{line}");
    }
    o.push('\n');
    o
}

/// The data-protection lines of `availsim check`: per data-holding
/// component, its settings and the analytic figures of one instance.
pub fn check_lines(model: &Model) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    for c in &model.components {
        let inst = &model.instances[c.first];
        let Some(d) = &inst.data else {
            continue;
        };
        let _ = writeln!(o, "  {} holds data:", c.name);
        let _ = writeln!(
            o,
            "    destroyed by {:.4} of its failures{}; restore {}",
            d.loss_on_failure,
            d.loss
                .as_ref()
                .map_or(String::new(), |l| format!(" and by a loss process {l}")),
            d.restore
                .as_ref()
                .map_or("none given".to_string(), |r| r.to_string())
        );
        match &d.backup {
            Some(b) => {
                let _ = writeln!(
                    o,
                    "    backups every {} from {}, taking {}, usable with p = {}",
                    human_hours(b.interval),
                    human_hours(b.offset),
                    human_hours(b.duration),
                    b.success
                );
            }
            None => {
                let _ = writeln!(
                    o,
                    "    no backups: a destruction loses everything since the last restore"
                );
            }
        }
        if let Some(f) = instance(model, c.first) {
            let _ = writeln!(
                o,
                "    analytic ({}): {:.4} incidents per year, availability with restore {:.9}, mean loss per incident {}",
                if f.exact { "exact" } else { "approximate" },
                f.rate * HOURS_PER_YEAR,
                f.up / (f.up + f.down),
                f.mean_loss.map_or("-".to_string(), human_hours)
            );
        }
    }
    o
}
