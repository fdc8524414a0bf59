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
}
