//! `check`: validate, print the resolved topology and every analytic figure.

use anyhow::Result;

use availsim::error::escape;
use availsim::report::text;
use availsim::Model;

use super::{load_all, out};
use crate::cli::{CheckArgs, Format};

/// `availsim check`.
pub fn check(args: &CheckArgs) -> Result<()> {
    let models = load_all(&args.files, &args.sim)?;
    if args.format == Format::Json {
        let all: Vec<serde_json::Value> = models.iter().map(figures).collect();
        let text = serde_json::to_string_pretty(&all)?;
        out!("{text}\n")?;
        return Ok(());
    }
    for m in &models {
        out!("{}", describe(m))?;
    }
    Ok(())
}

/// Hours in a year of 365 days (outages per year).
const HOURS_PER_YEAR: f64 = 8760.0;

/// The analytic figures of one scenario as `check --format json` prints
/// them.
fn figures(m: &Model) -> serde_json::Value {
    let a = availsim::analytic::analyze(m);
    serde_json::json!({
        "scenario": m.name,
        "source": m.source,
        "method": a.method.map(|x| x.name()),
        "exact": a.exact,
        "availability": a.steady_state,
        "unavailability": a.steady_unavailability,
        "error_bound": a.error_bound,
        "interval_availability": a.interval,
        "interval_unavailability": a.interval_unavailability,
        "mttf_hours": a.mttf_hours,
        "outages_per_year": a.outage_rate.map(|r| r * HOURS_PER_YEAR),
        "states": a.states,
        "note": a.note,
    })
}

/// The resolved scenario as `check` prints it.
fn describe(m: &Model) -> String {
    use std::fmt::Write as _;
    let s = &m.simulation;
    let mut o = String::new();
    let _ = writeln!(o, "{} — {}: valid", m.name, escape(&m.source));
    if let Some(d) = &m.description {
        let _ = writeln!(o, "  {}", escape(d));
    }
    let _ = writeln!(
        o,
        "  simulation: horizon {}, warmup {}, {} replications, seed {}, {} A(t) points",
        text::human_hours(s.horizon),
        text::human_hours(s.warmup),
        s.replications,
        s.seed,
        s.transient_points
    );
    if let Some(p) = s.precision {
        let cap = s.cap.map_or("no cap on replications".to_string(), |c| {
            format!("at most {c} replications")
        });
        let _ = writeln!(
            o,
            "  precision target: 95% CI of the unavailability within ±{}, method {}, {cap}",
            availsim::driver::percent(p),
            s.method.name()
        );
    }
    let _ = writeln!(o, "\ncomponents ({} instances):", m.instances.len());
    for c in &m.components {
        let inst = &m.instances[c.first];
        let _ = writeln!(
            o,
            "  {} ×{}\n    failure  {}\n    repair   {}\n    steady-state availability of one instance {:.9}",
            c.name,
            c.count,
            inst.failure,
            inst.repair,
            inst.steady_availability()
        );
    }
    for c in &m.crews {
        let members: Vec<&str> = m
            .instances
            .iter()
            .filter(|i| i.crew.is_some_and(|k| m.crews[k].name == c.name))
            .map(|i| i.name.as_str())
            .collect();
        let _ = writeln!(
            o,
            "  crew {}: {} repair{} at once, for {}",
            c.name,
            c.size,
            if c.size == 1 { "" } else { "s" },
            members.join(", ")
        );
    }
    for c in &m.common_causes {
        let affects: Vec<&str> = c
            .affects
            .iter()
            .map(|&i| m.instances[i].name.as_str())
            .collect();
        let _ = writeln!(
            o,
            "  common cause {}: holds down {}\n    between outages  {}\n    outage           {}",
            c.name,
            affects.join(", "),
            c.failure,
            c.repair
        );
    }
    for ob in &m.objectives {
        let _ = writeln!(
            o,
            "  objective: availability {} in every window of {}",
            ob.availability,
            text::human_hours(ob.window)
        );
    }
    o.push_str(&availsim::report::data::check_lines(m));
    let _ = writeln!(o, "\nsystem:");
    for line in m.topology().lines() {
        let _ = writeln!(o, "  {line}");
    }
    let a = availsim::analytic::analyze(m);
    let _ = writeln!(o, "\nanalytic check:");
    match a.method {
        Some(method) => {
            let kind = match (a.exact, a.error_bound) {
                (true, _) => "exact",
                (false, Some(_)) => "bounded",
                (false, None) => "approximate",
            };
            let _ = writeln!(o, "  method          {} ({kind})", method.name());
            if let Some(v) = a.steady_state {
                let _ = writeln!(o, "  steady state    {v:.10}");
            }
            if let Some(u) = a.steady_unavailability {
                let bound = match a.error_bound {
                    Some(0.0) => " (exact)".to_string(),
                    Some(b) => format!(" ± {b:.2e}"),
                    None => " (error not bounded)".to_string(),
                };
                let _ = writeln!(o, "  unavailability  {u:.6e}{bound}");
            }
            if let Some(v) = a.interval {
                let _ = writeln!(
                    o,
                    "  interval        {v:.10}   expected over [{}, {}] from all up",
                    text::human_hours(s.warmup),
                    text::human_hours(s.horizon)
                );
            }
            if let Some(h) = a.mttf_hours {
                let _ = writeln!(o, "  MTTF            {} ({h:.6e} h)", text::human_hours(h));
            }
            if let Some(r) = a.outage_rate {
                let _ = writeln!(o, "  outages/year    {:.6e}", r * HOURS_PER_YEAR);
            }
            if let Some(n) = a.states {
                let _ = writeln!(o, "  states          {n}");
            }
        }
        None => {
            let _ = writeln!(o, "  none");
        }
    }
    let _ = writeln!(o, "  {}", a.note);
    o.push('\n');
    o
}
