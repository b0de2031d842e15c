//! K-fold cross-validation on the train split: out-of-fold scores, the
//! temperature that calibrates them, and the "unsure" threshold chosen
//! from them.

use super::features::SparseVector;
use super::softmax::{Softmax, TrainParams, argmax, softmax};
use sha2::{Digest, Sha256};

/// Folds the committed model's calibration and thresholds come from.
pub const FOLDS: usize = 5;

/// The fold of an example, from its id alone (bytes of its SHA-256 other
/// than the ones that decide the held-out split, so folds mix splits evenly).
pub fn fold_of(id: &str, folds: usize) -> usize {
    let digest = Sha256::digest(id.as_bytes());
    let n = u32::from_be_bytes([digest[4], digest[5], digest[6], digest[7]]);
    n as usize % folds.max(1)
}

/// Each example's logits from a model trained on the other folds, and
/// those models, one per fold.
pub fn out_of_fold_logits(
    xs: &[&SparseVector],
    ys: &[usize],
    fold: &[usize],
    folds: usize,
    buckets: usize,
    classes: usize,
    params: &TrainParams,
) -> (Vec<Vec<f32>>, Vec<Softmax>) {
    let mut out = vec![Vec::new(); xs.len()];
    let mut models = Vec::with_capacity(folds);
    for f in 0..folds {
        let (train_x, train_y): (Vec<&SparseVector>, Vec<usize>) = (0..xs.len()).filter(|&n| fold[n] != f).map(|n| (xs[n], ys[n])).unzip();
        let model = Softmax::train(&train_x, &train_y, buckets, classes, params);
        for n in (0..xs.len()).filter(|&n| fold[n] == f) {
            out[n] = model.logits(xs[n]);
        }
        models.push(model);
    }
    (out, models)
}

/// The temperature minimising the negative log-likelihood of the labels
/// (temperature scaling): a grid over 0.1–10 in log steps, then a finer
/// grid around the best, so the result does not depend on a solver.
pub fn fit_temperature(logits: &[Vec<f32>], ys: &[usize]) -> f32 {
    let nll = |t: f32| -> f64 { logits.iter().zip(ys).map(|(l, &y)| -f64::from(softmax(l, t)[y].max(1e-12)).ln()).sum() };
    let best_of = |grid: Vec<f32>| -> f32 {
        let mut best = (f64::INFINITY, 1.0);
        for t in grid {
            let loss = nll(t);
            if loss < best.0 {
                best = (loss, t);
            }
        }
        best.1
    };
    let coarse = best_of((0..=40).map(|k| 10f32.powf(-1.0 + k as f32 / 20.0)).collect());
    best_of((-10..=10).map(|k| coarse * 10f32.powf(k as f32 / 200.0)).collect())
}

/// The lowest probability `t` such that the verdicts at or above `t` are
/// right at least `target` of the time: the fewest escalations that keep
/// the rest that accurate. `scored` holds each verdict's probability and
/// whether it was right. When no `t` reaches the target, 1.0 (every
/// verdict is unsure).
pub fn choose_threshold(scored: &[(f32, bool)], target: f32) -> f32 {
    let mut sorted: Vec<(f32, bool)> = scored.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total_right = sorted.iter().filter(|(_, right)| *right).count();
    let mut right = total_right;
    let mut kept = sorted.len();
    for (k, &(p, was_right)) in sorted.iter().enumerate() {
        // Only cut between distinct probabilities.
        let first_of_its_value = k == 0 || sorted[k - 1].0 < p;
        if first_of_its_value && kept > 0 && right as f32 >= target * kept as f32 {
            return p;
        }
        kept -= 1;
        right -= usize::from(was_right);
    }
    1.0
}

/// The probability of the top class and whether it is the label, per example.
pub fn scored(logits: &[Vec<f32>], ys: &[usize], temperature: f32) -> Vec<(f32, bool)> {
    logits
        .iter()
        .zip(ys)
        .map(|(l, &y)| {
            let p = softmax(l, temperature);
            let top = argmax(&p);
            (p[top], top == y)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_is_the_lowest_that_keeps_the_target() {
        // Wrong answers only below 0.5.
        let scored = [(0.3, false), (0.4, true), (0.45, false), (0.6, true), (0.8, true), (0.9, true)];
        assert_eq!(choose_threshold(&scored, 1.0), 0.6);
        assert_eq!(choose_threshold(&scored, 0.75), 0.4);
        assert_eq!(choose_threshold(&scored, 0.5), 0.3);
        assert_eq!(choose_threshold(&[(0.9, false)], 0.9), 1.0);
    }

    #[test]
    fn overconfident_scores_get_a_temperature_above_one() {
        // Half of these confident answers are wrong.
        let logits: Vec<Vec<f32>> = (0..20).map(|_| vec![5.0, 0.0]).collect();
        let ys: Vec<usize> = (0..20).map(|n| n % 2).collect();
        assert!(fit_temperature(&logits, &ys) > 3.0);
    }

    #[test]
    fn folds_are_stable_and_cover_every_fold() {
        let folds: Vec<usize> = (0..200).map(|n| fold_of(&format!("hotel-en-{n:04}"), 5)).collect();
        assert!((0..5).all(|f| folds.contains(&f)));
        assert_eq!(fold_of("hotel-en-0001", 5), fold_of("hotel-en-0001", 5));
    }
}
