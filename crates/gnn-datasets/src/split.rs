//! Train / validation / test splits: seeded stratified k-fold, seeded stratified ratio splits,
//! and the standard split files of the literature.
//!
//! Every split is a [`Fold`] of 0-based graph indices, each list sorted ascending. The
//! generators are deterministic: the same labels and seed give the same folds on every run and
//! platform (a seeded `StdRng` of `rand` 0.9 and a Fisher–Yates shuffle written here).

use std::collections::BTreeMap;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::error::{DataError, Result};

/// One split of a dataset: 0-based graph indices for training, validation (model selection)
/// and test.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    /// Indices of the training graphs.
    pub train: Vec<usize>,
    /// Indices of the validation graphs (empty when the split has none).
    pub valid: Vec<usize>,
    /// Indices of the test graphs.
    pub test: Vec<usize>,
}

impl Fold {
    /// Checks that every index is `< num_graphs` and that no graph appears twice, within a set
    /// or across sets. `fold` only numbers the fold in the error.
    ///
    /// # Errors
    /// [`DataError::SplitIndexOutOfRange`] or [`DataError::SplitOverlap`].
    pub fn validate(&self, fold: usize, num_graphs: usize) -> Result<()> {
        let mut owner: Vec<Option<&'static str>> = vec![None; num_graphs];
        for (set, indices) in [
            ("train", &self.train),
            ("valid", &self.valid),
            ("test", &self.test),
        ] {
            for &index in indices {
                let Some(slot) = owner.get_mut(index) else {
                    return Err(DataError::SplitIndexOutOfRange {
                        fold,
                        set,
                        index,
                        num_graphs,
                    });
                };
                if let Some(first) = *slot {
                    return Err(DataError::SplitOverlap {
                        fold,
                        first,
                        second: set,
                        index,
                    });
                }
                *slot = Some(set);
            }
        }
        Ok(())
    }
}

/// Validates every fold (see [`Fold::validate`]).
///
/// # Errors
/// The first error found, naming its fold.
pub fn validate_folds(folds: &[Fold], num_graphs: usize) -> Result<()> {
    folds
        .iter()
        .enumerate()
        .try_for_each(|(i, f)| f.validate(i, num_graphs))
}

fn invalid(message: impl Into<String>) -> DataError {
    DataError::InvalidSplit {
        message: message.into(),
    }
}

/// Fisher–Yates with `u32` draws, so that the order does not depend on the platform's `usize`.
fn shuffle(items: &mut [usize], rng: &mut StdRng) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i as u32) as usize;
        items.swap(i, j);
    }
}

/// Graph indices grouped by label, ascending label, each group shuffled in turn by `rng`.
fn shuffled_classes(labels: &[usize], rng: &mut StdRng) -> Vec<Vec<usize>> {
    let mut classes: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &label) in labels.iter().enumerate() {
        classes.entry(label).or_default().push(i);
    }
    classes
        .into_values()
        .map(|mut members| {
            shuffle(&mut members, rng);
            members
        })
        .collect()
}

fn check_fraction(name: &str, value: f64) -> Result<()> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(invalid(format!("{name} fraction {value} is not in [0, 1]")))
    }
}

/// Splits the members of each class by fractions: `round(n_c * f)` graphs of class `c` for each
/// fraction but the first, which takes the rest.
fn split_classes(classes: &[Vec<usize>], fractions: &[f64]) -> Vec<Vec<usize>> {
    let mut sets = vec![Vec::new(); fractions.len()];
    for members in classes {
        let n = members.len();
        let mut end = n;
        for (set, &fraction) in fractions.iter().enumerate().skip(1).rev() {
            let count = ((n as f64 * fraction).round() as usize).min(end);
            sets[set].extend_from_slice(&members[end - count..end]);
            end -= count;
        }
        sets[0].extend_from_slice(&members[..end]);
    }
    for set in &mut sets {
        set.sort_unstable();
    }
    sets
}

/// Seeded stratified k-fold cross-validation, as Errica et al. (2020) evaluate: fold `i` tests
/// on one `k`-th of the graphs, and the other graphs are split again, stratified, into
/// training and validation with `valid_fraction` of them (per class, rounded) for validation.
///
/// The graphs of each class are shuffled and dealt to the folds in turn, so each fold holds
/// `n_c / k` graphs of class `c` up to one, and fold sizes differ by at most one. Every graph
/// is in exactly one test set.
///
/// # Errors
/// [`DataError::InvalidSplit`] when `k < 2`, `k > labels.len()` or `valid_fraction` is not in
/// `[0, 1)`.
pub fn stratified_k_fold(
    labels: &[usize],
    k: usize,
    valid_fraction: f64,
    seed: u64,
) -> Result<Vec<Fold>> {
    if k < 2 || k > labels.len() {
        return Err(invalid(format!(
            "k = {k} folds for {} graphs (need 2 <= k <= graphs)",
            labels.len()
        )));
    }
    check_fraction("validation", valid_fraction)?;
    if valid_fraction >= 1.0 {
        return Err(invalid("validation fraction must be below 1"));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let dealt: Vec<usize> = shuffled_classes(labels, &mut rng).concat();
    let mut fold_of = vec![0; labels.len()];
    for (position, &graph) in dealt.iter().enumerate() {
        fold_of[graph] = position % k;
    }
    (0..k)
        .map(|fold| {
            let test: Vec<usize> = (0..labels.len()).filter(|&i| fold_of[i] == fold).collect();
            let rest_labels: Vec<usize> = (0..labels.len())
                .filter(|&i| fold_of[i] != fold)
                .map(|i| labels[i])
                .collect();
            let rest: Vec<usize> = (0..labels.len()).filter(|&i| fold_of[i] != fold).collect();
            let classes: Vec<Vec<usize>> = shuffled_classes(&rest_labels, &mut rng)
                .into_iter()
                .map(|members| members.into_iter().map(|j| rest[j]).collect())
                .collect();
            let mut sets = split_classes(&classes, &[1.0 - valid_fraction, valid_fraction]);
            let valid = sets.pop().unwrap_or_default();
            let train = sets.pop().unwrap_or_default();
            Ok(Fold { train, valid, test })
        })
        .collect()
}

/// A seeded stratified split by fractions (e.g. `0.8, 0.1, 0.1`): in each class,
/// `round(n_c * valid)` graphs go to validation, `round(n_c * test)` to test, and the rest to
/// training, so the class proportions of the three sets match the dataset's.
///
/// # Errors
/// [`DataError::InvalidSplit`] when a fraction is outside `[0, 1]` or they do not sum to 1.
pub fn stratified_split(
    labels: &[usize],
    train: f64,
    valid: f64,
    test: f64,
    seed: u64,
) -> Result<Fold> {
    for (name, value) in [("train", train), ("validation", valid), ("test", test)] {
        check_fraction(name, value)?;
    }
    if (train + valid + test - 1.0).abs() > 1e-6 {
        return Err(invalid(format!(
            "fractions {train} + {valid} + {test} do not sum to 1"
        )));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let classes = shuffled_classes(labels, &mut rng);
    let mut sets = split_classes(&classes, &[train, valid, test]);
    let test = sets.pop().unwrap_or_default();
    let valid = sets.pop().unwrap_or_default();
    let train = sets.pop().unwrap_or_default();
    Ok(Fold { train, valid, test })
}

#[derive(Deserialize)]
struct ErricaFold {
    test: Vec<usize>,
    model_selection: Vec<ErricaInner>,
}

#[derive(Deserialize)]
struct ErricaInner {
    train: Vec<usize>,
    validation: Vec<usize>,
}

/// Reads a split file of Errica et al. (2020), e.g. `splits/CHEMICAL/NCI1_splits.json`: a list
/// of outer folds `{"test": [...], "model_selection": [{"train": [...], "validation": [...]}]}`
/// with 0-based indices in TU graph order. The first inner split of each fold gives its
/// `train` and `valid`. The folds are validated against `num_graphs`.
///
/// # Errors
/// [`DataError::Io`] / [`DataError::MissingFile`], [`DataError::Json`] for a malformed file,
/// [`DataError::InvalidSplit`] for a fold without an inner split, and the errors of
/// [`Fold::validate`].
pub fn read_errica_splits(path: &Path, num_graphs: usize) -> Result<Vec<Fold>> {
    let text = read(path)?;
    let raw: Vec<ErricaFold> = serde_json::from_str(&text).map_err(|source| DataError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let folds = raw
        .into_iter()
        .enumerate()
        .map(|(i, fold)| {
            let inner = fold.model_selection.into_iter().next().ok_or_else(|| {
                invalid(format!(
                    "{}: fold {i} has no model_selection split",
                    path.display()
                ))
            })?;
            let mut fold = Fold {
                train: inner.train,
                valid: inner.validation,
                test: fold.test,
            };
            for set in [&mut fold.train, &mut fold.valid, &mut fold.test] {
                set.sort_unstable();
            }
            Ok(fold)
        })
        .collect::<Result<Vec<_>>>()?;
    validate_folds(&folds, num_graphs)?;
    Ok(folds)
}

/// Reads the 10-fold index files distributed with the DGCNN-format data (`train_idx-1.txt`,
/// `test_idx-1.txt`, ..., one 0-based index per line) from `dir`, as many folds as there are
/// consecutive `test_idx-N.txt` files. These splits have no validation set (`valid` is empty).
///
/// # Errors
/// [`DataError::MissingFile`] when `test_idx-1.txt` or a `train_idx-N.txt` is absent,
/// [`DataError::NotANumber`] naming file and line, and the errors of [`Fold::validate`].
pub fn read_index_folds(dir: &Path, num_graphs: usize) -> Result<Vec<Fold>> {
    let mut folds = Vec::new();
    for n in 1.. {
        let test_path = dir.join(format!("test_idx-{n}.txt"));
        if n > 1 && !test_path.exists() {
            break;
        }
        let test = read_indices(&test_path)?;
        let train = read_indices(&dir.join(format!("train_idx-{n}.txt")))?;
        folds.push(Fold {
            train,
            valid: Vec::new(),
            test,
        });
    }
    validate_folds(&folds, num_graphs)?;
    Ok(folds)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DataError::MissingFile {
            path: path.to_path_buf(),
        },
        _ => DataError::io(path, e),
    })
}

fn read_indices(path: &Path) -> Result<Vec<usize>> {
    let text = read(path)?;
    let mut indices = Vec::new();
    for (line, content) in text.lines().enumerate() {
        for (column, field) in content
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|f| !f.is_empty())
            .enumerate()
        {
            let index = field.parse::<usize>().map_err(|_| DataError::NotANumber {
                path: path.to_path_buf(),
                line: line + 1,
                column: column + 1,
                field: field.to_string(),
                expected: "a non-negative integer",
            })?;
            indices.push(index);
        }
    }
    indices.sort_unstable();
    Ok(indices)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n0: usize, n1: usize, n2: usize) -> Vec<usize> {
        // Interleaved, so that stratification has work to do.
        let mut out = Vec::new();
        let (mut a, mut b, mut c) = (n0, n1, n2);
        while a + b + c > 0 {
            for (count, label) in [(&mut a, 0), (&mut b, 1), (&mut c, 2)] {
                if *count > 0 {
                    *count -= 1;
                    out.push(label);
                }
            }
        }
        out
    }

    fn count(labels: &[usize], set: &[usize], class: usize) -> usize {
        set.iter().filter(|&&i| labels[i] == class).count()
    }

    #[test]
    fn k_fold_is_stratified_covering_disjoint_and_deterministic() {
        let y = labels(50, 31, 9);
        let folds = stratified_k_fold(&y, 10, 0.1, 7).unwrap();
        assert_eq!(folds.len(), 10);
        validate_folds(&folds, y.len()).unwrap();
        let mut tested: Vec<usize> = folds.iter().flat_map(|f| f.test.clone()).collect();
        tested.sort_unstable();
        assert_eq!(
            tested,
            (0..y.len()).collect::<Vec<_>>(),
            "every graph tested exactly once"
        );
        for fold in &folds {
            assert_eq!(
                fold.train.len() + fold.valid.len() + fold.test.len(),
                y.len()
            );
            assert_eq!(fold.test.len(), 9);
            assert_eq!(count(&y, &fold.test, 0), 5);
            assert!((3..=4).contains(&count(&y, &fold.test, 1)));
            assert!(fold.test.windows(2).all(|w| w[0] < w[1]));
            // 10% of the 81 others, per class: round(4.5)=5 (or 4), round(2.8)=3, round(0.8)=1.
            assert!((8..=10).contains(&fold.valid.len()), "{}", fold.valid.len());
        }
        assert_eq!(folds, stratified_k_fold(&y, 10, 0.1, 7).unwrap());
        assert_ne!(folds, stratified_k_fold(&y, 10, 0.1, 8).unwrap());
        let no_valid = stratified_k_fold(&y, 5, 0.0, 7).unwrap();
        assert!(
            no_valid
                .iter()
                .all(|f| f.valid.is_empty() && f.test.len() == 18)
        );
    }

    #[test]
    fn k_fold_is_pinned_across_runs_and_platforms() {
        // Pinned output: a change here changes every published split made with this library.
        let folds = stratified_k_fold(&labels(3, 3, 0), 3, 0.0, 0).unwrap();
        let tests: Vec<Vec<usize>> = folds.iter().map(|f| f.test.clone()).collect();
        let flat: Vec<usize> = tests.concat();
        let mut sorted = flat.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(
            tests,
            PINNED_K_FOLD.iter().map(|t| t.to_vec()).collect::<Vec<_>>()
        );
    }

    const PINNED_K_FOLD: [[usize; 2]; 3] = [[0, 1], [2, 5], [3, 4]];

    #[test]
    fn ratio_split_is_stratified_and_seeded() {
        let y = labels(663, 450, 0);
        let fold = stratified_split(&y, 0.8, 0.1, 0.1, 0).unwrap();
        fold.validate(0, y.len()).unwrap();
        assert_eq!(
            (fold.train.len(), fold.valid.len(), fold.test.len()),
            (891, 111, 111)
        );
        assert_eq!(count(&y, &fold.test, 0), 66);
        assert_eq!(count(&y, &fold.test, 1), 45);
        assert_eq!(fold, stratified_split(&y, 0.8, 0.1, 0.1, 0).unwrap());
        assert_ne!(fold, stratified_split(&y, 0.8, 0.1, 0.1, 1).unwrap());
        let all_train = stratified_split(&y, 1.0, 0.0, 0.0, 3).unwrap();
        assert_eq!(all_train.train.len(), y.len());
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        let y = labels(5, 5, 0);
        for k in [0, 1, 11] {
            assert!(
                matches!(
                    stratified_k_fold(&y, k, 0.1, 0),
                    Err(DataError::InvalidSplit { .. })
                ),
                "{k}"
            );
        }
        assert!(matches!(
            stratified_k_fold(&y, 2, 1.0, 0),
            Err(DataError::InvalidSplit { .. })
        ));
        assert!(matches!(
            stratified_split(&y, 0.8, 0.1, 0.2, 0),
            Err(DataError::InvalidSplit { .. })
        ));
        assert!(matches!(
            stratified_split(&y, 1.1, -0.1, 0.0, 0),
            Err(DataError::InvalidSplit { .. })
        ));
        assert!(matches!(
            stratified_split(&y, f64::NAN, 0.5, 0.5, 0),
            Err(DataError::InvalidSplit { .. })
        ));
    }

    #[test]
    fn validation_finds_out_of_range_duplicates_and_overlaps() {
        let fold = Fold {
            train: vec![0, 1],
            valid: vec![2],
            test: vec![3],
        };
        fold.validate(0, 4).unwrap();
        let err = fold.validate(4, 3).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::SplitIndexOutOfRange {
                    fold: 4,
                    set: "test",
                    index: 3,
                    num_graphs: 3
                }
            ),
            "{err:?}"
        );
        let overlap = Fold {
            train: vec![0, 1],
            valid: vec![2],
            test: vec![1],
        };
        let err = validate_folds(&[fold.clone(), overlap], 4).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::SplitOverlap {
                    fold: 1,
                    first: "train",
                    second: "test",
                    index: 1
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "fold 1: graph 1 is in train and in test");
        let duplicate = Fold {
            train: vec![0, 0],
            ..Fold::default()
        };
        assert!(matches!(
            duplicate.validate(0, 4),
            Err(DataError::SplitOverlap {
                first: "train",
                second: "train",
                ..
            })
        ));
    }

    #[test]
    fn errica_files_are_parsed_and_validated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("X_splits.json");
        std::fs::write(
            &path,
            r#"[{"test": [4, 0], "model_selection": [{"train": [1, 3], "validation": [2]}]},
                {"test": [1, 2], "model_selection": [{"train": [0, 4], "validation": [3]}]}]"#,
        )
        .unwrap();
        let folds = read_errica_splits(&path, 5).unwrap();
        assert_eq!(
            folds[0],
            Fold {
                train: vec![1, 3],
                valid: vec![2],
                test: vec![0, 4]
            }
        );
        assert_eq!(folds[1].valid, vec![3]);
        assert!(matches!(
            read_errica_splits(&path, 4),
            Err(DataError::SplitIndexOutOfRange {
                fold: 0,
                set: "test",
                index: 4,
                ..
            })
        ));

        std::fs::write(
            &path,
            r#"[{"test": [0], "model_selection": [{"train": [0], "validation": [1]}]}]"#,
        )
        .unwrap();
        assert!(matches!(
            read_errica_splits(&path, 5),
            Err(DataError::SplitOverlap {
                first: "train",
                second: "test",
                ..
            })
        ));
        std::fs::write(&path, r#"[{"test": [0], "model_selection": []}]"#).unwrap();
        assert!(matches!(
            read_errica_splits(&path, 5),
            Err(DataError::InvalidSplit { .. })
        ));
        std::fs::write(&path, r#"[{"test": [-1], "model_selection": []}]"#).unwrap();
        let err = read_errica_splits(&path, 5).unwrap_err();
        assert!(
            matches!(err, DataError::Json { .. }) && err.to_string().contains("X_splits.json"),
            "{err}"
        );
        assert!(matches!(
            read_errica_splits(&dir.path().join("none.json"), 5),
            Err(DataError::MissingFile { .. })
        ));
    }

    #[test]
    fn index_fold_files_are_read_in_order() {
        let dir = tempfile::tempdir().unwrap();
        for (n, test, train) in [(1, "0\n1\n", "2\n3\n"), (2, "2\n3\n", "1\n0\n")] {
            std::fs::write(dir.path().join(format!("test_idx-{n}.txt")), test).unwrap();
            std::fs::write(dir.path().join(format!("train_idx-{n}.txt")), train).unwrap();
        }
        let folds = read_index_folds(dir.path(), 4).unwrap();
        assert_eq!(folds.len(), 2);
        assert_eq!(
            folds[1],
            Fold {
                train: vec![0, 1],
                valid: vec![],
                test: vec![2, 3]
            }
        );
        std::fs::write(dir.path().join("train_idx-2.txt"), "1\nx\n").unwrap();
        assert!(matches!(
            read_index_folds(dir.path(), 4),
            Err(DataError::NotANumber { line: 2, .. })
        ));
    }
}
