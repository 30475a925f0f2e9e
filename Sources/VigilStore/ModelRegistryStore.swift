import Foundation
import GRDB

/// The model file formats the registry accepts.
public enum ModelFormat: String, Sendable, CaseIterable {
    case vigilLogistic = "vigil-logistic"
    case xgboostJSON = "xgboost-json"
    case lightgbmText = "lightgbm-text"
}

/// The two aliases: `champion` decides, `challenger` is scored in shadow.
public enum ModelAlias: String, Sendable, CaseIterable {
    case champion, challenger
}

/// A model version's identity.
public struct ModelKey: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var version: Int

    public init(name: String, version: Int) {
        self.name = name
        self.version = version
    }

    public var description: String { "\(name) version \(version)" }
}

/// One immutable model version as stored.
public struct StoredModel: Sendable, Equatable {
    public var key: ModelKey
    public var format: ModelFormat
    public var sha256: String
    public var sizeBytes: Int
    public var featureNames: [String]
    /// What the importer found (objective, trees, depth …), a JSON object.
    public var details: String
    public var uploadedBy: String
    public var uploadedAtMicros: Int64

    public init(
        key: ModelKey, format: ModelFormat, sha256: String, sizeBytes: Int, featureNames: [String], details: String,
        uploadedBy: String, uploadedAtMicros: Int64
    ) {
        self.key = key
        self.format = format
        self.sha256 = sha256
        self.sizeBytes = sizeBytes
        self.featureNames = featureNames
        self.details = details
        self.uploadedBy = uploadedBy
        self.uploadedAtMicros = uploadedAtMicros
    }
}

/// Where an alias points and who set it.
public struct AliasTarget: Sendable, Equatable {
    public var alias: ModelAlias
    public var key: ModelKey
    public var setBy: String
    public var setAtMicros: Int64
}

/// How the challenger's shadow decisions compared with the champion's on the same payments.
public struct ShadowAgreement: Sendable, Equatable {
    public var scored: Int
    public var sameDecision: Int
    public var meanAbsoluteScoreDifference: Double?
    /// Champion decision → challenger decision → count.
    public var matrix: [String: [String: Int]]
}

/// A labelled payment with its stored features, for evaluating a model version.
public struct LabelledFeatures: Sendable, Equatable {
    public var transactionID: String
    /// Feature values JSON as stored with the decision.
    public var features: String
    public var isFraud: Bool
}

/// Models, aliases and their history in SQLite; every change is audited in the same transaction.
public struct ModelRegistryStore: Sendable {
    public let database: VigilDatabase

    public init(database: VigilDatabase) {
        self.database = database
    }

    /// Stores a new immutable version of `name`, numbered one above the latest.
    public func add(
        name: String, format: ModelFormat, file: [UInt8], sha256: String, featureNames: [String], details: String,
        uploadedBy: String, atMicros: Int64
    ) async throws -> StoredModel {
        try await database.pool.write { db in
            let latest = try Int.fetchOne(db, sql: "SELECT MAX(version) FROM models WHERE name = ?", arguments: [name])
            let model = StoredModel(
                key: ModelKey(name: name, version: (latest ?? 0) + 1), format: format, sha256: sha256,
                sizeBytes: file.count, featureNames: featureNames, details: details, uploadedBy: uploadedBy,
                uploadedAtMicros: atMicros)
            try db.execute(
                sql: """
                    INSERT INTO models (
                        name, version, format, sha256, size_bytes, file, feature_names, details, uploaded_by,
                        uploaded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    name, model.key.version, format.rawValue, sha256, file.count, Data(file),
                    Self.jsonArray(featureNames), details, uploadedBy, atMicros,
                ])
            try AuditLog.append(
                AuditEntry(
                    atMicros: atMicros, actor: uploadedBy, action: "model.uploaded", entityType: "model",
                    entityID: "\(name)/\(model.key.version)", before: nil,
                    after: "{\"format\":\"\(format.rawValue)\",\"sha256\":\"\(sha256)\",\"size_bytes\":\(file.count)}"),
                in: db)
            return model
        }
    }

    /// Every version of every model, newest version first within a name.
    public func all() async throws -> [StoredModel] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM models ORDER BY name, version DESC")
                .map(Self.storedModel)
        }
    }

    public func model(_ key: ModelKey) async throws -> StoredModel? {
        try await database.pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.columns) FROM models WHERE name = ? AND version = ?",
                arguments: [key.name, key.version]
            ).map(Self.storedModel)
        }
    }

    /// The file as it was uploaded.
    public func file(_ key: ModelKey) async throws -> [UInt8]? {
        try await database.pool.read { db in
            try Data.fetchOne(
                db, sql: "SELECT file FROM models WHERE name = ? AND version = ?", arguments: [key.name, key.version]
            ).map { [UInt8]($0) }
        }
    }

    public func aliases() async throws -> [ModelAlias: AliasTarget] {
        try await database.pool.read { db in
            var result: [ModelAlias: AliasTarget] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM model_aliases") {
                guard let alias = ModelAlias(rawValue: row["alias"]) else { continue }
                result[alias] = AliasTarget(
                    alias: alias, key: ModelKey(name: row["name"], version: row["version"]), setBy: row["set_by"],
                    setAtMicros: row["set_at"])
            }
            return result
        }
    }

    /// Points `alias` at `key` (nil clears it; the champion cannot be cleared) and returns what it pointed at.
    /// `prepare` runs inside the write transaction after the change, so the caller can swap its in-memory
    /// state in the same serial order as the database changes; if it throws, nothing is changed.
    public func setAlias<T: Sendable>(
        _ alias: ModelAlias, to key: ModelKey?, by actor: String, atMicros: Int64, action: String,
        prepare: @Sendable (ModelKey?) throws -> T
    ) async throws -> (before: ModelKey?, result: T) {
        try await database.pool.write { db in
            let before = try Row.fetchOne(
                db, sql: "SELECT name, version FROM model_aliases WHERE alias = ?", arguments: [alias.rawValue]
            ).map { ModelKey(name: $0["name"], version: $0["version"]) }
            if let key {
                try db.execute(
                    sql: """
                        INSERT INTO model_aliases (alias, name, version, set_by, set_at) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT(alias) DO UPDATE SET
                            name = excluded.name, version = excluded.version, set_by = excluded.set_by,
                            set_at = excluded.set_at
                        """,
                    arguments: [alias.rawValue, key.name, key.version, actor, atMicros])
            } else {
                try db.execute(sql: "DELETE FROM model_aliases WHERE alias = ?", arguments: [alias.rawValue])
            }
            try db.execute(
                sql: "INSERT INTO model_alias_history (alias, name, version, set_by, set_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [alias.rawValue, key?.name, key?.version, actor, atMicros])
            try AuditLog.append(
                AuditEntry(
                    atMicros: atMicros, actor: actor, action: action, entityType: "model_alias",
                    entityID: alias.rawValue, before: Self.aliasJSON(before), after: Self.aliasJSON(key)),
                in: db)
            let result = try prepare(key)
            return (before, result)
        }
    }

    /// What `alias` pointed at before its latest change: `known` is false when it was never changed; `key` is nil
    /// when it was unset then.
    public func previousTarget(of alias: ModelAlias) async throws -> (known: Bool, key: ModelKey?) {
        try await database.pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT name, version FROM model_alias_history WHERE alias = ? ORDER BY id DESC LIMIT 2",
                arguments: [alias.rawValue])
            guard !rows.isEmpty else { return (false, nil) }
            guard rows.count == 2 else { return (true, nil) }
            let row = rows[1]
            let name: String? = row["name"]
            let version: Int? = row["version"]
            guard let name, let version else { return (true, nil) }
            return (true, ModelKey(name: name, version: version))
        }
    }

    /// Agreement between the champion's decisions and this version's shadow decisions.
    public func shadowAgreement(_ key: ModelKey) async throws -> ShadowAgreement {
        try await database.pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT decision, challenger_decision, COUNT(*) AS n, SUM(ABS(score - challenger_score)) AS diff
                    FROM transactions WHERE challenger_name = ? AND challenger_version = ?
                    GROUP BY decision, challenger_decision
                    """,
                arguments: [key.name, String(key.version)])
            var agreement = ShadowAgreement(scored: 0, sameDecision: 0, meanAbsoluteScoreDifference: nil, matrix: [:])
            var difference = 0.0
            for row in rows {
                let champion: String = row["decision"]
                let challenger: String = row["challenger_decision"]
                let count: Int = row["n"]
                agreement.scored += count
                if champion == challenger { agreement.sameDecision += count }
                difference += row["diff"] ?? 0
                agreement.matrix[champion, default: [:]][challenger] = count
            }
            if agreement.scored > 0 { agreement.meanAbsoluteScoreDifference = difference / Double(agreement.scored) }
            return agreement
        }
    }

    /// The most recent labelled payments with their stored features and effective label.
    public func labelledFeatures(limit: Int) async throws -> [LabelledFeatures] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT t.transaction_id, t.features, e.label
                    FROM (\(LabelStore.effectiveLabelsSQL)) e JOIN transactions t USING (transaction_id)
                    ORDER BY t.occurred_at DESC, t.transaction_id DESC LIMIT ?
                    """,
                arguments: [limit]
            ).map {
                LabelledFeatures(
                    transactionID: $0["transaction_id"], features: $0["features"], isFraud: $0["label"] == "fraud")
            }
        }
    }

    private static let columns =
        "name, version, format, sha256, size_bytes, feature_names, details, uploaded_by, uploaded_at"

    private static func storedModel(_ row: Row) -> StoredModel {
        let format: String = row["format"]
        return StoredModel(
            key: ModelKey(name: row["name"], version: row["version"]),
            format: ModelFormat(rawValue: format) ?? .vigilLogistic, sha256: row["sha256"],
            sizeBytes: row["size_bytes"], featureNames: parseJSONStrings(row["feature_names"]),
            details: row["details"], uploadedBy: row["uploaded_by"], uploadedAtMicros: row["uploaded_at"])
    }

    private static func aliasJSON(_ key: ModelKey?) -> String? {
        key.map { "{\"name\":\(jsonString($0.name)),\"version\":\($0.version)}" }
    }

    static func jsonArray(_ strings: [String]) -> String {
        "[" + strings.map(jsonString).joined(separator: ",") + "]"
    }
}
