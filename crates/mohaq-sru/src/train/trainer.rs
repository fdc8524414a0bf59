//! The epoch loop, one for every model kind ([`super::kind`]): curriculum batches, Adam with newbob halving, dropout, dev scores after every
//! epoch, an atomic checkpoint after every epoch, resume, and a hard stop on a non-finite loss.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Tensor;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::adam::Adam;
use super::batching::{make_batches, Batch, SequenceRef};
use super::checkpoint::{self, EpochSummary, TrainState};
use super::config::TrainConfig;
use super::error::TrainError;
use super::evaluate::{batch_loss, count_correct, evaluate_float};
use super::kind::{first_non_finite, TrainableConfig, TrainableNetwork};
use crate::model::network::MatrixHook;
use crate::model::params::{read_tensors, write_tensors};
use crate::model::{ForwardOptions, ModelConfig, SruNetwork};

/// Progress of one training batch, for progress bars.
#[derive(Clone, Debug)]
pub struct BatchProgress {
    pub epoch: usize,
    pub batch: usize,
    pub batches: usize,
    pub loss: f64,
    /// Running frame accuracy of the epoch so far.
    pub frame_acc: f64,
    /// Running training throughput of the epoch so far.
    pub frames_per_second: f64,
}

/// Receives progress; the CLI draws progress bars with it. All methods default to nothing.
pub trait TrainObserver {
    fn epoch_started(&mut self, _epoch: usize, _epochs: usize, _batches: usize, _lr: f64) {}
    fn batch_done(&mut self, _progress: &BatchProgress) {}
    fn epoch_finished(&mut self, _summary: &EpochSummary) {}
    /// Called once when a run resumes from a checkpoint.
    fn resumed(&mut self, _epochs_done: usize, _path: &Path) {}
}

/// An observer that ignores everything.
pub struct SilentObserver;
impl TrainObserver for SilentObserver {}

/// Computes a PER (percent) from the dev log posteriors, one entry per dev sequence.
pub type PerFn<'a> = dyn Fn(&[Vec<f32>]) -> f64 + Sync + 'a;

/// Everything one training run needs; `C` is the model kind (the SRU's [`ModelConfig`] or an
/// LSTM/GRU [`crate::rnn::RnnConfig`]).
pub struct TrainRun<'a, C: TrainableConfig = ModelConfig> {
    pub model: C,
    pub train: TrainConfig,
    pub train_seqs: &'a [SequenceRef<'a>],
    pub dev_seqs: &'a [SequenceRef<'a>],
    /// Decoder + scoring of dev PER; `None` skips PER.
    pub dev_per: Option<&'a PerFn<'a>>,
    /// Output directory: `checkpoint.safetensors` and `best.safetensors` go here.
    pub out_dir: &'a Path,
    /// Start from these weights (QAT) instead of a random initialisation.
    pub init: Option<C::Params>,
    /// Fake quantization for QAT.
    pub hook: Option<&'a dyn MatrixHook>,
}

/// Result of a finished run.
pub struct TrainOutcome<C: TrainableConfig = ModelConfig> {
    /// Weights of the epoch with the best dev frame accuracy.
    pub best: C::Params,
    pub state: TrainState,
    pub checkpoint: PathBuf,
    pub best_path: PathBuf,
}

fn rng_from_state(s: &TrainState) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::from_seed(s.rng_seed);
    rng.set_stream(s.rng_stream);
    rng.set_word_pos(s.rng_word_pos);
    rng
}

/// Writes the weights of the best epoch so far (no metadata: the checkpoint holds the config).
fn save_weights<C: TrainableConfig>(params: &C::Params, path: &Path) -> Result<(), TrainError> {
    Ok(write_tensors(
        path,
        &C::tensors(params),
        Default::default(),
    )?)
}

/// Runs (or resumes) training of any model kind. A checkpoint in `out_dir` is picked up
/// automatically.
pub fn train<C: TrainableConfig>(
    run: TrainRun<'_, C>,
    observer: &mut dyn TrainObserver,
) -> Result<TrainOutcome<C>, TrainError> {
    let cfg = &run.train;
    if run.train_seqs.is_empty() {
        return Err(TrainError::Data("the training set is empty".to_string()));
    }
    if let Some(s) = run.train_seqs.iter().chain(run.dev_seqs).find(|s| {
        s.dim != run.model.input_dim()
            || s.targets.iter().any(|&t| t as usize >= run.model.classes())
    }) {
        return Err(TrainError::Data(format!(
            "a sequence has feature dim {} or a target outside 0..{} (model expects dim {})",
            s.dim,
            run.model.classes(),
            run.model.input_dim()
        )));
    }
    std::fs::create_dir_all(run.out_dir).map_err(|e| TrainError::Checkpoint {
        path: run.out_dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let ckpt_path = run.out_dir.join("checkpoint.safetensors");
    let best_path = run.out_dir.join("best.safetensors");

    let (params, moments, mut state) = if ckpt_path.exists() {
        let c = checkpoint::load(&ckpt_path, &run.model)?;
        tracing::info!(path = %ckpt_path.display(), epochs_done = c.state.epochs_done, "resuming");
        observer.resumed(c.state.epochs_done, &ckpt_path);
        (c.params, Some(c.moments), c.state)
    } else {
        let params = run.init.clone().unwrap_or_else(|| run.model.init(cfg.seed));
        let rng = ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(0x5eed));
        let state = TrainState {
            epochs_done: 0,
            learning_rate: cfg.learning_rate,
            adam_step: 0,
            rng_seed: rng.get_seed(),
            rng_stream: rng.get_stream(),
            rng_word_pos: rng.get_word_pos(),
            best_dev_error: f64::INFINITY,
            best_epoch: 0,
            history: Vec::new(),
        };
        (params, None, state)
    };
    let net = C::network(&params)?;
    let mut adam = Adam::new(
        net.vars(),
        state.learning_rate,
        cfg.beta1,
        cfg.beta2,
        cfg.eps,
        cfg.weight_decay,
    )?;
    adam.step = state.adam_step;
    if let Some(m) = moments {
        adam.set_moments(m)?;
    }
    let mut rng = rng_from_state(&state);
    let frames: Vec<usize> = run.train_seqs.iter().map(|s| s.frames()).collect();
    let mut last_good: Option<PathBuf> = ckpt_path.exists().then(|| ckpt_path.clone());

    for epoch in state.epochs_done..cfg.epochs {
        if cfg.min_learning_rate > 0.0 && state.learning_rate < cfg.min_learning_rate {
            tracing::info!(
                lr = state.learning_rate,
                "learning rate below minimum: stopping"
            );
            break;
        }
        adam.lr = state.learning_rate;
        let chunk_len = cfg.chunk_length(epoch);
        let batches = make_batches(&frames, chunk_len, cfg.batch_size, &mut rng);
        observer.epoch_started(epoch, cfg.epochs, batches.len(), state.learning_rate);
        let start = Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0f64, 0usize, 0usize);
        for (bi, chunks) in batches.iter().enumerate() {
            let batch = Batch::assemble(run.train_seqs, chunks);
            let mut opts = ForwardOptions {
                dropout: Some((run.model.dropout(), &mut rng)),
                hook: run.hook,
            };
            let (logits, loss) = batch_loss(&net, &batch, &mut opts)?;
            let loss_v = loss.to_scalar::<f32>()? as f64;
            if !loss_v.is_finite() {
                return Err(TrainError::NonFiniteLoss {
                    epoch,
                    batch: bi,
                    checkpoint: last_good,
                });
            }
            let grads = loss.backward()?;
            adam.step(&grads)?;
            loss_sum += loss_v * batch.frames() as f64;
            correct += count_correct(&logits.detach(), &batch.targets)?;
            seen += batch.frames();
            observer.batch_done(&BatchProgress {
                epoch,
                batch: bi,
                batches: batches.len(),
                loss: loss_v,
                frame_acc: correct as f64 / seen.max(1) as f64,
                frames_per_second: seen as f64 / start.elapsed().as_secs_f64().max(1e-9),
            });
        }
        let train_secs = start.elapsed().as_secs_f64();
        let dev = evaluate_float(&net, run.dev_seqs, run.hook, cfg.batch_size)?;
        let dev_per = run.dev_per.map(|f| f(&dev.log_posteriors));
        let params = net.to_params()?;
        if let Some(name) = first_non_finite::<C>(&params) {
            tracing::error!(tensor = %name, "non-finite weights after epoch {epoch}");
            return Err(TrainError::NonFiniteLoss {
                epoch,
                batch: batches.len(),
                checkpoint: last_good,
            });
        }
        let summary = EpochSummary {
            epoch,
            learning_rate: state.learning_rate,
            chunk_length: chunk_len,
            train_loss: loss_sum / seen.max(1) as f64,
            train_frame_acc: correct as f64 / seen.max(1) as f64,
            dev_loss: dev.loss,
            dev_frame_acc: dev.frame_acc,
            dev_per,
            frames_per_second: seen as f64 / train_secs.max(1e-9),
            seconds: start.elapsed().as_secs_f64(),
        };
        tracing::info!(?summary, "epoch done");
        // Newbob: halve the rate when the relative dev improvement is below the threshold.
        let dev_error = 1.0 - dev.frame_acc;
        if let Some(prev) = state.history.last() {
            let prev_error = 1.0 - prev.dev_frame_acc;
            if (prev_error - dev_error) / prev_error.max(1e-12) < cfg.newbob_threshold {
                state.learning_rate *= 0.5;
                tracing::info!(lr = state.learning_rate, "newbob: learning rate halved");
            }
        }
        if dev_error < state.best_dev_error {
            state.best_dev_error = dev_error;
            state.best_epoch = epoch;
            save_weights::<C>(&params, &best_path)?;
        }
        state.history.push(summary.clone());
        state.epochs_done = epoch + 1;
        state.adam_step = adam.step;
        state.rng_seed = rng.get_seed();
        state.rng_stream = rng.get_stream();
        state.rng_word_pos = rng.get_word_pos();
        checkpoint::save(&ckpt_path, &run.model, &params, &adam.moments()?, &state)?;
        last_good = Some(ckpt_path.clone());
        observer.epoch_finished(&summary);
    }
    let best = if best_path.exists() {
        let (map, _) = read_tensors(&best_path)?;
        run.model.params_from_tensors(map, &best_path)?
    } else {
        net.to_params()?
    };
    Ok(TrainOutcome {
        best,
        state,
        checkpoint: ckpt_path,
        best_path,
    })
}

/// Convenience for tests and benches: one optimisation step on one batch; returns the loss.
pub fn train_step(
    net: &SruNetwork,
    adam: &mut Adam,
    batch: &Batch,
    dropout: Option<(f32, &mut ChaCha8Rng)>,
) -> Result<f64, TrainError> {
    let mut opts = ForwardOptions {
        dropout,
        hook: None,
    };
    let (_, loss): (Tensor, Tensor) = batch_loss(net, batch, &mut opts)?;
    let grads = loss.backward()?;
    adam.step(&grads)?;
    Ok(loss.to_scalar::<f32>()? as f64)
}
