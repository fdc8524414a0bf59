//! SVG plots of Pareto fronts (plotters), one file per figure of the report.
//!
//! A front is drawn as a step line (its attainment boundary: the best error reachable at each
//! size or speedup) through its points, so a reader sees which region it covers, not only dots.
//! One error kind per axis (the caller names it); markers point at the values a claim is read
//! from; the legend sits to the right of the plotting area, never on the data.

use std::path::Path;

use plotters::prelude::*;

use mohaq_beacon::error::RunError;

/// Which way the x objective is optimised; fixes the shape of the step line (y is an error,
/// always minimised).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// Smaller x is better (model size).
    MinimiseX,
    /// Larger x is better (speedup).
    MaximiseX,
}

/// One set of points with a legend label.
pub struct Series<'a> {
    pub label: &'a str,
    pub points: Vec<(f64, f64)>,
    /// Index into the palette.
    pub color: usize,
    /// Draw as hollow circles (for reference sets such as the true front).
    pub hollow: bool,
    /// Draw the front's step line through its non-dominated points (`None`: dots only).
    pub step: Option<Goal>,
}

/// A claim's reading: a black segment from `from` to `to` with a label beside it.
pub struct Marker {
    pub from: (f64, f64),
    pub to: (f64, f64),
    pub label: String,
}

/// Eight colours, so every method of E5 (seven) gets its own.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Width of the legend column to the right of the chart.
const LEGEND_WIDTH: u32 = 230;

fn padded(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(1e-3 * hi.abs().max(1.0));
    (lo - pad, hi + pad)
}

/// The step line of a 2-D front: its non-dominated points sorted by x, joined so that the line
/// at each x is the lowest error reachable there (at that size or less, or that speedup or more).
pub fn step_line(points: &[(f64, f64)], goal: Goal) -> Vec<(f64, f64)> {
    let better_x = |a: f64, b: f64| match goal {
        Goal::MinimiseX => a <= b,
        Goal::MaximiseX => a >= b,
    };
    let mut front: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|&(x, y)| {
            !points
                .iter()
                .any(|&(ox, oy)| better_x(ox, x) && oy <= y && (ox != x || oy != y))
        })
        .collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    front.dedup();
    let mut line = Vec::with_capacity(2 * front.len());
    for pair in front.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        line.push((x0, y0));
        // Minimising x: the error y0 holds until the next size; maximising: y1 holds back to x0.
        line.push(match goal {
            Goal::MinimiseX => (x1, y0),
            Goal::MaximiseX => (x0, y1),
        });
    }
    line.extend(front.last());
    line
}

/// Writes the plot of `series` (and claim `markers`) to `path`. `x_unit` formats tick labels
/// (e.g. "×" for speedup).
pub fn front_svg(
    path: &Path,
    title: &str,
    (x_label, x_unit): (&str, &str),
    y_label: &str,
    series: &[Series<'_>],
    markers: &[Marker],
) -> Result<(), RunError> {
    let fail = |e: String| RunError::Io {
        path: path.to_path_buf(),
        action: "drawing the plot",
        source: std::io::Error::other(e),
    };
    let all = || {
        series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .chain(markers.iter().flat_map(|m| [m.from, m.to]))
    };
    let (x0, x1) = padded(all().map(|p| p.0));
    let (y0, y1) = padded(all().map(|p| p.1));
    let root = SVGBackend::new(path, (760 + LEGEND_WIDTH, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let (plot_area, legend_area) = root.split_horizontally(760);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| fail(e.to_string()))?;
    let x_fmt = |v: &f64| format!("{}{x_unit}", trim(*v));
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&x_fmt)
        .draw()
        .map_err(|e| fail(e.to_string()))?;
    for s in series {
        let color = PALETTE[s.color % PALETTE.len()];
        if let Some(goal) = s.step {
            chart
                .draw_series(LineSeries::new(
                    step_line(&s.points, goal),
                    color.stroke_width(2),
                ))
                .map_err(|e| fail(e.to_string()))?;
        }
        let hollow = s.hollow;
        chart
            .draw_series(s.points.iter().map(move |&(x, y)| {
                if hollow {
                    Circle::new((x, y), 6, color.stroke_width(1))
                } else {
                    Circle::new((x, y), 4, color.filled())
                }
            }))
            .map_err(|e| fail(e.to_string()))?;
    }
    for m in markers {
        chart
            .draw_series(LineSeries::new([m.from, m.to], BLACK.stroke_width(2)))
            .map_err(|e| fail(e.to_string()))?;
        chart
            .draw_series([m.from, m.to].map(|p| Cross::new(p, 5, BLACK.stroke_width(2))))
            .map_err(|e| fail(e.to_string()))?;
        let mid = ((m.from.0 + m.to.0) / 2.0, (m.from.1 + m.to.1) / 2.0);
        chart
            .draw_series([Text::new(
                format!("  {}", m.label),
                mid,
                ("sans-serif", 14).into_font().color(&BLACK),
            )])
            .map_err(|e| fail(e.to_string()))?;
    }
    draw_legend(&legend_area, series, markers).map_err(|e| fail(e.to_string()))?;
    root.present().map_err(|e| fail(e.to_string()))?;
    Ok(())
}

/// The legend in its own column: one entry per series (marker and, for fronts, the line), then
/// the claim markers.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    series: &[Series<'_>],
    markers: &[Marker],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let font = ("sans-serif", 14).into_font();
    let mut y = 60;
    for s in series {
        let color = PALETTE[s.color % PALETTE.len()];
        if s.step.is_some() {
            area.draw(&PathElement::new(
                vec![(4, y), (32, y)],
                color.stroke_width(2),
            ))?;
        }
        if s.hollow {
            area.draw(&Circle::new((18, y), 6, color.stroke_width(1)))?;
        } else {
            area.draw(&Circle::new((18, y), 4, color.filled()))?;
        }
        area.draw(&Text::new(s.label.to_string(), (40, y - 7), font.clone()))?;
        y += 24;
    }
    for m in markers {
        area.draw(&PathElement::new(
            vec![(4, y), (32, y)],
            BLACK.stroke_width(2),
        ))?;
        area.draw(&Text::new(m.label.clone(), (40, y - 7), font.clone()))?;
        y += 24;
    }
    Ok(())
}

/// A tick value without trailing zeros.
fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One curve: median points joined by a line, with the range over seeds as a vertical bar.
pub struct Curve<'a> {
    pub label: &'a str,
    /// (x, median, min, max).
    pub points: Vec<(f64, f64, f64, f64)>,
    pub color: usize,
}

/// Writes `curves` against a logarithmic x axis (evaluations) to `path`, labelled at `x_ticks`
/// (the budgets; a log axis left to itself labels only powers of ten and a few between).
pub fn curves_svg(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    x_ticks: &[f64],
    curves: &[Curve<'_>],
) -> Result<(), RunError> {
    let fail = |e: String| RunError::Io {
        path: path.to_path_buf(),
        action: "drawing the plot",
        source: std::io::Error::other(e),
    };
    let xs = || curves.iter().flat_map(|c| c.points.iter().map(|p| p.0));
    // An empty plot (no method had a front) gets a default axis instead of an infinite one.
    let ticks: Vec<f64> = x_ticks
        .iter()
        .copied()
        .filter(|t| t.is_finite() && *t > 0.0)
        .collect();
    let x0 = xs()
        .chain(ticks.iter().copied())
        .fold(f64::INFINITY, f64::min)
        .clamp(1.0, 1e9);
    let x1 = xs()
        .chain(ticks.iter().copied())
        .fold(0.0, f64::max)
        .clamp(x0 * 2.0, 1e10);
    let (y0, y1) = padded(
        curves
            .iter()
            .flat_map(|c| c.points.iter().flat_map(|p| [p.2, p.3])),
    );
    let root = SVGBackend::new(path, (760, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(
            (x0 / 1.2..x1 * 1.2).log_scale().with_key_points(ticks),
            y0..y1,
        )
        .map_err(|e| fail(e.to_string()))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_desc(x_label)
        .y_desc(y_label)
        .draw()
        .map_err(|e| fail(e.to_string()))?;
    for c in curves {
        let color = PALETTE[c.color % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                c.points.iter().map(|p| (p.0, p.1)),
                color.stroke_width(2),
            ))
            .map_err(|e| fail(e.to_string()))?
            .label(c.label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        chart
            .draw_series(c.points.iter().map(move |&(x, _, lo, hi)| {
                PathElement::new(vec![(x, lo), (x, hi)], color.stroke_width(1))
            }))
            .map_err(|e| fail(e.to_string()))?;
        // A marker shape per curve as well as a colour, so curves stay apart in grey print.
        let at = c.points.iter().map(|&(x, m, _, _)| (x, m));
        match c.color % 4 {
            0 => chart.draw_series(at.map(|p| Circle::new(p, 4, color.filled()))),
            1 => chart.draw_series(at.map(|p| TriangleMarker::new(p, 5, color.filled()))),
            2 => chart.draw_series(at.map(|p| Cross::new(p, 4, color.stroke_width(2)))),
            _ => {
                chart.draw_series(at.map(|p| {
                    EmptyElement::at(p) + Rectangle::new([(-3, -3), (3, 3)], color.filled())
                }))
            }
        }
        .map_err(|e| fail(e.to_string()))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(e.to_string()))?;
    root.present().map_err(|e| fail(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_lines_follow_the_attainment_boundary() {
        // Size (minimise) vs error: a dominated point (3, 20) is left out of the line.
        let pts = [(4.0, 18.0), (1.0, 21.0), (2.0, 19.0), (3.0, 20.0)];
        assert_eq!(
            step_line(&pts, Goal::MinimiseX),
            vec![
                (1.0, 21.0),
                (2.0, 21.0),
                (2.0, 19.0),
                (4.0, 19.0),
                (4.0, 18.0)
            ]
        );
        // Speedup (maximise) vs error: the line at speedup s is the best error at ≥ s.
        let pts = [(1.0, 18.0), (2.0, 19.0), (4.0, 22.0), (3.0, 25.0)];
        assert_eq!(
            step_line(&pts, Goal::MaximiseX),
            vec![
                (1.0, 18.0),
                (1.0, 19.0),
                (2.0, 19.0),
                (2.0, 22.0),
                (4.0, 22.0)
            ]
        );
    }

    #[test]
    fn writes_an_svg_with_lines_points_legend_and_markers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.svg");
        let series = [
            Series {
                label: "search",
                points: vec![(1.0, 20.0), (2.0, 19.0), (4.0, 18.5)],
                color: 0,
                hollow: false,
                step: Some(Goal::MinimiseX),
            },
            Series {
                label: "true front",
                points: vec![(1.0, 19.5)],
                color: 1,
                hollow: true,
                step: None,
            },
        ];
        let markers = [Marker {
            from: (2.0, 19.0),
            to: (2.0, 20.0),
            label: "gap 1.0 pp".into(),
        }];
        front_svg(
            &path,
            "front",
            ("model size (MB)", ""),
            "test PER (%)",
            &series,
            &markers,
        )
        .unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        assert!(svg.matches("<circle").count() >= 4, "{svg}");
        assert!(svg.contains("<polyline"), "step line drawn");
        assert!(svg.contains("true front") && svg.contains("gap 1.0 pp"));
    }

    #[test]
    fn writes_curves_with_every_median() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.svg");
        let curves = [Curve {
            label: "random",
            points: vec![(90.0, 0.9, 0.85, 0.95), (180.0, 0.95, 0.9, 0.97)],
            color: 0,
        }];
        curves_svg(
            &path,
            "E5",
            "evaluations",
            "HV ratio",
            &[90.0, 180.0, 630.0, 2000.0],
            &curves,
        )
        .unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.matches("<circle").count() >= 2, "{svg}");
        for budget in ["90", "180", "630", "2000"] {
            assert!(
                svg.contains(&format!(">\n{budget}\n</text>")),
                "x label {budget}: {svg}"
            );
        }
        assert!(svg.contains("random"));
        curves_svg(&path, "E5", "evaluations", "HV ratio", &[], &[]).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().starts_with("<svg"));
    }
}
