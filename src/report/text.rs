//! The summary printed by `availsim run`: aligned, with units.

use std::fmt::Write as _;

use super::Report;
use crate::model::dist::significant;

/// A duration in hours with a readable unit (s, min, h, d, y) and three
/// significant digits.
pub fn human_hours(h: f64) -> String {
    let (value, unit) = if h == 0.0 {
        (0.0, "h")
    } else if h < 1.0 / 60.0 {
        (h * 3600.0, "s")
    } else if h < 1.0 {
        (h * 60.0, "min")
    } else if h < 48.0 {
        (h, "h")
    } else if h < 2.0 * 8760.0 {
        (h / 24.0, "d")
    } else {
        (h / 8760.0, "y")
    };
    format!("{} {unit}", significant(value, 3))
}

/// Digits after the point that make an availability meaningful given its
/// standard error (two significant digits of the error, at least four).
fn availability_decimals(se: f64) -> usize {
    if se > 0.0 {
        ((-se.log10()).floor() as i64 + 2).clamp(4, 12) as usize
    } else {
        6
    }
}

/// The summary of one report, as printed on the terminal.
pub fn summary(r: &Report, source: &str) -> String {
    let mut o = String::new();
    let s = &r.simulation;
    let a = &r.availability;
    let dec = availability_decimals(a.std_error);
    let _ = writeln!(o, "{} — {}", r.scenario, source);
    let warmup = if s.warmup_hours > 0.0 {
        format!(" after a warmup of {}", human_hours(s.warmup_hours))
    } else {
        String::new()
    };
    let threads = format!(
        "{} thread{}",
        s.threads,
        if s.threads == 1 { "" } else { "s" }
    );
    if s.method == "plain" {
        let _ = writeln!(
            o,
            "  {} replications of {}{warmup}, seed {}, {threads}",
            s.replications,
            human_hours(s.horizon_hours),
            s.seed,
        );
    } else {
        let _ = writeln!(
            o,
            "  {} cycles or trials of the rare-event method (long-run figures), seed {}, {threads}",
            s.replications, s.seed,
        );
    }
    method_lines(&mut o, r);
    let _ = writeln!(o);
    let nines = a
        .nines
        .map_or("no down time".to_string(), |n| format!("{n:.2} nines"));
    let u = &a.unavailability;
    if u.upper_bound95.is_some() || u.mean <= 0.0 {
        row(
            &mut o,
            "availability",
            "1".to_string(),
            "no down time seen".to_string(),
        );
    } else if format!("{:.dec$}", a.mean) == format!("{:.dec$}", 1.0) {
        // A rounds to 1: the unavailability row below carries the figure.
        row(&mut o, "availability", format!("1 − {:.3e}", u.mean), nines);
    } else {
        row(
            &mut o,
            "availability",
            format!("{:.dec$}", a.mean),
            format!(
                "95% CI [{:.dec$}, {:.dec$}]   {nines}",
                a.ci95[0], a.ci95[1]
            ),
        );
    }
    unavailability_row(&mut o, u);
    let d = &r.downtime_hours_per_year;
    row(
        &mut o,
        "down time per year",
        human_hours(d.mean),
        match (d.p50, d.p90, d.p99) {
            (Some(p50), Some(p90), Some(p99)) => format!(
                "95% CI [{}, {}]   replication averages: p50 {}   p90 {}   p99 {}",
                human_hours(d.ci95[0]),
                human_hours(d.ci95[1]),
                human_hours(p50),
                human_hours(p90),
                human_hours(p99)
            ),
            _ => format!(
                "95% CI [{}, {}]   long-run mean",
                human_hours(d.ci95[0]),
                human_hours(d.ci95[1]),
            ),
        },
    );
    if let Some(y) = &d.per_calendar_year {
        row(
            &mut o,
            "down time in one year",
            format!("typical {}", human_hours(y.p50)),
            format!(
                "bad year (p90) {}   one in a hundred (p99) {}   worst {} of {} years",
                human_hours(y.p90),
                human_hours(y.p99),
                human_hours(y.max),
                y.years
            ),
        );
    }
    let mean_outage = r
        .outages
        .mean_duration_hours
        .map_or("no outages".to_string(), |h| {
            format!("mean duration {}", human_hours(h))
        });
    row(
        &mut o,
        "outages per year",
        r.outages
            .per_year
            .map_or("—".to_string(), |f| significant(f, 3)),
        mean_outage,
    );
    if let Some(f) = &r.first_failure {
        row(
            &mut o,
            "time to first failure",
            f.mttff_hours.map_or("none seen".to_string(), human_hours),
            format!(
                "{:.1}% of replications reached the horizon without one",
                100.0 * f.censored_fraction
            ),
        );
    }
    if let Some(q) = &r.requests {
        row(
            &mut o,
            "requests served",
            format!("{:.dec$}", q.success_ratio),
            format!(
                "95% CI [{:.dec$}, {:.dec$}]   time-weighted share of requests that succeed",
                q.ci95[0], q.ci95[1]
            ),
        );
    }
    for ob in r.objectives.iter().flatten() {
        let (Some(a), Some(window), Some(w)) =
            (ob.availability, ob.window_hours, &ob.window_availability)
        else {
            continue;
        };
        row(
            &mut o,
            &format!("objective {} / {}", a, human_hours(window)),
            format!("{:.1}% met", 100.0 * ob.met_fraction),
            format!(
                "of {} windows   worst 1% below {}   worst 5% below {}",
                ob.windows.unwrap_or(0),
                window_value(w.p1),
                window_value(w.p5)
            ),
        );
    }
    super::data::summary_rows(&mut o, r);
    super::upkeep::summary_rows(&mut o, r);
    analytic_rows(&mut o, r, dec);
    top_contributors(&mut o, r);
    super::failover::summary_blocks(&mut o, r);
    let _ = writeln!(
        o,
        "\n  {} events in {:.3} s: {:.3e} events/s ({} engine)",
        s.events, s.wall_seconds, s.events_per_second, s.engine
    );
    o
}

/// The method, why the run stopped, the diagnostics of a rare-event run
/// and the notes (SPEC §7).
fn method_lines(o: &mut String, r: &Report) {
    let s = &r.simulation;
    if let Some(p) = s.precision {
        let _ = writeln!(
            o,
            "  method {}, stopped by {} after {} round{} (target: 95% CI of the unavailability within ±{}%)",
            s.method,
            s.stopped_by,
            s.rounds.unwrap_or(0),
            if s.rounds == Some(1) { "" } else { "s" },
            significant(100.0 * p, 3)
        );
    } else if s.method != "plain" {
        let _ = writeln!(o, "  method {}, stopped by {}", s.method, s.stopped_by);
    }
    if let Some(d) = &s.diagnostics {
        let _ = writeln!(
            o,
            "  diagnostics: effective sample size {}, largest weight {:.2}% of the estimate, {:.2}% of cycles reached system failure",
            significant(d.effective_sample_size, 3),
            100.0 * d.max_weight_share,
            100.0 * d.hit_fraction
        );
        for w in &d.warnings {
            let _ = writeln!(o, "  warning: {w}");
        }
    }
    for note in &s.notes {
        let _ = writeln!(o, "  note: {note}");
    }
}

/// The unavailability in scientific notation with its interval, or the
/// upper bound when no down time was seen.
fn unavailability_row(o: &mut String, u: &super::Unavailability) {
    match u.upper_bound95 {
        Some(b) => row(
            o,
            "unavailability",
            format!("< {b:.2e}"),
            "one-sided 95% upper bound (no down time seen)".to_string(),
        ),
        None => {
            let rhw = u.relative_half_width.map_or(String::new(), |r| {
                format!("   ±{}%", significant(100.0 * r, 3))
            });
            row(
                o,
                "unavailability",
                format!("{:.3e}", u.mean),
                format!("95% CI [{:.3e}, {:.3e}]{rhw}", u.ci95[0], u.ci95[1]),
            );
        }
    }
    if let Some(why) = &u.not_trusted {
        let why = why.split(" (").next().unwrap_or(why);
        let _ = writeln!(o, "  {:<25} {why}", "");
    }
}

fn analytic_rows(o: &mut String, r: &Report, dec: usize) {
    let a = &r.analytic;
    let Some(method) = &a.method else {
        row(
            o,
            "analytic check",
            "none".into(),
            a.note.clone().unwrap_or_default(),
        );
        return;
    };
    let label = match (a.kind(), a.error_bound) {
        (Some("bounded"), Some(b)) => format!("{method} (bounded: U ±{b:.1e})"),
        (Some(k), _) => format!("{method} ({k})"),
        _ => method.to_string(),
    };
    let mut figures = Vec::new();
    let shown = |v: f64, f: &dyn Fn(f64) -> String| {
        if v.is_finite() {
            f(v)
        } else {
            "not finite".to_string()
        }
    };
    if let Some(v) = a.interval {
        figures.push(format!("interval {}", shown(v, &|v| format!("{v:.dec$}"))));
    }
    if let Some(v) = a.steady_state {
        figures.push(format!(
            "steady state {}",
            shown(v, &|v| format!("{v:.dec$}"))
        ));
    }
    if let Some(u) = a.unavailability {
        figures.push(format!(
            "unavailability {}",
            shown(u, &|u| format!("{u:.3e}"))
        ));
    }
    if let Some(h) = a.mttf_hours {
        figures.push(format!("MTTF {}", human_hours(h)));
    }
    row(o, "analytic", label, figures.join("   "));
    let difference = match (a.relative_difference, a.nines_difference) {
        (Some(d), Some(n)) => format!(
            "simulated unavailability differs by {:+.3}% ({n:+.3} nines)",
            100.0 * d
        ),
        (Some(d), None) => format!("simulated unavailability differs by {:+.3}%", 100.0 * d),
        _ => String::new(),
    };
    let outcome = match (&a.verdict, a.z) {
        (Some(v), Some(z)) => format!(
            "{}   z = {z:+.2} against the {} value{} (pass: inside the 99.9% CI)",
            v.to_uppercase(),
            a.compared_with
                .as_deref()
                .unwrap_or("exact")
                .replace('_', " "),
            a.startup_correction
                .map_or(String::new(), |c| format!(" {c:+.2e} start-up bias"))
        ),
        (Some(v), None) => v.to_uppercase(),
        _ if a.kind() == Some("approximate") => {
            format!(
                "no verdict for an approximation{}",
                if difference.is_empty() { "" } else { "; " }
            ) + &difference
        }
        _ => match a.no_verdict_reason.as_deref() {
            Some(why) => format!("no verdict: {why}"),
            None => "no verdict (see the report's note)".to_string(),
        },
    };
    let outcome = if a.verdict.is_some() && !difference.is_empty() {
        format!("{outcome}; {difference}")
    } else {
        outcome
    };
    row(o, "verdict", outcome, String::new());
}

fn window_value(a: f64) -> String {
    if a >= 1.0 {
        "1 (no down time)".to_string()
    } else {
        format!("{:.6}", a)
    }
}

pub(super) fn row(o: &mut String, label: &str, value: String, detail: String) {
    let _ = writeln!(o, "  {label:<25} {value:<14} {detail}");
    if o.ends_with(" \n") {
        let trimmed = o.trim_end().len();
        o.truncate(trimmed);
        o.push('\n');
    }
}

fn top_contributors(o: &mut String, r: &Report) {
    let mut by_share: Vec<_> = r
        .components
        .iter()
        .flatten()
        .filter(|c| c.downtime_share > 0.0)
        .collect();
    if by_share.is_empty() {
        return;
    }
    by_share.sort_by(|a, b| b.downtime_share.total_cmp(&a.downtime_share));
    let width = by_share
        .iter()
        .take(5)
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0)
        .max(8);
    let _ = writeln!(
        o,
        "\n  top down-time contributors (share of system down time while down)"
    );
    for c in by_share.iter().take(5) {
        let _ = writeln!(
            o,
            "    {:<width$}  {:>6.1}%   availability {:.6}{}",
            c.name,
            100.0 * c.downtime_share,
            c.availability,
            c.importance.as_ref().map_or(String::new(), importance)
        );
    }
    if by_share
        .iter()
        .take(5)
        .any(|c| c.importance.as_ref().is_some_and(|i| !i.exact))
    {
        let _ = writeln!(
            o,
            "    (importance estimated from the simulation: conditional on the instance being down or up)"
        );
    }
}

/// Fussell–Vesely (the share of unavailability removed if the instance
/// never failed) and RAW (how much worse with it always down).
fn importance(i: &crate::analytic::importance::Importance) -> String {
    let fv = i
        .fussell_vesely
        .map_or("—".to_string(), |f| format!("{:.1}%", 100.0 * f));
    let raw = i.raw.map_or("—".to_string(), |r| significant(r, 3));
    format!("   FV {fv:>6}   RAW {raw}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_get_readable_units() {
        assert_eq!(human_hours(0.5), "30 min");
        assert_eq!(human_hours(0.001), "3.6 s");
        assert_eq!(human_hours(8.0), "8 h");
        assert_eq!(human_hours(87600.0), "10 y");
        assert_eq!(human_hours(240.0), "10 d");
    }

    #[test]
    fn decimals_follow_the_standard_error() {
        assert_eq!(availability_decimals(1.2e-6), 7);
        assert_eq!(availability_decimals(0.01), 4);
    }
}
