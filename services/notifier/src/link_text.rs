//! The line every customer notification ends with: the link back to the
//! conversation (`/c/{token}`), where the customer reads it all and replies.
//!
//! The link is long for a text message (about 170 characters with the
//! token): the label is kept short, since a Korean SMS is UCS-2 and every
//! 67 characters of it are another segment.

use switchboard_domain::Language;

/// `text`, then a blank line and the labelled `link`, in `language`.
pub(crate) fn with_link(text: &str, link: &str, language: Language) -> String {
    match language {
        Language::Ko => format!("{text}\n\n문의 내역·답장: {link}"),
        Language::En => format!("{text}\n\nSee or reply: {link}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_follows_the_text_under_a_short_label() {
        assert_eq!(with_link("답변입니다.", "https://s.example/c/t", Language::Ko), "답변입니다.\n\n문의 내역·답장: https://s.example/c/t");
        assert_eq!(with_link("Hi.", "https://s.example/c/t", Language::En), "Hi.\n\nSee or reply: https://s.example/c/t");
        for language in [Language::Ko, Language::En] {
            let added = with_link("", "", language).chars().count();
            assert!(added <= 16, "{added} characters of label");
        }
    }
}
