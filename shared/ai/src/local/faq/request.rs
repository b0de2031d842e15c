//! Requests to act ("환불해 주세요", "please cancel my booking") next to
//! questions about a policy ("환불 규정 알려주세요", "can I cancel for
//! free?"), and reports of trouble ("the door code does not work") next to
//! the question they share words with ("when do you send the door code?").
//! An FAQ answers questions: something to do or to fix is for a person (or
//! the partner).

use regex::Regex;
use std::sync::LazyLock;
use switchboard_domain::text::fold;

/// How much of its confidence an entry keeps against a request to act:
/// enough to stay first among the entries (the Bedrock drafter still sees
/// it), never enough to be sent as the answer.
pub(crate) const REQUEST_DISCOUNT: f32 = 0.5;

/// A verb of doing followed by an imperative ending ("취소해 주세요",
/// "바꿔주세요", "환불 부탁드립니다"); "알려 주세요" (tell me) is a question.
#[allow(clippy::expect_used)] // a constant pattern, checked by the tests
static KOREAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(취소|환불|변경|바꿔|연장|배상|보상|처리|발행)\s*(해|하여|을|를)?\s*(주세요|줘요|줘|부탁)").expect("valid pattern")
});

/// "please cancel …", "cancel my booking", "can you move my booking",
/// "I want a refund", "refund me". "Can I cancel my booking?" asks what
/// the policy allows (a question), "can you cancel it" asks for it done.
#[allow(clippy::expect_used)] // a constant pattern, checked by the tests
static ENGLISH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(^|[.!?]\s*|\bplease\s+|\b(can|could|would)\s+you\s+(please\s+)?)(cancel|refund|change|move|extend|reschedule)\s+(my|our|the|this|it|reservation|booking)\b|\b(want|need|like)\s+(a|my)\s+refund\b|\brefund\s+(me|it|one)\b",
    )
    .expect("valid pattern")
});

/// Something that does not work, did not come, or was lost.
#[allow(clippy::expect_used)] // a constant pattern, checked by the tests
static TROUBLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(does not|doesn't|isn't|is not|not|won't|will not) (work|working|open|opening|arrived|come|came)\b|\bbroken\b|never showed up|\bleft my\b|\blost (my|the)\b|안\s*(열려|나와|와요|오세요|오네|켜|돼서)|고장|막혔|깨졌|잃어버렸|두고\s*(내렸|왔|나왔)",
    )
    .expect("valid pattern")
});

/// Whether the inquiry asks for something to be done (or fixed) rather
/// than asking a question.
pub(crate) fn asks_to_act(text: &str) -> bool {
    let folded = fold(text);
    KOREAN.is_match(&folded) || ENGLISH.is_match(folded.trim()) || TROUBLE.is_match(&folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_to_act_is_told_from_a_question_about_the_policy() {
        for request in [
            "환불해 주세요",
            "예약 취소해주세요 HT-1234",
            "Please cancel my booking.",
            "I want a refund",
            "Cancel reservation CR-1",
            "Can you move my cleaning to Thursday?",
            "The door code you sent does not work",
            "현관 비밀번호 눌러도 안 열려요",
        ] {
            assert!(asks_to_act(request), "{request}");
        }
        for question in [
            "환불 규정 알려주세요",
            "취소하면 환불 되나요?",
            "비번 언제 보내주세요?",
            "What is your refund policy?",
            "can i cancel for free",
            "cancelation policy pls",
            "move in cleaning price?",
            "can I cancel my booking the day before?",
            "what happens if the cleaner breaks something",
            "도어락 비번은 어떻게 받나요?",
        ] {
            assert!(!asks_to_act(question), "{question}");
        }
    }
}
