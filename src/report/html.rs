//! `report.html`: one self-contained page per run that a reviewer can open
//! offline and attach to a design document (SPEC §5 additions): the key
//! figures and the verdict, tables, the plots as inline SVG, the resolved
//! topology and the scenario text. Batches and sweeps get an index page
//! linking their runs.
//!
//! Nothing is fetched: no scripts, no fonts, no images by address. Every
//! text taken from the scenario is escaped.

use std::fmt::Write as _;

use super::text::human_hours;
use super::{plot, Report};
use crate::model::Model;

/// What the report alone does not hold: the scenario as written and as
/// resolved.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The scenario's description.
    pub description: Option<String>,
    /// The scenario file as given.
    pub source: String,
    /// The resolved topology tree (as `availsim check` prints it).
    pub topology: Option<String>,
    /// The scenario file's text.
    pub scenario_text: Option<String>,
}

impl Context {
    /// The context of a run of `model`; the scenario text is read from its
    /// file when it can be (a file that changed since is shown as it is now,
    /// which is why the resolved topology is shown too).
    pub fn of(model: &Model) -> Context {
        Context {
            description: model.description.clone(),
            source: model.source.clone(),
            topology: Some(model.topology()),
            scenario_text: crate::input::read_text(std::path::Path::new(&model.source)).ok(),
        }
    }
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
h1{margin-bottom:0.2em}h2{border-bottom:1px solid #ccc;padding-bottom:0.2em;margin-top:1.6em}\
table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ddd;padding:0.25em 0.6em;text-align:left}\
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}\
pre{background:#f7f7f7;padding:0.8em;overflow-x:auto;font-size:0.9em}\
.pass{color:#14752b;font-weight:bold}.fail{color:#b31d1d;font-weight:bold}.none{color:#8a6d00;font-weight:bold}\
figure{margin:1em 0}figure svg{width:100%;height:auto;border:1px solid #eee}\
figcaption{color:#555;font-size:0.9em}.muted{color:#666}";

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut o = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    )
}

fn prob(x: f64) -> String {
    format!("{x:.9}")
}

fn opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map_or("—".to_string(), f)
}

/// A table of (label, value, detail) rows.
fn table(o: &mut String, rows: &[(&str, String, String)]) {
    o.push_str("<table>\n");
    for (label, value, detail) in rows {
        let _ = writeln!(
            o,
            "<tr><th>{}</th><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(label),
            escape(value),
            escape(detail)
        );
    }
    o.push_str("</table>\n");
}

/// The verdict as a word and its CSS class.
fn verdict(r: &Report) -> (&'static str, &'static str) {
    match r.analytic.verdict.as_deref() {
        Some("pass") => ("PASS", "pass"),
        Some("fail") => ("FAIL", "fail"),
        _ => ("no verdict", "none"),
    }
}

/// The page of one run.
pub fn page(r: &Report, context: &Context) -> String {
    let mut o = head(&format!("{} — availsim report", r.scenario));
    let _ = writeln!(o, "<h1>{}</h1>", escape(&r.scenario));
    if let Some(d) = &context.description {
        let _ = writeln!(o, "<p>{}</p>", escape(d));
    }
    let s = &r.simulation;
    let _ = writeln!(
        o,
        "<p class=\"muted\">{} — {} {} of {} (warmup {}), seed {}, method {}, availsim {}</p>",
        escape(&context.source),
        s.replications,
        if s.method == "plain" {
            "replications"
        } else {
            "cycles or trials"
        },
        escape(&human_hours(s.horizon_hours)),
        escape(&human_hours(s.warmup_hours)),
        s.seed,
        escape(&s.method),
        escape(&r.version)
    );
    summary(&mut o, r);
    analytic(&mut o, r);
    objectives(&mut o, r);
    super::data::html_section(&mut o, r);
    super::upkeep::html_section(&mut o, r);
    super::failover::html_section(&mut o, r);
    components(&mut o, r);
    plots(&mut o, r);
    if let Some(t) = &context.topology {
        let _ = writeln!(o, "<h2>Topology (resolved)</h2>\n<pre>{}</pre>", escape(t));
    }
    if let Some(t) = &context.scenario_text {
        let _ = writeln!(o, "<h2>Scenario</h2>\n<pre>{}</pre>", escape(t));
    }
    if !s.notes.is_empty() {
        o.push_str("<h2>Notes</h2>\n<ul>\n");
        for n in &s.notes {
            let _ = writeln!(o, "<li>{}</li>", escape(n));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("</body>\n</html>\n");
    o
}

fn summary(o: &mut String, r: &Report) {
    let a = &r.availability;
    let d = &r.downtime_hours_per_year;
    o.push_str("<h2>Key figures</h2>\n");
    let mut rows = vec![
        (
            "availability",
            prob(a.mean),
            format!(
                "95% CI [{}, {}], {}",
                prob(a.ci95[0]),
                prob(a.ci95[1]),
                a.nines
                    .map_or("no down time".to_string(), |n| format!("{n:.2} nines"))
            ),
        ),
        (
            "down time per year (long-run mean)",
            human_hours(d.mean),
            format!(
                "95% CI [{}, {}]",
                human_hours(d.ci95[0]),
                human_hours(d.ci95[1])
            ),
        ),
    ];
    if let Some(y) = &d.per_calendar_year {
        rows.push((
            "down time in one year",
            format!("typical {}", human_hours(y.p50)),
            format!(
                "p90 {}, p99 {}, worst {} over {} whole simulated years; {:.1}% of years without down time",
                human_hours(y.p90),
                human_hours(y.p99),
                human_hours(y.max),
                y.years,
                100.0 * y.without_downtime
            ),
        ));
    }
    rows.push((
        "outages per year",
        opt(r.outages.per_year, |x| format!("{x:.4}")),
        opt(r.outages.mean_duration_hours, |h| {
            format!("mean duration {}", human_hours(h))
        }),
    ));
    if let Some(f) = &r.first_failure {
        rows.push((
            "time to first failure",
            opt(f.mttff_hours, human_hours),
            format!(
                "{:.1}% of replications reached the horizon without one",
                100.0 * f.censored_fraction
            ),
        ));
    }
    if let Some(q) = &r.requests {
        rows.push((
            "request success",
            prob(q.success_ratio),
            format!("95% CI [{}, {}]", prob(q.ci95[0]), prob(q.ci95[1])),
        ));
    }
    table(o, &rows);
}

fn analytic(o: &mut String, r: &Report) {
    let a = &r.analytic;
    let (word, class) = verdict(r);
    o.push_str("<h2>Analytic check</h2>\n");
    let _ = writeln!(
        o,
        "<p>Verdict: <span class=\"{class}\">{word}</span>{}</p>",
        match (a.verdict.is_some(), a.z, &a.no_verdict_reason) {
            (true, Some(z), _) => format!(
                " (z = {z:.2} against the {} value; pass: inside the 99.9% confidence interval)",
                a.compared_with
                    .as_deref()
                    .unwrap_or("exact")
                    .replace('_', " ")
            ),
            (false, _, Some(why)) => format!(": {}", escape(why)),
            _ => String::new(),
        }
    );
    let method = match (&a.method, a.kind(), a.error_bound) {
        (Some(m), Some("bounded"), Some(b)) => format!("{m} (bounded: unavailability ±{b:.2e})"),
        (Some(m), Some(k), _) => format!("{m} ({k})"),
        _ => "none".to_string(),
    };
    let difference_note = match (a.kind(), &a.verdict) {
        (Some("approximate"), _) => {
            "simulated against the approximation (no verdict for approximations)"
        }
        (_, None) => "simulated against the analytic figure (no verdict: see the reason above)",
        _ => "simulated against the analytic figure",
    };
    table(
        o,
        &[
            ("method", method, String::new()),
            ("steady state", opt(a.steady_state, prob), String::new()),
            (
                "interval",
                opt(a.interval, prob),
                "expected over the simulated window from all up".into(),
            ),
            ("MTTF", opt(a.mttf_hours, human_hours), String::new()),
            (
                "relative difference",
                opt(a.relative_difference, |d| format!("{:+.4}%", 100.0 * d)),
                difference_note.into(),
            ),
        ],
    );
    if let Some(n) = &a.note {
        let _ = writeln!(o, "<p class=\"muted\">{}</p>", escape(n));
    }
}

fn objectives(o: &mut String, r: &Report) {
    let Some(list) = r.objectives.as_ref().filter(|l| !l.is_empty()) else {
        return;
    };
    o.push_str("<h2>Objectives</h2>\n");
    let windowed = list.iter().any(|b| b.window_availability.is_some());
    if windowed {
        o.push_str("<table>\n<tr><th>target</th><th>window</th><th>windows met</th><th>windows</th><th>median window</th><th>worst 1%</th></tr>\n");
    }
    for b in list.iter().filter(|_| windowed) {
        let (Some(target), Some(window), Some(windows), Some(w)) = (
            b.availability,
            b.window_hours,
            b.windows,
            b.window_availability.as_ref(),
        ) else {
            continue;
        };
        let _ = writeln!(
            o,
            "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{:.2}%</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            target,
            escape(&human_hours(window)),
            100.0 * b.met_fraction,
            windows,
            prob(w.p50),
            prob(w.p1)
        );
    }
    if windowed {
        o.push_str("</table>\n");
    }
    let rpos: Vec<_> = list.iter().filter(|b| b.rpo_hours.is_some()).collect();
    if !rpos.is_empty() {
        o.push_str("<table>\n<tr><th>recovery point objective</th><th>incidents within it</th><th>incidents</th></tr>\n");
        for b in rpos {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td class=\"num\">{:.2}%</td><td class=\"num\">{}</td></tr>",
                escape(&human_hours(b.rpo_hours.unwrap_or(0.0))),
                100.0 * b.met_fraction,
                b.incidents.unwrap_or(0)
            );
        }
        o.push_str("</table>\n");
    }
}

fn components(o: &mut String, r: &Report) {
    let Some(list) = &r.components else {
        return;
    };
    o.push_str("<h2>Components</h2>\n<p class=\"muted\">Share of system down time = the fraction of the system's down time during which the instance was down. It measures coincidence, not cause: instances down together (both replicas of a pair) each count the whole outage, so shares add up to more than 100%. Importance measures answer \"what if\": Birnbaum = U(always down) − U(always up); Fussell–Vesely = the share of unavailability U removed if the instance never failed; RAW = U(always down) / U; RRW = U / U(always up) (— when infinite). Exact from the structure function where it applies; otherwise estimated from the simulation as P(system down | instance down or up), an observed association.</p>\n");
    o.push_str(
        "<table>\n<tr><th>instance</th><th>availability</th><th>share of system down time</th><th>Birnbaum</th><th>Fussell–Vesely</th><th>RAW</th><th>RRW</th><th>importance</th></tr>\n",
    );
    let mut sorted: Vec<_> = list.iter().collect();
    sorted.sort_by(|a, b| b.downtime_share.total_cmp(&a.downtime_share));
    for c in sorted {
        let i = c.importance.as_ref();
        let g = |x: Option<f64>| opt(x, |v| crate::model::dist::significant(v, 3));
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2}%</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&c.name),
            prob(c.availability),
            100.0 * c.downtime_share,
            g(i.and_then(|i| i.birnbaum)),
            opt(i.and_then(|i| i.fussell_vesely), |f| format!("{:.2}%", 100.0 * f)),
            g(i.and_then(|i| i.raw)),
            g(i.and_then(|i| i.rrw)),
            match i.map(|i| i.exact) {
                Some(true) => "exact (steady state)",
                Some(false) => "estimated",
                None => "—",
            }
        );
    }
    o.push_str("</table>\n");
}

fn plots(o: &mut String, r: &Report) {
    o.push_str("<h2>Plots</h2>\n");
    for (name, svg) in plot::svgs(r) {
        match svg {
            Ok(svg) => {
                let _ = writeln!(
                    o,
                    "<figure id=\"plot-{name}\">\n{}\n<figcaption>{}</figcaption>\n</figure>",
                    scalable(&svg),
                    escape(plot::caption(name))
                );
            }
            Err(e) => {
                let _ = writeln!(
                    o,
                    "<p class=\"fail\">plot {name} could not be drawn: {}</p>",
                    escape(&e)
                );
            }
        }
    }
}

/// An SVG document as an element of the page (plotters gives it a
/// `viewBox`, so the page's CSS scales it).
fn scalable(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |start| &svg[start..])
}

/// One row of an index page.
pub struct Entry<'a> {
    /// What the row is (a scenario's name, a sweep value).
    pub label: String,
    /// Link to its page, relative to the index.
    pub link: String,
    /// Its report.
    pub report: &'a Report,
}

/// The index of a batch or a sweep: one row per run with its key figures
/// and a link to its page.
pub fn index(title: &str, first_column: &str, entries: &[Entry<'_>]) -> String {
    let mut o = head(title);
    let _ = writeln!(o, "<h1>{}</h1>", escape(title));
    let _ = writeln!(
        o,
        "<table>\n<tr><th>{}</th><th>availability</th><th>95% CI</th><th>nines</th><th>down time per year</th><th>typical year / p99 year</th><th>objectives met</th><th>analytic</th><th>verdict</th></tr>",
        escape(first_column)
    );
    for e in entries {
        let r = e.report;
        let a = &r.availability;
        let (word, class) = verdict(r);
        let years = r
            .downtime_hours_per_year
            .per_calendar_year
            .as_ref()
            .map_or("—".to_string(), |y| {
                format!("{} / {}", human_hours(y.p50), human_hours(y.p99))
            });
        let met = r
            .objectives
            .iter()
            .flatten()
            .map(|b| format!("{:.1}%", 100.0 * b.met_fraction))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            o,
            "<tr><td><a href=\"{}\">{}</a></td><td class=\"num\">{}</td><td class=\"num\">[{}, {}]</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"{class}\">{word}</td></tr>",
            escape(&e.link),
            escape(&e.label),
            prob(a.mean),
            prob(a.ci95[0]),
            prob(a.ci95[1]),
            a.nines.map_or("—".to_string(), |n| format!("{n:.2}")),
            escape(&human_hours(r.downtime_hours_per_year.mean)),
            escape(&years),
            if met.is_empty() { "—".into() } else { met },
            escape(r.analytic.method.as_deref().unwrap_or("none")),
        );
    }
    o.push_str("</table>\n</body>\n</html>\n");
    o
}
