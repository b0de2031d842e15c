//! Request body limits of the HTTP routes.

/// Largest request body: five 5 MB attachments in base64 plus the text.
pub const MAX_BODY_BYTES: usize = 40 * 1024 * 1024;

/// Largest body of the JSON routes other than submit (which carries attachments).
pub const MAX_SMALL_BODY_BYTES: usize = 64 * 1024;
