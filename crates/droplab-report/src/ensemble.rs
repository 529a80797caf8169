//! Error against the number of averaged networks (Srivastava et al. 2014, Figure 11).

use plotters::prelude::*;

use crate::style::{
    GREY, PANEL_HEIGHT, ReportError, TITLE_HEIGHT, WIDTH, colour, format_number, house_mesh, legend_box,
    linear_range, titled_canvas,
};

/// One averaging method: `(k, error in percent)` points.
#[derive(Clone, Debug, PartialEq)]
pub struct KCurve<'a> {
    /// The method's name in the legend.
    pub name: &'a str,
    /// The `(k, error in percent)` points.
    pub points: &'a [(f64, f64)],
}

/// Test error against the number of averaged networks `k` (log axis) as an SVG document: one
/// line per averaging method, a dashed horizontal line per reference (the weight-scaled
/// network), and grey dots for single networks at `k = 1`.
pub fn error_vs_k_svg(
    title: &str,
    curves: &[KCurve],
    references: &[(&str, f64)],
    singles: &[f64],
) -> Result<String, ReportError> {
    let xs: Vec<f64> = curves.iter().flat_map(|c| c.points.iter().map(|p| p.0)).collect();
    if xs.is_empty() {
        return Err(ReportError::NoRuns);
    }
    let x_hi = xs.iter().copied().fold(1.0, f64::max) * 1.25;
    let ys = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .chain(references.iter().map(|r| r.1))
        .chain(singles.iter().copied())
        .filter(|v| v.is_finite());
    let (y0, y1) = linear_range(ys, None);
    let mut svg = String::new();
    {
        let rest = titled_canvas(&mut svg, (WIDTH, TITLE_HEIGHT + PANEL_HEIGHT + 60), title)?;
        let mut chart = ChartBuilder::on(&rest)
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(72)
            .build_cartesian_2d((0.8..x_hi).log_scale(), y0..y1)?;
        house_mesh(&mut chart.configure_mesh())
            .x_desc("networks averaged (k)")
            .y_desc("test error (%)")
            .x_labels(10)
            .y_labels(8)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format_number(*v))
            .draw()?;
        if !singles.is_empty() {
            chart
                .draw_series(
                    singles
                        .iter()
                        .map(|&e| Circle::new((1.0, e), 2, GREY.mix(0.5).filled())),
                )?
                .label("single thinned networks")
                .legend(|(x, y)| Circle::new((x + 10, y), 3, GREY.filled()));
        }
        for (i, c) in curves.iter().enumerate() {
            let col = colour(i);
            chart
                .draw_series(LineSeries::new(c.points.iter().copied(), col.stroke_width(2)))?
                .label(c.name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], col.stroke_width(2)));
            chart.draw_series(c.points.iter().map(|&p| Circle::new(p, 3, col.filled())))?;
        }
        for (j, &(name, v)) in references.iter().enumerate() {
            let col = colour(curves.len() + j);
            let dashes: Vec<Vec<(f64, f64)>> = (0..40)
                .filter(|d| d % 2 == 0)
                .map(|d| {
                    let a = 0.8 * (x_hi / 0.8f64).powf(d as f64 / 40.0);
                    let b = 0.8 * (x_hi / 0.8f64).powf((d + 1) as f64 / 40.0);
                    vec![(a, v), (b, v)]
                })
                .collect();
            for (di, seg) in dashes.into_iter().enumerate() {
                let s = chart.draw_series(LineSeries::new(seg, col.stroke_width(2)))?;
                if di == 0 {
                    s.label(name)
                        .legend(move |(x, y)| PathElement::new([(x, y), (x + 8, y)], col.stroke_width(2)));
                }
            }
        }
        legend_box(&mut chart, SeriesLabelPosition::UpperRight)?;
        rest.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_curves_references_and_singles() {
        let a = [(1.0, 5.0), (10.0, 3.0), (100.0, 2.5)];
        let svg = error_vs_k_svg(
            "digits",
            &[KCurve {
                name: "arithmetic mean",
                points: &a,
            }],
            &[("weight scaling", 2.6)],
            &[4.8, 5.3],
        )
        .unwrap();
        assert!(
            svg.contains("arithmetic mean")
                && svg.contains("weight scaling")
                && svg.contains("single thinned")
        );
        assert!(error_vs_k_svg("x", &[], &[], &[]).is_err());
    }
}
