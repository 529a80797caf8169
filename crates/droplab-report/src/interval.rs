//! Means with intervals: one or more series of points with error bars, against a numeric
//! axis (a sweep) or against named categories (the arms of an experiment).

use plotters::prelude::*;

use crate::style::{
    PANEL_HEIGHT, ReportError, TITLE_HEIGHT, WIDTH, colour, format_number, house_mesh, legend_box,
    linear_range, log_range, tick_label, titled_canvas,
};

/// A mean and its interval at `x`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Position on the x axis (a category's index when plotting categories).
    pub x: f64,
    /// The mean.
    pub mean: f64,
    /// Lower end of the interval.
    pub lo: f64,
    /// Upper end of the interval.
    pub hi: f64,
}

/// A named series of intervals.
#[derive(Clone, Debug, PartialEq)]
pub struct IntervalSeries<'a> {
    /// The series' name in the legend.
    pub name: &'a str,
    /// The series' points.
    pub points: &'a [Interval],
}

/// Means with error bars as an SVG document. With `categories`, x is the index of a category
/// and the axis shows the names (series side by side, unconnected); otherwise the points of a
/// series are joined in x order, on a log axis when `log_x`.
pub fn interval_svg(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[IntervalSeries],
    categories: Option<&[String]>,
    log_x: bool,
) -> Result<String, ReportError> {
    let finite = |p: &&Interval| p.mean.is_finite() && p.x.is_finite() && (!log_x || p.x > 0.0);
    let xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().filter(finite).map(|p| p.x))
        .collect();
    if xs.is_empty() {
        return Err(ReportError::NoRuns);
    }
    let ys = series.iter().flat_map(|s| {
        s.points
            .iter()
            .filter(finite)
            .flat_map(|p| [p.mean, p.lo, p.hi])
            .filter(|v| v.is_finite())
    });
    let (y0, y1) = linear_range(ys, None);
    let n_series = series.len().max(1) as f64;
    // Series side by side within a category.
    let offset = |i: usize| {
        if categories.is_some() {
            (i as f64 - (n_series - 1.0) / 2.0) * 0.12
        } else {
            0.0
        }
    };
    let mut svg = String::new();
    {
        let area = titled_canvas(&mut svg, (WIDTH, TITLE_HEIGHT + PANEL_HEIGHT + 40), title)?;
        let mut b = ChartBuilder::on(&area);
        b.margin_left(12)
            .margin_right(24)
            .margin_top(8)
            .margin_bottom(8)
            .x_label_area_size(52)
            .y_label_area_size(80);
        macro_rules! draw {
            ($chart:expr, $fmt:expr, $labels:expr) => {{
                let mut chart = $chart;
                house_mesh(&mut chart.configure_mesh())
                    .x_desc(x_desc)
                    .y_desc(y_desc)
                    .x_labels($labels)
                    .y_labels(8)
                    .x_label_formatter($fmt)
                    .y_label_formatter(&|v| tick_label(*v, y0, y1))
                    .draw()?;
                for (i, s) in series.iter().enumerate() {
                    let c = colour(i);
                    let mut pts: Vec<Interval> = s.points.iter().filter(finite).copied().collect();
                    pts.sort_by(|a, b| a.x.total_cmp(&b.x));
                    let dx = offset(i);
                    if categories.is_none() {
                        chart.draw_series(LineSeries::new(
                            pts.iter().map(|p| (p.x, p.mean)),
                            c.mix(0.6).stroke_width(2),
                        ))?;
                    }
                    chart.draw_series(
                        pts.iter()
                            .filter(|p| p.lo.is_finite() && p.hi.is_finite())
                            .map(|p| {
                                ErrorBar::new_vertical(p.x + dx, p.lo, p.mean, p.hi, c.stroke_width(2), 10)
                            }),
                    )?;
                    chart
                        .draw_series(
                            pts.iter()
                                .map(|p| Circle::new((p.x + dx, p.mean), 5, c.filled())),
                        )?
                        .label(s.name)
                        .legend(move |(x, y)| Circle::new((x + 8, y), 5, c.filled()));
                }
                legend_box(&mut chart, SeriesLabelPosition::UpperRight)?;
            }};
        }
        match categories {
            Some(names) => {
                let n = names.len().max(1);
                let names = names.to_vec();
                let fmt = move |v: &f64| {
                    let i = v.round();
                    if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                        names[i as usize].clone()
                    } else {
                        String::new()
                    }
                };
                draw!(
                    b.build_cartesian_2d(-0.6..(n as f64 - 0.4), y0..y1)?,
                    &fmt,
                    n * 2 + 1
                );
            }
            None if log_x => {
                let (x0, x1) = log_range(&xs);
                draw!(
                    b.build_cartesian_2d((x0..x1).log_scale(), y0..y1)?,
                    &|v: &f64| format_number(*v),
                    8
                );
            }
            None => {
                let (x0, x1) = linear_range(xs.iter().copied(), None);
                draw!(
                    b.build_cartesian_2d(x0..x1, y0..y1)?,
                    &|v: &f64| format_number(*v),
                    8
                );
            }
        }
        area.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_sweeps_draw() {
        let pts = [
            Interval {
                x: 0.0,
                mean: 1.0,
                lo: 0.5,
                hi: 1.5,
            },
            Interval {
                x: 1.0,
                mean: 2.0,
                lo: 1.8,
                hi: 2.2,
            },
        ];
        let s = [IntervalSeries {
            name: "arm",
            points: &pts,
        }];
        let names = ["none".to_string(), "dropout".to_string()];
        let svg = interval_svg("t", "x", "y", &s, Some(&names), false).unwrap();
        assert!(svg.contains("dropout") && svg.contains("none") && svg.contains("<svg"));
        let sweep = [
            Interval {
                x: 100.0,
                mean: 1.0,
                lo: f64::NAN,
                hi: f64::NAN,
            },
            Interval {
                x: 1000.0,
                mean: 2.0,
                lo: 1.0,
                hi: 3.0,
            },
        ];
        let s = [IntervalSeries {
            name: "gain",
            points: &sweep,
        }];
        assert!(interval_svg("t", "n", "y", &s, None, true).is_ok());
        let empty = [IntervalSeries {
            name: "e",
            points: &[],
        }];
        assert!(interval_svg("t", "n", "y", &empty, None, false).is_err());
    }
}
