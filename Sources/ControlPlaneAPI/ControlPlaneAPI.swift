/// Types and server stubs generated from `openapi.yaml` at build time.
enum ControlPlaneAPIModule {}
