//! Request body limits of the HTTP routes, and the longest answer an
//! operator may send (or save to the FAQ).

/// Largest request body: five 5 MB attachments in base64 plus the text.
pub const MAX_BODY_BYTES: usize = 40 * 1024 * 1024;

/// Largest body of every route but submit (which carries attachments) and
/// the partner routes: the default, so a new route is small unless it says so.
pub const MAX_SMALL_BODY_BYTES: usize = 64 * 1024;

/// Largest body of the partner routes (an answer, a reason, a time): they
/// need no key, so they take little.
pub const MAX_PARTNER_BODY_BYTES: usize = 16 * 1024;

/// Largest body of the customer's reply form: a follow-up's 10,000
/// characters, three bytes each in UTF-8 and up to three times that
/// percent-encoded, with room for the form key.
pub const MAX_CUSTOMER_FORM_BYTES: usize = 128 * 1024;

/// Longest human answer (and FAQ answer saved from a resolve), in characters.
pub const MAX_HUMAN_ANSWER_CHARS: usize = 10_000;
