extension Duration {
    /// The duration in milliseconds, for answers that report how long something took.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
