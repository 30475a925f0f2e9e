/// What an API key may do; each key has exactly one role.
public enum Role: String, Sendable, CaseIterable {
    case scoring, review, admin
}

/// The caller behind a valid API key.
public struct Principal: Sendable, Equatable {
    public var keyID: String
    public var name: String
    public var role: Role

    public init(keyID: String, name: String, role: Role) {
        self.keyID = keyID
        self.name = name
        self.role = role
    }
}
