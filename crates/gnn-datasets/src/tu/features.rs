//! Feature columns of the TU format: one-hot encoded label columns, concatenated with
//! attribute columns.

use std::path::Path;

use super::table::Table;
use crate::error::{DataError, Result};

/// The widest one-hot encoding a label column may ask for (a guard against absurd label values
/// that would otherwise allocate gigabytes).
pub const MAX_ONE_HOT_WIDTH: usize = 1 << 16;

/// One-hot encodes each integer column (shifted so its minimum is 0, over `max + 1` values) and
/// concatenates the encodings, as PyG does with node and edge labels.
pub(super) fn one_hot_columns(path: &Path, table: &Table<i64>) -> Result<Table<f32>> {
    let mut ranges = Vec::with_capacity(table.cols);
    for c in 0..table.cols {
        let column = table.values.iter().skip(c).step_by(table.cols);
        let min = column.clone().copied().min().unwrap_or(0);
        let max = column.copied().max().unwrap_or(0);
        let width = max.abs_diff(min).saturating_add(1);
        if width > MAX_ONE_HOT_WIDTH as u64 {
            return Err(DataError::LabelRange {
                path: path.to_path_buf(),
                column: c + 1,
                min,
                max,
                limit: MAX_ONE_HOT_WIDTH,
            });
        }
        ranges.push((min, width as usize));
    }
    let width: usize = ranges.iter().map(|&(_, w)| w).sum();
    let mut values = vec![0.0; table.rows * width];
    for (row, labels) in table.values.chunks_exact(table.cols.max(1)).enumerate() {
        let mut offset = row * width;
        for (&label, &(min, w)) in labels.iter().zip(&ranges) {
            values[offset + (label - min) as usize] = 1.0;
            offset += w;
        }
    }
    Ok(Table {
        values,
        rows: table.rows,
        cols: width,
    })
}

/// `[a, b]` column-wise, either part optional, for `rows` rows.
pub(super) fn concat_columns(
    rows: usize,
    a: Option<&Table<f32>>,
    b: Option<&Table<f32>>,
) -> Vec<f32> {
    let (ca, cb) = (a.map_or(0, |t| t.cols), b.map_or(0, |t| t.cols));
    match (a, b) {
        (None, None) => Vec::new(),
        (Some(t), None) | (None, Some(t)) => t.values.clone(),
        (Some(a), Some(b)) => {
            let mut out = Vec::with_capacity(rows * (ca + cb));
            for r in 0..rows {
                out.extend_from_slice(&a.values[r * ca..(r + 1) * ca]);
                out.extend_from_slice(&b.values[r * cb..(r + 1) * cb]);
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table<T>(values: Vec<T>, cols: usize) -> Table<T> {
        Table {
            rows: values.len() / cols.max(1),
            values,
            cols,
        }
    }

    #[test]
    fn each_column_is_shifted_to_zero_one_hot_and_concatenated() {
        let labels = table(vec![-1, 10, 1, 12, 0, 10], 2);
        let out = one_hot_columns(Path::new("l.txt"), &labels).unwrap();
        assert_eq!((out.rows, out.cols), (3, 3 + 3));
        assert_eq!(
            out.values,
            vec![
                1.0, 0.0, 0.0, 1.0, 0.0, 0.0, //
                0.0, 0.0, 1.0, 0.0, 0.0, 1.0, //
                0.0, 1.0, 0.0, 1.0, 0.0, 0.0,
            ]
        );
        let err = one_hot_columns(Path::new("l.txt"), &table(vec![0, i64::MAX], 1)).unwrap_err();
        assert!(
            matches!(err, DataError::LabelRange { column: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn concatenation_puts_a_before_b_row_by_row() {
        let a = table(vec![1.0, 2.0], 1);
        let b = table(vec![3.0, 4.0, 5.0, 6.0], 2);
        assert_eq!(
            concat_columns(2, Some(&a), Some(&b)),
            vec![1.0, 3.0, 4.0, 2.0, 5.0, 6.0]
        );
        assert_eq!(concat_columns(2, None, Some(&b)), b.values);
        assert!(concat_columns(2, None, None).is_empty());
    }
}
