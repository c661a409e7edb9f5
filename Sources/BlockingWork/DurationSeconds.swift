extension Duration {
    /// The duration in seconds, as gauges, Postgres intervals and backoff arithmetic take it.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
