//! The house style of every plot: sizes, fonts and colours, the titled canvas, the mesh and
//! legend box, axis ranges (linear and logarithmic) and number formatting, and the error a
//! plot can fail with.

use plotters::chart::MeshStyle;
use plotters::coord::Shift;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
pub(crate) const LEGEND_ROW: u32 = 24;
pub(crate) const FONT: &str = "sans-serif";
pub(crate) const TITLE_SIZE: f64 = 24.0;
pub(crate) const CAPTION_SIZE: f64 = 20.0;
pub(crate) const LABEL_SIZE: f64 = 15.0;
pub(crate) const DESC_SIZE: f64 = 17.0;
pub(crate) const LEGEND_SIZE: f64 = 16.0;

/// Tableau-style palette: eight colours that stay distinguishable on white.
pub(crate) const PALETTE: [RGBColor; 8] = [
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

pub(crate) type Area<'b> = DrawingArea<SVGBackend<'b>, Shift>;

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
pub(crate) fn use_log_scale(values: &[f64]) -> bool {
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

/// A tick label: up to four significant digits, scientific for very large or small values.
/// A tick label of an axis spanning `lo..hi`: [`format_number`], with as many more decimals
/// as ticks a tenth of the span apart need to read differently (a loss axis over
/// 1.8860..1.8880 gives 1.8865 and 1.887, not 1.887 twice).
pub(crate) fn tick_label(v: f64, lo: f64, hi: f64) -> String {
    let step = (hi - lo).abs() / 10.0;
    let a = v.abs();
    if !(step > 0.0 && step.is_finite() && v.is_finite()) || (a != 0.0 && !(1e-3..1e5).contains(&a)) {
        return format_number(v);
    }
    let need = 1 - step.log10().floor() as i32;
    let base = if a == 0.0 { 0 } else { 3 - a.log10().floor() as i32 };
    let decimals = need.max(base).clamp(0, 9) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_a_tenth_of_the_span_apart_read_differently() {
        // The loss axis that printed 1.887, 1.887, 1.886.
        let labels: Vec<String> = [1.8860, 1.8865, 1.8870, 1.8875]
            .iter()
            .map(|&v| tick_label(v, 1.886, 1.888))
            .collect();
        assert_eq!(labels, ["1.886", "1.8865", "1.887", "1.8875"]);
        // Wide spans keep four significant digits, as format_number.
        assert_eq!(tick_label(0.25, 0.0, 1.0), "0.25");
        assert_eq!(tick_label(1234.6, 0.0, 5000.0), "1235");
        assert_eq!(tick_label(0.0, -1.0, 1.0), "0");
    }
}
