/// The types of `openapi.yaml` (schemas, operations), generated once at build time and shared by the
/// server (`ControlPlaneAPI`) and the client (`ControlPlaneClient`).
public enum ControlPlaneAPITypesModule {}
