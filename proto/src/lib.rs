//! Switchboard's gRPC contract, generated from `proto/` at build time.
//!
//! - [`v1`]: `switchboard.v1` — `InquiryService`, `ReservationService`,
//!   `PartnerService`, their messages, clients and servers.
//! - [`google::rpc`]: the standard error details (`BadRequest`,
//!   `RetryInfo`, `ErrorInfo`) carried in a failed call's status.
//! - [`FILE_DESCRIPTOR_SET`]: every compiled file, for the reflection service.

/// `switchboard.v1`.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("switchboard.v1");
}

/// The standard `google.rpc` error model.
pub mod google {
    /// `google.rpc`.
    pub mod rpc {
        #![allow(clippy::all, missing_docs)]
        tonic::include_proto!("google.rpc");
    }
}

/// The encoded `FileDescriptorSet` of every proto in this crate (with the
/// well-known types they import), served by gRPC reflection so that tools
/// like `grpcurl` work without the `.proto` files.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/switchboard_descriptor.bin"));

/// The fully qualified names of the services this crate defines.
pub const SERVICE_NAMES: &[&str] = &[
    "switchboard.v1.InquiryService",
    "switchboard.v1.ReservationService",
    "switchboard.v1.PartnerService",
    "switchboard.v1.FaqService",
    "switchboard.v1.WebhookService",
    "switchboard.v1.SlaService",
];
