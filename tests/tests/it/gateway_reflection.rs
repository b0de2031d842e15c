//! gRPC reflection, as `grpcurl` uses it: list the services, then fetch the
//! descriptors of one and find its methods and their documentation.

// Test helpers panic on a failed step: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use prost::Message;
use switchboard_tests::TestApp;
use switchboard_tests::grpc::channel;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::{ServerReflectionRequest, ServerReflectionResponse};

async fn ask(app: &TestApp, request: MessageRequest) -> MessageResponse {
    let mut client = ServerReflectionClient::new(channel(app).await);
    let request = ServerReflectionRequest { host: String::new(), message_request: Some(request) };
    let mut responses = client.server_reflection_info(futures::stream::iter([request])).await.expect("reflection answers").into_inner();
    let response: ServerReflectionResponse = responses.next().await.expect("one response").expect("no error");
    response.message_response.expect("a message response")
}

#[tokio::test]
async fn reflection_lists_every_service_like_grpcurl_list() {
    let app = TestApp::spawn().await;
    let MessageResponse::ListServicesResponse(list) = ask(&app, MessageRequest::ListServices(String::new())).await else {
        panic!("not a service list");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for expected in [
        "switchboard.v1.InquiryService",
        "switchboard.v1.ReservationService",
        "switchboard.v1.PartnerService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn reflection_describes_every_rpc_of_the_inquiry_service_with_its_comments() {
    let app = TestApp::spawn().await;
    let response = ask(&app, MessageRequest::FileContainingSymbol("switchboard.v1.InquiryService".into())).await;
    let MessageResponse::FileDescriptorResponse(files) = response else { panic!("not a file descriptor response") };
    let files: Vec<prost_types::FileDescriptorProto> = files
        .file_descriptor_proto
        .iter()
        .map(|bytes| prost_types::FileDescriptorProto::decode(bytes.as_slice()).expect("a descriptor"))
        .collect();
    let file = files.iter().find(|f| f.name() == "switchboard/v1/inquiry.proto").expect("inquiry.proto");
    let service = file.service.iter().find(|s| s.name() == "InquiryService").expect("InquiryService");
    let methods: Vec<&str> = service.method.iter().map(|m| m.name()).collect();
    assert_eq!(
        methods,
        [
            "SubmitInquiry",
            "GetInquiry",
            "GetInquiryStatus",
            "ListInquiries",
            "WatchInquiry",
            "EscalateInquiry",
            "ResolveInquiry",
            "AddMessage",
            "ListMessages",
            "GetSuggestions"
        ]
    );
    let watch = service.method.iter().find(|m| m.name() == "WatchInquiry").unwrap();
    assert!(watch.server_streaming(), "WatchInquiry streams");
    // The field comments are the API reference: they travel with the descriptors.
    let comments =
        file.source_code_info.as_ref().map(|i| i.location.iter().filter_map(|l| l.leading_comments.clone()).count()).unwrap_or(0);
    assert!(comments > 50, "the descriptors carry the proto comments ({comments})");
    app.stop().await;
}
