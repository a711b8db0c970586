//! `gnn eval`: a saved model (`model.json` + `model.mpk`) evaluated on every graph of a
//! dataset.

use burn::backend::{Flex, NdArray};
use gnn_core::segment::SegmentBackend;
use gnn_datasets::GraphDataset;

use super::{CommandError, load_dataset};
use crate::cli::{BackendArg, EvalArgs};
use crate::train::{Preprocessing, evaluate, load_model};

/// Loads the model of `args.checkpoint` and prints its accuracy and loss on the dataset.
///
/// # Errors
/// A dataset that cannot be read, a model that cannot be loaded or does not fit the dataset,
/// or `--backend wgpu` without the `wgpu` feature.
pub fn execute(args: &EvalArgs) -> Result<(), CommandError> {
    // The checkpoint says whether training read the attributes and how it scaled them.
    let preprocessing = Preprocessing::load(&args.checkpoint)?;
    let (name, _, dataset) = load_dataset(
        args.dataset.as_deref(),
        args.data_dir.as_deref(),
        args.use_node_attr || preprocessing.use_node_attributes,
        0,
        0,
    )?;
    let dataset = preprocessing.apply(dataset)?;
    match args.backend {
        BackendArg::Flex => eval_on::<Flex>(args, &name, &dataset),
        BackendArg::Ndarray => eval_on::<NdArray<f32>>(args, &name, &dataset),
        BackendArg::Wgpu => eval_wgpu(args, &name, &dataset),
    }
}

fn eval_on<B: SegmentBackend>(
    args: &EvalArgs,
    name: &str,
    dataset: &GraphDataset,
) -> Result<(), CommandError> {
    let device = B::Device::default();
    let (model, _) = load_model::<B>(&args.checkpoint, &device)?;
    let result = evaluate(&model, dataset, args.batch_size, &device)?;
    println!(
        "{name}: accuracy {:.4} | loss {:.4} | {} graphs",
        result.accuracy, result.loss, result.graphs
    );
    Ok(())
}

#[cfg(feature = "wgpu")]
fn eval_wgpu(args: &EvalArgs, name: &str, dataset: &GraphDataset) -> Result<(), CommandError> {
    eval_on::<burn::backend::Wgpu>(args, name, dataset)
}

#[cfg(not(feature = "wgpu"))]
fn eval_wgpu(_args: &EvalArgs, _name: &str, _dataset: &GraphDataset) -> Result<(), CommandError> {
    // `cli::parse` refuses `--backend wgpu` in a build without the feature.
    Err(CommandError::NoWgpu)
}
