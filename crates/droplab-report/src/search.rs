//! Plots of a hyperparameter search: the validation curve of one parameter, the search
//! history, and the trials in parallel coordinates.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::style::{
    CAPTION_SIZE, FONT, GREY, PANEL_HEIGHT, ReportError, TITLE_HEIGHT, WIDTH, colour, format_number,
    house_mesh, legend_box, linear_range, log_range, titled_canvas,
};

/// One trial on a validation curve: the parameter's value, the mean cross-validation score,
/// its standard deviation over folds, and the mean gap (training score minus validation score).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    /// The parameter's value.
    pub x: f64,
    /// Mean cross-validation score.
    pub mean: f64,
    /// Standard deviation of the score over folds.
    pub std: f64,
    /// Mean training score minus mean validation score.
    pub gap: f64,
}

/// One trial of a search, in the order it was created.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistoryPoint {
    /// The trial's number.
    pub trial: usize,
    /// Mean CV score; `None` for a failed trial.
    pub score: Option<f64>,
    /// Pruned trials are drawn as crosses and do not count for the best-so-far line.
    pub pruned: bool,
}

type Area<'b> = DrawingArea<SVGBackend<'b>, Shift>;

fn titled<'b>(svg: &'b mut String, title: &str) -> Result<Area<'b>, ReportError> {
    titled_canvas(svg, (WIDTH, TITLE_HEIGHT + PANEL_HEIGHT + 20), title)
}

/// The validation curve of one parameter as an SVG document: the mean CV score (`metric`
/// names it on the axes: `accuracy` gives "validation accuracy") with fold error bars (one standard deviation) on the left, the
/// overfitting gap on the right, both against the parameter (a log axis when `log_x`). The
/// best mean is ringed. When only this parameter varies, the points are joined in its order;
/// when `others_vary` (the search has other parameters), joining them would draw a zigzag
/// that reads as a curve, so the points stand alone and a trend is drawn instead: the mean of
/// the points in each of up to six equal bins of the axis (log bins on a log axis).
pub fn validation_curve_svg(
    title: &str,
    param: &str,
    metric: &str,
    points: &[CurvePoint],
    log_x: bool,
    others_vary: bool,
) -> Result<String, ReportError> {
    let pts: Vec<CurvePoint> = points
        .iter()
        .copied()
        .filter(|p| p.x.is_finite() && p.mean.is_finite() && (!log_x || p.x > 0.0))
        .collect();
    if pts.is_empty() {
        return Err(ReportError::NoRuns);
    }
    let mut sorted = pts.clone();
    sorted.sort_by(|a, b| a.x.total_cmp(&b.x));
    let xs: Vec<f64> = sorted.iter().map(|p| p.x).collect();
    let best = pts
        .iter()
        .copied()
        .max_by(|a, b| a.mean.total_cmp(&b.mean))
        .expect("non-empty");
    let mut svg = String::new();
    {
        let area = titled(&mut svg, title)?;
        let panels = area.split_evenly((1, 2));
        // A score far below all the others (a rate that breaks training) would squash the
        // range where the choice is made: such points are drawn at the foot of the axis, marked
        // and labelled with their value.
        let floor = off_scale_floor(&pts.iter().map(|p| p.mean).collect::<Vec<_>>());
        let on_scale = |m: f64| floor.is_none_or(|f| m >= f);
        let score_vals = pts
            .iter()
            .filter(|p| on_scale(p.mean))
            .flat_map(|p| [p.mean - p.std, p.mean + p.std]);
        let (lo, hi) = linear_range(score_vals, None);
        let gap_vals = pts.iter().map(|p| p.gap).filter(|g| g.is_finite()).chain([0.0]);
        let (glo, ghi) = linear_range(gap_vals, None);
        let score_desc = format!("validation {metric}");
        let gap_desc = format!("train {metric} - validation {metric}");
        let score_caption = match (others_vary, floor.is_some()) {
            (true, _) => "mean CV score, +- 1 sd over folds; the line: binned trend",
            (false, true) => "mean CV score, +- 1 sd; lower ones at the foot",
            (false, false) => "mean CV score, +- 1 sd over folds",
        };
        let gap_caption = if others_vary {
            "overfitting gap; the line: binned trend"
        } else {
            "overfitting gap"
        };
        let specs: [(&str, &str, (f64, f64)); 2] = [
            (score_caption, &score_desc, (lo, hi)),
            (gap_caption, &gap_desc, (glo, ghi)),
        ];
        for (k, (caption, y_desc, (y0, y1))) in specs.into_iter().enumerate() {
            let (x0, x1) = if log_x {
                log_range(&xs)
            } else {
                linear_range(xs.iter().copied(), None)
            };
            let mut b = ChartBuilder::on(&panels[k]);
            b.caption(caption, (FONT, CAPTION_SIZE))
                .margin_left(12)
                .margin_right(24)
                .margin_top(4)
                .margin_bottom(8)
                .x_label_area_size(52)
                .y_label_area_size(72);
            // Off-scale scores sit at the foot of the axis.
            let points: Vec<(f64, f64)> = sorted
                .iter()
                .map(|p| {
                    (
                        p.x,
                        if k == 0 {
                            if on_scale(p.mean) { p.mean } else { y0 }
                        } else {
                            p.gap
                        },
                    )
                })
                .filter(|(_, y)| y.is_finite())
                .collect();
            let line = if others_vary {
                binned_trend(&points, log_x, 6)
            } else {
                points.clone()
            };
            macro_rules! draw {
                ($chart:expr) => {{
                    let mut chart = $chart;
                    house_mesh(&mut chart.configure_mesh())
                        .x_desc(param)
                        .y_desc(y_desc)
                        .x_labels(8)
                        .y_labels(8)
                        .x_label_formatter(&|v| format_number(*v))
                        .y_label_formatter(&|v| format_number(*v))
                        .draw()?;
                    let c = colour(k * 3);
                    if k == 1 {
                        chart.draw_series(LineSeries::new(
                            [(x0, 0.0), (x1, 0.0)],
                            GREY.stroke_width(1),
                        ))?;
                    }
                    let width = if others_vary { 2 } else { 1 };
                    chart.draw_series(LineSeries::new(
                        line.clone(),
                        c.mix(0.5).stroke_width(width),
                    ))?;
                    if k == 0 {
                        chart.draw_series(sorted.iter().filter(|p| on_scale(p.mean)).map(|p| {
                            ErrorBar::new_vertical(
                                p.x,
                                p.mean - p.std,
                                p.mean,
                                p.mean + p.std,
                                c.stroke_width(1),
                                8,
                            )
                        }))?;
                        chart.draw_series(std::iter::once(Circle::new(
                            (best.x, best.mean),
                            9,
                            BLACK.stroke_width(2),
                        )))?;
                    }
                    chart.draw_series(
                        points
                            .iter()
                            .map(|&(x, y)| Circle::new((x, y), 4, c.filled())),
                    )?;
                    if k == 0 {
                        for p in sorted.iter().filter(|p| !on_scale(p.mean)) {
                            chart.draw_series(std::iter::once(TriangleMarker::new(
                                (p.x, y0),
                                7,
                                BLACK.filled(),
                            )))?;
                            chart.draw_series(std::iter::once(Text::new(
                                format!("{} \u{2193}", format_number(p.mean)),
                                (p.x, y0 + 0.12 * (y1 - y0)),
                                (FONT, 13)
                                    .into_font()
                                    .color(&BLACK)
                                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
                            )))?;
                        }
                    }
                }};
            }
            if log_x {
                draw!(b.build_cartesian_2d((x0..x1).log_scale(), y0..y1)?);
            } else {
                draw!(b.build_cartesian_2d(x0..x1, y0..y1)?);
            }
        }
        area.present()?;
    }
    Ok(svg)
}

/// The lowest score still drawn to scale, when the lowest ones lie far below the rest: while at
/// most a third of the points are set aside, the lowest remaining point is set aside if its gap
/// to the next exceeds three times the spread of the points above it. `None` when none is.
fn off_scale_floor(means: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = means.iter().copied().filter(|m| m.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n < 4 {
        return None;
    }
    let mut k = 0;
    while k < n / 3 {
        let rest = &v[k + 1..];
        let spread = rest[rest.len() - 1] - rest[0];
        if spread > 0.0 && rest[0] - v[k] > 3.0 * spread {
            k += 1;
        } else {
            break;
        }
    }
    (k > 0).then(|| v[k])
}

/// The trend of scattered `(x, y)` points: the mean of the points in each of up to `bins`
/// equal bins of x (of log x when `log_x`), at the mean x of each bin, in order.
fn binned_trend(points: &[(f64, f64)], log_x: bool, bins: usize) -> Vec<(f64, f64)> {
    let t = |x: f64| if log_x { x.ln() } else { x };
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(x, _)| {
            (a.min(t(x)), b.max(t(x)))
        });
    if points.is_empty() || hi <= lo {
        let n = points.len().max(1) as f64;
        let (sx, sy) = points.iter().fold((0.0, 0.0), |(a, b), &(x, y)| (a + x, b + y));
        return if points.is_empty() {
            Vec::new()
        } else {
            vec![(sx / n, sy / n)]
        };
    }
    let mut sums = vec![(0.0, 0.0, 0usize); bins];
    for &(x, y) in points {
        let k = (((t(x) - lo) / (hi - lo) * bins as f64) as usize).min(bins - 1);
        sums[k] = (sums[k].0 + x, sums[k].1 + y, sums[k].2 + 1);
    }
    sums.into_iter()
        .filter(|s| s.2 > 0)
        .map(|(sx, sy, n)| (sx / n as f64, sy / n as f64))
        .collect()
}

/// The search history as an SVG document: each trial's mean CV score against its number
/// (pruned trials as crosses, in the legend only when there are any), and the best score so far
/// as a step line; `metric` names the score on the axis (`accuracy`: "mean CV accuracy").
pub fn search_history_svg(title: &str, metric: &str, points: &[HistoryPoint]) -> Result<String, ReportError> {
    let scored: Vec<(f64, f64, bool)> = points
        .iter()
        .filter_map(|p| {
            p.score
                .filter(|s| s.is_finite())
                .map(|s| (p.trial as f64, s, p.pruned))
        })
        .collect();
    if scored.is_empty() {
        return Err(ReportError::NoRuns);
    }
    let mut best = f64::NEG_INFINITY;
    let mut steps = Vec::new();
    for &(t, s, pruned) in &scored {
        if !pruned && s > best {
            if best.is_finite() {
                steps.push((t, best));
            }
            best = s;
        }
        if best.is_finite() {
            steps.push((t, best));
        }
    }
    let n = points.iter().map(|p| p.trial).max().unwrap_or(0) as f64;
    let mut svg = String::new();
    {
        let area = titled(&mut svg, title)?;
        let (y0, y1) = linear_range(scored.iter().map(|p| p.1), None);
        let mut chart = ChartBuilder::on(&area)
            .margin_left(12)
            .margin_right(24)
            .margin_top(8)
            .margin_bottom(8)
            .x_label_area_size(52)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.5..n + 0.5, y0..y1)?;
        house_mesh(&mut chart.configure_mesh())
            .x_desc("trial")
            .y_desc(format!("mean CV {metric}"))
            .x_labels(12)
            .y_labels(8)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format_number(*v))
            .draw()?;
        chart
            .draw_series(LineSeries::new(steps, colour(3).stroke_width(2)))?
            .label("best so far")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], colour(3).stroke_width(2)));
        chart
            .draw_series(
                scored
                    .iter()
                    .filter(|p| !p.2)
                    .map(|&(t, s, _)| Circle::new((t, s), 4, colour(0).filled())),
            )?
            .label("trial")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, colour(0).filled()));
        if scored.iter().any(|p| p.2) {
            chart
                .draw_series(
                    scored
                        .iter()
                        .filter(|p| p.2)
                        .map(|&(t, s, _)| Cross::new((t, s), 5, GREY.stroke_width(2))),
                )?
                .label("pruned")
                .legend(|(x, y)| Cross::new((x + 10, y), 5, GREY.stroke_width(2)));
        }
        legend_box(&mut chart, SeriesLabelPosition::LowerRight)?;
        area.present()?;
    }
    Ok(svg)
}

/// One axis of a parallel-coordinates plot: a searched parameter (or the score).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis<'a> {
    /// The axis name, written under it.
    pub name: &'a str,
    /// Values are spaced by their logarithm (a log-uniform range).
    pub log: bool,
    /// The names of category `0, 1, ...` when the values are category indices.
    pub categories: &'a [String],
}

/// The trials of a search as a parallel-coordinates plot (Optuna's view): one vertical axis
/// per parameter and a last one for the score (`metric`), each trial a line through its values,
/// coloured from light (worst score) to dark (best), the best trial drawn last and thickest.
/// Each axis spans its own values (log-spaced where `log`), with its extremes written at its
/// ends. `rows` are `(values, score)` with one value per axis but the score's.
pub fn parallel_coordinates_svg(
    title: &str,
    axes: &[Axis],
    metric: &str,
    rows: &[(Vec<f64>, f64)],
) -> Result<String, ReportError> {
    let rows: Vec<&(Vec<f64>, f64)> = rows
        .iter()
        .filter(|(v, s)| s.is_finite() && v.len() == axes.len() && v.iter().all(|x| x.is_finite()))
        .collect();
    if rows.is_empty() || axes.is_empty() {
        return Err(ReportError::NoRuns);
    }
    let score_axis = format!("{metric} (mean over folds)");
    let mut all: Vec<Axis> = axes.to_vec();
    all.push(Axis {
        name: &score_axis,
        log: false,
        categories: &[],
    });
    let columns: Vec<Vec<f64>> = (0..all.len())
        .map(|k| {
            rows.iter()
                .map(|(v, s)| {
                    let x = if k < axes.len() { v[k] } else { *s };
                    if all[k].log && x > 0.0 { x.ln() } else { x }
                })
                .collect()
        })
        .collect();
    let spans: Vec<(f64, f64)> = columns
        .iter()
        .map(|c| {
            c.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            })
        })
        .collect();
    let unit = |k: usize, x: f64| {
        let (lo, hi) = spans[k];
        if hi > lo { (x - lo) / (hi - lo) } else { 0.5 }
    };
    let show = |k: usize, x: f64| {
        let v = if all[k].log { x.exp() } else { x };
        match all[k].categories.get(v.round().max(0.0) as usize) {
            Some(c) if !all[k].categories.is_empty() => c.clone(),
            _ => format_number(v),
        }
    };
    // Worst first, best last: the best lines stay on top.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| rows[a].1.total_cmp(&rows[b].1));
    let (light, dark) = (RGBColor(198, 219, 239), colour(0));
    let mut svg = String::new();
    {
        let area = titled(&mut svg, title)?;
        let n = all.len() as f64;
        // Side margins wide enough for the outer axes' names, centred under them.
        let mut chart = ChartBuilder::on(&area)
            .margin_left(110)
            .margin_right(110)
            .margin_top(24)
            .margin_bottom(48)
            .build_cartesian_2d(-0.05..(n - 1.0) + 0.05, -0.02..1.02)?;
        for (rank, &i) in order.iter().enumerate() {
            let t = if order.len() > 1 {
                rank as f64 / (order.len() - 1) as f64
            } else {
                1.0
            };
            let mix = |a: u8, b: u8| (a as f64 + t * (b as f64 - a as f64)).round() as u8;
            let c = RGBColor(mix(light.0, dark.0), mix(light.1, dark.1), mix(light.2, dark.2));
            let best = rank + 1 == order.len();
            let line: Vec<(f64, f64)> = (0..all.len())
                .map(|k| (k as f64, unit(k, columns[k][i])))
                .collect();
            chart.draw_series(LineSeries::new(line, c.stroke_width(if best { 3 } else { 1 })))?;
        }
        let style = (FONT, 13).into_font().color(&BLACK);
        // Chart coordinates are the whole document's; text on `area` is relative to it.
        let base = area.get_base_pixel();
        let at = |p: (i32, i32)| (p.0 - base.0, p.1 - base.1);
        for k in 0..all.len() {
            let x = k as f64;
            chart.draw_series(LineSeries::new([(x, 0.0), (x, 1.0)], BLACK.stroke_width(1)))?;
            let (lo, hi) = spans[k];
            let (top, bottom) = (
                at(chart.backend_coord(&(x, 1.0))),
                at(chart.backend_coord(&(x, 0.0))),
            );
            area.draw_text(
                &show(k, hi),
                &style.pos(Pos::new(HPos::Center, VPos::Bottom)),
                (top.0, top.1 - 4),
            )?;
            area.draw_text(
                &show(k, lo),
                &style.pos(Pos::new(HPos::Center, VPos::Top)),
                (bottom.0, bottom.1 + 4),
            )?;
            area.draw_text(
                all[k].name,
                &(FONT, CAPTION_SIZE)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
                (bottom.0, bottom.1 + 22),
            )?;
        }
        area.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_curve_draws_every_point_and_error_bar() {
        let pts: Vec<CurvePoint> = (0..5)
            .map(|i| CurvePoint {
                x: 0.1 * (i + 1) as f64,
                mean: 0.9 + 0.01 * i as f64,
                std: 0.01,
                gap: 0.05 - 0.01 * i as f64,
            })
            .collect();
        let svg = validation_curve_svg("digits", "dropout.hidden", "accuracy", &pts, false, false).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("dropout.hidden") && svg.contains("validation accuracy"));
        assert!(svg.matches("<circle").count() >= 10, "points on both panels");
        let log = validation_curve_svg("digits", "l2", "accuracy", &pts, true, true).unwrap();
        assert!(log.contains("l2") && log.contains("binned trend"));
        assert!(validation_curve_svg("x", "p", "m", &[], false, false).is_err());
    }

    #[test]
    fn parallel_coordinates_draw_a_line_per_trial_and_name_every_axis() {
        let cats = vec!["adam".to_string(), "sgd".to_string()];
        let axes = [
            Axis {
                name: "dropout.hidden",
                log: false,
                categories: &[],
            },
            Axis {
                name: "lr",
                log: true,
                categories: &[],
            },
            Axis {
                name: "optimizer",
                log: false,
                categories: &cats,
            },
        ];
        let rows = vec![
            (vec![0.1, 1e-3, 0.0], 0.90),
            (vec![0.5, 1e-1, 1.0], 0.95),
            (vec![0.3, 1e-2, 1.0], 0.93),
            (vec![0.3, f64::NAN, 1.0], 0.99),
        ];
        let svg = parallel_coordinates_svg("study", &axes, "accuracy", &rows).unwrap();
        // 3 trials (the NaN one is left out) and 4 axis lines.
        assert_eq!(svg.matches("<polyline").count(), 3 + 4, "{svg}");
        for label in [
            "dropout.hidden",
            "lr",
            "optimizer",
            "accuracy (mean over folds)",
            "adam",
            "sgd",
        ] {
            assert!(svg.contains(label), "{label}");
        }
        assert!(parallel_coordinates_svg("s", &axes, "accuracy", &[]).is_err());
    }

    #[test]
    fn a_score_far_below_the_rest_is_set_aside_and_marked() {
        // Claim 7 on MNIST: 0.921 at rate 0.8 against 0.965-0.972 elsewhere.
        let means = [0.969, 0.971, 0.9717, 0.9716, 0.972, 0.9713, 0.969, 0.965, 0.921];
        assert_eq!(off_scale_floor(&means), Some(0.965));
        // Spread evenly: nothing is set aside.
        assert_eq!(off_scale_floor(&[0.5, 0.6, 0.7, 0.8, 0.9]), None);
        assert_eq!(off_scale_floor(&[0.1, 0.9, 0.91]), None, "too few points");
        let pts: Vec<CurvePoint> = means
            .iter()
            .enumerate()
            .map(|(i, &m)| CurvePoint {
                x: 0.1 * i as f64,
                mean: m,
                std: 0.001,
                gap: 0.03,
            })
            .collect();
        let svg = validation_curve_svg("claim 7", "rate", "score", &pts, false, false).unwrap();
        assert!(
            svg.contains("0.921") && svg.contains("lower ones at the foot"),
            "the off-scale point is labelled"
        );
    }

    #[test]
    fn the_trend_is_the_mean_of_each_bin() {
        // x in [0, 1], 2 bins: [0, 0.5) holds (0, 1) and (0.4, 3); [0.5, 1] holds (1, 10).
        let t = binned_trend(&[(0.0, 1.0), (1.0, 10.0), (0.4, 3.0)], false, 2);
        assert_eq!(t, vec![(0.2, 2.0), (1.0, 10.0)]);
        // Log bins: 1e-4 and 1e-3 share the lower half of [1e-4, 1e-1] in log x; 1e-1 is alone.
        let t = binned_trend(&[(1e-4, 1.0), (1e-3, 3.0), (1e-1, 5.0)], true, 2);
        assert_eq!(t.len(), 2);
        assert!(
            (t[0].0 - 5.5e-4).abs() < 1e-12 && t[0].1 == 2.0 && t[1] == (1e-1, 5.0),
            "{t:?}"
        );
        // One distinct x: one point at the means.
        assert_eq!(
            binned_trend(&[(0.5, 1.0), (0.5, 3.0)], false, 6),
            vec![(0.5, 2.0)]
        );
    }

    #[test]
    fn history_marks_pruned_trials_and_the_best_line() {
        let pts = [
            HistoryPoint {
                trial: 0,
                score: Some(0.9),
                pruned: false,
            },
            HistoryPoint {
                trial: 1,
                score: Some(0.5),
                pruned: true,
            },
            HistoryPoint {
                trial: 2,
                score: Some(0.95),
                pruned: false,
            },
            HistoryPoint {
                trial: 3,
                score: None,
                pruned: false,
            },
        ];
        let svg = search_history_svg("study", "accuracy", &pts).unwrap();
        assert!(svg.contains("best so far") && svg.contains("pruned"));
        // Nothing pruned: no "pruned" entry pointing at nothing.
        let none: Vec<HistoryPoint> = pts.iter().map(|p| HistoryPoint { pruned: false, ..*p }).collect();
        let svg = search_history_svg("study", "accuracy", &none).unwrap();
        assert!(svg.contains("best so far") && !svg.contains("pruned"));
    }
}
