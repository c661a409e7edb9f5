extension Double {
    /// This value rounded up to a whole number of `Whole`, no less than `lower` and no more than `upper`
    /// (NaN gives `lower`; when `upper < lower`, `lower` wins). No range is formed and no conversion can
    /// fail, so it cannot trap, whatever a database, provider or clock hands over.
    public func roundedUp<Whole: FixedWidthInteger>(atLeast lower: Whole, atMost upper: Whole) -> Whole {
        let upper = Swift.max(lower, upper)
        guard !isNaN else { return lower }
        let up = rounded(.up)
        if up <= Double(lower) { return lower }
        // Double(upper) may round above Whole.max; anything at or past it is the upper bound.
        if up >= Double(upper) { return upper }
        return Whole(exactly: up) ?? upper
    }
}

extension Double {
    /// This value rounded down to a whole number of `Whole`, no less than `lower` and no more than `upper`
    /// (NaN gives `lower`; when `upper < lower`, `lower` wins): the floor twin of `roundedUp`, as safe.
    public func roundedDown<Whole: FixedWidthInteger>(atLeast lower: Whole, atMost upper: Whole) -> Whole {
        let upper = Swift.max(lower, upper)
        guard !isNaN else { return lower }
        let down = rounded(.down)
        if down <= Double(lower) { return lower }
        if down >= Double(upper) { return upper }
        return Whole(exactly: down) ?? upper
    }
}
