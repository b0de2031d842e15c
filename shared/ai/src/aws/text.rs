//! Cutting text to what an AWS call takes: its limits are in bytes of
//! UTF-8 (a Hangul syllable is three) or in characters, and Comprehend
//! reports offsets in characters where Rust slices by bytes.

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary.
pub(super) fn truncate_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The first `max` characters of `text`.
pub(super) fn truncate_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Byte range of the characters `[start, end)` of `text`, or `None` when
/// out of range.
pub(super) fn char_range_to_bytes(text: &str, start: i32, end: i32) -> Option<(usize, usize)> {
    let (start, end) = (usize::try_from(start).ok()?, usize::try_from(end).ok()?);
    if start >= end {
        return None;
    }
    let mut offsets = text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len()));
    let begin = offsets.nth(start)?;
    let finish = offsets.nth(end - start - 1)?;
    Some((begin, finish))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_never_splits_a_character() {
        let text = "가나다"; // 9 bytes
        assert_eq!(truncate_bytes(text, 7), "가나");
        assert_eq!(truncate_bytes(text, 6), "가나");
        assert_eq!(truncate_bytes(text, 100), text);
        assert_eq!(truncate_chars("가나다abc", 4), "가나다a");
        assert_eq!(truncate_chars("ab", 4), "ab");
    }

    #[test]
    fn character_offsets_become_byte_offsets() {
        let text = "전화 010";
        assert_eq!(char_range_to_bytes(text, 3, 6), Some((7, 10)));
        assert_eq!(char_range_to_bytes(text, 0, 2), Some((0, 6)));
        assert_eq!(char_range_to_bytes(text, 3, 7), None, "past the end");
        assert_eq!(char_range_to_bytes(text, 2, 2), None, "empty");
        assert_eq!(char_range_to_bytes(text, -1, 2), None);
    }
}
