//! Reliability diagrams: accuracy against confidence per bin, for one or more predictors.

use plotters::prelude::*;

use crate::style::{
    GREY, PANEL_HEIGHT, ReportError, TITLE_HEIGHT, colour, format_number, house_mesh, legend_box,
    titled_canvas,
};

/// One bin of a reliability diagram.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReliabilityBin {
    /// Mean confidence of the bin's examples.
    pub confidence: f64,
    /// Their accuracy.
    pub accuracy: f64,
    /// Number of examples in the bin.
    pub count: usize,
}

/// One predictor's bins, named for the legend (with its ECE, say).
#[derive(Clone, Debug, PartialEq)]
pub struct Reliability<'a> {
    /// The predictor's name in the legend.
    pub name: &'a str,
    /// The predictor's bins; empty ones are not drawn.
    pub bins: &'a [ReliabilityBin],
}

/// A reliability diagram as an SVG document: each predictor's accuracy against its mean
/// confidence per non-empty bin (marker area grows with the bin's count), and the diagonal of
/// perfect calibration. Points under the diagonal are over-confident.
pub fn reliability_svg(title: &str, series: &[Reliability]) -> Result<String, ReportError> {
    if series.iter().all(|s| s.bins.iter().all(|b| b.count == 0)) {
        return Err(ReportError::NoRuns);
    }
    let total: usize = series
        .iter()
        .flat_map(|s| s.bins)
        .map(|b| b.count)
        .max()
        .unwrap_or(1);
    let side = PANEL_HEIGHT + 120;
    let mut svg = String::new();
    {
        let rest = titled_canvas(&mut svg, (side + 260, TITLE_HEIGHT + side), title)?;
        let mut chart = ChartBuilder::on(&rest)
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        house_mesh(&mut chart.configure_mesh())
            .x_desc("confidence (top-class probability)")
            .y_desc("accuracy")
            .x_labels(11)
            .y_labels(11)
            .x_label_formatter(&|v| format_number(*v))
            .y_label_formatter(&|v| format_number(*v))
            .draw()?;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], GREY.stroke_width(1)))?
            .label("perfect calibration")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], GREY.stroke_width(1)));
        for (i, s) in series.iter().enumerate() {
            let c = colour(i);
            let pts: Vec<(f64, f64, usize)> = s
                .bins
                .iter()
                .filter(|b| b.count > 0 && b.confidence.is_finite() && b.accuracy.is_finite())
                .map(|b| (b.confidence, b.accuracy, b.count))
                .collect();
            chart.draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), c.stroke_width(2)))?;
            chart
                .draw_series(pts.iter().map(|&(x, y, n)| {
                    let r = 3.0 + 9.0 * (n as f64 / total as f64).sqrt();
                    Circle::new((x, y), r as i32, c.mix(0.6).filled())
                }))?
                .label(s.name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
        }
        legend_box(&mut chart, SeriesLabelPosition::UpperLeft)?;
        rest.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_each_predictor_and_the_diagonal() {
        let a = [
            ReliabilityBin {
                confidence: 0.55,
                accuracy: 0.5,
                count: 10,
            },
            ReliabilityBin {
                confidence: 0.95,
                accuracy: 0.9,
                count: 90,
            },
            ReliabilityBin {
                confidence: f64::NAN,
                accuracy: f64::NAN,
                count: 0,
            },
        ];
        let svg = reliability_svg(
            "digits",
            &[
                Reliability {
                    name: "weight scaling",
                    bins: &a,
                },
                Reliability {
                    name: "MC dropout",
                    bins: &a[..2],
                },
            ],
        )
        .unwrap();
        assert!(
            svg.contains("weight scaling")
                && svg.contains("MC dropout")
                && svg.contains("perfect calibration")
        );
        assert!(
            reliability_svg(
                "x",
                &[Reliability {
                    name: "e",
                    bins: &a[2..]
                }]
            )
            .is_err()
        );
    }
}
