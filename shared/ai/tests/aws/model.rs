//! The committed classifier model is the one the committed corpus and code
//! train, byte for byte.

use switchboard_ai::model::{artefact, corpus, crossval, softmax, train};

#[test]
fn the_committed_model_is_fresh() {
    let lines = corpus::load().unwrap_or_else(|error| panic!("the corpus does not load: {error}"));
    let fit = train::fit(&lines, &softmax::PARAMS, crossval::FOLDS);
    let committed = std::fs::read(artefact::ARTEFACT_PATH).unwrap_or_default();
    assert!(
        committed == artefact::encode(&fit.model),
        "shared/ai/model/classifier.bin is stale (the corpus, the features or the trainer changed): run `cargo run --release -p switchboard -- model train` and commit it"
    );
}
