import VigilStore

/// The background worker's settings (the `worker.*` configuration keys; see `VigilConfig`).
public struct WorkerSettings: Sendable, Equatable {
    /// Whether `vigil serve` runs the worker's schedule itself (`vigil worker` always does).
    public var enabled = true
    /// Share of one core a running job may use (it sleeps between slices of work to stay under it); 1: no limit.
    public var cpuShare = 0.25
    public var miningIntervalMinutes = 60
    public var trainingIntervalMinutes = 60
    public var onsetIntervalMinutes = 5
    /// The event-time window mined (and the one before it, for evidence).
    public var miningWindowDays = 14
    /// Rules proposed per run at most.
    public var miningTop = 5
    public var miningMinFraud = 5
    /// Lowest Wilson lower bound of precision a proposal needs.
    public var miningMinPrecision = 0.5
    /// Whether payments without a label are mined as legitimate (the default: reviewers label few legitimate
    /// payments, so labelled rows alone over-represent fraud), or left out.
    public var miningUnlabelledAsLegit = true
    /// Stored payments one mining scan reads at most.
    public var miningMaxRows = 2_000_000
    /// How long a proposed rule lives once made (its `expires_at`).
    public var ruleExpiryDays = 14
    /// What a mined rule does once approved.
    public var ruleAction = RuleActionKind.review
    /// A rejected pattern is proposed again only when its precision lower bound rose by this much (or its fraud
    /// count doubled).
    public var materialChange = 0.1
    /// Labels that must arrive after the last training before a scheduled run trains again.
    public var trainingMinNewLabels = 1_000
    /// Whether training reads every payment, an unlabelled one as legitimate (the default), or labelled ones only.
    /// Labelled rows alone are a biased sample: reviewers label what the current model flagged and chargebacks
    /// what it missed, so a model trained and judged on them learns the old model's blind spots backwards.
    public var trainingUnlabelledAsLegit = true
    /// The most recent payments a training reads.
    public var trainingMaxRows = 200_000
    public var trainingTrees = 200
    public var trainingMaxDepth = 6
    public var trainingLearningRate = 0.1
    /// Promote the challenger to champion without a person when it beats the champion's AUC by `promoteMargin`.
    public var autoPromote = false
    public var promoteMargin = 0.01
    /// Width of an onset bucket of event time.
    public var onsetBucketMinutes = 60
    /// Buckets before the newest that form a segment's baseline.
    public var onsetBaselineBuckets = 48
    public var onsetMinVolume = 30
    public var onsetThreshold = 4.0
    /// The busiest merchants watched as segments of their own.
    public var onsetMerchants = 20

    public init() {}
}
