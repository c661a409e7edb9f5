/// The server stubs of `openapi.yaml`, generated at build time; the types they use come from
/// `ControlPlaneAPITypes`.
enum ControlPlaneAPIModule {}
