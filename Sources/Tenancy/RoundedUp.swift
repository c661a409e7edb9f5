extension Double {
    /// This value rounded up to a whole number within `bounds` (NaN gives the lower bound). Unlike
    /// `Int64(_:)`, it cannot trap, whatever a database, provider or clock hands over.
    public func roundedUp(within bounds: ClosedRange<Int64>) -> Int64 {
        guard !isNaN else { return bounds.lowerBound }
        let up = rounded(.up)
        if up <= Double(bounds.lowerBound) { return bounds.lowerBound }
        // Double(upperBound) may round above Int64.max; anything at or past it is the upper bound.
        if up >= Double(bounds.upperBound) { return bounds.upperBound }
        return Int64(up)
    }
}
