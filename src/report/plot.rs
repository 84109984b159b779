//! The plots of SPEC §5, as PNG and SVG, drawn from a [`Report`] alone so
//! that `availsim plot REPORT.json` redraws them identically.
//!
//! Text is rendered with DejaVu Sans embedded in the binary (the `dejavu`
//! crate), so no system font library is needed. Where availability crowds
//! near 1 (mean above 0.99), plots show unavailability 1 − A instead, on a
//! log scale for A(t), so that 0.9999 and 0.99999 are a decade apart rather
//! than a hair.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use super::{write_atomic, Report};
use crate::error::Error;

const SIZE: (u32, u32) = (1200, 720);
const FONT: &str = "sans-serif";
const BLUE_LINE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(230, 120, 20);
const RED_LINE: RGBColor = RGBColor(200, 40, 40);

/// The plots every run draws.
pub const PLOTS: [&str; 4] = ["availability", "downtime", "convergence", "components"];

/// Plots drawn only when the report has their figures: `data_loss` (the
/// data lost per incident, SPEC §8) when something holds data.
pub const OPTIONAL_PLOTS: [&str; 1] = ["data_loss"];

type Drawn = Result<(), String>;

/// The plots `report` has data for, each drawn as an SVG document in
/// memory (for the HTML page).
pub fn svgs(report: &Report) -> Vec<(&'static str, Result<String, String>)> {
    PLOTS
        .into_iter()
        .chain(OPTIONAL_PLOTS)
        .filter(|name| has_data(name, report))
        .map(|name| (name, svg_string(name, report)))
        .collect()
}

fn svg_string(name: &str, report: &Report) -> Result<String, String> {
    fonts()?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(name, &root, report)?;
        root.present().map_err(err)?;
    }
    Ok(text)
}

/// What plot `name` shows, in one or two sentences (captions in the HTML
/// page).
pub fn caption(name: &str) -> &'static str {
    match name {
        "availability" => "Availability over time across replications, with its 95% band and the analytic value.",
        "downtime" => "Down time per year across replications (each replication's average over the window), mean and p95 marked.",
        "convergence" => "The running estimate and its 95% band as replications accumulate, against the analytic value.",
        "components" => "Share of system down time per instance, largest first. Instances down together each count the whole outage, so shares add up to more than 100%: a share is coincidence, not cause.",
        "data_loss" => "Hours of data lost per incident (destructions restored from backup, and failovers of asynchronously replicated standbys), mean and RPO objectives marked.",
        "reliability" => "R(t): the probability of no system failure by t (Kaplan–Meier over replications), with the exact curve where one exists.",
        _ => "",
    }
}

fn fonts() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| "the embedded DejaVu Sans font could not be loaded".to_string())
        })
        .clone()
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Draws every plot of `report` into `dir` as `NAME.png` and `NAME.svg`,
/// each written atomically; returns the files written.
///
/// # Errors
/// [`Error::Output`] when a file cannot be written or a plot cannot be
/// drawn.
pub fn draw_all(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut written = Vec::new();
    for name in PLOTS
        .into_iter()
        .chain(OPTIONAL_PLOTS)
        .filter(|name| has_data(name, report))
    {
        written.extend(write_plot(
            dir,
            name,
            |root| draw(name, root, report),
            |root| draw(name, root, report),
        )?);
    }
    Ok(written)
}

/// Whether `report` has what plot `name` shows (rare-event runs estimate
/// neither A(t), nor the per-year distribution, nor components).
fn has_data(name: &str, r: &Report) -> bool {
    match name {
        "availability" => r.transient.is_some(),
        "downtime" => r.downtime_hours_per_year.histogram.is_some(),
        "components" => r.components.is_some(),
        "data_loss" => r.data_loss.as_ref().is_some_and(|d| d.histogram.is_some()),
        _ => true,
    }
}

/// Draws one plot as `dir/NAME.png` and `dir/NAME.svg`, each written
/// atomically (a temporary file, then a rename). The drawing is given once
/// per backend, as plotters' backends are distinct types.
fn write_plot(
    dir: &Path,
    name: &str,
    png: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Drawn,
    svg: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Drawn,
) -> Result<[PathBuf; 2], Error> {
    let fail = |file: &Path, why: String| Error::Output {
        file: file.to_path_buf(),
        cause: std::io::Error::other(why),
    };
    fonts().map_err(|e| fail(dir, e))?;
    std::fs::create_dir_all(dir).map_err(|cause| Error::Output {
        file: dir.to_path_buf(),
        cause,
    })?;
    let png_path = dir.join(format!("{name}.png"));
    let mut pixels = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        png(&root).map_err(|e| fail(&png_path, e))?;
        root.present().map_err(|e| fail(&png_path, err(e)))?;
    }
    let encoded = encode_png(&pixels).map_err(|e| fail(&png_path, e.to_string()))?;
    write_atomic(&png_path, &encoded)?;
    let svg_path = dir.join(format!("{name}.svg"));
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        svg(&root).map_err(|e| fail(&svg_path, e))?;
        root.present().map_err(|e| fail(&svg_path, err(e)))?;
    }
    write_atomic(&svg_path, text.as_bytes())?;
    Ok([png_path, svg_path])
}

/// Encodes an RGB image of [`SIZE`] as PNG, in memory, so that it is
/// written like every other output (atomically, flushed to disk, with a
/// plain message when the disk is full).
fn encode_png(rgb: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, SIZE.0, SIZE.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

fn draw<DB: DrawingBackend>(name: &str, root: &DrawingArea<DB, Shift>, r: &Report) -> Drawn {
    root.fill(&WHITE).map_err(err)?;
    match name {
        "availability" => availability(root, r),
        "downtime" => downtime(root, r),
        "convergence" => convergence(root, r),
        "data_loss" => data_loss(root, r),
        _ => components(root, r),
    }
}

/// Availability crowds near 1: plot unavailability instead.
fn crowded(r: &Report) -> bool {
    r.availability.mean > 0.99
}

/// A time axis unit that keeps tick labels short: (divisor, name).
fn time_unit(hours: f64) -> (f64, &'static str) {
    if hours >= 2.0 * 8760.0 {
        (8760.0, "years")
    } else if hours >= 48.0 {
        (24.0, "days")
    } else {
        (1.0, "hours")
    }
}

/// A duration axis unit for down time: (divisor, name).
fn duration_unit(hours: f64) -> (f64, &'static str) {
    if hours < 2.0 {
        (1.0 / 60.0, "minutes")
    } else {
        (1.0, "hours")
    }
}

/// The 95% Wilson score interval of a proportion p from n trials (it stays
/// informative at p = 0, unlike p ± 1.96·√(p(1−p)/n)).
fn wilson(p: f64, n: f64) -> (f64, f64) {
    let z: f64 = 1.96;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The exact (or approximate) analytic value to draw, and its legend label.
fn analytic_line(r: &Report) -> Option<(f64, String)> {
    let a = &r.analytic;
    let label = if a.exact {
        format!("exact steady state ({})", a.method.as_deref().unwrap_or(""))
    } else {
        "approximate steady state".to_string()
    };
    a.steady_state.map(|v| (v, label))
}

fn decade_below(x: f64) -> f64 {
    10f64.powf(x.log10().floor())
}

fn decade_above(x: f64) -> f64 {
    10f64.powf(x.log10().ceil())
}

fn availability<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Drawn {
    let (div, unit) = time_unit(r.simulation.horizon_hours);
    let n = r.simulation.replications as f64;
    let Some(tr) = &r.transient else {
        return Ok(());
    };
    let points: Vec<(f64, f64, f64, f64)> = tr
        .time_hours
        .iter()
        .zip(&tr.availability)
        .map(|(&t, &a)| {
            let (lo, hi) = wilson(a, n);
            (t / div, a, lo, hi)
        })
        .collect();
    let (x0, x1) = (
        r.simulation.warmup_hours / div,
        (r.simulation.horizon_hours / div).max(r.simulation.warmup_hours / div + 1e-9),
    );
    let title = format!("Point availability A(t) — {}", r.scenario);
    let line = analytic_line(r);
    if crowded(r) {
        // Unavailability 1 − A(t) on a log scale. An estimate from n
        // replications resolves 1/n, so the floor sits a decade below that
        // (or below the exact value) and is labelled 0.
        let mut lowest = 0.1 / n;
        if let Some((v, _)) = &line {
            if *v < 1.0 {
                lowest = lowest.min((1.0 - v) / 3.0);
            }
        }
        let floor = decade_below(lowest);
        let top = points
            .iter()
            .map(|&(_, _, lo, _)| 1.0 - lo)
            .fold(floor * 10.0, f64::max);
        let top = decade_above(top).min(1.0).max(floor * 10.0);
        let clamp = |u: f64| u.max(floor);
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (FONT, 28))
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(110)
            .build_cartesian_2d(x0..x1, (floor..top).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(format!("time ({unit})"))
            .y_desc("unavailability 1 − A(t) (log scale)")
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 20))
            .y_label_formatter(&|v| {
                if *v <= floor * 1.0001 {
                    "0".into()
                } else {
                    format!("{v:.0e}")
                }
            })
            .draw()
            .map_err(err)?;
        let band: Vec<(f64, f64)> = points
            .iter()
            .map(|&(t, _, lo, _)| (t, clamp(1.0 - lo)))
            .chain(
                points
                    .iter()
                    .rev()
                    .map(|&(t, _, _, hi)| (t, clamp(1.0 - hi))),
            )
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, BLUE_LINE.mix(0.18))))
            .map_err(err)?
            .label("95% confidence band (Wilson)")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 6), (x + 20, y + 6)], BLUE_LINE.mix(0.18).filled())
            });
        // Markers, not a line: at this resolution most estimates are 0 or a
        // few replications, and a line would zigzag between them.
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&(t, a, _, _)| Circle::new((t, clamp(1.0 - a)), 3, BLUE_LINE.filled())),
            )
            .map_err(err)?
            .label("simulated 1 − A(t)")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, BLUE_LINE.filled()));
        if let Some((v, label)) = line {
            chart
                .draw_series(LineSeries::new(
                    [(x0, clamp(1.0 - v)), (x1, clamp(1.0 - v))],
                    RED_LINE.stroke_width(2),
                ))
                .map_err(err)?
                .label(label)
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], RED_LINE.stroke_width(2))
                });
        }
        legend(&mut chart)
    } else {
        let low = points.iter().map(|&(_, _, lo, _)| lo).fold(1.0, f64::min);
        let low = line.as_ref().map_or(low, |(v, _)| low.min(*v));
        let y0 = (low - 0.05 * (1.0 - low)).max(0.0);
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (FONT, 28))
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(110)
            .build_cartesian_2d(x0..x1, y0..1.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(format!("time ({unit})"))
            .y_desc("availability A(t)")
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 20))
            .draw()
            .map_err(err)?;
        let band: Vec<(f64, f64)> = points
            .iter()
            .map(|&(t, _, lo, _)| (t, lo))
            .chain(points.iter().rev().map(|&(t, _, _, hi)| (t, hi)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, BLUE_LINE.mix(0.18))))
            .map_err(err)?
            .label("95% confidence band (Wilson)")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 6), (x + 20, y + 6)], BLUE_LINE.mix(0.18).filled())
            });
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|&(t, a, _, _)| (t, a)),
                BLUE_LINE.stroke_width(2),
            ))
            .map_err(err)?
            .label("simulated A(t)")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], BLUE_LINE.stroke_width(2))
            });
        if let Some((v, label)) = line {
            chart
                .draw_series(LineSeries::new(
                    [(x0, v), (x1, v)],
                    RED_LINE.stroke_width(2),
                ))
                .map_err(err)?
                .label(label)
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], RED_LINE.stroke_width(2))
                });
        }
        legend(&mut chart)
    }
}

fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> Drawn {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font((FONT, 16))
        .draw()
        .map_err(err)
}

fn downtime<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Drawn {
    let d = &r.downtime_hours_per_year;
    let (Some(h), Some(p95)) = (&d.histogram, d.p95) else {
        return Ok(());
    };
    let top_edge = h.edges.last().copied().unwrap_or(1.0);
    let (div, unit) = duration_unit(top_edge);
    let x1 = (top_edge / div).max(p95 / div).max(d.mean / div) * 1.02;
    let y1 = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
    let caption = format!(
        "Down time per year across {} replications — {}",
        r.simulation.replications, r.scenario
    );
    let mut chart = ChartBuilder::on(root)
        .caption(&caption, (FONT, 28))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..x1.max(1e-9), 0.0..y1)
        .map_err(err)?;
    let overflow = if h.overflow > 0 {
        format!(" ({} beyond the axis)", h.overflow)
    } else {
        String::new()
    };
    chart
        .configure_mesh()
        .x_desc(format!("down time per year ({unit}){overflow}"))
        .y_desc("replications")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 20))
        .draw()
        .map_err(err)?;
    chart
        // Zipped, not indexed: an edited report may have too few edges.
        .draw_series(h.counts.iter().zip(h.edges.windows(2)).map(|(&c, e)| {
            let (a, b) = (e[0] / div, e[1] / div);
            Rectangle::new([(a, 0.0), (b, c as f64)], BLUE_LINE.mix(0.7).filled())
        }))
        .map_err(err)?
        .label("replications")
        .legend(|(x, y)| {
            Rectangle::new([(x, y - 6), (x + 20, y + 6)], BLUE_LINE.mix(0.7).filled())
        });
    for (value, label, color) in [
        (
            d.mean,
            format!("mean {}", super::text::human_hours(d.mean)),
            RED_LINE,
        ),
        (
            p95,
            format!("95th percentile {}", super::text::human_hours(p95)),
            ORANGE,
        ),
    ] {
        let x = value / div;
        chart
            .draw_series(LineSeries::new([(x, 0.0), (x, y1)], color.stroke_width(3)))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
    }
    legend(&mut chart)
}

/// The distribution of data lost per incident (SPEC §8), with the mean and
/// every RPO objective marked. Counts are on a log scale when they span
/// more than two decades (failovers that lose seconds beside restores that
/// lose hours).
fn data_loss<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Drawn {
    let Some(d) = &r.data_loss else {
        return Ok(());
    };
    let (Some(h), Some(mean)) = (&d.histogram, d.mean_hours_per_incident) else {
        return Ok(());
    };
    let rpos: Vec<f64> = r
        .objectives
        .iter()
        .flatten()
        .filter_map(|o| o.rpo_hours)
        .collect();
    let top_edge = h.edges.last().copied().unwrap_or(1.0);
    let right = rpos.iter().fold(top_edge.max(mean), |a, &b| a.max(b));
    let (div, unit) = duration_unit(right);
    let x1 = (right / div * 1.05).max(1e-9);
    let max = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let min = h
        .counts
        .iter()
        .copied()
        .filter(|&c| c > 0)
        .min()
        .unwrap_or(1) as f64;
    let caption = format!(
        "Data lost per incident, {} incidents — {}",
        d.incidents, r.scenario
    );
    let overflow = if h.overflow > 0 {
        format!(" ({} beyond the axis)", h.overflow)
    } else {
        String::new()
    };
    let bars: Vec<(f64, f64, f64)> = h
        .counts
        .iter()
        .zip(h.edges.windows(2))
        .filter(|(&c, _)| c > 0)
        .map(|(&c, e)| (e[0] / div, e[1] / div, c as f64))
        .collect();
    let mut marks = vec![(
        mean / div,
        format!("mean {}", super::text::human_hours(mean)),
        RED_LINE,
    )];
    let palette = [ORANGE, RGBColor(44, 160, 44), RGBColor(148, 103, 189)];
    for o in r.objectives.iter().flatten() {
        if let Some(rpo) = o.rpo_hours {
            let color = palette[(marks.len() - 1) % palette.len()];
            marks.push((
                rpo / div,
                format!(
                    "RPO {}: {:.1}% of incidents within",
                    super::text::human_hours(rpo),
                    100.0 * o.met_fraction
                ),
                color,
            ));
        }
    }
    let x_desc = format!("hours of data lost per incident ({unit}){overflow}");
    if max / min > 100.0 {
        let y1 = max * 2.0;
        let mut chart = ChartBuilder::on(root)
            .caption(&caption, (FONT, 28))
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..x1, (0.5..y1).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc("incidents (log scale)")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 20))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                bars.iter().map(|&(a, b, c)| {
                    Rectangle::new([(a, 0.5), (b, c)], BLUE_LINE.mix(0.7).filled())
                }),
            )
            .map_err(err)?
            .label("incidents")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 6), (x + 20, y + 6)], BLUE_LINE.mix(0.7).filled())
            });
        for (x, label, color) in marks {
            chart
                .draw_series(LineSeries::new([(x, 0.5), (x, y1)], color.stroke_width(3)))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                });
        }
        legend(&mut chart)
    } else {
        let y1 = max * 1.1;
        let mut chart = ChartBuilder::on(root)
            .caption(&caption, (FONT, 28))
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..x1, 0.0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc("incidents")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 20))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                bars.iter().map(|&(a, b, c)| {
                    Rectangle::new([(a, 0.0), (b, c)], BLUE_LINE.mix(0.7).filled())
                }),
            )
            .map_err(err)?
            .label("incidents")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 6), (x + 20, y + 6)], BLUE_LINE.mix(0.7).filled())
            });
        for (x, label, color) in marks {
            chart
                .draw_series(LineSeries::new([(x, 0.0), (x, y1)], color.stroke_width(3)))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                });
        }
        legend(&mut chart)
    }
}

fn convergence<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Drawn {
    let c = &r.convergence;
    let crowded = crowded(r);
    let value = |a: f64| if crowded { 1.0 - a } else { a };
    let line = analytic_line(r).map(|(v, label)| {
        (
            r.analytic
                .interval
                .filter(|_| r.analytic.exact)
                .unwrap_or(v),
            label,
        )
    });
    let line = line.map(|(v, label)| {
        let label = if r.analytic.interval.is_some() && r.analytic.exact {
            label.replace("steady state", "interval value")
        } else {
            label
        };
        (v, label)
    });
    let mut ys: Vec<f64> = c
        .ci95_low
        .iter()
        .chain(&c.ci95_high)
        .chain(&c.mean)
        .map(|&a| value(a))
        .collect();
    if let Some((v, _)) = &line {
        ys.push(value(*v));
    }
    let (mut y0, mut y1) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &y| {
            (lo.min(y), hi.max(y))
        });
    if !y0.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.05).max(1e-12);
    let (y0, y1) = ((y0 - pad).max(0.0), y1 + pad);
    let x0 = c.replications.first().copied().unwrap_or(1) as f64;
    let x1 = (c.replications.last().copied().unwrap_or(2) as f64).max(x0 + 1.0);
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("Convergence of the estimate — {}", r.scenario),
            (FONT, 28),
        )
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(130)
        .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
        .map_err(err)?;
    let y_desc = if crowded {
        "unavailability 1 − A"
    } else {
        "availability A"
    };
    chart
        .configure_mesh()
        .x_desc(if r.simulation.method == "plain" {
            "replications (log scale)"
        } else {
            "cycles or trials, one point per round (log scale)"
        })
        .y_desc(y_desc)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 20))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| {
            if crowded {
                format!("{v:.2e}")
            } else {
                format!("{v:.5}")
            }
        })
        .draw()
        .map_err(err)?;
    let pts = |ys: &[f64]| -> Vec<(f64, f64)> {
        c.replications
            .iter()
            .zip(ys)
            .map(|(&n, &a)| (n as f64, value(a)))
            .collect()
    };
    let band: Vec<(f64, f64)> = pts(&c.ci95_low)
        .into_iter()
        .chain(pts(&c.ci95_high).into_iter().rev())
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(band, BLUE_LINE.mix(0.18))))
        .map_err(err)?
        .label("95% confidence interval")
        .legend(|(x, y)| {
            Rectangle::new([(x, y - 6), (x + 20, y + 6)], BLUE_LINE.mix(0.18).filled())
        });
    chart
        .draw_series(LineSeries::new(pts(&c.mean), BLUE_LINE.stroke_width(2)))
        .map_err(err)?
        .label("running estimate")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE_LINE.stroke_width(2)));
    if let Some((v, label)) = line {
        chart
            .draw_series(LineSeries::new(
                [(x0, value(v)), (x1, value(v))],
                RED_LINE.stroke_width(2),
            ))
            .map_err(err)?
            .label(label)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED_LINE.stroke_width(2)));
    }
    legend(&mut chart)
}

fn components<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Drawn {
    let Some(all) = &r.components else {
        return Ok(());
    };
    let mut rows: Vec<(&str, f64)> = all
        .iter()
        // A share is at most 1 in any report availsim writes; an edited
        // one must not stretch the axis to infinity (plotters then hangs).
        .map(|c| {
            (
                c.name.as_str(),
                (100.0 * c.downtime_share).clamp(0.0, 100.0),
            )
        })
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    rows.truncate(20);
    let k = rows.len().max(1);
    let x1 = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1.0) * 1.12;
    let widest = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(4);
    let caption = if all.len() > 20 {
        format!(
            "Share of system down time, top 20 of {} — {}",
            all.len(),
            r.scenario
        )
    } else {
        format!("Share of system down time per component — {}", r.scenario)
    };
    let mut chart = ChartBuilder::on(root)
        .caption(&caption, (FONT, 28))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size((20 + 10 * widest as u32).min(320))
        .build_cartesian_2d(0.0..x1, (0..(k as i32 - 1).max(1)).into_segmented())
        .map_err(err)?;
    let names: Vec<&str> = rows.iter().rev().map(|r| r.0).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("share of system down time during which it was down (%)")
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 20))
        .y_labels(k)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => names.get(*i as usize).copied().unwrap_or("").to_string(),
            _ => String::new(),
        })
        .draw()
        .map_err(err)?;
    if rows.iter().all(|r| r.1 == 0.0) {
        root.draw(&Text::new(
            "no system down time was observed",
            (SIZE.0 as i32 / 2 - 180, SIZE.1 as i32 / 2),
            (FONT, 24),
        ))
        .map_err(err)?;
        return Ok(());
    }
    // Plain rectangles in a fixed order: plotters' Histogram collects bars
    // in a HashMap, which would change the SVG's element order per process.
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            let y = (k - 1 - i) as i32;
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(y)),
                    (r.1, SegmentValue::Exact(y + 1)),
                ],
                BLUE_LINE.mix(0.75).filled(),
            );
            bar.set_margin(6, 6, 0, 0);
            bar
        }))
        .map_err(err)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            Text::new(
                format!("{:.1}%", r.1),
                (r.1 + x1 * 0.01, SegmentValue::CenterOf((k - 1 - i) as i32)),
                (FONT, 15),
            )
        }))
        .map_err(err)?;
    Ok(())
}

/// Draws the sweep plot into `dir` as `sweep.png` and `sweep.svg`:
/// availability (nines when values crowd at 1) against the swept value,
/// with 95% error bars, the analytic curve and the targets.
///
/// # Errors
/// [`Error::Output`] when a file cannot be written or drawn.
pub fn draw_sweep(
    points: &[crate::sweep::Point],
    path: &str,
    targets: &[f64],
    dir: &Path,
) -> Result<Vec<PathBuf>, Error> {
    let files = write_plot(
        dir,
        "sweep",
        |root| sweep(root, points, path, targets),
        |root| sweep(root, points, path, targets),
    )?;
    Ok(files.to_vec())
}

fn sweep<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[crate::sweep::Point],
    path: &str,
    targets: &[f64],
) -> Drawn {
    root.fill(&WHITE).map_err(err)?;
    let nines_scale = points.iter().any(|p| p.report.availability.mean > 0.99);
    let y = |a: f64| {
        if nines_scale {
            -(1.0 - a.min(1.0)).log10()
        } else {
            a
        }
    };
    let xs: Vec<f64> = points
        .iter()
        .enumerate()
        .map(|(i, p)| p.x.unwrap_or(i as f64))
        .collect();
    let (x0, x1) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let pad = ((x1 - x0) * 0.05).max(0.5);
    // Everything finite that will be drawn decides the y range; a perfect
    // 1 (no down time seen) has infinite nines and is marked at the top.
    let mut ys: Vec<f64> = points
        .iter()
        .flat_map(|p| {
            [
                y(p.report.availability.ci95[0]),
                y(p.report.availability.mean),
            ]
        })
        .collect();
    ys.extend(
        points
            .iter()
            .filter_map(|p| {
                p.report
                    .analytic
                    .interval
                    .or(p.report.analytic.steady_state)
            })
            .map(y),
    );
    ys.extend(targets.iter().map(|&t| y(t)));
    ys.retain(|v| v.is_finite());
    let (y0, y1) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (y0, y1) = if y0.is_finite() { (y0, y1) } else { (0.0, 1.0) };
    let ypad = ((y1 - y0) * 0.08).max(1e-6);
    let top = y1 + ypad;
    let cap = |v: f64| if v.is_finite() { v.min(top) } else { top };
    let scenario = points.first().map_or("", |p| p.report.scenario.as_str());
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("Availability against {path} — {scenario}"),
            (FONT, 28),
        )
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(110)
        .build_cartesian_2d((x0 - pad)..(x1 + pad), (y0 - ypad)..top)
        .map_err(err)?;
    let labels: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
    let numeric = points.iter().all(|p| p.x.is_some());
    chart
        .configure_mesh()
        .x_desc(path)
        .y_desc(if nines_scale {
            "nines  −log10(1 − A)"
        } else {
            "availability A"
        })
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 20))
        .x_label_formatter(&|v| {
            if numeric {
                crate::model::dist::significant(*v, 4)
            } else {
                labels.get(v.round() as usize).cloned().unwrap_or_default()
            }
        })
        .draw()
        .map_err(err)?;
    let analytic: Vec<(f64, f64)> = points
        .iter()
        .zip(&xs)
        .filter_map(|(p, &x)| {
            p.report
                .analytic
                .interval
                .or(p.report.analytic.steady_state)
                .map(|a| (x, cap(y(a))))
        })
        .collect();
    if !analytic.is_empty() {
        chart
            .draw_series(LineSeries::new(analytic, RED_LINE.stroke_width(2)))
            .map_err(err)?
            .label("analytic")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED_LINE.stroke_width(2)));
    }
    let (seen, perfect): (Vec<_>, Vec<_>) = points
        .iter()
        .zip(&xs)
        .partition(|(p, _)| p.report.availability.mean < 1.0);
    chart
        .draw_series(seen.iter().map(|(p, &x)| {
            let a = &p.report.availability;
            ErrorBar::new_vertical(
                x,
                y(a.ci95[0]),
                y(a.mean),
                cap(y(a.ci95[1])),
                BLUE_LINE.stroke_width(2),
                12,
            )
        }))
        .map_err(err)?
        .label("simulated, 95% interval")
        .legend(|(x, y)| {
            PathElement::new(
                vec![(x + 10, y - 6), (x + 10, y + 6)],
                BLUE_LINE.stroke_width(2),
            )
        });
    chart
        .draw_series(
            seen.iter().map(|(p, &x)| {
                Circle::new((x, y(p.report.availability.mean)), 5, BLUE_LINE.filled())
            }),
        )
        .map_err(err)?;
    if !perfect.is_empty() {
        chart
            .draw_series(
                perfect
                    .iter()
                    .map(|(_, &x)| TriangleMarker::new((x, top), 8, BLUE_LINE.stroke_width(2))),
            )
            .map_err(err)?
            .label("no down time seen (off the scale)")
            .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, BLUE_LINE.stroke_width(2)));
    }
    let palette = [
        ORANGE,
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    for (i, &t) in targets.iter().enumerate() {
        let color = palette[i % palette.len()];
        chart
            .draw_series(LineSeries::new(
                [(x0 - pad, y(t)), (x1 + pad, y(t))],
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("target {t}"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font((FONT, 16))
        .draw()
        .map_err(err)
}
