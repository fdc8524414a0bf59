//! SVG scatter plots of Pareto fronts (plotters), one file per figure of the report.

use std::path::Path;

use plotters::prelude::*;

use mohaq_beacon::error::RunError;

/// One set of points with a legend label.
pub struct Series<'a> {
    pub label: &'a str,
    pub points: Vec<(f64, f64)>,
    /// Index into the palette.
    pub color: usize,
    /// Draw as hollow circles (for reference sets such as the true front).
    pub hollow: bool,
}

const PALETTE: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
];

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

/// Writes a scatter plot of `series` to `path`.
pub fn scatter_svg(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
) -> Result<(), RunError> {
    let fail = |e: String| RunError::Io {
        path: path.to_path_buf(),
        action: "drawing the plot",
        source: std::io::Error::other(e),
    };
    let all = || series.iter().flat_map(|s| s.points.iter().copied());
    let (x0, x1) = padded(all().map(|p| p.0));
    let (y0, y1) = padded(all().map(|p| p.1));
    let root = SVGBackend::new(path, (760, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| fail(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .draw()
        .map_err(|e| fail(e.to_string()))?;
    for s in series {
        let color = PALETTE[s.color % PALETTE.len()];
        let hollow = s.hollow;
        chart
            .draw_series(s.points.iter().map(move |&(x, y)| {
                if hollow {
                    Circle::new((x, y), 6, color.stroke_width(1))
                } else {
                    Circle::new((x, y), 4, color.filled())
                }
            }))
            .map_err(|e| fail(e.to_string()))?
            .label(s.label)
            .legend(move |(x, y)| Circle::new((x, y), 4, color.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(e.to_string()))?;
    root.present().map_err(|e| fail(e.to_string()))?;
    Ok(())
}

/// One curve: median points joined by a line, with the range over seeds as a vertical bar.
pub struct Curve<'a> {
    pub label: &'a str,
    /// (x, median, min, max).
    pub points: Vec<(f64, f64, f64, f64)>,
    pub color: usize,
}

/// Writes `curves` against a logarithmic x axis (evaluations) to `path`.
pub fn curves_svg(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    curves: &[Curve<'_>],
) -> Result<(), RunError> {
    let fail = |e: String| RunError::Io {
        path: path.to_path_buf(),
        action: "drawing the plot",
        source: std::io::Error::other(e),
    };
    let xs = || curves.iter().flat_map(|c| c.points.iter().map(|p| p.0));
    // An empty plot (no method had a front) gets a default axis instead of an infinite one.
    let x0 = xs().fold(f64::INFINITY, f64::min).clamp(1.0, 1e9);
    let x1 = xs().fold(0.0, f64::max).clamp(x0 * 2.0, 1e10);
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
        .build_cartesian_2d((x0 / 1.2..x1 * 1.2).log_scale(), y0..y1)
        .map_err(|e| fail(e.to_string()))?;
    chart
        .configure_mesh()
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
        chart
            .draw_series(
                c.points
                    .iter()
                    .map(move |&(x, m, _, _)| Circle::new((x, m), 3, color.filled())),
            )
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
    fn writes_an_svg_with_every_point() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.svg");
        let series = [
            Series {
                label: "search",
                points: vec![(1.0, 20.0), (2.0, 19.0), (4.0, 18.5)],
                color: 0,
                hollow: false,
            },
            Series {
                label: "true front",
                points: vec![(1.0, 19.5)],
                color: 1,
                hollow: true,
            },
        ];
        scatter_svg(&path, "front", "size (MB)", "PER (%)", &series).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        assert!(svg.matches("<circle").count() >= 4, "{svg}");
        assert!(svg.contains("true front"));
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
        curves_svg(&path, "E5", "evaluations", "HV ratio", &curves).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.matches("<circle").count() >= 2, "{svg}");
        assert!(svg.contains("random"));
        curves_svg(&path, "E5", "evaluations", "HV ratio", &[]).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().starts_with("<svg"));
    }
}
