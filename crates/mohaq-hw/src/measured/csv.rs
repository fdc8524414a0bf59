//! Reading a measured table: comma-separated, a header line naming the columns (any order),
//! `#` comments and blank lines ignored. Columns: `layer`, `weight_bits`, `activation_bits`,
//! `latency_us` (required) and `energy_uj` (optional). Every bad line is an error naming the file
//! and the line: a missing or unknown column, a wrong field count, a non-numeric, negative or
//! zero latency, a negative energy, a width the platform does not run, a duplicate row.

use super::{LayerKey, MeasuredRow, MeasuredTable};
use crate::error::HwError;

const REQUIRED: [&str; 4] = ["layer", "weight_bits", "activation_bits", "latency_us"];
const OPTIONAL: [&str; 1] = ["energy_uj"];

/// The widths a platform runs, which every row must respect.
pub(crate) struct Widths<'a> {
    pub weight: &'a [u32],
    pub activation: &'a [u32],
    pub shared: bool,
}

/// Column positions of the header.
struct Columns {
    layer: usize,
    weight_bits: usize,
    activation_bits: usize,
    latency_us: usize,
    energy_uj: Option<usize>,
    count: usize,
}

/// Parses and validates the CSV text of `file`.
pub(crate) fn parse_table(
    text: &str,
    file: &str,
    widths: &Widths<'_>,
) -> Result<MeasuredTable, HwError> {
    let err = |line: usize, reason: String| HwError::TableRow {
        file: file.to_string(),
        line,
        reason,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let (header_line, header) = lines
        .next()
        .ok_or_else(|| err(1, "the file has no header line".into()))?;
    let columns = parse_header(header).map_err(|reason| err(header_line, reason))?;

    let mut rows: Vec<MeasuredRow> = Vec::new();
    for (line, text) in lines {
        let row = parse_row(line, text, &columns, widths).map_err(|reason| err(line, reason))?;
        if let Some(first) = rows.iter().find(|r| {
            r.key == row.key
                && r.weight_bits == row.weight_bits
                && r.activation_bits == row.activation_bits
        }) {
            return Err(err(
                line,
                format!(
                    "layer {} at weights {} / activations {} is already given on line {}",
                    row.key, row.weight_bits, row.activation_bits, first.line
                ),
            ));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(err(header_line, "the file has a header but no rows".into()));
    }
    Ok(MeasuredTable::new(
        file.to_string(),
        rows,
        columns.energy_uj.is_some(),
    ))
}

fn parse_header(header: &str) -> Result<Columns, String> {
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    for (i, name) in names.iter().enumerate() {
        if !REQUIRED.contains(name) && !OPTIONAL.contains(name) {
            return Err(format!(
                "unknown column `{name}` in the header (columns: {}, optional {})",
                REQUIRED.join(", "),
                OPTIONAL.join(", ")
            ));
        }
        if names[..i].contains(name) {
            return Err(format!("column `{name}` appears twice in the header"));
        }
    }
    let position = |name: &str| names.iter().position(|n| *n == name);
    let required =
        |name: &str| position(name).ok_or_else(|| format!("the header has no `{name}` column"));
    Ok(Columns {
        layer: required("layer")?,
        weight_bits: required("weight_bits")?,
        activation_bits: required("activation_bits")?,
        latency_us: required("latency_us")?,
        energy_uj: position("energy_uj"),
        count: names.len(),
    })
}

fn parse_row(
    line: usize,
    text: &str,
    columns: &Columns,
    widths: &Widths<'_>,
) -> Result<MeasuredRow, String> {
    let fields: Vec<&str> = text.split(',').map(str::trim).collect();
    if fields.len() != columns.count {
        return Err(format!(
            "{} fields, but the header has {} columns",
            fields.len(),
            columns.count
        ));
    }
    let key = parse_key(fields[columns.layer])?;
    let bits = |column: &str, value: &str, allowed: &[u32]| -> Result<u32, String> {
        let bits: u32 = value
            .parse()
            .map_err(|_| format!("{column} `{value}` is not a whole number"))?;
        if !allowed.contains(&bits) {
            return Err(format!(
                "{column} {bits} is not a width the platform runs ({allowed:?})"
            ));
        }
        Ok(bits)
    };
    let weight_bits = bits("weight_bits", fields[columns.weight_bits], widths.weight)?;
    let activation_bits = bits(
        "activation_bits",
        fields[columns.activation_bits],
        widths.activation,
    )?;
    if widths.shared && weight_bits != activation_bits {
        return Err(format!(
            "weights {weight_bits} / activations {activation_bits}: the platform has shared_width = true"
        ));
    }
    let latency_us = number("latency_us", fields[columns.latency_us])?;
    if latency_us <= 0.0 {
        return Err(format!("latency_us {latency_us} is not positive"));
    }
    let energy_uj = match columns.energy_uj {
        Some(c) => Some(number("energy_uj", fields[c])?),
        None => None,
    };
    Ok(MeasuredRow {
        line,
        key,
        weight_bits,
        activation_bits,
        latency_us,
        energy_uj,
    })
}

/// A finite, non-negative number.
fn number(column: &str, value: &str) -> Result<f64, String> {
    let x: f64 = value
        .parse()
        .map_err(|_| format!("{column} `{value}` is not a number"))?;
    if !x.is_finite() {
        return Err(format!("{column} `{value}` is not finite"));
    }
    if x < 0.0 {
        return Err(format!("{column} {x} is negative"));
    }
    Ok(x)
}

/// `ROWSxCOLS` (digits on both sides of one `x`) is a shape; anything else non-empty a name.
fn parse_key(field: &str) -> Result<LayerKey, String> {
    if field.is_empty() {
        return Err("the layer field is empty".into());
    }
    let shape = field.split_once(['x', 'X']).and_then(|(r, c)| {
        let (r, c) = (r.trim(), c.trim());
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (digits(r) && digits(c)).then_some((r, c))
    });
    match shape {
        Some((r, c)) => {
            let parse = |s: &str| {
                s.parse::<u64>()
                    .map_err(|_| format!("shape `{field}` is out of range"))
            };
            let (rows, cols) = (parse(r)?, parse(c)?);
            if rows == 0 || cols == 0 {
                return Err(format!("shape `{field}` has a zero side"));
            }
            Ok(LayerKey::Shape { rows, cols })
        }
        None => Ok(LayerKey::Name(field.to_string())),
    }
}
