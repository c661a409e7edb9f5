/// A client of `openapi.yaml`, generated at build time; its types come from `ControlPlaneAPITypes`
/// and are re-exported for callers.
@_exported public import ControlPlaneAPITypes

public enum ControlPlaneClientModule {}
