/// A client generated from `openapi.yaml` at build time.
public enum ControlPlaneClientModule {}
