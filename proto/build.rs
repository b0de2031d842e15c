//! Compiles the protos with protox (a Rust protobuf compiler), so building
//! needs no system `protoc`, and keeps the file descriptor set for the
//! reflection service.

use prost::Message;
use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "switchboard/v1/inquiry.proto",
    "switchboard/v1/partner.proto",
    "switchboard/v1/faq.proto",
    "switchboard/v1/webhook.proto",
    "switchboard/v1/sla.proto",
    "google/rpc/error_details.proto",
    "google/rpc/status.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(PROTOS, ["."])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("switchboard_descriptor.bin"), descriptors.encode_to_vec())?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(descriptors)?;
    Ok(())
}
