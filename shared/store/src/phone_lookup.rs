//! The inquiry a customer's text message replies to: the newest of their
//! inquiries (found by their phone, see [`keys::phone_inquiries`]) that
//! still takes a reply ([`InquiryStatus::takes_sms_reply`]). Defined once
//! over the port, so both backends answer the same way.
//!
//! [`keys::phone_inquiries`]: crate::keys::phone_inquiries
//! [`InquiryStatus::takes_sms_reply`]: switchboard_domain::InquiryStatus::takes_sms_reply

use crate::{InquiryStore, StoreError};
use switchboard_domain::{Inquiry, PhoneNumber, TenantId};

/// How many of a customer's newest inquiries are looked at for an open
/// one. A reply goes to a recent conversation; a customer whose newest
/// inquiries are all closed gets no match (their text starts nothing old).
pub const PHONE_LOOKUP_DEPTH: u32 = 10;

/// `tenant`'s newest inquiry from the customer whose phone is `phone` that
/// is neither resolved nor failed, among their [`PHONE_LOOKUP_DEPTH`]
/// newest; `None` when there is none. The status is read from each
/// inquiry itself (consistent reads), newest first, so the first open one
/// costs one query and one read.
pub async fn newest_open_inquiry_by_phone(
    store: &dyn InquiryStore,
    tenant: &TenantId,
    phone: &PhoneNumber,
) -> Result<Option<Inquiry>, StoreError> {
    for id in store.inquiries_by_phone(tenant, phone, PHONE_LOOKUP_DEPTH).await? {
        // An item without its inquiry cannot be written (one transaction),
        // but a missing inquiry is skipped rather than trusted.
        if let Some(inquiry) = store.get_inquiry(id).await?
            && inquiry.tenant_id == *tenant
            && inquiry.status.takes_sms_reply()
        {
            return Ok(Some(inquiry));
        }
    }
    Ok(None)
}
