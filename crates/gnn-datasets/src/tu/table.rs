//! The text-table parser of the TU format: one row of numbers per line.
//!
//! Fields may be separated by `", "`, `","` or, on lines without a comma, by whitespace;
//! spaces, tabs, `\r` and one trailing separator are tolerated. Blank lines are allowed at the
//! end of a file only. Integer columns also accept integral decimals (`"2.0"`). Every error
//! names the file and the 1-based line.

use std::path::Path;

use crate::error::{DataError, Result};

/// A table of numbers read from a text file: `rows x cols` values, row-major.
#[derive(Debug)]
pub(super) struct Table<T> {
    /// `rows * cols` values, row-major.
    pub(super) values: Vec<T>,
    /// Data lines.
    pub(super) rows: usize,
    /// Values per line.
    pub(super) cols: usize,
}

/// A number one field of a TU file can hold.
pub(super) trait Field: Sized + Copy {
    /// Words for the error message.
    const EXPECTED: &'static str;
    fn parse(text: &str) -> Option<Self>;
}

impl Field for i64 {
    const EXPECTED: &'static str = "an integer";
    fn parse(text: &str) -> Option<Self> {
        text.parse::<i64>().ok().or_else(|| {
            // Integral decimals such as "2.0" or "1e3", as PyG reads floats then casts.
            let v = text.parse::<f64>().ok()?;
            (v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
        })
    }
}

impl Field for f32 {
    const EXPECTED: &'static str = "a finite number";
    fn parse(text: &str) -> Option<Self> {
        text.parse::<f32>().ok().filter(|v| v.is_finite())
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DataError::MissingFile {
            path: path.to_path_buf(),
        },
        _ => DataError::io(path, e),
    })
}

/// Reads a required table. `cols`: the column count the format fixes, or `None` to take it
/// from the first line.
pub(super) fn read_table<T: Field>(path: &Path, cols: Option<usize>) -> Result<Table<T>> {
    let text = read_text(path)?;
    parse_table(path, &text, cols)
}

/// Reads an optional table that must have `rows` lines; `None` when the file is absent.
pub(super) fn optional_table<T: Field>(
    path: &Path,
    rows: usize,
    what: &'static str,
) -> Result<Option<Table<T>>> {
    if !path.exists() {
        return Ok(None);
    }
    let table = read_table::<T>(path, None)?;
    if table.rows != rows {
        return Err(DataError::LineCount {
            path: path.to_path_buf(),
            expected: rows,
            found: table.rows,
            what,
        });
    }
    Ok(Some(table))
}

pub(super) fn parse_table<T: Field>(
    path: &Path,
    text: &str,
    mut cols: Option<usize>,
) -> Result<Table<T>> {
    let mut values = Vec::with_capacity(text.len() / 4);
    let mut rows = 0;
    let mut first_blank: Option<usize> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = raw.trim();
        if line.is_empty() {
            first_blank.get_or_insert(line_number);
            continue;
        }
        if let Some(blank) = first_blank {
            return Err(DataError::BlankLine {
                path: path.to_path_buf(),
                line: blank,
            });
        }
        let before = values.len();
        let mut push = |column: usize, field: &str| -> Result<()> {
            match T::parse(field) {
                Some(v) => {
                    values.push(v);
                    Ok(())
                }
                None => Err(DataError::NotANumber {
                    path: path.to_path_buf(),
                    line: line_number,
                    column,
                    field: field.to_string(),
                    expected: T::EXPECTED,
                }),
            }
        };
        // One trailing separator is tolerated ("1, 2,").
        let line = line.strip_suffix(',').map_or(line, str::trim_end);
        if line.contains(',') {
            for (i, field) in line.split(',').enumerate() {
                push(i + 1, field.trim())?;
            }
        } else {
            for (i, field) in line.split_whitespace().enumerate() {
                push(i + 1, field)?;
            }
        }
        let found = values.len() - before;
        match cols {
            None => cols = Some(found),
            Some(expected) if expected != found => {
                return Err(DataError::ColumnCount {
                    path: path.to_path_buf(),
                    line: line_number,
                    expected,
                    found,
                });
            }
            Some(_) => {}
        }
        rows += 1;
    }
    Ok(Table {
        values,
        rows,
        cols: cols.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: Field>(text: &str, cols: Option<usize>) -> Result<Table<T>> {
        parse_table(Path::new("f.txt"), text, cols)
    }

    #[test]
    fn separators_and_trailing_blank_lines() {
        let t = parse::<i64>("1, 2\n3,4,\r\n5 6\n\t7 ,8\n\n\n", None).unwrap();
        assert_eq!((t.rows, t.cols), (4, 2));
        assert_eq!(t.values, vec![1, 2, 3, 4, 5, 6, 7, 8]);
        let empty = parse::<f32>("\n", None).unwrap();
        assert_eq!((empty.rows, empty.cols), (0, 0));
    }

    #[test]
    fn numbers_are_checked_by_kind() {
        assert_eq!(
            parse::<i64>("2.0\n1e1\n", None).unwrap().values,
            vec![2, 10]
        );
        let err = parse::<i64>("1.5\n", None).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::NotANumber {
                    line: 1,
                    column: 1,
                    expected: "an integer",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            parse::<f32>("0.5, -1\n", None).unwrap().values,
            vec![0.5, -1.0]
        );
        let err = parse::<f32>("inf\n", None).unwrap_err();
        assert!(matches!(err, DataError::NotANumber { .. }), "{err:?}");
    }

    #[test]
    fn column_counts_and_blank_lines_name_the_line() {
        let err = parse::<i64>("1, 2\n3\n", None).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::ColumnCount {
                    line: 2,
                    expected: 2,
                    found: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = parse::<i64>("1\n", Some(2)).unwrap_err();
        assert!(
            matches!(err, DataError::ColumnCount { line: 1, .. }),
            "{err:?}"
        );
        let err = parse::<i64>("1\n\n2\n", None).unwrap_err();
        assert!(
            matches!(err, DataError::BlankLine { line: 2, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn files_missing_or_of_the_wrong_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.txt");
        assert!(matches!(
            read_table::<i64>(&path, None),
            Err(DataError::MissingFile { .. })
        ));
        assert!(
            optional_table::<i64>(&path, 3, "one per node")
                .unwrap()
                .is_none()
        );
        std::fs::write(&path, "1\n2\n").unwrap();
        let err = optional_table::<i64>(&path, 3, "one per node").unwrap_err();
        assert!(
            matches!(
                err,
                DataError::LineCount {
                    expected: 3,
                    found: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            optional_table::<i64>(&path, 2, "").unwrap().unwrap().values,
            vec![1, 2]
        );
    }
}
