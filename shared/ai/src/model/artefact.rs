//! The model as committed (`shared/ai/model/classifier.bin`), embedded in
//! every binary and decoded once.
//!
//! Layout, little-endian:
//!
//! | bytes | what |
//! |---|---|
//! | 8 | magic `SWBMODEL` |
//! | 2 | format version ([`FORMAT_VERSION`]) |
//! | 2 | feature version ([`features::FEATURE_VERSION`]) |
//! | 1 | bucket bits ([`features::BUCKET_BITS`]) |
//! | 32 | fingerprint: SHA-256 of the corpus and the trainer's settings |
//! | per field (intent, urgency, sentiment) | classes `u8`; temperature, threshold `f32`; bias `f32` × classes; scale `f32` × classes; weights `i16` × buckets × classes (bucket-major) |
//!
//! Weights are quantised to 16 bits per class (`w ≈ q × scale`, scale =
//! largest |w| / 32767): a quarter of the error of the model's own
//! variance across folds, half the size of f32.

use super::features::{self, BUCKETS};
use super::softmax::Softmax;
use super::{Field, FieldModel, Model};
use ndarray::{Array1, Array2};
use std::sync::LazyLock;

/// The first bytes of every artefact.
pub const MAGIC: [u8; 8] = *b"SWBMODEL";

/// The layout's version.
pub const FORMAT_VERSION: u16 = 1;

/// Where `switchboard model train` writes the artefact.
pub const ARTEFACT_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/model/classifier.bin");

/// The committed artefact.
static EMBEDDED: &[u8] = include_bytes!("../../model/classifier.bin");

static MODEL: LazyLock<Result<Model, ArtefactError>> = LazyLock::new(|| decode(EMBEDDED));

/// The embedded model, decoded on first use.
pub fn classifier() -> Result<&'static Model, &'static ArtefactError> {
    MODEL.as_ref()
}

/// Why bytes are not a model this code can use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArtefactError {
    /// Not an artefact at all.
    #[error("not a classifier artefact (bad magic)")]
    BadMagic,
    /// Written by another version of the layout.
    #[error("artefact format version {0}, this code reads {FORMAT_VERSION}")]
    UnsupportedFormat(u16),
    /// Trained on other features than this code computes.
    #[error(
        "artefact features version {version} with {bits} bucket bits; this code computes version {} with {}",
        features::FEATURE_VERSION,
        features::BUCKET_BITS
    )]
    FeatureMismatch {
        /// The artefact's feature version.
        version: u16,
        /// The artefact's bucket bits.
        bits: u8,
    },
    /// A field has another number of classes than the code knows.
    #[error("the {field} model has {found} classes, expected {expected}")]
    Classes {
        /// The field.
        field: &'static str,
        /// What the artefact says.
        found: usize,
        /// What the code knows.
        expected: usize,
    },
    /// Cut short.
    #[error("the artefact ends early, at byte {0}")]
    Truncated(usize),
    /// Bytes after the last field.
    #[error("{0} unexpected bytes after the model")]
    TrailingBytes(usize),
    /// A temperature, threshold or scale that cannot be.
    #[error("the {0} model has an invalid temperature, threshold or scale")]
    InvalidNumber(&'static str),
}

/// The artefact's bytes.
pub fn encode(model: &Model) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + BUCKETS * 13 * 2);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&features::FEATURE_VERSION.to_le_bytes());
    out.push(features::BUCKET_BITS);
    out.extend_from_slice(&model.fingerprint);
    for field in Field::ALL {
        let m = model.field(field);
        let classes = m.softmax.classes();
        out.push(classes as u8);
        out.extend_from_slice(&m.temperature.to_le_bytes());
        out.extend_from_slice(&m.threshold.to_le_bytes());
        for b in &m.softmax.bias {
            out.extend_from_slice(&b.to_le_bytes());
        }
        let scales = scales(&m.softmax.weights);
        for s in &scales {
            out.extend_from_slice(&s.to_le_bytes());
        }
        for row in m.softmax.weights.rows() {
            for (w, s) in row.iter().zip(&scales) {
                let q = (w / s).round().clamp(-32767.0, 32767.0) as i16;
                out.extend_from_slice(&q.to_le_bytes());
            }
        }
    }
    out
}

/// Per class: the largest |weight| over 32767 (1 for an all-zero class).
fn scales(weights: &Array2<f32>) -> Vec<f32> {
    weights
        .columns()
        .into_iter()
        .map(|c| {
            let max = c.iter().fold(0.0f32, |m, w| m.max(w.abs()));
            if max > 0.0 { max / 32767.0 } else { 1.0 }
        })
        .collect()
}

/// Reads bytes in order, failing with the offset where they run out.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ArtefactError> {
        let slice = self.bytes.get(self.at..self.at + n).ok_or(ArtefactError::Truncated(self.at))?;
        self.at += n;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ArtefactError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn f32(&mut self) -> Result<f32, ArtefactError> {
        Ok(f32::from_le_bytes(self.array()?))
    }
}

/// The model in an artefact, checked.
pub fn decode(bytes: &[u8]) -> Result<Model, ArtefactError> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(MAGIC.len()).map_err(|_| ArtefactError::BadMagic)? != MAGIC {
        return Err(ArtefactError::BadMagic);
    }
    let format = u16::from_le_bytes(r.array()?);
    if format != FORMAT_VERSION {
        return Err(ArtefactError::UnsupportedFormat(format));
    }
    let version = u16::from_le_bytes(r.array()?);
    let [bits] = r.array::<1>()?;
    if version != features::FEATURE_VERSION || bits != features::BUCKET_BITS {
        return Err(ArtefactError::FeatureMismatch { version, bits });
    }
    let fingerprint: [u8; 32] = r.array()?;
    let mut fields = Vec::with_capacity(Field::ALL.len());
    for field in Field::ALL {
        let [classes] = r.array::<1>()?;
        let classes = usize::from(classes);
        let expected = field.classes().len();
        if classes != expected {
            return Err(ArtefactError::Classes { field: field.name(), found: classes, expected });
        }
        let temperature = r.f32()?;
        let threshold = r.f32()?;
        let bias = (0..classes).map(|_| r.f32()).collect::<Result<Vec<f32>, _>>()?;
        let scales = (0..classes).map(|_| r.f32()).collect::<Result<Vec<f32>, _>>()?;
        let valid = temperature.is_finite()
            && temperature > 0.0
            && (0.0..=1.0).contains(&threshold)
            && bias.iter().chain(&scales).all(|x| x.is_finite());
        if !valid {
            return Err(ArtefactError::InvalidNumber(field.name()));
        }
        let raw = r.take(BUCKETS * classes * 2)?;
        let weights: Vec<f32> =
            raw.chunks_exact(2).enumerate().map(|(n, q)| f32::from(i16::from_le_bytes([q[0], q[1]])) * scales[n % classes]).collect();
        let weights = Array2::from_shape_vec((BUCKETS, classes), weights).map_err(|_| ArtefactError::Truncated(r.at))?;
        fields.push(FieldModel { softmax: Softmax { weights, bias: Array1::from(bias) }, temperature, threshold });
    }
    if r.at != bytes.len() {
        return Err(ArtefactError::TrailingBytes(bytes.len() - r.at));
    }
    let mut fields = fields.into_iter();
    match (fields.next(), fields.next(), fields.next()) {
        (Some(intent), Some(urgency), Some(sentiment)) => Ok(Model { intent, urgency, sentiment, fingerprint }),
        _ => Err(ArtefactError::Truncated(r.at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_artefact_loads() {
        assert!(classifier().is_ok(), "{:?}", classifier().err());
    }

    #[test]
    fn a_model_survives_encoding_up_to_quantisation() {
        let Ok(model) = classifier() else { panic!("the embedded model does not load") };
        let again = decode(&encode(model)).unwrap();
        assert_eq!(encode(&again), encode(model));
        assert_eq!(again.fingerprint, model.fingerprint);
    }

    #[test]
    fn corrupt_artefacts_are_typed_errors() {
        assert_eq!(decode(b"not a model"), Err(ArtefactError::BadMagic));
        let mut bytes = EMBEDDED.to_vec();
        bytes[8] = 9;
        assert_eq!(decode(&bytes), Err(ArtefactError::UnsupportedFormat(9)));
        let short = &EMBEDDED[..EMBEDDED.len() - 1];
        assert!(matches!(decode(short), Err(ArtefactError::Truncated(_))));
        let mut long = EMBEDDED.to_vec();
        long.push(0);
        assert_eq!(decode(&long), Err(ArtefactError::TrailingBytes(1)));
    }
}
