//! Multinomial logistic regression (softmax) over hashed sparse features,
//! L2-regularised, trained with AdaGrad.
//!
//! Why hand-written: linfa-logistic and smartcore take dense matrices, and
//! the design matrix here is a few thousand rows by 2^16 hashed columns
//! (≈ 1 GB dense in f32) with a few hundred non-zeros per row. The loop
//! below touches only those non-zeros, on `ndarray` weight matrices. It is
//! deterministic: one thread, a fixed visiting order from a seeded ChaCha
//! generator (portable across platforms and versions), no parallel sums.

use super::features::SparseVector;
use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand::seq::SliceRandom;

/// The trainer's settings (part of the model's fingerprint).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainParams {
    /// Passes over the data.
    pub epochs: u32,
    /// AdaGrad's base step.
    pub learning_rate: f32,
    /// L2 penalty on the weights (not the biases), applied to the rows an
    /// example touches.
    pub l2: f32,
    /// Seed of the visiting order.
    pub seed: u64,
}

/// The settings the committed model is trained with.
pub const PARAMS: TrainParams = TrainParams { epochs: 20, learning_rate: 0.3, l2: 1e-5, seed: 14 };

/// One field's linear model: `logits = x · W + b`, probabilities
/// `softmax(logits / temperature)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Softmax {
    /// Buckets × classes.
    pub weights: Array2<f32>,
    /// One per class.
    pub bias: Array1<f32>,
}

impl Softmax {
    /// A model with every weight zero.
    pub fn zeros(buckets: usize, classes: usize) -> Self {
        Self { weights: Array2::zeros((buckets, classes)), bias: Array1::zeros(classes) }
    }

    /// The number of classes.
    pub fn classes(&self) -> usize {
        self.bias.len()
    }

    /// The raw scores of each class.
    pub fn logits(&self, x: &SparseVector) -> Vec<f32> {
        let mut out = self.bias.to_vec();
        for (i, v) in x.iter() {
            if let Some(row) = self.weights.row(i).as_slice() {
                for (o, w) in out.iter_mut().zip(row) {
                    *o += w * v;
                }
            }
        }
        out
    }

    /// Fits the model to examples `xs` with class indices `ys`.
    pub fn train(xs: &[&SparseVector], ys: &[usize], buckets: usize, classes: usize, params: &TrainParams) -> Self {
        let mut model = Self::zeros(buckets, classes);
        let mut squares_w: Array2<f32> = Array2::zeros((buckets, classes));
        let mut squares_b: Array1<f32> = Array1::zeros(classes);
        let mut order: Vec<usize> = (0..xs.len()).collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(params.seed);
        const EPSILON: f32 = 1e-8;
        let mut gradient = vec![0.0f32; classes];
        for _ in 0..params.epochs {
            order.shuffle(&mut rng);
            for &n in &order {
                let x = xs[n];
                let p = softmax(&model.logits(x), 1.0);
                for (k, g) in gradient.iter_mut().enumerate() {
                    *g = p[k] - if k == ys[n] { 1.0 } else { 0.0 };
                }
                for (k, g) in gradient.iter().enumerate() {
                    squares_b[k] += g * g;
                    model.bias[k] -= params.learning_rate * g / (squares_b[k].sqrt() + EPSILON);
                }
                for (i, v) in x.iter() {
                    let (Some(weights), Some(squares)) = (model.weights.row_mut(i).into_slice(), squares_w.row_mut(i).into_slice()) else {
                        continue;
                    };
                    for ((w, s), g) in weights.iter_mut().zip(squares.iter_mut()).zip(&gradient) {
                        let step = g * v + params.l2 * *w;
                        *s += step * step;
                        *w -= params.learning_rate * step / (s.sqrt() + EPSILON);
                    }
                }
            }
        }
        model
    }
}

/// `softmax(logits / temperature)`, computed stably.
pub fn softmax(logits: &[f32], temperature: f32) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|l| ((l - max) / temperature).exp()).collect();
    let total: f32 = exps.iter().sum();
    exps.iter().map(|e| e / total).collect()
}

/// The index of the largest value (the first, on ties).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (k, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = k;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(i: u32) -> SparseVector {
        SparseVector { indices: vec![i], values: vec![1.0] }
    }

    #[test]
    fn separable_classes_are_learnt() {
        let xs = [one_hot(1), one_hot(2), one_hot(3), one_hot(1), one_hot(2), one_hot(3)];
        let refs: Vec<&SparseVector> = xs.iter().collect();
        let ys = [0, 1, 2, 0, 1, 2];
        let model = Softmax::train(&refs, &ys, 8, 3, &PARAMS);
        for (x, y) in xs.iter().zip(ys) {
            assert_eq!(argmax(&model.logits(x)), y);
        }
    }

    #[test]
    fn training_twice_gives_the_same_weights() {
        let xs = [one_hot(1), one_hot(2), one_hot(1)];
        let refs: Vec<&SparseVector> = xs.iter().collect();
        let a = Softmax::train(&refs, &[0, 1, 1], 4, 2, &PARAMS);
        let b = Softmax::train(&refs, &[0, 1, 1], 4, 2, &PARAMS);
        assert_eq!(a, b);
    }

    #[test]
    fn a_higher_temperature_flattens_the_probabilities() {
        let sharp = softmax(&[2.0, 0.0], 1.0);
        let flat = softmax(&[2.0, 0.0], 2.0);
        assert!(flat[0] < sharp[0] && flat[0] > 0.5);
        assert!((sharp.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
}
