import ServiceLifecycle

/// Sleeps for `duration`, or less when the service group starts shutting down gracefully, so a long
/// interval between passes never holds up a shutdown. Waits on an event loop's timer (`Pause`), never
/// on `Task.sleep` (see `Pause` for why).
public func sleepUnlessShuttingDown(_ duration: Duration) async {
    try? await cancelWhenGracefulShutdown { try await Pause.for(duration) }
}
