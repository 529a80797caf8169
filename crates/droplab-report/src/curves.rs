//! Learning-curve and overfitting-gap plots as self-contained SVG strings.

use droplab::train::EpochMetrics;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, DefaultFormatting, KeyPointHint, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

/// One run to plot: its name (used in the legend), its per-epoch history and its best epoch.
#[derive(Clone, Copy, Debug)]
pub struct Series<'a> {
    /// Legend name of the run, e.g. `"dropout"`.
    pub name: &'a str,
    /// Per-epoch metrics, in epoch order.
    pub history: &'a [EpochMetrics],
    /// The best epoch (1-based, as in [`droplab::train::FitReport::best_epoch`]); an epoch that
    /// is not in `history` (e.g. 0) means "none" and draws no marker.
    pub best_epoch: usize,
}

/// Why a plot could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No runs were given.
    #[error("nothing to plot: no runs were given")]
    NoRuns,
    /// Every run has an empty history.
    #[error("nothing to plot: every run has an empty history")]
    EmptyHistories,
    /// The plotting backend failed.
    #[error("plotting failed: {0}")]
    Plot(String),
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ReportError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        ReportError::Plot(e.to_string())
    }
}

/// Canvas width of every plot, in pixels.
pub(crate) const WIDTH: u32 = 1100;
/// Height of the plot panels (title and legend come on top of it), in pixels.
pub(crate) const PANEL_HEIGHT: u32 = 390;
/// Height of the title strip.
pub(crate) const TITLE_HEIGHT: u32 = 36;
/// Height of one legend row.
const LEGEND_ROW: u32 = 24;
pub(crate) const FONT: &str = "sans-serif";
pub(crate) const TITLE_SIZE: f64 = 24.0;
pub(crate) const CAPTION_SIZE: f64 = 20.0;
pub(crate) const LABEL_SIZE: f64 = 15.0;
pub(crate) const DESC_SIZE: f64 = 17.0;
const LEGEND_SIZE: f64 = 16.0;

/// Tableau-style palette: eight colours that stay distinguishable on white.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x1f, 0x77, 0xb4), // blue
    RGBColor(0xff, 0x7f, 0x0e), // orange
    RGBColor(0x2c, 0xa0, 0x2c), // green
    RGBColor(0xd6, 0x27, 0x28), // red
    RGBColor(0x94, 0x67, 0xbd), // purple
    RGBColor(0x8c, 0x56, 0x4b), // brown
    RGBColor(0xe3, 0x77, 0xc2), // pink
    RGBColor(0x17, 0xbe, 0xcf), // cyan
];
pub(crate) const GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);
pub(crate) const GRID: RGBColor = RGBColor(0xe6, 0xe6, 0xe6);
pub(crate) const GRID_BOLD: RGBColor = RGBColor(0xcc, 0xcc, 0xcc);

pub(crate) fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

type Area<'b> = DrawingArea<SVGBackend<'b>, Shift>;

/// Learning curves of `runs` as an SVG document: accuracy (left) and loss (right) against the
/// epoch, train dashed and validation solid, one colour per run.
///
/// The best epoch of each run is marked with a filled circle on its validation curves and named
/// in the legend (`"dropout (best 37)"`); a run without a validation set gets an open circle on
/// its train curves instead. Non-finite values (NaN without a validation set, infinities after a
/// divergence) are skipped, breaking the line. The loss axis is logarithmic when every plotted
/// loss is positive and they span more than a factor of 10, linear otherwise.
///
/// Fails with [`ReportError::NoRuns`] / [`ReportError::EmptyHistories`] when there is nothing
/// to draw; a run with an empty history among others is only listed in the legend.
pub fn learning_curves_svg(title: &str, runs: &[Series]) -> Result<String, ReportError> {
    check_runs(runs)?;
    let legend = legend_entries(runs, true);
    let mut svg = String::new();
    {
        let (plots, legend_area) = canvas(&mut svg, title, &legend)?;
        let panels = plots.split_evenly((1, 2));

        let accuracy = [Metric::TrainAccuracy, Metric::ValAccuracy];
        let (lo, hi) = linear_range(values(runs, &accuracy), Some((0.0, 1.0)));
        let mut chart = panel(&panels[0], "accuracy", runs, lo..hi)?;
        mesh(&mut chart, "accuracy")?;
        draw_runs(&mut chart, runs, &accuracy)?;

        let loss = [Metric::TrainLoss, Metric::ValLoss];
        let loss_values: Vec<f64> = values(runs, &loss).collect();
        if use_log_scale(&loss_values) {
            let (lo, hi) = log_range(&loss_values);
            let mut chart = panel(&panels[1], "loss", runs, (lo..hi).log_scale())?;
            mesh(&mut chart, "loss (log scale)")?;
            draw_runs(&mut chart, runs, &loss)?;
        } else {
            let (lo, hi) = linear_range(loss_values.into_iter(), None);
            let mut chart = panel(&panels[1], "loss", runs, lo..hi)?;
            mesh(&mut chart, "loss")?;
            draw_runs(&mut chart, runs, &loss)?;
        }

        draw_legend(&legend_area, &legend)?;
        legend_area.present()?;
    }
    Ok(svg)
}

/// The overfitting gap (`train_accuracy - val_accuracy`) per epoch as an SVG document, one
/// solid line per run, the best epoch marked with a filled circle, a thin line at zero.
///
/// Runs without a validation set have no gap and appear only in the legend. Fails like
/// [`learning_curves_svg`] when there is nothing to draw.
pub fn gap_svg(title: &str, runs: &[Series]) -> Result<String, ReportError> {
    check_runs(runs)?;
    let legend = legend_entries(runs, false);
    let mut svg = String::new();
    {
        let (plots, legend_area) = canvas(&mut svg, title, &legend)?;
        let gap = [Metric::Gap];
        let (lo, hi) = linear_range(values(runs, &gap).chain([0.0]), None);
        let mut chart = panel(&plots, "train accuracy - validation accuracy", runs, lo..hi)?;
        mesh(&mut chart, "overfitting gap")?;
        let x = chart.x_range();
        chart.draw_series(LineSeries::new(
            [(x.start, 0.0), (x.end, 0.0)],
            GREY.stroke_width(1),
        ))?;
        draw_runs(&mut chart, runs, &gap)?;
        draw_legend(&legend_area, &legend)?;
        legend_area.present()?;
    }
    Ok(svg)
}

fn check_runs(runs: &[Series]) -> Result<(), ReportError> {
    if runs.is_empty() {
        return Err(ReportError::NoRuns);
    }
    if runs.iter().all(|r| r.history.is_empty()) {
        return Err(ReportError::EmptyHistories);
    }
    Ok(())
}

/// A per-epoch quantity to plot.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Metric {
    TrainAccuracy,
    ValAccuracy,
    TrainLoss,
    ValLoss,
    Gap,
}

impl Metric {
    fn of(self, m: &EpochMetrics) -> f64 {
        match self {
            Metric::TrainAccuracy => m.train_accuracy,
            Metric::ValAccuracy => m.val_accuracy,
            Metric::TrainLoss => m.train_loss,
            Metric::ValLoss => m.val_loss,
            Metric::Gap => m.train_accuracy - m.val_accuracy,
        }
    }

    /// Train curves are dashed; validation curves (and the gap) are solid.
    fn dashed(self) -> bool {
        matches!(self, Metric::TrainAccuracy | Metric::TrainLoss)
    }
}

/// Every finite value of `metrics` over all runs.
fn values<'a>(runs: &'a [Series], metrics: &'a [Metric]) -> impl Iterator<Item = f64> + 'a {
    runs.iter()
        .flat_map(|r| r.history.iter())
        .flat_map(move |m| metrics.iter().map(move |k| k.of(m)))
        .filter(|v| v.is_finite())
}

/// The runs of consecutive finite points of `metric`: a non-finite value breaks the line.
fn segments(history: &[EpochMetrics], metric: Metric) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for m in history {
        let v = metric.of(m);
        if v.is_finite() {
            cur.push((m.epoch as f64, v));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The first and last epoch over all runs.
fn epoch_bounds(runs: &[Series]) -> (f64, f64) {
    let epochs = runs.iter().flat_map(|r| r.history.iter().map(|m| m.epoch));
    let lo = epochs.clone().min().unwrap_or(1);
    let hi = epochs.max().unwrap_or(1);
    (lo as f64, hi as f64)
}

/// The epoch axis: the epochs over all runs with a little room on both sides (so markers on
/// the first and last epochs are not clipped), ticks at whole epochs in steps of 1, 2, 5, 10...
fn epoch_axis(runs: &[Series]) -> EpochAxis {
    let (lo, hi) = epoch_bounds(runs);
    let span = hi - lo;
    let pad = if span > 0.0 { (span * 0.015).max(0.15) } else { 1.0 };
    let mut step = 1.0;
    'search: loop {
        for m in [1.0, 2.0, 5.0] {
            if span / (step * m) <= 10.0 {
                step *= m;
                break 'search;
            }
        }
        step *= 10.0;
    }
    let first = (lo / step).ceil() as u64;
    let last = (hi / step).floor() as u64;
    let ticks = (first..=last).map(|k| k as f64 * step).collect();
    EpochAxis {
        inner: ((lo - pad)..(hi + pad)).into(),
        ticks,
    }
}

/// A linear f64 axis with the given ticks (and no minor grid lines). Plotters'
/// `WithKeyPoints<RangedCoordf64>` would do, but it lacks the formatter `configure_mesh` needs.
#[derive(Clone)]
struct EpochAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ranged for EpochAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

/// A padded linear range over `values` (finite), clamped to `bounds` when the data lie inside.
pub(crate) fn linear_range(values: impl Iterator<Item = f64>, bounds: Option<(f64, f64)>) -> (f64, f64) {
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        // No finite values at all: an empty panel.
        return bounds.unwrap_or((0.0, 1.0));
    }
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.06
    } else {
        lo.abs().max(1.0) * 0.05
    };
    let inside = bounds.is_some_and(|(b0, b1)| lo >= b0 && hi <= b1);
    lo -= pad;
    hi += pad;
    if let (true, Some((b0, b1))) = (inside, bounds) {
        lo = lo.max(b0);
        hi = hi.min(b1);
    }
    (lo, hi)
}

/// Log scale for losses that are all positive and span more than one decade.
fn use_log_scale(values: &[f64]) -> bool {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    !values.is_empty() && lo > 0.0 && hi / lo > 10.0
}

/// A padded log range over positive `values`.
pub(crate) fn log_range(values: &[f64]) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let pad = (hi / lo).powf(0.04);
    (lo / pad, hi * pad)
}

/// Sets up the canvas: white background, the title on top, the plot area and the legend strip.
fn canvas<'b>(
    svg: &'b mut String,
    title: &str,
    legend: &[LegendEntry],
) -> Result<(Area<'b>, Area<'b>), ReportError> {
    let rows = legend_rows(legend, WIDTH as f64 - 40.0).len() as u32;
    let legend_height = rows * LEGEND_ROW + 12;
    let height = TITLE_HEIGHT + PANEL_HEIGHT + legend_height;
    let rest = titled_canvas(svg, (WIDTH, height), title)?;
    let (plots, legend_area) = rest.split_vertically(PANEL_HEIGHT);
    Ok((plots, legend_area))
}

/// A white canvas of `size` pixels with `title` centred in a strip on top; returns the area
/// below the strip.
pub(crate) fn titled_canvas<'b>(
    svg: &'b mut String,
    size: (u32, u32),
    title: &str,
) -> Result<Area<'b>, ReportError> {
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    root.fill(&WHITE)?;
    let (title_area, rest) = root.split_vertically(TITLE_HEIGHT);
    let (w, h) = title_area.dim_in_pixel();
    let style = (FONT, TITLE_SIZE)
        .into_font()
        .style(FontStyle::Bold)
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    title_area.draw(&Text::new(
        title.to_owned(),
        (w as i32 / 2, h as i32 / 2 + 4),
        style,
    ))?;
    Ok(rest)
}

/// The house style of every chart's grid, ticks and axis descriptions.
pub(crate) fn house_mesh<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    m: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    m.label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, DESC_SIZE))
        .bold_line_style(GRID_BOLD.stroke_width(1))
        .light_line_style(GRID.stroke_width(1))
        .max_light_lines(1)
        .axis_style(GREY.stroke_width(1))
}

/// The legend of a chart's labelled series in a framed box at `position`.
pub(crate) fn legend_box<'a, 'b: 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<(), ReportError> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, LABEL_SIZE))
        .background_style(WHITE.mix(0.9))
        .border_style(GREY)
        .draw()?;
    Ok(())
}

type Chart<'a, 'b, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<EpochAxis, Y>>;

/// A chart on `area` with the epoch on x and `y` on y.
fn panel<'a, 'b, S: AsRangedCoord<Value = f64>>(
    area: &'a Area<'b>,
    caption: &str,
    runs: &[Series],
    y: S,
) -> Result<Chart<'a, 'b, S::CoordDescType>, ReportError> {
    let chart = ChartBuilder::on(area)
        .caption(caption, (FONT, CAPTION_SIZE))
        .margin_left(12)
        .margin_right(24)
        .margin_top(4)
        .margin_bottom(4)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(epoch_axis(runs), y)?;
    Ok(chart)
}

/// Grid, ticks and axis descriptions.
fn mesh<Y>(chart: &mut Chart<'_, '_, Y>, y_desc: &str) -> Result<(), ReportError>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    house_mesh(&mut chart.configure_mesh())
        .x_desc("epoch")
        .y_desc(y_desc)
        .x_labels(10)
        .y_labels(8)
        .x_label_formatter(&|e| format!("{e:.0}"))
        .y_label_formatter(&|v| format_number(*v))
        .draw()?;
    Ok(())
}

/// The curves of every run for `metrics`, then the best-epoch markers on top.
fn draw_runs<Y>(chart: &mut Chart<'_, '_, Y>, runs: &[Series], metrics: &[Metric]) -> Result<(), ReportError>
where
    Y: Ranged<ValueType = f64>,
{
    for (i, run) in runs.iter().enumerate() {
        let style = colour(i).stroke_width(2);
        for &metric in metrics {
            for seg in segments(run.history, metric) {
                if seg.len() == 1 {
                    chart.draw_series(seg.iter().map(|&p| Circle::new(p, 2, style.filled())))?;
                } else if metric.dashed() {
                    chart.draw_series(DashedLineSeries::new(seg, 7, 5, style))?;
                } else {
                    chart.draw_series(LineSeries::new(seg, style))?;
                }
            }
        }
    }
    for (i, run) in runs.iter().enumerate() {
        let Some(best) = run.history.iter().find(|m| m.epoch == run.best_epoch) else {
            continue;
        };
        let x = best.epoch as f64;
        let has_val = has_validation(run.history);
        for &metric in metrics {
            let v = metric.of(best);
            if !v.is_finite() {
                continue;
            }
            if !metric.dashed() {
                chart.draw_series([
                    Circle::new((x, v), 6, WHITE.filled()),
                    Circle::new((x, v), 5, colour(i).filled()),
                ])?;
            } else if !has_val {
                chart.draw_series([Circle::new((x, v), 5, colour(i).stroke_width(2))])?;
            }
        }
    }
    Ok(())
}

/// Whether any epoch has a finite validation metric.
fn has_validation(history: &[EpochMetrics]) -> bool {
    history
        .iter()
        .any(|m| m.val_loss.is_finite() || m.val_accuracy.is_finite())
}

/// A tick label: up to four significant digits, scientific for very large or small values.
pub(crate) fn format_number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_finite() { "0".into() } else { String::new() };
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.0e}");
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// What a legend entry's key looks like.
#[derive(Clone, Copy, Debug)]
enum Key {
    /// A dashed line (train curves).
    Dashed(RGBColor),
    /// A solid line (validation curves).
    Solid(RGBColor),
    /// A filled circle (best epoch).
    Marker(RGBColor),
    /// An open circle (best epoch of a run without a validation set).
    OpenMarker(RGBColor),
    /// A solid line with a filled circle: a run.
    Run(RGBColor),
}

#[derive(Clone, Debug)]
struct LegendEntry {
    key: Key,
    label: String,
}

const KEY_WIDTH: f64 = 34.0;
const KEY_GAP: f64 = 8.0;
const ENTRY_GAP: f64 = 26.0;

impl LegendEntry {
    fn width(&self) -> f64 {
        KEY_WIDTH + KEY_GAP + text_width(&self.label, LEGEND_SIZE)
    }
}

/// A generous estimate of the rendered width of `text` (plotters' SVG font size is `size / 1.24`,
/// and an average sans-serif glyph is about 0.6 em wide).
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size / 1.24 * 0.6
}

fn legend_entries(runs: &[Series], style_keys: bool) -> Vec<LegendEntry> {
    let mut out = Vec::new();
    if style_keys {
        out.push(LegendEntry {
            key: Key::Dashed(GREY),
            label: "train".into(),
        });
        out.push(LegendEntry {
            key: Key::Solid(GREY),
            label: "validation".into(),
        });
    }
    out.push(LegendEntry {
        key: Key::Marker(GREY),
        label: "best epoch".into(),
    });
    let train_only = |r: &Series| !r.history.is_empty() && !has_validation(r.history);
    if style_keys && runs.iter().any(train_only) {
        out.push(LegendEntry {
            key: Key::OpenMarker(GREY),
            label: "best epoch (no validation set)".into(),
        });
    }
    for (i, run) in runs.iter().enumerate() {
        let label = if run.history.is_empty() {
            format!("{} (no epochs)", run.name)
        } else if !style_keys && train_only(run) {
            format!("{} (no validation set)", run.name)
        } else if run.history.iter().any(|m| m.epoch == run.best_epoch) {
            format!("{} (best {})", run.name, run.best_epoch)
        } else {
            run.name.to_owned()
        };
        out.push(LegendEntry {
            key: Key::Run(colour(i)),
            label,
        });
    }
    out
}

/// Greedy wrapping of the entries into rows no wider than `width`.
fn legend_rows(entries: &[LegendEntry], width: f64) -> Vec<&[LegendEntry]> {
    let mut rows = Vec::new();
    let mut start = 0;
    let mut used = 0.0;
    for (i, e) in entries.iter().enumerate() {
        let w = e.width();
        if i > start && used + ENTRY_GAP + w > width {
            rows.push(&entries[start..i]);
            start = i;
            used = w;
        } else {
            used += if i > start { ENTRY_GAP + w } else { w };
        }
    }
    if start < entries.len() {
        rows.push(&entries[start..]);
    }
    rows
}

/// Draws the legend: rows of entries, each row centred.
fn draw_legend(area: &Area<'_>, entries: &[LegendEntry]) -> Result<(), ReportError> {
    let (w, _) = area.dim_in_pixel();
    let text_style = (FONT, LEGEND_SIZE)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (r, row) in legend_rows(entries, w as f64 - 40.0).iter().enumerate() {
        let total: f64 = row.iter().map(LegendEntry::width).sum::<f64>() + ENTRY_GAP * (row.len() - 1) as f64;
        let mut x = ((w as f64 - total) / 2.0).max(0.0);
        let y = (r as u32 * LEGEND_ROW + LEGEND_ROW / 2 + 4) as i32;
        for e in row.iter() {
            let (x0, x1, xm) = (x as i32, (x + KEY_WIDTH) as i32, (x + KEY_WIDTH / 2.0) as i32);
            match e.key {
                Key::Dashed(c) => {
                    area.draw(&PathElement::new(vec![(x0, y), (x0 + 10, y)], c.stroke_width(2)))?;
                    area.draw(&PathElement::new(
                        vec![(x0 + 15, y), (x0 + 25, y)],
                        c.stroke_width(2),
                    ))?;
                    area.draw(&PathElement::new(vec![(x0 + 30, y), (x1, y)], c.stroke_width(2)))?;
                }
                Key::Solid(c) => {
                    area.draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(2)))?;
                }
                Key::Marker(c) => area.draw(&Circle::new((xm, y), 5, c.filled()))?,
                Key::OpenMarker(c) => area.draw(&Circle::new((xm, y), 5, c.stroke_width(2)))?,
                Key::Run(c) => {
                    area.draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(3)))?;
                    area.draw(&Circle::new((xm, y), 5, c.filled()))?;
                }
            }
            area.draw(&Text::new(
                e.label.clone(),
                ((x + KEY_WIDTH + KEY_GAP) as i32, y),
                text_style.clone(),
            ))?;
            x += e.width() + ENTRY_GAP;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(e: usize, train_acc: f64, val_acc: f64, train_loss: f64, val_loss: f64) -> EpochMetrics {
        EpochMetrics {
            epoch: e,
            train_loss,
            train_accuracy: train_acc,
            train_loss_running: train_loss * 1.1,
            val_loss,
            val_accuracy: val_acc,
            gap: train_acc - val_acc,
            penalty: 0.0,
            lr: 0.1,
            seconds: 0.5,
        }
    }

    /// A run that overfits: train loss keeps falling, validation loss turns up after `turn`.
    fn overfitting(n: usize, turn: usize, rate: f64) -> Vec<EpochMetrics> {
        (1..=n)
            .map(|e| {
                let t = e as f64;
                let train_loss = 2.3 * (-rate * t).exp();
                let val_loss = 2.3 * (-rate * t.min(turn as f64)).exp() + 0.01 * (t - turn as f64).max(0.0);
                let train_acc = 1.0 - 0.9 * (-rate * t).exp();
                let val_acc =
                    1.0 - 0.9 * (-rate * t.min(turn as f64)).exp() - 0.002 * (t - turn as f64).max(0.0);
                epoch(e, train_acc, val_acc, train_loss, val_loss)
            })
            .collect()
    }

    /// No validation set: val_* are NaN.
    fn no_validation(n: usize) -> Vec<EpochMetrics> {
        (1..=n)
            .map(|e| {
                let t = e as f64;
                epoch(e, 1.0 - 0.8 / t, f64::NAN, 1.5 / t, f64::NAN)
            })
            .collect()
    }

    fn fill_hex(i: usize) -> String {
        let RGBColor(r, g, b) = colour(i);
        format!("fill=\"#{r:02X}{g:02X}{b:02X}\"")
    }

    /// Filled circles of run `i`'s colour.
    fn markers(svg: &str, i: usize) -> usize {
        let fill = fill_hex(i);
        svg.lines()
            .filter(|l| l.starts_with("<circle") && l.contains(&fill))
            .count()
    }

    fn assert_well_formed(svg: &str) {
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<svg").count(), 1);
        // Self-contained: no external references.
        assert!(!svg.contains("href"));
        assert!(!svg.contains("url("));
        let lower = svg.to_lowercase();
        assert!(!lower.contains("nan"), "NaN leaked into the SVG");
        assert!(!lower.contains("inf"), "infinity leaked into the SVG");
        // Balanced text elements.
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    }

    #[test]
    fn learning_curves_contain_names_labels_and_markers() {
        let a = overfitting(40, 25, 0.12);
        let b = overfitting(40, 12, 0.2);
        let c = no_validation(30);
        let runs = [
            Series {
                name: "dropout",
                history: &a,
                best_epoch: 25,
            },
            Series {
                name: "no dropout",
                history: &b,
                best_epoch: 12,
            },
            Series {
                name: "no val & <escaped>",
                history: &c,
                best_epoch: 30,
            },
        ];
        let svg = learning_curves_svg("MNIST: dropout vs none", &runs).unwrap();
        assert_well_formed(&svg);
        assert!(svg.contains("MNIST: dropout vs none"));
        for label in [
            "dropout (best 25)",
            "no dropout (best 12)",
            "accuracy",
            "loss",
            "epoch",
        ] {
            assert!(svg.contains(label), "missing {label:?}");
        }
        assert!(svg.contains("no val &amp; &lt;escaped&gt; (best 30)"));
        assert!(svg.contains("train") && svg.contains("validation"));
        // Runs with a validation set: a filled marker on each panel plus the legend key.
        assert_eq!(markers(&svg, 0), 3);
        assert_eq!(markers(&svg, 1), 3);
        // The run without one: only the legend key is filled (its marker is an open circle).
        assert_eq!(markers(&svg, 2), 1);
        // Loss from 2.3 down to ~0.02 spans two decades: log scale.
        assert!(svg.contains("loss (log scale)"));
    }

    #[test]
    fn loss_with_zeros_uses_a_linear_axis() {
        let mut h = overfitting(10, 5, 0.3);
        h[9].train_loss = 0.0;
        h[3].val_loss = f64::INFINITY;
        h[4].val_accuracy = f64::NAN;
        let runs = [Series {
            name: "zero",
            history: &h,
            best_epoch: 5,
        }];
        let svg = learning_curves_svg("zeros", &runs).unwrap();
        assert_well_formed(&svg);
        assert!(!svg.contains("log scale"));
        // Best epoch 5 has a NaN validation accuracy: only the loss marker (plus legend key).
        assert_eq!(markers(&svg, 0), 2);
    }

    #[test]
    fn empty_inputs_are_errors_not_panics() {
        assert!(matches!(learning_curves_svg("t", &[]), Err(ReportError::NoRuns)));
        let runs = [Series {
            name: "empty",
            history: &[],
            best_epoch: 0,
        }];
        assert!(matches!(
            learning_curves_svg("t", &runs),
            Err(ReportError::EmptyHistories)
        ));
        assert!(matches!(gap_svg("t", &runs), Err(ReportError::EmptyHistories)));
        // An empty run among others is only listed.
        let h = overfitting(5, 3, 0.2);
        let runs = [
            Series {
                name: "empty",
                history: &[],
                best_epoch: 0,
            },
            Series {
                name: "full",
                history: &h,
                best_epoch: 3,
            },
        ];
        let svg = learning_curves_svg("t", &runs).unwrap();
        assert_well_formed(&svg);
        assert!(svg.contains("empty (no epochs)"));
    }

    #[test]
    fn single_epoch_and_all_nan() {
        let one = vec![epoch(1, 0.5, 0.4, 1.0, 1.2)];
        let nan = vec![epoch(1, f64::NAN, f64::NAN, f64::NAN, f64::NAN); 1];
        let runs = [
            Series {
                name: "one",
                history: &one,
                best_epoch: 1,
            },
            Series {
                name: "all missing",
                history: &nan,
                best_epoch: 1,
            },
        ];
        let svg = learning_curves_svg("one epoch", &runs).unwrap();
        assert_well_formed(&svg);
        let svg = gap_svg("one epoch", &runs).unwrap();
        assert_well_formed(&svg);
    }

    #[test]
    fn gap_plot_has_one_line_per_run() {
        let a = overfitting(30, 10, 0.15);
        let b = overfitting(30, 20, 0.15);
        let c = no_validation(30);
        let runs = [
            Series {
                name: "p=0.5",
                history: &a,
                best_epoch: 10,
            },
            Series {
                name: "p=0.2",
                history: &b,
                best_epoch: 20,
            },
            Series {
                name: "train only",
                history: &c,
                best_epoch: 30,
            },
        ];
        let svg = gap_svg("overfitting gap", &runs).unwrap();
        assert_well_formed(&svg);
        for name in [
            "p=0.5 (best 10)",
            "p=0.2 (best 20)",
            "train only (no validation set)",
            "overfitting gap",
        ] {
            assert!(svg.contains(name), "missing {name:?}");
        }
        let stroke = |i: usize| fill_hex(i).replace("fill", "stroke");
        let lines = |i: usize| {
            svg.lines()
                .filter(|l| l.starts_with("<polyline") && l.contains(&stroke(i)))
                .count()
        };
        // One polyline per run with a gap (the legend keys are two-point polylines too).
        assert_eq!(lines(0), 2);
        assert_eq!(lines(1), 2);
        assert_eq!(lines(2), 1);
        assert_eq!(markers(&svg, 0), 2);
        assert_eq!(markers(&svg, 1), 2);
    }

    #[test]
    fn epoch_ticks() {
        let ticks = |n: usize, first: usize| {
            let h: Vec<_> = (first..=n).map(|e| epoch(e, 0.5, 0.5, 1.0, 1.0)).collect();
            let runs = [Series {
                name: "r",
                history: &h,
                best_epoch: 0,
            }];
            epoch_axis(&runs).ticks
        };
        assert_eq!(ticks(60, 1), [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
        assert_eq!(ticks(8, 1), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        assert_eq!(ticks(15, 1), [2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]);
        assert_eq!(ticks(5, 5), [5.0]);
        assert_eq!(ticks(300, 1).len(), 6);
    }

    #[test]
    fn tick_numbers() {
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(0.95), "0.95");
        assert_eq!(format_number(0.125), "0.125");
        assert_eq!(format_number(2.0), "2");
        assert_eq!(format_number(12.5), "12.5");
        assert_eq!(format_number(1e-5), "1e-5");
        assert_eq!(format_number(-0.05), "-0.05");
    }

    /// Not a test: writes examples (curves.svg, gap.svg, edge.svg) to the temp directory for eyeballing.
    #[test]
    #[ignore]
    fn write_example() {
        let a = overfitting(60, 37, 0.1);
        let b = overfitting(60, 15, 0.18);
        let c = no_validation(45);
        let d = overfitting(50, 30, 0.07);
        let runs = [
            Series {
                name: "dropout",
                history: &a,
                best_epoch: 37,
            },
            Series {
                name: "no dropout",
                history: &b,
                best_epoch: 15,
            },
            Series {
                name: "dropout, no validation set",
                history: &c,
                best_epoch: 45,
            },
            Series {
                name: "dropout + max-norm",
                history: &d,
                best_epoch: 30,
            },
        ];
        std::fs::write(
            std::env::temp_dir().join("curves.svg"),
            learning_curves_svg("MLP 784-800-800-10 on MNIST", &runs).unwrap(),
        )
        .unwrap();
        std::fs::write(
            std::env::temp_dir().join("gap.svg"),
            gap_svg("Overfitting gap", &runs).unwrap(),
        )
        .unwrap();
        let mut z = overfitting(8, 4, 0.3);
        z[7].train_loss = 0.0;
        z[2].val_loss = f64::NAN;
        z[2].val_accuracy = f64::NAN;
        let one = vec![epoch(1, 0.5, 0.4, 1.0, 1.2)];
        let runs = [
            Series {
                name: "zeros and a NaN",
                history: &z,
                best_epoch: 4,
            },
            Series {
                name: "one epoch",
                history: &one,
                best_epoch: 1,
            },
        ];
        std::fs::write(
            std::env::temp_dir().join("edge.svg"),
            learning_curves_svg("edge cases", &runs).unwrap(),
        )
        .unwrap();
    }
}
