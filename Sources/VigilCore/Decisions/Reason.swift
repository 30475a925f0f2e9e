/// One reason behind a score: a feature, its value, its contribution to the margin and a sentence.
public struct Reason: Sendable, Equatable {
    public var feature: String
    /// The feature's value; nil when it was missing.
    public var value: Double?
    /// Contribution to the margin in log-odds; positive raises the risk.
    public var contribution: Double
    public var sentence: String

    public init(feature: String, value: Double?, contribution: Double, sentence: String) {
        self.feature = feature
        self.value = value
        self.contribution = contribution
        self.sentence = sentence
    }
}
