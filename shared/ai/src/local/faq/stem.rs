//! Stems: a Korean run without its trailing ending and particle, an
//! English word without its inflection. Shared by the words of a text and
//! the vocabulary, so both stem a word the same way.

/// Whether `c` is a precomposed Hangul syllable.
pub(crate) fn is_hangul(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// The run without its trailing ending and particle ("주차할" → "주차",
/// "체크인과" → "체크인", "포함되어" → "포함"), so that the same noun in
/// differently inflected sentences gives the same terms.
pub(crate) fn korean_stem(word: &str) -> &str {
    let mut stem = word;
    for suffixes in [KO_ENDINGS, KO_PARTICLES] {
        // A one-syllable suffix is often the noun's own last syllable ("아이",
        // "마을"), so it is only stripped from longer words.
        let stripped = suffixes.iter().find_map(|s| {
            let min_rest = if s.chars().count() == 1 { 2 } else { 1 };
            stem.strip_suffix(s).filter(|rest| rest.chars().count() >= min_rest)
        });
        if let Some(shorter) = stripped {
            stem = shorter;
        }
    }
    stem
}

/// Whether a Korean run ends as a verb or adjective does: in one of the
/// endings of two syllables or more, or in the polite "요"; or as a clause,
/// "-ㄹ 때" / "-ㄹ 수" ("갈때", "묵을수") or a contracted "-어" form before
/// "도", "야" or "서" ("맡겨도", "가져가야", "와서"). Other one-syllable
/// endings ("고", "게", "지") also end nouns ("냉장고", "가게"), so they do
/// not count.
pub(crate) fn is_predicate(run: &str) -> bool {
    let syllables: Vec<char> = run.chars().collect();
    let ending = KO_ENDINGS
        .iter()
        .filter(|e| e.chars().count() >= 2 || **e == "요")
        .any(|e| run.ends_with(e) && syllables.len() > e.chars().count());
    let clause = match syllables[..] {
        [.., before, '때' | '수'] => final_consonant(before) == Some(RIEUL),
        [.., before, '도' | '야' | '서'] => {
            before == '가' || (final_consonant(before) == Some(0) && vowel(before).is_some_and(|v| CONTRACTED_VOWELS.contains(&v)))
        }
        _ => false,
    };
    ending || clause
}

/// The base of a Korean verb stem whose last syllable is conjugated, as a
/// term of its own: the adnominal ㄹ dropped ("맡길" → "맡기", "먹을"
/// → "먹으") and a contracted "-어" vowel undone ("맡겨" → "맡기", "와" →
/// "오", "줘" → "주", "돼" → "되"), so that the same verb conjugated
/// otherwise than in the FAQ still matches. `None` when the last syllable
/// is neither.
pub(crate) fn verb_base(stem: &str) -> Option<String> {
    let mut syllables: Vec<char> = stem.chars().collect();
    let last = *syllables.last()?;
    if syllables.len() < 2 || !is_hangul(last) {
        return None;
    }
    let code = u32::from(last) - 0xAC00;
    let (initial, vowel, last_consonant) = (code / 588, code / 28 % 21, code % 28);
    let vowel = match vowel {
        6 => 20,  // ㅕ → ㅣ
        9 => 8,   // ㅘ → ㅗ
        14 => 13, // ㅝ → ㅜ
        10 => 11, // ㅙ → ㅚ
        v => v,
    };
    let last_consonant = if last_consonant == RIEUL { 0 } else { last_consonant };
    let base = char::from_u32(0xAC00 + initial * 588 + vowel * 28 + last_consonant)?;
    (base != last).then(|| {
        if let Some(end) = syllables.last_mut() {
            *end = base;
        }
        syllables.into_iter().collect()
    })
}

/// The final consonant of a Hangul syllable, as its index (0: none).
fn final_consonant(c: char) -> Option<u32> {
    is_hangul(c).then(|| (u32::from(c) - 0xAC00) % 28)
}

/// The vowel of a Hangul syllable, as its index.
fn vowel(c: char) -> Option<u32> {
    is_hangul(c).then(|| (u32::from(c) - 0xAC00) / 28 % 21)
}

/// The final ㄹ.
const RIEUL: u32 = 8;

/// The vowels of a contracted "-어" form: ㅐ (해), ㅕ (겨, 려, 져), ㅘ (와,
/// 봐), ㅙ (돼), ㅝ (워, 줘). Plain ㅏ and ㅓ end too many nouns (세차, 자전거).
const CONTRACTED_VOWELS: [u32; 5] = [1, 6, 9, 10, 14];

/// A light English stemmer: enough to make "parking", "parked" and "park"
/// (or "includes", "included", "include") the same term.
pub(crate) fn stem(word: &str) -> String {
    let mut w = word.to_owned();
    if w.len() > 4 && w.ends_with("ies") {
        w.truncate(w.len() - 3);
        w.push('y');
    } else if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w.pop();
    }
    if w.len() > 5 && w.ends_with("ing") {
        w.truncate(w.len() - 3);
    } else if w.len() > 4 && w.ends_with("ed") {
        w.truncate(w.len() - 2);
    }
    if w.len() > 4 && w.ends_with('e') {
        w.pop();
    }
    w
}

/// Verb and copula endings, longest first.
#[rustfmt::skip]
pub(crate) const KO_ENDINGS: &[&str] = &[
    "드립니다", "할때", "하세요", "합니다", "한가요", "하나요", "할까요", "됩니다", "되나요", "되어요", "인가요", "입니다", "이에요", "했어요", "해요",
    "하면", "하고", "하는", "한지", "되어", "돼요", "되는", "되면", "인지", "이요", "예요", "에요", "나요", "가요",
    "까요", "세요", "어요", "아요", "는데", "은데", "해야", "해서", "하여", "해도", "어야", "어서", "아야", "아서",
    "면서", "된", "할", "한", "해", "하", "되", "돼", "요", "서", "야", "고", "면", "며",
    "니", "게", "지", "때",
];

/// Particles, longest first.
#[rustfmt::skip]
pub(crate) const KO_PARTICLES: &[&str] = &[
    "에서는", "으로는", "이랑", "에서", "으로", "까지", "부터", "에는", "이나", "하고", "에게", "한테", "처럼", "은",
    "는", "이", "가", "을", "를", "에", "도", "로", "의", "과", "와", "랑", "만",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_ends_as_a_verb_is_a_predicate() {
        for verb in ["알려주세요", "가져오시나요", "맡겨도", "가져가야", "갈때", "묵을수", "와요", "가도"] {
            assert!(is_predicate(verb), "{verb}");
        }
    }

    #[test]
    fn a_verb_conjugated_two_ways_has_one_base() {
        assert_eq!(verb_base("맡겨"), verb_base("맡길"));
        assert_eq!(verb_base("맡겨").as_deref(), Some("맡기"));
        assert_eq!(verb_base("데려와").as_deref(), Some("데려오"));
        assert_eq!(verb_base("가져"), Some("가지".to_owned()));
        assert_eq!(verb_base("주차"), None, "nothing to undo");
        assert_eq!(verb_base("길"), None, "one syllable is too little to tell");
    }

    #[test]
    fn a_noun_with_or_without_its_particle_is_not_a_predicate() {
        for noun in ["공항으로", "자전거", "세차도", "냉장고", "가게", "사다리", "스키장", "분당도", "요"] {
            assert!(!is_predicate(noun), "{noun}");
        }
    }
}
