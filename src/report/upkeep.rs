//! The report's `maintenance` block (SPEC §9): planned down time, hidden
//! failures and spare parts.

use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::scenario::HOURS_PER_YEAR;
use crate::sim::Tally;

/// Maintenance, latent failures and spares; absent for scenarios without
/// them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpkeepReport {
    /// System down hours per year while some instance was under planned
    /// work (maintenance windows and tests).
    pub planned_downtime_hours_per_year: f64,
    /// Share of the system down time that was planned, in [0, 1] (0 without
    /// down time).
    pub planned_share: f64,
    /// Maintenance windows started per year (all instances).
    pub windows_per_year: f64,
    /// Hidden failures revealed per year (by tests and demands).
    pub hidden_failures_per_year: f64,
    /// Of those, the fraction revealed by a demand (a switchover).
    pub revealed_by_demand_fraction: Option<f64>,
    /// Mean hours a revealed hidden failure stayed hidden.
    pub mean_hidden_hours: Option<f64>,
    /// Repairs that needed a spare part, per year.
    pub spare_requests_per_year: f64,
    /// Repairs that found their pool empty (stock-outs), per year.
    pub stockouts_per_year: f64,
    /// Fraction of spare requests that found the pool empty.
    pub stockout_fraction: Option<f64>,
    /// Hours repairs waited for parts, per year.
    pub spare_wait_hours_per_year: f64,
    /// Mean wait for a part per stock-out, in hours.
    pub mean_spare_wait_hours: Option<f64>,
    /// Per instance with planned work: its planned down hours per year.
    pub components: Vec<PlannedStat>,
}

/// Planned down time of one instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedStat {
    /// Instance name.
    pub name: String,
    /// Planned down hours per year (maintenance windows and tests).
    pub planned_hours_per_year: f64,
}

impl UpkeepReport {
    /// The block for `model` from `tally` over `reps` replications; `None`
    /// without §9 constructs.
    pub fn new(model: &Model, t: &Tally, reps: u64) -> Option<UpkeepReport> {
        if !model.has_upkeep() || reps == 0 {
            return None;
        }
        let u = &t.upkeep;
        let years = reps as f64 * model.simulation.window() / HOURS_PER_YEAR;
        let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
        Some(UpkeepReport {
            planned_downtime_hours_per_year: u.planned_system_hours / years,
            planned_share: ratio(u.planned_system_hours, t.system_down_hours)
                .unwrap_or(0.0)
                .clamp(0.0, 1.0),
            windows_per_year: u.windows as f64 / years,
            hidden_failures_per_year: u.revealed as f64 / years,
            revealed_by_demand_fraction: ratio(u.revealed_by_demand as f64, u.revealed as f64),
            mean_hidden_hours: ratio(u.hidden_hours, u.revealed as f64),
            spare_requests_per_year: u.spare_requests as f64 / years,
            stockouts_per_year: u.stockouts as f64 / years,
            stockout_fraction: ratio(u.stockouts as f64, u.spare_requests as f64),
            spare_wait_hours_per_year: u.spare_wait_hours / years,
            mean_spare_wait_hours: ratio(u.spare_wait_hours, u.stockouts as f64),
            components: model
                .instances
                .iter()
                .enumerate()
                .filter(|(_, i)| i.upkeep.maintenance.is_some() || i.upkeep.latent.is_some())
                .map(|(k, i)| PlannedStat {
                    name: i.name.clone(),
                    planned_hours_per_year: u.planned_hours.get(k).copied().unwrap_or(0.0) / years,
                })
                .collect(),
        })
    }
}

/// The block's lines (label, value, detail): planned down time, hidden
/// failures and spares, each only when the scenario has them. The text
/// summary and report.html both print these.
fn rows(m: &UpkeepReport) -> Vec<(&'static str, String, String)> {
    use super::text::human_hours;
    let mut rows = Vec::new();
    if !m.components.is_empty() {
        rows.push((
            "planned down time",
            format!("{} /year", human_hours(m.planned_downtime_hours_per_year)),
            format!(
                "{:.1}% of system down time (maintenance windows and tests); {:.1} maintenance windows per year",
                100.0 * m.planned_share,
                m.windows_per_year
            ),
        ));
    }
    if let Some(h) = m.mean_hidden_hours {
        rows.push((
            "hidden failures",
            format!("{:.3} /year", m.hidden_failures_per_year),
            format!(
                "hidden {} on average; {:.1}% found by a demand (failover)",
                human_hours(h),
                100.0 * m.revealed_by_demand_fraction.unwrap_or(0.0)
            ),
        ));
    }
    if m.spare_requests_per_year > 0.0 {
        rows.push((
            "spare parts",
            format!("{:.3} /year", m.spare_requests_per_year),
            format!(
                "{:.1}% found the shelf empty; repairs waited {} per year for parts",
                100.0 * m.stockout_fraction.unwrap_or(0.0),
                human_hours(m.spare_wait_hours_per_year)
            ),
        ));
    }
    rows
}

/// The block's lines in the text summary.
pub fn summary_rows(o: &mut String, r: &super::Report) {
    if let Some(m) = &r.maintenance {
        for (label, value, detail) in rows(m) {
            super::text::row(o, label, value, detail);
        }
    }
}

/// The "Maintenance, hidden failures and spares" section of report.html;
/// nothing without §9 constructs.
pub fn html_section(o: &mut String, r: &super::Report) {
    use super::html::escape;
    use std::fmt::Write as _;
    let Some(rows) = r.maintenance.as_ref().map(rows).filter(|r| !r.is_empty()) else {
        return;
    };
    o.push_str("<h2>Maintenance, hidden failures and spares</h2>\n<table>\n");
    for (what, value, detail) in rows {
        let _ = writeln!(
            o,
            "<tr><th>{}</th><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(what),
            escape(&value),
            escape(&detail)
        );
    }
    o.push_str("</table>\n");
}
