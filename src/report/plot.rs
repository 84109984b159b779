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

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
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
const GREEN_LINE: RGBColor = RGBColor(40, 150, 60);

/// The plots every run draws.
pub const PLOTS: [&str; 5] = [
    "availability",
    "downtime",
    "convergence",
    "components",
    "reliability",
];

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
        "availability" => "Availability over time: point samples A(t) (fraction of replications up at each grid time) and the interval availability of each bin between grid points (all up time in the bin, from every replication) with its 95% band; the exact expected availability per bin where the analytic engine has it, and the steady state.",
        "downtime" => "Down time per year across replications (each replication's average over the window): the histogram, and the same distribution as an exceedance curve on log axes (the fraction of replications with at least x); mean and p95 marked.",
        "convergence" => "The running estimate and its 95% band after each round, as replications (rare-event runs: cycles or trials) accumulate, against the analytic value.",
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
        "reliability" => r.reliability.is_some(),
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
    framed(root, &footer(r), |body| match name {
        "availability" => availability(body, r),
        "downtime" => downtime(body, r),
        "convergence" => convergence(body, r),
        "reliability" => reliability(body, r),
        "data_loss" => data_loss(body, r),
        _ => components(body, r),
    })
}

/// The height of the footer line in pixels.
const FOOTER: u32 = 30;

/// What every plot says at its foot, so that a plot pasted into a document
/// still tells where it came from: scenario, horizon, replications, seed
/// and the availsim version.
fn footer(r: &Report) -> String {
    let s = &r.simulation;
    let mut parts = vec![
        format!("scenario {}", r.scenario),
        format!("horizon {}", super::text::human_hours(s.horizon_hours)),
    ];
    if s.warmup_hours > 0.0 {
        parts.push(format!(
            "warm-up {}",
            super::text::human_hours(s.warmup_hours)
        ));
    }
    parts.push(if s.method == "plain" {
        format!("{} replications", s.replications)
    } else {
        format!("{} cycles or trials, {}", s.replications, s.method)
    });
    parts.push(format!("seed {}", s.seed));
    parts.push(format!("availsim {}", r.version));
    parts.join("  ·  ")
}

/// Fills `root` white, writes `footer` along its foot and draws the plot
/// into the rest.
fn framed<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    footer: &str,
    plot: impl FnOnce(&DrawingArea<DB, Shift>) -> Drawn,
) -> Drawn {
    root.fill(&WHITE).map_err(err)?;
    let (body, foot) = root.split_vertically(SIZE.1 - FOOTER);
    foot.draw(&Text::new(
        footer.to_string(),
        (20, 4),
        (FONT, 15).into_font().color(&BLACK.mix(0.6)),
    ))
    .map_err(err)?;
    plot(&body)
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

/// The axes of one chart: what it states (title, axis names, label
/// formatters, the width of the y labels); everything else (margins, fonts,
/// label areas, mesh) is the same for every plot and lives in
/// [`Frame::build`].
struct Frame<'f, XV, YV> {
    title: String,
    x_desc: String,
    y_desc: String,
    y_area: u32,
    x_fmt: Option<&'f dyn Fn(&XV) -> String>,
    y_fmt: Option<&'f dyn Fn(&YV) -> String>,
    y_labels: Option<usize>,
    y_mesh: bool,
}

impl<'f, XV, YV> Frame<'f, XV, YV> {
    fn new(title: impl Into<String>, x_desc: impl Into<String>, y_desc: impl Into<String>) -> Self {
        Frame {
            title: title.into(),
            x_desc: x_desc.into(),
            y_desc: y_desc.into(),
            y_area: 110,
            x_fmt: None,
            y_fmt: None,
            y_labels: None,
            y_mesh: true,
        }
    }

    /// The width of the y label area in pixels (long labels need more).
    fn y_area(mut self, pixels: u32) -> Self {
        self.y_area = pixels;
        self
    }

    fn x_fmt(mut self, f: &'f dyn Fn(&XV) -> String) -> Self {
        self.x_fmt = Some(f);
        self
    }

    fn y_fmt(mut self, f: &'f dyn Fn(&YV) -> String) -> Self {
        self.y_fmt = Some(f);
        self
    }

    /// One label per category, no horizontal grid lines (bar charts).
    fn categories(mut self, k: usize) -> Self {
        self.y_labels = Some(k);
        self.y_mesh = false;
        self
    }

    /// The chart on `root` over `x` × `y`, its mesh and labels drawn.
    fn build<'a, DB, X, Y>(
        &self,
        root: &'a DrawingArea<DB, Shift>,
        x: X,
        y: Y,
    ) -> Result<Chart<'a, DB, X::CoordDescType, Y::CoordDescType>, String>
    where
        DB: DrawingBackend,
        X: AsRangedCoord<Value = XV>,
        Y: AsRangedCoord<Value = YV>,
        X::CoordDescType: ValueFormatter<XV>,
        Y::CoordDescType: ValueFormatter<YV>,
    {
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 26))
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(self.y_area)
            .build_cartesian_2d(x, y)
            .map_err(err)?;
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 20));
        if let Some(f) = self.x_fmt {
            mesh.x_label_formatter(f);
        }
        if let Some(f) = self.y_fmt {
            mesh.y_label_formatter(f);
        }
        if let Some(k) = self.y_labels {
            mesh.y_labels(k);
        }
        if !self.y_mesh {
            mesh.disable_y_mesh();
        }
        mesh.draw().map_err(err)?;
        Ok(chart)
    }
}

type Chart<'a, DB, X, Y> = ChartContext<'a, DB, Cartesian2d<X, Y>>;

/// A shaded band (a confidence interval) between `low` and `high`, each
/// given left to right, with a legend entry.
fn band<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut Chart<'_, DB, X, Y>,
    low: Vec<(f64, f64)>,
    high: Vec<(f64, f64)>,
    color: RGBAColor,
    label: &str,
) -> Drawn {
    let outline: Vec<(f64, f64)> = low.into_iter().chain(high.into_iter().rev()).collect();
    chart
        .draw_series(std::iter::once(Polygon::new(outline, color)))
        .map_err(err)?
        .label(label)
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], color.filled()));
    Ok(())
}

/// A line through `points` with a legend entry.
fn line<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut Chart<'_, DB, X, Y>,
    points: impl IntoIterator<Item = (f64, f64)>,
    style: ShapeStyle,
    label: impl Into<String>,
) -> Drawn {
    chart
        .draw_series(LineSeries::new(points, style))
        .map_err(err)?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    Ok(())
}

/// Filled bars `[(left, bottom), (right, top)]` with a legend entry.
fn bars<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut Chart<'_, DB, X, Y>,
    rects: impl IntoIterator<Item = [(f64, f64); 2]>,
    color: RGBAColor,
    label: &str,
) -> Drawn {
    chart
        .draw_series(
            rects
                .into_iter()
                .map(|corners| Rectangle::new(corners, color.filled())),
        )
        .map_err(err)?
        .label(label)
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], color.filled()));
    Ok(())
}

/// Vertical marks from `bottom` to `top` at each `(x, label, colour)`.
fn marks<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut Chart<'_, DB, X, Y>,
    marks: Vec<(f64, String, RGBColor)>,
    (bottom, top): (f64, f64),
) -> Drawn {
    for (x, label, color) in marks {
        line(chart, [(x, bottom), (x, top)], color.stroke_width(3), label)?;
    }
    Ok(())
}

fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut Chart<'a, DB, X, Y>,
    position: SeriesLabelPosition,
) -> Drawn {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font((FONT, 16))
        .draw()
        .map_err(err)
}

fn decade_below(x: f64) -> f64 {
    10f64.powf(x.log10().floor())
}

fn decade_above(x: f64) -> f64 {
    // 1 − 0.999 is 0.0010000000000000009: a power of ten stays its own top.
    10f64.powf((x.log10() - 1e-9).ceil())
}

/// The running interval unavailability from the first bin's start to the
/// end of each bin (all down time so far over all time so far): exact from
/// the bins' means, and smooth where single bins are mostly 0.
fn running_unavailability(b: &super::curves::Bins) -> Vec<(f64, f64)> {
    let (mut down, mut time) = (0.0, 0.0);
    b.start_hours
        .iter()
        .zip(&b.end_hours)
        .zip(&b.availability)
        .map(|((&s, &e), &a)| {
            let w = (e - s).max(0.0);
            down += (1.0 - a).max(0.0) * w;
            time += w;
            (e, if time > 0.0 { down / time } else { 0.0 })
        })
        .collect()
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
    let title = format!("Availability over time — {}", r.scenario);
    let x_desc = format!("time ({unit})");
    let steady = analytic_line(r);
    let wilson_band = "95% confidence band (Wilson)";
    if crowded(r) {
        // Unavailability 1 − A(t) on a log scale. An estimate from n
        // replications resolves 1/n, so the floor sits a decade below that
        // (or below the exact value) and is labelled 0.
        let mut lowest = 0.1 / n;
        if let Some((v, _)) = &steady {
            if *v < 1.0 {
                lowest = lowest.min((1.0 - v) / 3.0);
            }
        }
        let floor = decade_below(lowest);
        // The top fits what is drawn: with bins, the point samples and the
        // bins' band (the samples' Wilson band is not drawn then).
        let drawn: Vec<f64> = match &tr.bins {
            Some(b) => points
                .iter()
                .map(|&(_, a, _, _)| 1.0 - a)
                .chain(b.ci95_low.iter().map(|a| 1.0 - a))
                .chain(b.exact.iter().flatten().map(|a| 1.0 - a))
                .collect(),
            None => points.iter().map(|&(_, _, lo, _)| 1.0 - lo).collect(),
        };
        let top = drawn
            .into_iter()
            .chain(steady.as_ref().map(|(v, _)| 1.0 - v))
            .filter(|u| u.is_finite())
            .fold(floor * 10.0, f64::max);
        let top = decade_above(top).min(1.0).max(floor * 10.0);
        let clamp = |u: f64| u.max(floor);
        let zero_at_floor = |v: &f64| {
            if *v <= floor * 1.0001 {
                "0".to_string()
            } else {
                format!("{v:.0e}")
            }
        };
        let mut chart = Frame::new(title, x_desc, "unavailability 1 − A(t) (log scale)")
            .y_fmt(&zero_at_floor)
            .build(root, x0..x1, (floor..top).log_scale())?;
        // The point samples' band spans 0 to several times 1/n at this
        // resolution: drawn only when there are no bins to read instead.
        if tr.bins.is_none() {
            band(
                &mut chart,
                points
                    .iter()
                    .map(|&(t, _, lo, _)| (t, clamp(1.0 - lo)))
                    .collect(),
                points
                    .iter()
                    .map(|&(t, _, _, hi)| (t, clamp(1.0 - hi)))
                    .collect(),
                BLUE_LINE.mix(0.18),
                wilson_band,
            )?;
        }
        // Markers, not a line: at this resolution most estimates are 0 or a
        // few replications, and a line would zigzag between them.
        chart
            .draw_series(points.iter().map(|&(t, a, _, _)| {
                Circle::new((t, clamp(1.0 - a)), 2, BLUE_LINE.mix(0.5).filled())
            }))
            .map_err(err)?
            .label("point samples 1 − A(t) (0 drawn at the floor)")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, BLUE_LINE.filled()));
        if let Some(b) = &tr.bins {
            draw_bins(&mut chart, b, div, |a| clamp(1.0 - a))?;
            line(
                &mut chart,
                running_unavailability(b)
                    .into_iter()
                    .map(|(t, u)| (t / div, clamp(u))),
                GREEN_LINE.stroke_width(2),
                "running unavailability from the start to t",
            )?;
        }
        if let Some((v, label)) = steady {
            let u = clamp(1.0 - v);
            line(
                &mut chart,
                [(x0, u), (x1, u)],
                RED_LINE.stroke_width(2),
                label,
            )?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    } else {
        let low = points.iter().map(|&(_, _, lo, _)| lo).fold(1.0, f64::min);
        let low = steady.as_ref().map_or(low, |(v, _)| low.min(*v));
        let y0 = (low - 0.05 * (1.0 - low)).max(0.0);
        let mut chart =
            Frame::new(title, x_desc, "availability A(t)").build(root, x0..x1, y0..1.0)?;
        band(
            &mut chart,
            points.iter().map(|&(t, _, lo, _)| (t, lo)).collect(),
            points.iter().map(|&(t, _, _, hi)| (t, hi)).collect(),
            BLUE_LINE.mix(0.18),
            wilson_band,
        )?;
        line(
            &mut chart,
            points.iter().map(|&(t, a, _, _)| (t, a)),
            BLUE_LINE.stroke_width(2),
            "point samples A(t)",
        )?;
        if let Some(b) = &tr.bins {
            draw_bins(&mut chart, b, div, |a| a.max(y0))?;
        }
        if let Some((v, label)) = steady {
            line(
                &mut chart,
                [(x0, v), (x1, v)],
                RED_LINE.stroke_width(2),
                label,
            )?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}

/// R(t) with its band and the exact curve where one exists.
fn reliability<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Drawn {
    let Some(rel) = &r.reliability else {
        return Ok(());
    };
    let (div, unit) = time_unit(r.simulation.horizon_hours);
    let x0 = rel.time_hours.first().copied().unwrap_or(0.0) / div;
    let x1 = (rel.time_hours.last().copied().unwrap_or(1.0) / div).max(x0 + 1e-9);
    let mut chart = Frame::new(
        format!(
            "Reliability R(t) = P(no system failure by t) — {}",
            r.scenario
        ),
        format!("time ({unit})"),
        "R(t)",
    )
    .y_area(90)
    .build(root, x0..x1, 0.0..1.0)?;
    let t: Vec<f64> = rel.time_hours.iter().map(|&x| x / div).collect();
    let curve =
        |ys: &[f64]| -> Vec<(f64, f64)> { t.iter().copied().zip(ys.iter().copied()).collect() };
    band(
        &mut chart,
        curve(&rel.ci95_low),
        curve(&rel.ci95_high),
        BLUE_LINE.mix(0.18),
        "95% confidence band (Wilson)",
    )?;
    line(
        &mut chart,
        curve(&rel.survival),
        BLUE_LINE.stroke_width(2),
        "Kaplan–Meier over replications",
    )?;
    if let Some(exact) = &rel.exact {
        line(
            &mut chart,
            curve(exact),
            RED_LINE.stroke_width(2),
            "exact R(t)",
        )?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// The interval availability per bin (a step line at the bins' values,
/// its band) and the exact bin curve, mapped onto the chart's y by `y`.
fn draw_bins<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut Chart<'_, DB, plotters::coord::types::RangedCoordf64, Y>,
    b: &super::curves::Bins,
    div: f64,
    y: impl Fn(f64) -> f64,
) -> Drawn {
    let steps = |values: &[f64]| -> Vec<(f64, f64)> {
        b.start_hours
            .iter()
            .zip(&b.end_hours)
            .zip(values)
            .flat_map(|((&s, &e), &v)| [(s / div, y(v)), (e / div, y(v))])
            .collect()
    };
    band(
        chart,
        steps(&b.ci95_low),
        steps(&b.ci95_high),
        ORANGE.mix(0.2),
        "95% band of the interval availability per bin",
    )?;
    line(
        chart,
        steps(&b.availability),
        ORANGE.stroke_width(2),
        "interval availability per bin (all up time in the bin)",
    )?;
    if let Some(exact) = &b.exact {
        let mids = b
            .start_hours
            .iter()
            .zip(&b.end_hours)
            .zip(exact)
            .map(|((&s, &e), &v)| ((s + e) / 2.0 / div, y(v)));
        line(
            chart,
            mids,
            BLACK.stroke_width(2),
            "exact expected availability per bin (from all up)",
        )?;
    }
    Ok(())
}

/// Down time per year: the histogram SPEC §5 asks for (left) and, as the
/// linear axis spends most of its width on a thin tail, the same
/// distribution as an exceedance curve on log axes (right), where the
/// median and the tail are both readable.
fn downtime<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Drawn {
    let d = &r.downtime_hours_per_year;
    let (Some(h), Some(p95)) = (&d.histogram, d.p95) else {
        return Ok(());
    };
    let (left, right) = root.split_horizontally(SIZE.0 * 9 / 20);
    let top_edge = h.edges.last().copied().unwrap_or(1.0);
    let (div, unit) = duration_unit(top_edge);
    let overflow = if h.overflow > 0 {
        format!(" ({} beyond the axis)", h.overflow)
    } else {
        String::new()
    };
    let marked = || {
        vec![
            (
                d.mean / div,
                format!("mean {}", super::text::human_hours(d.mean)),
                RED_LINE,
            ),
            (
                p95 / div,
                format!("95th percentile {}", super::text::human_hours(p95)),
                ORANGE,
            ),
        ]
    };
    // Histogram.
    let x1 = (top_edge / div).max(p95 / div).max(d.mean / div) * 1.02;
    let y1 = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
    let whole = |v: &f64| format!("{v:.0}");
    let mut chart = Frame::new(
        "Histogram",
        format!("down time per year ({unit}){overflow}"),
        "replications",
    )
    .y_area(80)
    .y_fmt(&whole)
    .build(&left, 0.0..x1.max(1e-9), 0.0..y1)?;
    // Zipped, not indexed: an edited report may have too few edges.
    bars(
        &mut chart,
        h.counts
            .iter()
            .zip(h.edges.windows(2))
            .map(|(&c, e)| [(e[0] / div, 0.0), (e[1] / div, c as f64)]),
        BLUE_LINE.mix(0.7),
        "replications",
    )?;
    marks(&mut chart, marked(), (0.0, y1))?;
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    // Exceedance: the fraction of replications with at least x, at every
    // positive bin edge (exact there, as each bin holds [left, right)).
    let n = (h.counts.iter().sum::<u64>() + h.overflow).max(1) as f64;
    let mut beyond = h.overflow;
    let mut curve: Vec<(f64, f64)> = Vec::new();
    for (&c, &edge) in h.counts.iter().zip(&h.edges).rev() {
        beyond += c;
        if edge > 0.0 && beyond > 0 {
            curve.push((edge / div, beyond as f64 / n));
        }
    }
    curve.reverse();
    let floor = decade_below(0.5 / n);
    let xs = curve
        .iter()
        .map(|p| p.0)
        .chain([d.mean / div, p95 / div])
        .filter(|&x| x > 0.0 && x.is_finite());
    let (lo, hi) = xs.fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
    let (lo, hi) = if lo.is_finite() {
        (decade_below(lo), decade_above(hi * 1.0001))
    } else {
        (0.1, 1.0)
    };
    let fraction = |v: &f64| {
        if *v >= 0.01 {
            format!("{:.0}%", 100.0 * v)
        } else {
            format!("{:.1e}", v)
        }
    };
    let short = |v: &f64| crate::model::dist::significant(*v, 3);
    let mut chart = Frame::new(
        format!("Down time per year — {}", r.scenario),
        format!("down time per year x ({unit}, log scale)"),
        "replications with at least x (log scale)",
    )
    .x_fmt(&short)
    .y_fmt(&fraction)
    .build(&right, (lo..hi).log_scale(), (floor..1.0).log_scale())?;
    chart
        .draw_series(LineSeries::new(
            curve.iter().copied(),
            BLUE_LINE.stroke_width(2),
        ))
        .map_err(err)?
        .label(format!(
            "fraction of {} replications with at least x",
            r.simulation.replications
        ))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE_LINE.stroke_width(2)));
    chart
        .draw_series(curve.iter().map(|&p| Circle::new(p, 3, BLUE_LINE.filled())))
        .map_err(err)?;
    let on_axis: Vec<_> = marked().into_iter().filter(|m| m.0 > 0.0).collect();
    marks(&mut chart, on_axis, (floor, 1.0))?;
    legend(&mut chart, SeriesLabelPosition::LowerLeft)
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
    let title = format!(
        "Data lost per incident, {} incidents — {}",
        d.incidents, r.scenario
    );
    let overflow = if h.overflow > 0 {
        format!(" ({} beyond the axis)", h.overflow)
    } else {
        String::new()
    };
    let mut marked = vec![(
        mean / div,
        format!("mean {}", super::text::human_hours(mean)),
        RED_LINE,
    )];
    let palette = [ORANGE, RGBColor(44, 160, 44), RGBColor(148, 103, 189)];
    for o in r.objectives.iter().flatten() {
        if let Some(rpo) = o.rpo_hours {
            let color = palette[(marked.len() - 1) % palette.len()];
            marked.push((
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
    let whole = |v: &f64| format!("{v:.0}");
    let log = max / min > 100.0;
    // Bars start at the bottom of the axis: 0.5 on the log scale.
    let (y0, y1) = if log {
        (0.5, max * 2.0)
    } else {
        (0.0, max * 1.1)
    };
    let rects: Vec<[(f64, f64); 2]> = h
        .counts
        .iter()
        .zip(h.edges.windows(2))
        .filter(|(&c, _)| c > 0)
        .map(|(&c, e)| [(e[0] / div, y0), (e[1] / div, c as f64)])
        .collect();
    if log {
        let mut chart = Frame::new(title, x_desc, "incidents (log scale)")
            .y_fmt(&whole)
            .build(root, 0.0..x1, (y0..y1).log_scale())?;
        bars(&mut chart, rects, BLUE_LINE.mix(0.7), "incidents")?;
        marks(&mut chart, marked, (y0, y1))?;
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    } else {
        let mut chart =
            Frame::new(title, x_desc, "incidents")
                .y_fmt(&whole)
                .build(root, 0.0..x1, y0..y1)?;
        bars(&mut chart, rects, BLUE_LINE.mix(0.7), "incidents")?;
        marks(&mut chart, marked, (y0, y1))?;
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

fn convergence<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Drawn {
    let c = &r.convergence;
    let crowded = crowded(r);
    if crowded && r.simulation.method == "plain" && spans_decades(r) {
        return convergence_log(root, r);
    }
    let value = |a: f64| if crowded { 1.0 - a } else { a };
    // Against the exact interval value where there is one (the estimate
    // converges to it, not to the steady state).
    let target = analytic_line(r).map(|(v, label)| match r.analytic.interval {
        Some(i) if r.analytic.exact => (i, label.replace("steady state", "interval value")),
        _ => (v, label),
    });
    let mut ys: Vec<f64> = c
        .ci95_low
        .iter()
        .chain(&c.ci95_high)
        .chain(&c.mean)
        .map(|&a| value(a))
        .filter(|y| y.is_finite())
        .collect();
    if let Some((v, _)) = &target {
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
    // A precision run has one point per round (a few dozen at most): each
    // is marked, and the x axis starts at the power of ten below the pilot
    // so that the first rounds have tick labels.
    let per_round = r.simulation.rounds.is_some() && c.replications.len() <= 60;
    let first = c.replications.first().copied().unwrap_or(1).max(1) as f64;
    let x0 = if per_round {
        decade_below(first)
    } else {
        first
    };
    let x1 = (c.replications.last().copied().unwrap_or(2) as f64).max(x0 + 1.0);
    let x_desc = match (r.simulation.method.as_str(), per_round) {
        ("plain", false) => "replications (log scale)",
        ("plain", true) => "replications, one point per round (log scale)",
        _ => "cycles or trials of the rare-event method, one point per round (log scale)",
    };
    // Labels at 1, 2 and 5 times a power of ten only: the log axis's
    // other key points would crowd below each decade.
    let whole = |v: &f64| {
        let m = *v / decade_below(*v);
        if [1.0, 2.0, 5.0, 10.0].iter().any(|k| (m - k).abs() < 1e-6) {
            format!("{v:.0}")
        } else {
            String::new()
        }
    };
    let smallest = ys
        .iter()
        .copied()
        .filter(|&y| y > 0.0)
        .fold(f64::INFINITY, f64::min);
    // Unavailability whose band spans more than a factor 20 (early rounds,
    // a lower end clipped at 0) is read on a log axis; 0 is drawn at its
    // floor.
    if crowded && smallest.is_finite() && y1 > 20.0 * smallest {
        let floor = decade_below(smallest);
        let top = decade_above(y1).max(10.0 * floor);
        let clamp = |y: f64| y.max(floor);
        let label = |v: &f64| {
            if *v <= floor * 1.0001 && y0 <= 0.0 {
                "0".to_string()
            } else {
                format!("{v:.0e}")
            }
        };
        let mut chart = Frame::new(
            format!("Convergence of the estimate — {}", r.scenario),
            x_desc,
            "unavailability 1 − A (log scale)",
        )
        .x_fmt(&whole)
        .y_fmt(&label)
        .build(root, (x0..x1).log_scale(), (floor..top).log_scale())?;
        convergence_series(
            &mut chart,
            r,
            &|a| clamp(value(a)),
            target,
            per_round,
            (x0, x1),
        )
    } else {
        let pad = ((y1 - y0) * 0.05).max(1e-12);
        let (y0, y1) = ((y0 - pad).max(0.0), y1 + pad);
        let y_label = |v: &f64| {
            if crowded {
                format!("{v:.2e}")
            } else {
                format!("{v:.5}")
            }
        };
        let mut chart = Frame::new(
            format!("Convergence of the estimate — {}", r.scenario),
            x_desc,
            if crowded {
                "unavailability 1 − A"
            } else {
                "availability A"
            },
        )
        .y_area(130)
        .x_fmt(&whole)
        .y_fmt(&y_label)
        .build(root, (x0..x1).log_scale(), y0..y1)?;
        convergence_series(&mut chart, r, &value, target, per_round, (x0, x1))
    }
}

/// The convergence plot's band, running estimate (marked at each point of
/// a per-round history), target line and legend, on either y axis.
fn convergence_series<
    'a,
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
>(
    chart: &mut Chart<'a, DB, X, Y>,
    r: &Report,
    value: &dyn Fn(f64) -> f64,
    target: Option<(f64, String)>,
    marked: bool,
    (x0, x1): (f64, f64),
) -> Drawn {
    let c = &r.convergence;
    let pts = |ys: &[f64]| -> Vec<(f64, f64)> {
        c.replications
            .iter()
            .zip(ys)
            .map(|(&n, &a)| (n as f64, value(a)))
            .collect()
    };
    band(
        chart,
        pts(&c.ci95_low),
        pts(&c.ci95_high),
        BLUE_LINE.mix(0.18),
        "95% confidence interval",
    )?;
    line(
        chart,
        pts(&c.mean),
        BLUE_LINE.stroke_width(2),
        if marked {
            "running estimate, after each round"
        } else {
            "running estimate"
        },
    )?;
    if marked {
        chart
            .draw_series(
                pts(&c.mean)
                    .into_iter()
                    .map(|p| Circle::new(p, 4, BLUE_LINE.filled())),
            )
            .map_err(err)?;
    }
    if let Some((v, label)) = target {
        line(
            chart,
            [(x0, value(v)), (x1, value(v))],
            RED_LINE.stroke_width(2),
            label,
        )?;
    }
    legend(chart, SeriesLabelPosition::UpperRight)
}

/// Whether the running unavailability, its band and the exact value span
/// more than a decade (or reach 0): a linear axis from 0 then shows the
/// early band and nothing else (a highly available system).
fn spans_decades(r: &Report) -> bool {
    let c = &r.convergence;
    let us: Vec<f64> = c
        .ci95_high
        .iter()
        .chain(&c.mean)
        .map(|a| 1.0 - a)
        .chain(r.analytic.unavailability)
        .collect();
    let hi = us.iter().copied().fold(0.0, f64::max);
    let lo = us.iter().copied().fold(f64::INFINITY, f64::min);
    hi > 0.0 && (lo <= hi / 10.0 || lo.is_nan())
}

/// The running unavailability on a log scale: the estimate and the upper
/// end of its 95% interval (the lower end is often 0), the exact value;
/// 0 is drawn at the floor, a decade below the smallest positive value.
fn convergence_log<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Drawn {
    let c = &r.convergence;
    let target = analytic_line(r).map(|(v, label)| match r.analytic.interval {
        Some(i) if r.analytic.exact => (i, label.replace("steady state", "interval value")),
        _ => (v, label),
    });
    let u = |a: &f64| 1.0 - a;
    let positive: Vec<f64> = c
        .ci95_high
        .iter()
        .chain(&c.mean)
        .chain(&c.ci95_low)
        .map(u)
        .chain(target.as_ref().map(|(v, _)| 1.0 - v))
        .filter(|&x| x > 0.0 && x.is_finite())
        .collect();
    let lowest = positive.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = positive.iter().copied().fold(0.0, f64::max);
    if !(lowest.is_finite() && highest > 0.0) {
        return Ok(());
    }
    let floor = decade_below(lowest / 3.0);
    let top = decade_above(highest).min(1.0).max(floor * 10.0);
    let clamp = |x: f64| x.clamp(floor, top);
    let zero_at_floor = |v: &f64| {
        if *v <= floor * 1.0001 {
            "0".to_string()
        } else {
            format!("{v:.0e}")
        }
    };
    let x0 = c.replications.first().copied().unwrap_or(1) as f64;
    let x1 = (c.replications.last().copied().unwrap_or(2) as f64).max(x0 + 1.0);
    let whole = |v: &f64| format!("{v:.0}");
    let mut chart = Frame::new(
        format!("Convergence of the estimate — {}", r.scenario),
        "replications (log scale)",
        "unavailability 1 − A (log scale)",
    )
    .x_fmt(&whole)
    .y_fmt(&zero_at_floor)
    .build(root, (x0..x1).log_scale(), (floor..top).log_scale())?;
    let pts = |ys: &[f64]| -> Vec<(f64, f64)> {
        c.replications
            .iter()
            .zip(ys)
            .map(|(&n, a)| (n as f64, clamp(u(a))))
            .collect()
    };
    band(
        &mut chart,
        pts(&c.ci95_low),
        pts(&c.ci95_high),
        BLUE_LINE.mix(0.18),
        "95% confidence interval (0 drawn at the floor)",
    )?;
    line(
        &mut chart,
        pts(&c.mean),
        BLUE_LINE.stroke_width(2),
        "running estimate",
    )?;
    if let Some((v, label)) = target {
        let y = clamp(1.0 - v);
        line(
            &mut chart,
            [(x0, y), (x1, y)],
            RED_LINE.stroke_width(2),
            label,
        )?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
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
    let title = if all.len() > 20 {
        format!(
            "Share of system down time, top 20 of {} — {}",
            all.len(),
            r.scenario
        )
    } else {
        format!("Share of system down time per component — {}", r.scenario)
    };
    // Room below the chart for the caption.
    let (body, note) = root.split_vertically(SIZE.1 - FOOTER - 34);
    let names: Vec<&str> = rows.iter().rev().map(|r| r.0).collect();
    let name_of = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) => names.get(*i as usize).copied().unwrap_or("").to_string(),
        _ => String::new(),
    };
    let mut chart = Frame::new(
        title,
        "share of system down time during which it was down (%)",
        "",
    )
    .y_area((20 + 10 * widest as u32).min(320))
    .y_fmt(&name_of)
    .categories(k)
    .build(&body, 0.0..x1, (0..(k as i32 - 1).max(1)).into_segmented())?;
    note.draw(&Text::new(
        "Instances down together each count the whole outage, so shares add up to more \
         than 100%: a share is coincidence, not cause (see importance in report.json).",
        (20, 6),
        (FONT, 16).into_font().color(&BLACK.mix(0.75)),
    ))
    .map_err(err)?;
    if rows.iter().all(|r| r.1 == 0.0) {
        body.draw(&Text::new(
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
    let footer = points
        .first()
        .map(|p| footer(&p.report))
        .unwrap_or_default();
    let files = write_plot(
        dir,
        "sweep",
        |root| framed(root, &footer, |body| sweep(body, points, path, targets)),
        |root| framed(root, &footer, |body| sweep(body, points, path, targets)),
    )?;
    Ok(files.to_vec())
}

fn sweep<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[crate::sweep::Point],
    path: &str,
    targets: &[f64],
) -> Drawn {
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
    let exact = |p: &crate::sweep::Point| {
        p.report
            .analytic
            .interval
            .or(p.report.analytic.steady_state)
    };
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
    ys.extend(points.iter().filter_map(exact).map(y));
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
    let labels: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
    let numeric = points.iter().all(|p| p.x.is_some());
    let x_label = |v: &f64| {
        if numeric {
            crate::model::dist::significant(*v, 4)
        } else {
            labels.get(v.round() as usize).cloned().unwrap_or_default()
        }
    };
    let mut chart = Frame::new(
        format!("Availability against {path} — {scenario}"),
        path,
        if nines_scale {
            "nines  −log10(1 − A)"
        } else {
            "availability A"
        },
    )
    .x_fmt(&x_label)
    .build(root, (x0 - pad)..(x1 + pad), (y0 - ypad)..top)?;
    let analytic: Vec<(f64, f64)> = points
        .iter()
        .zip(&xs)
        .filter_map(|(p, &x)| exact(p).map(|a| (x, cap(y(a)))))
        .collect();
    if !analytic.is_empty() {
        line(&mut chart, analytic, RED_LINE.stroke_width(2), "analytic")?;
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
        line(
            &mut chart,
            [(x0 - pad, y(t)), (x1 + pad, y(t))],
            color.stroke_width(2),
            format!("target {t}"),
        )?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_power_of_ten_is_its_own_decade_above() {
        assert_eq!(decade_above(1.0 - 0.999), 1e-3);
        assert_eq!(decade_above(1.1e-3), 1e-2);
        assert_eq!(decade_below(2.5e-7), 1e-7);
    }

    #[test]
    fn running_unavailability_weights_bins_by_width() {
        let b = super::super::curves::Bins {
            start_hours: vec![0.0, 1.0, 3.0],
            end_hours: vec![1.0, 3.0, 4.0],
            availability: vec![1.0, 0.9, 0.5],
            ci95_low: vec![1.0, 0.9, 0.5],
            ci95_high: vec![1.0, 0.9, 0.5],
            exact: None,
        };
        let r = running_unavailability(&b);
        let expect = [(1.0, 0.0), (3.0, 0.2 / 3.0), (4.0, 0.7 / 4.0)];
        for ((t, u), (et, eu)) in r.iter().zip(expect) {
            assert_eq!(*t, et);
            assert!((u - eu).abs() < 1e-15, "{u} vs {eu}");
        }
    }
}
