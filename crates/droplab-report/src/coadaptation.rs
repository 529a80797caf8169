//! Plots of hidden units: activation histograms (Srivastava et al. 2014, Figure 8) and
//! first-layer features drawn as images (Figure 7).

use plotters::prelude::*;

use crate::style::{
    PANEL_HEIGHT, ReportError, TITLE_HEIGHT, WIDTH, colour, format_number, house_mesh, legend_box,
    titled_canvas,
};

/// One run's activation histogram: `(lower edge, upper edge, count)` bins.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram<'a> {
    /// The run's name in the legend.
    pub name: &'a str,
    /// The bins, in increasing order of activation.
    pub bins: &'a [(f64, f64, usize)],
}

/// Activation histograms as an SVG document: the fraction of activations per bin (log axis,
/// so the silent units' spike at zero and the tail both show), one line per run.
pub fn activation_histogram_svg(title: &str, runs: &[Histogram]) -> Result<String, ReportError> {
    let pts: Vec<Vec<(f64, f64)>> = runs
        .iter()
        .map(|r| {
            let total: usize = r.bins.iter().map(|b| b.2).sum();
            r.bins
                .iter()
                .filter(|b| b.2 > 0)
                .map(|b| ((b.0 + b.1) / 2.0, b.2 as f64 / total.max(1) as f64))
                .collect()
        })
        .collect();
    let all: Vec<(f64, f64)> = pts.iter().flatten().copied().collect();
    if all.is_empty() {
        return Err(ReportError::NoRuns);
    }
    let x0 = runs
        .iter()
        .flat_map(|r| r.bins.first())
        .map(|b| b.0)
        .fold(f64::INFINITY, f64::min);
    let x1 = runs
        .iter()
        .flat_map(|r| r.bins.last())
        .map(|b| b.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let ymin = all.iter().map(|p| p.1).fold(1.0, f64::min) / 2.0;
    let mut svg = String::new();
    {
        let rest = titled_canvas(&mut svg, (WIDTH, TITLE_HEIGHT + PANEL_HEIGHT + 40), title)?;
        let mut chart = ChartBuilder::on(&rest)
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1.max(x0 + 1e-9), (ymin..1.5).log_scale())?;
        house_mesh(&mut chart.configure_mesh())
            .x_desc("activation")
            .y_desc("fraction of activations (log)")
            .x_labels(10)
            .y_labels(8)
            .x_label_formatter(&|v| format_number(*v))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .draw()?;
        for (i, (r, p)) in runs.iter().zip(&pts).enumerate() {
            let c = colour(i);
            chart
                .draw_series(LineSeries::new(p.iter().copied(), c.stroke_width(2)))?
                .label(r.name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
            chart.draw_series(p.iter().map(|&q| Circle::new(q, 3, c.filled())))?;
        }
        legend_box(&mut chart, SeriesLabelPosition::UpperRight)?;
        rest.present()?;
    }
    Ok(svg)
}

/// First-layer features as an SVG document: the incoming weights of the first `units` hidden
/// units (rows of `weights`, `[units_total, h * w]`) drawn as `h x w` grey images, each scaled
/// to its own range (white high, black low), `cols` per row.
pub fn features_svg(
    title: &str,
    weights: &[f32],
    (h, w): (usize, usize),
    units: usize,
    cols: usize,
) -> Result<String, ReportError> {
    let per = h * w;
    if per == 0 || weights.len() < per {
        return Err(ReportError::NoRuns);
    }
    let units = units.min(weights.len() / per).max(1);
    let cols = cols.clamp(1, units);
    let rows = units.div_ceil(cols);
    let px = (360 / h.max(w)).clamp(2, 24) as i32;
    let gap = 4;
    let tile_w = w as i32 * px + gap;
    let tile_h = h as i32 * px + gap;
    let width = (cols as i32 * tile_w + gap).max(320) as u32;
    let height = TITLE_HEIGHT + (rows as i32 * tile_h + gap) as u32;
    let mut svg = String::new();
    {
        let rest = titled_canvas(&mut svg, (width, height), title)?;
        for u in 0..units {
            let wts = &weights[u * per..(u + 1) * per];
            let (lo, hi) = wts.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, m), &v| {
                (l.min(v), m.max(v))
            });
            let span = (hi - lo).max(1e-12);
            let (ox, oy) = ((u % cols) as i32 * tile_w + gap, (u / cols) as i32 * tile_h + gap);
            for (k, &v) in wts.iter().enumerate() {
                let g = (255.0 * (v - lo) / span).round() as u8;
                let (x, y) = (ox + (k % w) as i32 * px, oy + (k / w) as i32 * px);
                rest.draw(&Rectangle::new(
                    [(x, y), (x + px, y + px)],
                    RGBColor(g, g, g).filled(),
                ))?;
            }
        }
        rest.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_and_features_draw() {
        let a = [(0.0, 0.5, 80), (0.5, 1.0, 15), (1.0, 1.5, 5)];
        let svg = activation_histogram_svg(
            "h",
            &[Histogram {
                name: "dropout",
                bins: &a,
            }],
        )
        .unwrap();
        assert!(svg.contains("dropout"));
        let w: Vec<f32> = (0..4 * 9).map(|i| i as f32).collect();
        let f = features_svg("features", &w, (3, 3), 4, 2).unwrap();
        assert_eq!(
            f.matches("<rect").count() - 1,
            4 * 9,
            "one rectangle per weight, plus the background"
        );
        assert!(features_svg("x", &[1.0], (3, 3), 1, 1).is_err());
    }
}
