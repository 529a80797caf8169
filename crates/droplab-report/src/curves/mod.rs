//! Learning-curve and overfitting-gap plots as self-contained SVG strings (the house style
//! is in `style.rs`).

use droplab::train::EpochMetrics;
use plotters::coord::ranged1d::{AsRangedCoord, DefaultFormatting, KeyPointHint, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

use crate::style::*;

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

/// One configuration trained with several seeds: its name and each seed's history.
#[derive(Clone, Debug)]
pub struct SeedRuns<'a> {
    /// Legend name of the configuration.
    pub name: &'a str,
    /// Each seed's per-epoch metrics.
    pub histories: Vec<&'a [EpochMetrics]>,
}

/// Validation accuracy (left) and validation loss (right) per epoch of several configurations,
/// each drawn as the mean over its seeds (a line) inside the range of its seeds (a shaded
/// band), so that configurations that coincide stay visible as overlapping bands rather than
/// hiding each other's lines. Epochs that not every seed reached are left out.
pub fn band_curves_svg(title: &str, configs: &[SeedRuns]) -> Result<String, ReportError> {
    // Per configuration and epoch: (epoch, mean, min, max) of each metric.
    type Stats = Vec<(f64, f64, f64, f64)>;
    let stats = |c: &SeedRuns, metric: Metric| -> Stats {
        let n = c.histories.iter().map(|h| h.len()).min().unwrap_or(0);
        (0..n)
            .map(|e| {
                let v: Vec<f64> = c
                    .histories
                    .iter()
                    .map(|h| metric.of(&h[e]))
                    .filter(|v| v.is_finite())
                    .collect();
                let k = v.len().max(1) as f64;
                let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                ((e + 1) as f64, v.iter().sum::<f64>() / k, lo, hi)
            })
            .filter(|t| t.1.is_finite())
            .collect()
    };
    let acc: Vec<Stats> = configs.iter().map(|c| stats(c, Metric::ValAccuracy)).collect();
    let loss: Vec<Stats> = configs.iter().map(|c| stats(c, Metric::ValLoss)).collect();
    if acc.iter().all(|a| a.is_empty()) {
        return Err(ReportError::EmptyHistories);
    }
    // The epoch axis from the longest configuration (panel() reads it from runs' histories).
    let longest = configs
        .iter()
        .flat_map(|c| c.histories.iter())
        .max_by_key(|h| h.len())
        .copied()
        .unwrap_or(&[]);
    let axis = [Series {
        name: "",
        history: longest,
        best_epoch: 0,
    }];
    let legend: Vec<LegendEntry> = configs
        .iter()
        .enumerate()
        .map(|(i, c)| LegendEntry {
            key: Key::Run(colour(i)),
            label: format!("{} (mean; band: range over {} seeds)", c.name, c.histories.len()),
        })
        .collect();
    let mut svg = String::new();
    {
        let (plots, legend_area) = canvas(&mut svg, title, &legend)?;
        let panels = plots.split_evenly((1, 2));
        for (k, (data, caption)) in [(&acc, "validation accuracy"), (&loss, "validation loss")]
            .into_iter()
            .enumerate()
        {
            let all = data.iter().flatten().flat_map(|t| [t.2, t.3]);
            let (lo, hi) = linear_range(all, if k == 0 { Some((0.0, 1.0)) } else { None });
            let mut chart = panel(&panels[k], caption, &axis, lo..hi)?;
            mesh(&mut chart, caption)?;
            for (i, d) in data.iter().enumerate() {
                if d.is_empty() {
                    continue;
                }
                let c = colour(i);
                let mut band: Vec<(f64, f64)> = d.iter().map(|t| (t.0, t.3)).collect();
                band.extend(d.iter().rev().map(|t| (t.0, t.2)));
                chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.18).filled())))?;
                chart.draw_series(LineSeries::new(d.iter().map(|t| (t.0, t.1)), c.stroke_width(2)))?;
            }
        }
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
    let span = chart.y_range();
    house_mesh(&mut chart.configure_mesh())
        .x_desc("epoch")
        .y_desc(y_desc)
        .x_labels(10)
        .y_labels(8)
        .x_label_formatter(&|e| format!("{e:.0}"))
        .y_label_formatter(&|v| tick_label(*v, span.start, span.end))
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
mod tests;
