//! The arguments of each subcommand (`gnn train`, `gnn eval`, `gnn predict`, `gnn select`)
//! and what
//! `gnn train`'s arguments describe: a classifier and its training settings.

use std::path::PathBuf;

use clap::Args;
use gnn_models::{
    Architecture, ClassifierConfig, DiffPoolClassifierConfig, GlobalClassifierConfig,
    GraclusClassifierConfig, HierarchicalClassifierConfig, MinCutClassifierConfig, PoolKind,
};
use gnn_pool::Selection;

use super::DEFAULT_DATASET_GRAPHS;
use super::values::{BackendArg, ConvArg, ModelArg, ReadoutArg};
use crate::config::TrainingConfig;

/// Arguments of `gnn train`. A run keeps them in `run.json` (all but `--resume` and
/// `--quiet`), which `--resume` reads back.
#[derive(Debug, Clone, Args, serde::Serialize, serde::Deserialize)]
pub struct TrainArgs {
    /// TU dataset by name, from the cache (`GNN_DATA_DIR`), downloaded when missing.
    #[arg(long, value_name = "NAME", conflicts_with = "data_dir")]
    pub dataset: Option<String>,
    /// TU dataset folder holding NAME_A.txt and friends.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Graphs of the built-in BA-2Motifs dataset (when no dataset is given).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_DATASET_GRAPHS)]
    pub graphs: usize,
    /// Keep TU node attributes (PyG's use_node_attr).
    #[arg(long)]
    pub use_node_attr: bool,
    /// Leave out graphs with more than N nodes from every fold (dense models allocate
    /// [batch, N_max, N_max]); how many are left out is printed and recorded in metrics.json.
    #[arg(long, value_name = "N")]
    pub max_nodes: Option<usize>,
    /// Pooling architecture.
    #[arg(long, value_enum, default_value_t = ModelArg::Topk)]
    pub model: ModelArg,
    /// Message passing layer.
    #[arg(long, value_enum, default_value_t = ConvArg::Graph)]
    pub conv: ConvArg,
    /// Readout of the pooled graphs (after every block, or once for sag-global).
    #[arg(long, value_enum, default_value_t = ReadoutArg::MaxMean)]
    pub readout: ReadoutArg,
    /// Hidden width of the convolutions.
    #[arg(long, value_name = "H", default_value_t = 128)]
    pub hidden: usize,
    /// Number of blocks (convolutions).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub blocks: usize,
    /// Fraction of nodes each pooling keeps, in (0, 1].
    #[arg(long, value_name = "R", default_value_t = 0.8)]
    pub ratio: f64,
    /// Dropout of the head, in [0, 1).
    #[arg(long, value_name = "P", default_value_t = 0.5)]
    pub dropout: f64,
    /// Maximum epochs per fold (early stopping usually ends a fold sooner).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub epochs: usize,
    /// Graphs per batch.
    #[arg(long, value_name = "B", default_value_t = 60)]
    pub batch_size: usize,
    /// Adam learning rate (PyG's example: 5e-4).
    #[arg(long, value_name = "LR", default_value_t = 5e-4)]
    pub lr: f64,
    /// Adam weight decay.
    #[arg(long, value_name = "W", default_value_t = 1e-4)]
    pub weight_decay: f64,
    /// Clip each parameter's gradient to this L2 norm (0: no clipping).
    #[arg(long, value_name = "NORM", default_value_t = 0.0)]
    pub grad_clip: f64,
    /// Early stopping: epochs without a lower validation loss.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub patience: usize,
    /// Learning rate on plateau: epochs without a lower validation loss before the rate is
    /// multiplied by --lr-factor (0: constant rate). Training also stops below --min-lr.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub lr_patience: usize,
    /// Factor of each learning-rate reduction, in (0, 1).
    #[arg(long, value_name = "F", default_value_t = 0.5)]
    pub lr_factor: f64,
    /// With --lr-patience, training stops once the rate falls below this.
    #[arg(long, value_name = "LR", default_value_t = 1e-5)]
    pub min_lr: f64,
    /// Keep --use-node-attr attributes in their raw units (default: standardised with the
    /// statistics of each fold's training graphs).
    #[arg(long)]
    pub raw_attributes: bool,
    /// Threads training on shards of each batch in parallel (default: the CPU cores for
    /// ndarray and flex, 1 for wgpu; on wgpu N shards run one after another). Same gradients up
    /// to float rounding. diffpool trains on whole batches (its batch norm needs them) whatever
    /// this says.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Stratified k-fold cross-validation with K folds (default: one stratified 80/10/10 split).
    #[arg(long, value_name = "K", conflicts_with = "splits")]
    pub folds: Option<usize>,
    /// Split file of Errica et al. (e.g. NCI1_splits.json), one fold per outer split, or a folder
    /// of per-fold index files (see `data::read_index_folds`).
    #[arg(long, value_name = "FILE")]
    pub splits: Option<PathBuf>,
    /// Seed of splits, initialisation, dropout and shuffling.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Tensor backend.
    #[arg(long, value_enum, default_value_t = BackendArg::Flex)]
    pub backend: BackendArg,
    /// Devices to train on through burn-train's multi-device strategy: the first N devices of
    /// the backend (wgpu: the GPUs; ndarray and flex: N handles on the CPU). Default 1.
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub devices: Option<usize>,
    /// Output folder [default: runs/DATASET-MODEL-CONV].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue the interrupted run in DIR (a `gnn train --out` folder) where it stopped, with
    /// its settings; other flags, when given, must repeat them.
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    #[serde(skip)]
    pub resume: Option<PathBuf>,
    /// No per-epoch lines.
    #[arg(long, short)]
    #[serde(skip)]
    pub quiet: bool,
    /// The flags given on the command line (clap ids: `batch_size` for `--batch-size`), filled
    /// by [`crate::cli::parse`]; `--resume` checks them against the run's.
    #[arg(skip)]
    #[serde(skip)]
    pub given: Vec<String>,
}

/// Arguments of `gnn eval`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// Folder of a saved model (model.json + model.mpk): a run's `--out` or one of its fold-K.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    /// TU dataset folder to evaluate on (every graph).
    #[arg(long, value_name = "DIR", required_unless_present = "dataset")]
    pub data_dir: Option<PathBuf>,
    /// TU dataset by name instead of a folder.
    #[arg(long, value_name = "NAME", conflicts_with = "data_dir")]
    pub dataset: Option<String>,
    /// Keep TU node attributes (also implied by a checkpoint trained with them).
    #[arg(long)]
    pub use_node_attr: bool,
    /// Graphs per batch.
    #[arg(long, value_name = "B", default_value_t = 60)]
    pub batch_size: usize,
    /// Tensor backend.
    #[arg(long, value_enum, default_value_t = BackendArg::Flex)]
    pub backend: BackendArg,
}

/// Arguments of `gnn predict`.
#[derive(Debug, Clone, Args)]
pub struct PredictArgs {
    /// Folder of a saved model (model.json + model.mpk): a run's `--out` or one of its fold-K.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    /// TU dataset folder to predict on (every graph; NAME_graph_labels.txt may be absent).
    #[arg(long, value_name = "DIR", required_unless_present = "dataset")]
    pub data_dir: Option<PathBuf>,
    /// TU dataset by name instead of a folder.
    #[arg(long, value_name = "NAME", conflicts_with = "data_dir")]
    pub dataset: Option<String>,
    /// Keep TU node attributes (also implied by a checkpoint trained with them).
    #[arg(long)]
    pub use_node_attr: bool,
    /// Write the predictions to this file: JSON for a `.json` name, else CSV
    /// [default: CSV to stdout].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Graphs per batch.
    #[arg(long, value_name = "B", default_value_t = 60)]
    pub batch_size: usize,
    /// Tensor backend.
    #[arg(long, value_enum, default_value_t = BackendArg::Flex)]
    pub backend: BackendArg,
}

/// Arguments of `gnn compare`: the models, and `gnn train`'s flags for all of them.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Models to train and compare, comma-separated (e.g. global,topk,sag,diffpool,mincut,graclus).
    #[arg(long, value_enum, value_delimiter = ',', required = true)]
    pub models: Vec<ModelArg>,
    /// Training flags as for `gnn train` (`--model` and `--resume` excepted); `--out` is the
    /// comparison's folder [default: runs/compare-DATASET], each model's run `OUT/MODEL`.
    #[command(flatten)]
    pub train: TrainArgs,
}

/// Arguments of `gnn select`.
#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// Runs to choose from: `gnn train --out` folders (or their metrics.json), one per
    /// configuration, all on the same dataset and folds.
    #[arg(value_name = "RUN", required = true, num_args = 1..)]
    pub runs: Vec<PathBuf>,
    /// Also write the selection as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl TrainArgs {
    /// Whether the run uses the built-in dataset.
    pub fn uses_default_dataset(&self) -> bool {
        self.dataset.is_none() && self.data_dir.is_none()
    }

    /// The classifier for `d_input` features and `num_classes` classes.
    pub fn classifier(&self, d_input: usize, num_classes: usize) -> ClassifierConfig {
        match self.model {
            ModelArg::Global => GlobalClassifierConfig::new(d_input, num_classes)
                .with_hidden(self.hidden)
                .with_num_blocks(self.blocks)
                .with_conv(self.conv.kind())
                .with_readout(self.readout.pool())
                .with_dropout(self.dropout)
                .into(),
            ModelArg::Graclus => GraclusClassifierConfig::new(d_input, num_classes)
                .with_hidden(self.hidden)
                .with_num_blocks(self.blocks)
                .with_conv(self.conv.kind())
                .with_readout(self.readout.pool())
                .with_dropout(self.dropout)
                .into(),
            ModelArg::Diffpool => DiffPoolClassifierConfig::new(d_input, num_classes).into(),
            ModelArg::Mincut => MinCutClassifierConfig::new(d_input, num_classes).into(),
            ModelArg::Topk | ModelArg::Sag | ModelArg::SagGlobal => {
                self.hierarchical(d_input, num_classes).into()
            }
        }
    }

    /// The hierarchical classifier the flags describe: TopK or SAG pooling as `--model` says
    /// (`topk` for a model that is not a hierarchical one).
    pub fn hierarchical(&self, d_input: usize, num_classes: usize) -> HierarchicalClassifierConfig {
        let (pool, architecture) = match self.model {
            ModelArg::Sag => (PoolKind::Sag, Architecture::Hierarchical),
            ModelArg::SagGlobal => (PoolKind::Sag, Architecture::Global),
            ModelArg::Topk
            | ModelArg::Global
            | ModelArg::Graclus
            | ModelArg::Diffpool
            | ModelArg::Mincut => (PoolKind::TopK, Architecture::Hierarchical),
        };
        HierarchicalClassifierConfig::new(d_input, num_classes)
            .with_hidden(self.hidden)
            .with_num_blocks(self.blocks)
            .with_conv(self.conv.kind())
            .with_pool(pool)
            .with_architecture(architecture)
            .with_selection(Selection::Ratio(self.ratio))
            .with_readout(self.readout.pool())
            .with_dropout(self.dropout)
    }

    /// The optimisation settings.
    pub fn training(&self) -> TrainingConfig {
        TrainingConfig::new()
            .with_epochs(self.epochs)
            .with_lr(self.lr)
            .with_batch_size(self.batch_size)
            .with_weight_decay(self.weight_decay)
            .with_patience(self.patience)
            .with_lr_patience(self.lr_patience)
            .with_lr_factor(self.lr_factor)
            .with_min_lr(self.min_lr)
            .with_standardize_attributes(!self.raw_attributes)
            .with_grad_clip_norm(self.grad_clip)
            .with_seed(self.seed)
            .with_threads(self.threads())
    }

    /// Threads per training step: `--threads`, else every core on a CPU backend and one on
    /// Wgpu (a GPU runs one shard's kernels in parallel already).
    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(|| match self.backend {
            BackendArg::Wgpu => 1,
            BackendArg::Flex | BackendArg::Ndarray => {
                std::thread::available_parallelism().map_or(1, usize::from)
            }
        })
    }
}
