//! The object of a question: what it is about, as opposed to its frame
//! ("can I bring my …", "is there a … nearby", "…으로 픽업 와주실 수
//! 있나요?"). A question that keeps an entry's frame but swaps the entry's
//! object for a thing the FAQ never mentions ("Can I bring my bicycle?"
//! against "Can I bring my dog?", "공항으로 픽업" against "역으로 픽업")
//! shares most of the entry's words and n-grams, yet the entry does not
//! answer it.
//!
//! Two signs together mark such a swap, each read from the FAQ itself:
//! the query leaves out a word of the entry's object (the slot is empty),
//! and it names a thing no entry of the FAQ mentions (something else
//! fills it). Either alone is common in paraphrases: a context word the
//! FAQ lacks ("on Friday"), or one of two object words left out ("check
//! out time?" of "check-in and check-out times"). Together they are what a
//! question about another thing in the same frame looks like, and the FAQ
//! cannot answer it whatever the rest of the score says.

use super::words::{Terms, Word};

/// How much of its score a phrasing keeps against a query that swaps its
/// object: like a request to act, enough to stay ranked (the Bedrock
/// drafter still sees the entry), never enough to be sent as the answer.
pub(crate) const SWAPPED_OBJECT_DISCOUNT: f32 = 0.5;

/// Whether the query leaves the object's slot empty and names a thing the
/// FAQ never mentions in it. The slot is empty when the query leaves out
/// a word of the entry's object (`object`: its most telling topic words,
/// those its own question names: "Do you take a deposit?" is about the
/// deposit, not the cash of a variant) or a topic word this phrasing names (`topic`, `phrasing`), or when it
/// asks what is near by, where the thing named is always the object.
/// `known`: every word of every entry of the FAQ.
pub(crate) fn swaps_object(query_words: &[Word], query: &Terms, topic: &[Word], object: &[Word], phrasing: &[Word], known: &Terms) -> bool {
    let in_phrasing = |t: &Word| phrasing.iter().any(|w| w.key() == t.key());
    let empty_slot =
        object.iter().any(|t| !t.is_in(query)) || topic.iter().any(|t| in_phrasing(t) && !t.is_in(query)) || asks_what_is_near(query_words);
    empty_slot && query_words.iter().any(|w| names_unknown_thing(w, known))
}

/// Whether the query asks about a place near by ("is there a pharmacy
/// nearby", "근처에 마트 있나요"): then the thing it names is its object.
fn asks_what_is_near(query_words: &[Word]) -> bool {
    query_words.iter().any(|w| w.heads.iter().any(|h| NEAR.contains(&h.as_str())))
}

/// Words of nearness, as [`super::words::words`] gives them.
const NEAR: &[&str] = &["near", "nearby", "nearest", "around", "근처", "주변", "가까운"];

/// Whether a query word names a thing the FAQ never mentions: not a word
/// of any entry, not a predicate ([`Word::predicate`]), not a frame word.
fn names_unknown_thing(word: &Word, known: &Terms) -> bool {
    !word.predicate && !word.is_in(known) && !frames(word)
}

/// Whether a word frames a question rather than names what it is about
/// ([`FRAME_WORDS`], [`NEAR`]).
fn frames(word: &Word) -> bool {
    word.heads.iter().any(|h| FRAME_WORDS.contains(&h.as_str()) || NEAR.contains(&h.as_str()))
}

/// Words the FAQ may lack that frame a question rather than name its
/// object, by kind (stems, as [`super::words::words`] gives them): when
/// ("tomorrow", "friday", "전에" before), who comes ("friend", "가족"),
/// the vague and generic ("more", "way", "necessary"), chat ("pls"), the
/// verbs of coming, bringing and getting ("arrive", "collect", "buy"),
/// nearness ("near", "근처"; it marks the thing named as the object, see
/// [`asks_what_is_near`]) and places and people in general ("place",
/// "staff"). Closed classes of words, not the FAQ's topics: a word of a
/// topic is never here, nor a kind of business ("hotel" is another place
/// to a guesthouse).
#[rustfmt::skip]
const FRAME_WORDS: &[&str] = &[
    // when
    "today", "tonight", "tomorrow", "morning", "afternoon", "evening", "night", "weekend", "week", "day", "later",
    "early", "earliest", "late", "soon", "now", "last", "first", "next", "monday", "tuesday", "wednesday",
    "thursday", "friday", "saturday", "sunday", "전에", "후에", "시쯤", "오늘", "내일", "지금", "월요일", "화요일",
    "수요일", "목요일", "금요일", "토요일", "일요일", "주말", "평일",
    // who
    "friend", "family", "parent", "wife", "husband", "son", "daughter", "someon", "anyon", "guy", "가족", "친구",
    // the vague and the generic
    "more", "another", "back", "access", "method", "way", "option", "info", "necessary", "requir", "old", "year",
    "something", "part", "extra", "separately", "separat", "exactly", "really", "anyway", "maybe", "problem",
    "matter", "mind", "worry", "happen", "plan",
    // coming, bringing, getting, asking
    "come", "go", "join", "arriv", "visit", "travel", "land", "fly", "bring", "collect", "buy", "take", "put", "keep",
    "leav", "find", "help", "tell", "show", "check", "recommend", "arrang",
    // places and people in general
    "place", "장소", "team", "staff",
];
