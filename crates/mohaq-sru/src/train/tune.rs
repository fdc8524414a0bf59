//! Decoder tuning of a trained model on a dataset (the dev split): the float log posteriors are
//! computed once, then [`crate::decode::tuning`] searches the Viterbi parameters on them.

use super::error::TrainError;
use super::evaluate::evaluate_float;
use super::kind::TrainableConfig;
use super::pipeline::sequences;
use crate::decode::{
    tune_decoder, PhoneBigram, StatePriors, TuningGrid, TuningOutcome, TuningProgress,
    TuningUtterance,
};
use crate::features::Dataset;
use crate::model::ModelBundle;

/// Float log posteriors of every utterance of `ds` (input order).
pub fn float_log_posteriors(
    bundle: &ModelBundle,
    ds: &Dataset,
) -> Result<Vec<Vec<f32>>, TrainError> {
    params_log_posteriors::<crate::model::ModelConfig>(&bundle.params, ds)
}

/// Float log posteriors of every utterance of `ds` (input order) under any model kind's weights.
pub fn params_log_posteriors<C: TrainableConfig>(
    params: &C::Params,
    ds: &Dataset,
) -> Result<Vec<Vec<f32>>, TrainError> {
    let net = C::network(params)?;
    Ok(evaluate_float(&net, &sequences(ds), None, 8)?.log_posteriors)
}

/// Searches `grid` for the decoder parameters with the lowest PER of `bundle` on `ds`, with the
/// bundle's bigram and priors. The bundle is not changed: the caller stores `outcome.best`.
pub fn tune_on(
    bundle: &ModelBundle,
    ds: &Dataset,
    grid: &TuningGrid,
    progress: &mut dyn FnMut(TuningProgress),
) -> Result<TuningOutcome, TrainError> {
    let posteriors = float_log_posteriors(bundle, ds)?;
    tune_on_posteriors(bundle, ds, &posteriors, grid, progress)
}

/// As [`tune_on`], with the log posteriors of `ds` already computed (input order).
pub fn tune_on_posteriors(
    bundle: &ModelBundle,
    ds: &Dataset,
    posteriors: &[Vec<f32>],
    grid: &TuningGrid,
    progress: &mut dyn FnMut(TuningProgress),
) -> Result<TuningOutcome, TrainError> {
    tune_statistics_on_posteriors(
        &bundle.bigram,
        &bundle.priors,
        ds,
        posteriors,
        grid,
        progress,
    )
}

/// The search of [`tune_on`] for any model kind: its decoder statistics and the log posteriors
/// of `ds` (input order).
pub fn tune_statistics_on_posteriors(
    bigram: &PhoneBigram,
    priors: &StatePriors,
    ds: &Dataset,
    posteriors: &[Vec<f32>],
    grid: &TuningGrid,
    progress: &mut dyn FnMut(TuningProgress),
) -> Result<TuningOutcome, TrainError> {
    if posteriors.len() != ds.utterances.len() {
        return Err(TrainError::Tuning(format!(
            "{} posterior matrices for {} utterances",
            posteriors.len(),
            ds.utterances.len()
        )));
    }
    let utterances: Vec<TuningUtterance<'_>> = ds
        .utterances
        .iter()
        .zip(posteriors)
        .map(|(u, lp)| TuningUtterance {
            reference: &u.phones,
            log_posteriors: lp,
            frames: u.num_frames(),
        })
        .collect();
    tune_decoder(bigram, priors, &utterances, grid, progress).map_err(TrainError::Tuning)
}
