import ServiceLifecycle

/// Sleeps for `duration`, or less when the service group starts shutting down gracefully, so a long
/// interval between passes never holds up a shutdown.
public func sleepUnlessShuttingDown(_ duration: Duration) async {
    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
}
