import VigilCore
import VigilStore

/// The rules' use cases: write, change, read, backtest; the named lists they use; the alerts they raise.
///
/// Every change is a new version in the store (with its audit entry) and is followed by a reload of the
/// engine, so the next scored payment sees it. A change that makes a rule act is watched by the
/// blast-radius guard.
public struct RuleService: Sendable {
    public let engine: RuleEngine
    public let store: RuleStore
    public let lists: ListStore
    public let alerts: AlertStore
    public let scan: BacktestScan
    public let registry: ModelRegistry
    public let rateGuard: BlastRadiusGuard
    public let clock: any WallClock
    public let settings: RuleSettings
    private let identifiers = IdentifierGenerator()

    public init(
        engine: RuleEngine, store: RuleStore, lists: ListStore, alerts: AlertStore, scan: BacktestScan,
        registry: ModelRegistry, rateGuard: BlastRadiusGuard, clock: any WallClock, settings: RuleSettings
    ) {
        self.engine = engine
        self.store = store
        self.lists = lists
        self.alerts = alerts
        self.scan = scan
        self.registry = registry
        self.rateGuard = rateGuard
        self.clock = clock
        self.settings = settings
    }

    static let maxNameBytes = 128
    static let maxDescriptionBytes = 2_000
    static let maxPoints = 20.0
    static let ruleFields: Set<String> = [
        "name", "expression", "action", "points", "status", "expires_at", "owner", "description", "version",
    ]

    // MARK: - Rules

    /// `POST /v1/rules`: a new rule, `shadow` unless the body says otherwise.
    public func create(body: [UInt8], actor: String) async throws(ServiceError) -> (json: [UInt8], id: String) {
        var reader = try JSONObjectReader(JSONInput.parse(body), known: Self.ruleFields.subtracting(["version"]))
        let name = reader.string("name", required: true, maxBytes: Self.maxNameBytes)
        let expressionText = reader.string("expression", required: true, maxBytes: RuleLimits().maxSourceBytes)
        let action = reader.choice("action", required: true, RuleActionKind.self)
        let points = reader.number("points", in: -Self.maxPoints...Self.maxPoints)
        let status = reader.choice("status", RuleStatus.self) ?? .shadow
        let expires = reader.time("expires_at")
        let owner = reader.string("owner", maxBytes: Self.maxNameBytes) ?? actor
        let description = reader.string("description", maxBytes: Self.maxDescriptionBytes)
        let now = clock.nowMicros()
        checkPoints(action: action, points: points, pointsGiven: reader.has("points"), reader: &reader)
        if let expires, expires <= now { reader.fail("expires_at", "must be in the future") }
        if let expressionText { compile(expressionText, reader: &reader) }
        try reader.check()
        guard let name, let expressionText, let action else { throw .validation(reader.errors) }
        if status == .shadow || status == .active { try await checkLiveCapacity(excluding: nil) }
        let draft = RuleDraft(
            name: name, expression: expressionText, action: action, points: action == .score ? points : nil,
            status: status, expiresAtMicros: expires, owner: owner, provenance: #"{"kind":"manual"}"#,
            description: description)
        let id = identifiers.make(prefix: "rl_", nowMicros: now)
        let stored = try await storeWrite {
            try await store.create(ruleID: id, draft: draft, actor: actor, nowMicros: now)
        }
        try await reload()
        if stored.status == .active { await rateGuard.watchRule(stored, previousVersion: nil, nowMicros: now) }
        return (try await page(stored), id)
    }

    /// Creates a rule from code (the worker's mined proposals): same checks, provenance as given.
    public func propose(draft: RuleDraft, actor: String) async throws(ServiceError) -> StoredRule {
        var reader = try JSONObjectReader(.object([]), known: [])
        compile(draft.expression, reader: &reader)
        try reader.check()
        let now = clock.nowMicros()
        let stored = try await storeWrite {
            try await store.create(
                ruleID: identifiers.make(prefix: "rl_", nowMicros: now), draft: draft, actor: actor, nowMicros: now)
        }
        try await reload()
        return stored
    }

    /// `PATCH /v1/rules/{id}`: any of the fields; each change is a new version. `version` in the body, when
    /// given, must be the current one (409 otherwise), so two editors cannot overwrite each other unknowingly.
    public func update(ruleID: String, body: [UInt8], actor: String) async throws(ServiceError) -> [UInt8] {
        var reader = try JSONObjectReader(JSONInput.parse(body), known: Self.ruleFields)
        let name = reader.string("name", maxBytes: Self.maxNameBytes)
        let expressionText = reader.string("expression", maxBytes: RuleLimits().maxSourceBytes)
        let action = reader.choice("action", RuleActionKind.self)
        let points = reader.number("points", in: -Self.maxPoints...Self.maxPoints)
        let status = reader.choice("status", RuleStatus.self)
        let expires = reader.time("expires_at")
        let clearExpiry = reader.isNull("expires_at")
        let owner = reader.string("owner", maxBytes: Self.maxNameBytes)
        let description = reader.string("description", maxBytes: Self.maxDescriptionBytes)
        let clearDescription = reader.isNull("description")
        let expected = reader.int("version", in: 1...Int(Int32.max))
        let now = clock.nowMicros()
        if let expires, expires <= now { reader.fail("expires_at", "must be in the future") }
        if let expressionText { compile(expressionText, reader: &reader) }
        let changesSomething = [
            name != nil, expressionText != nil, action != nil, reader.has("points"), status != nil,
            reader.has("expires_at"), owner != nil, reader.has("description"),
        ].contains(true)
        if reader.errors.isEmpty, !changesSomething {
            reader.fail(
                "",
                "must change at least one of name, expression, action, points, status, expires_at, "
                    + "owner, description")
        }
        try reader.check()
        guard let current = try await storeRead({ try await store.rule(id: ruleID) }) else {
            throw .notFound("no rule with id \(ruleID)")
        }
        let newAction = action ?? current.action
        let newPoints = reader.has("points") ? points : current.points
        checkPoints(action: newAction, points: newPoints, pointsGiven: newPoints != nil, reader: &reader)
        try reader.check()
        if let status, status == .shadow || status == .active, current.status != .shadow, current.status != .active {
            try await checkLiveCapacity(excluding: ruleID)
        }
        let changed: (before: StoredRule, after: StoredRule)
        do {
            changed = try await store.update(ruleID: ruleID, expectedVersion: expected, actor: actor, nowMicros: now) {
                rule in
                RuleDraft(
                    name: name ?? rule.name, expression: expressionText ?? rule.expression, action: newAction,
                    points: newAction == .score ? newPoints : nil, status: status ?? rule.status,
                    expiresAtMicros: clearExpiry ? nil : (expires ?? rule.expiresAtMicros), owner: owner ?? rule.owner,
                    provenance: rule.provenance,
                    description: clearDescription ? nil : (description ?? rule.description))
            }
        } catch RuleStoreError.notFound {
            throw .notFound("no rule with id \(ruleID)")
        } catch RuleStoreError.versionConflict(let currentVersion) {
            throw .conflict(
                "rule \(ruleID) is at version \(currentVersion), not \(expected ?? 0); read it again and resend the change"
            )
        } catch {
            throw .unavailable("the change could not be stored: \(error)")
        }
        try await reload()
        if changed.before.status == .proposed, changed.after.status == .disabled,
            let rejected = Self.rejectedPattern(changed.after)
        {
            // A person turned down a mined proposal: the worker will not propose it again on the same evidence.
            try await storeWrite {
                try await WorkerStore(database: store.database).recordRejection(rejected, by: actor, nowMicros: now)
            }
        }
        if changed.after.status == .active, Self.actsDifferently(changed.before, changed.after) {
            await rateGuard.watchRule(changed.after, previousVersion: changed.before.version, nowMicros: now)
        }
        return try await page(changed.after)
    }

    /// The pattern behind a mined rule, from its provenance (nil for any other rule).
    static func rejectedPattern(_ rule: StoredRule) -> RejectedPattern? {
        guard case .object(let fields)? = try? JSONInput.parse(Array(rule.provenance.utf8)),
            fields.contains(where: { $0.0 == "kind" && $0.1 == .string("mined") }),
            case .string(let signature)? = fields.first(where: { $0.0 == "signature" })?.1,
            case .object(let pattern)? = fields.first(where: { $0.0 == "pattern" })?.1
        else { return nil }
        func number(_ key: String) -> Double {
            if case .number(let value)? = pattern.first(where: { $0.0 == key })?.1 { return value }
            return 0
        }
        return RejectedPattern(
            signature: signature, ruleID: rule.ruleID, precisionLowerBound: number("precision_lower_bound"),
            fraud: Int(number("fraud")), support: Int(number("support")))
    }

    /// Whether a change alters what an active rule does to decisions (so the guard should watch it).
    static func actsDifferently(_ before: StoredRule, _ after: StoredRule) -> Bool {
        before.status != .active || before.expression != after.expression || before.action != after.action
            || before.points != after.points || before.expiresAtMicros != after.expiresAtMicros
    }

    /// `GET /v1/rules/{id}`: the rule, whether it has expired, and its hits since it entered its status.
    public func rule(id: String) async throws(ServiceError) -> [UInt8] {
        guard let rule = try await storeRead({ try await store.rule(id: id) }) else {
            throw .notFound("no rule with id \(id)")
        }
        return try await page(rule)
    }

    /// `GET /v1/rules/{id}/versions`: every version, oldest first.
    public func versions(ruleID: String) async throws(ServiceError) -> [UInt8] {
        let versions = try await storeRead { try await store.versions(ruleID: ruleID) }
        guard !versions.isEmpty else { throw .notFound("no rule with id \(ruleID)") }
        var writer = JSONWriter(reservingCapacity: 512 * versions.count)
        writer.objectStart()
        writer.key("items")
        writer.arrayStart()
        for version in versions {
            writer.objectStart()
            writer.key("version")
            writer.int(version.version)
            writer.key("change")
            writer.string(version.change)
            writer.key("changed_by")
            writer.string(version.changedBy)
            writer.key("changed_at")
            writer.string(formatRFC3339(micros: version.changedAtMicros))
            Self.writeDraft(version.draft, into: &writer)
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.objectEnd()
        return writer.bytes
    }

    /// `GET /v1/rules`: filtered by status, most recently changed first.
    public func list(status: RuleStatus?, limit: Int, after: RuleCursor?) async throws(ServiceError) -> [UInt8] {
        let page = try await storeRead { try await store.rules(status: status, limit: limit, after: after) }
        let now = clock.nowMicros()
        let broken = engine.broken
        var writer = JSONWriter(reservingCapacity: 512 * page.items.count + 64)
        writer.objectStart()
        writer.key("items")
        writer.arrayStart()
        for rule in page.items {
            writer.objectStart()
            Self.writeRule(rule, nowMicros: now, broken: broken[rule.ruleID], into: &writer)
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.key("next")
        writer.optionalString(page.next?.encoded)
        writer.objectEnd()
        return writer.bytes
    }

    private func page(_ rule: StoredRule) async throws(ServiceError) -> [UInt8] {
        let now = clock.nowMicros()
        let freshSince = now - Int64(settings.precisionWindowDays) * 86_400_000_000
        let stats = try await storeRead {
            try await store.hitStats(
                ruleID: rule.ruleID, sinceMicros: rule.statusSinceMicros, labelledSinceMicros: freshSince)
        }
        var writer = JSONWriter(reservingCapacity: 2048)
        writer.objectStart()
        Self.writeRule(rule, nowMicros: now, broken: engine.broken[rule.ruleID], into: &writer)
        writer.key("stats")
        writer.objectStart()
        writer.key("since")
        writer.string(formatRFC3339(micros: rule.statusSinceMicros))
        writer.key("hits")
        writer.int(stats.hits)
        writer.key("scored")
        writer.int(stats.scored)
        writer.key("hit_rate")
        writer.optionalNumber(stats.scored == 0 ? nil : Double(stats.hits) / Double(stats.scored))
        writer.key("labelled_hits")
        writer.int(stats.labelledHits)
        writer.key("fraud_hits")
        writer.int(stats.fraudHits)
        writer.key("precision")
        writer.optionalNumber(stats.labelledHits == 0 ? nil : Double(stats.fraudHits) / Double(stats.labelledHits))
        writer.key("fresh")
        writer.objectStart()
        writer.key("labelled_since")
        writer.string(formatRFC3339(micros: freshSince))
        writer.key("labelled_hits")
        writer.int(stats.freshLabelledHits)
        writer.key("fraud_hits")
        writer.int(stats.freshFraudHits)
        writer.key("precision")
        writer.optionalNumber(
            stats.freshLabelledHits == 0 ? nil : Double(stats.freshFraudHits) / Double(stats.freshLabelledHits))
        writer.objectEnd()
        writer.objectEnd()
        if let watch = rateGuard.watch(of: .rule(rule.ruleID)) {
            writer.key("guard")
            BlastRadiusGuard.write(watch, into: &writer)
        }
        writer.objectEnd()
        return writer.bytes
    }

    static func writeRule(_ rule: StoredRule, nowMicros: Int64, broken: String?, into writer: inout JSONWriter) {
        writer.key("id")
        writer.string(rule.ruleID)
        writer.key("version")
        writer.int(rule.version)
        writeDraft(rule.draft, into: &writer)
        writer.key("expired")
        writer.bool(rule.expiresAtMicros.map { $0 <= nowMicros } ?? false)
        writer.key("status_since")
        writer.string(formatRFC3339(micros: rule.statusSinceMicros))
        writer.key("created_at")
        writer.string(formatRFC3339(micros: rule.createdAtMicros))
        writer.key("updated_at")
        writer.string(formatRFC3339(micros: rule.updatedAtMicros))
        if let broken {
            writer.key("error")
            writer.string("this rule is not evaluated: \(broken)")
        }
    }

    static func writeDraft(_ draft: RuleDraft, into writer: inout JSONWriter) {
        writer.key("name")
        writer.string(draft.name)
        writer.key("expression")
        writer.string(draft.expression)
        writer.key("action")
        writer.string(draft.action.rawValue)
        writer.key("points")
        writer.optionalNumber(draft.points)
        writer.key("status")
        writer.string(draft.status.rawValue)
        writer.key("expires_at")
        writer.optionalString(draft.expiresAtMicros.map { formatRFC3339(micros: $0) })
        writer.key("owner")
        writer.string(draft.owner)
        writer.key("provenance")
        writer.raw(Array(draft.provenance.utf8))
        writer.key("description")
        writer.optionalString(draft.description)
    }

    private func checkPoints(
        action: RuleActionKind?, points: Double?, pointsGiven: Bool, reader: inout JSONObjectReader
    ) {
        guard let action else { return }
        if action == .score, points == nil, !reader.errors.contains(where: { $0.path == "$.points" }) {
            reader.fail("points", "is required for action score (log-odds added to the model's margin, -20 to 20)")
        }
        if action != .score, pointsGiven, points != nil {
            reader.fail("points", "is only for action score")
        }
    }

    private func compile(_ expression: String, reader: inout JSONObjectReader) {
        do {
            _ = try RuleExpression.compile(expression, schema: engine.schema)
        } catch {
            reader.fail("expression", error.description)
        }
    }

    private func checkLiveCapacity(excluding ruleID: String?) async throws(ServiceError) {
        let live = try await storeRead { try await store.live() }
        let count = live.filter { $0.ruleID != ruleID }.count
        guard count < settings.maxLive else {
            throw .conflict(
                "\(count) rules are already in shadow or active (rules.max_live is \(settings.maxLive)); "
                    + "disable one first")
        }
    }

    /// Reloads the engine; a store failure is a 503 (the change itself is committed).
    func reload() async throws(ServiceError) {
        try await storeRead { try await engine.reload() }
    }

    // MARK: - Lists

    static let maxListValuesPerRequest = 100_000

    /// `POST /v1/lists`: `{name, kind, description?, values?}`.
    public func createList(body: [UInt8], actor: String) async throws(ServiceError) -> [UInt8] {
        var reader = try JSONObjectReader(
            JSONInput.parse(body), known: ["name", "kind", "description", "values"])
        let name = reader.string("name", required: true, maxBytes: 64)
        let kind = reader.choice("kind", required: true, ListKind.self)
        let description = reader.string("description", maxBytes: Self.maxDescriptionBytes)
        let values = reader.strings("values", maxCount: Self.maxListValuesPerRequest)
        if let name, !ListStore.isValidName(name) {
            reader.fail("name", "must be 1 to 64 characters of a-z, 0-9, '_' and '-'")
        }
        if let kind, let values { normalize(values, kind: kind, path: "values", reader: &reader) }
        try reader.check()
        guard let name, let kind else { throw .validation(reader.errors) }
        let now = clock.nowMicros()
        do {
            _ = try await lists.create(name: name, kind: kind, description: description, actor: actor, nowMicros: now)
            if let values, !values.isEmpty {
                _ = try await lists.add(name: name, values: values, actor: actor, nowMicros: now)
            }
        } catch ListStoreError.exists {
            throw .conflict("a list named \(name) already exists")
        } catch {
            throw .unavailable("the change could not be stored: \(error)")
        }
        try await reload()
        return try await listPage(name: name, after: nil, limit: 100)
    }

    /// `POST /v1/lists/{name}/items` (`{"values": [...]}`) or `…/items/remove`: how many changed.
    public func changeItems(
        name: String, values: [String], remove: Bool, actor: String
    ) async throws(ServiceError) -> [UInt8] {
        guard let list = try await storeRead({ try await lists.list(name: name) }) else {
            throw .notFound("no list named \(name)")
        }
        var reader = try JSONObjectReader(.object([]), known: [])
        if !remove { normalize(values, kind: list.kind, path: "values", reader: &reader) }
        try reader.check()
        let now = clock.nowMicros()
        let changed = try await storeWrite {
            remove
                ? try await lists.remove(name: name, values: values, actor: actor, nowMicros: now)
                : try await lists.add(name: name, values: values, actor: actor, nowMicros: now)
        }
        try await reload()
        let after = try await storeRead { try await lists.list(name: name) }
        var writer = JSONWriter()
        writer.objectStart()
        writer.key(remove ? "removed" : "added")
        writer.int(changed)
        writer.key("item_count")
        writer.int(after?.itemCount ?? 0)
        writer.objectEnd()
        return writer.bytes
    }

    /// Values of a bulk body: a JSON `{"values": [...]}` object.
    public func values(fromJSON body: [UInt8]) throws(ServiceError) -> [String] {
        var reader = try JSONObjectReader(JSONInput.parse(body), known: ["values"])
        let values = reader.strings("values", required: true, maxCount: Self.maxListValuesPerRequest)
        try reader.check()
        return values ?? []
    }

    /// Values of a bulk body in text: one per line, blank lines and `#` comments skipped.
    public func values(fromText body: [UInt8]) throws(ServiceError) -> [String] {
        var values: [String] = []
        for (number, line) in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            var text = String(decoding: line, as: UTF8.self)
            if text.hasSuffix("\r") { text.removeLast() }
            let trimmed = text.trimmingSpaces()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard trimmed.utf8.count <= 256 else {
                throw .validation([FieldError(path: "$.line[\(number + 1)]", message: "is longer than 256 bytes")])
            }
            values.append(trimmed)
            guard values.count <= Self.maxListValuesPerRequest else {
                throw .validation([
                    FieldError(
                        path: "$", message: "has more than \(Self.maxListValuesPerRequest) values; send them in parts")
                ])
            }
        }
        return values
    }

    /// `DELETE /v1/lists/{name}`: refused while a live rule reads the list.
    public func deleteList(name: String, actor: String) async throws(ServiceError) {
        let live = try await storeRead { try await store.live() }
        let readers = live.filter { rule in
            (try? RuleExpression.compile(rule.expression, schema: engine.schema).referencedLists.contains(name))
                ?? false
        }
        guard readers.isEmpty else {
            throw .conflict(
                "list \(name) is read by live rules \(readers.map(\.ruleID).joined(separator: ", ")); disable them first"
            )
        }
        let deleted = try await storeWrite {
            try await lists.delete(name: name, actor: actor, nowMicros: clock.nowMicros())
        }
        guard deleted else { throw .notFound("no list named \(name)") }
        try await reload()
    }

    /// `GET /v1/lists`.
    public func allLists() async throws(ServiceError) -> [UInt8] {
        let all = try await storeRead { try await lists.lists() }
        var writer = JSONWriter(reservingCapacity: 256 * all.count + 32)
        writer.objectStart()
        writer.key("items")
        writer.arrayStart()
        for list in all {
            writer.objectStart()
            Self.writeList(list, into: &writer)
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.objectEnd()
        return writer.bytes
    }

    /// `GET /v1/lists/{name}`: the list and a page of its values, in order, from `after`.
    public func listPage(name: String, after: String?, limit: Int) async throws(ServiceError) -> [UInt8] {
        guard let list = try await storeRead({ try await lists.list(name: name) }) else {
            throw .notFound("no list named \(name)")
        }
        let items = try await storeRead { try await lists.items(name: name, after: after, limit: limit + 1) }
        var writer = JSONWriter(reservingCapacity: 1024 + 64 * items.count)
        writer.objectStart()
        Self.writeList(list, into: &writer)
        writer.key("items")
        writer.arrayStart()
        for item in items.prefix(limit) {
            writer.objectStart()
            writer.key("value")
            writer.string(item.value)
            writer.key("added_by")
            writer.string(item.addedBy)
            writer.key("added_at")
            writer.string(formatRFC3339(micros: item.addedAtMicros))
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.key("next")
        writer.optionalString(items.count > limit ? items[limit - 1].value : nil)
        writer.objectEnd()
        return writer.bytes
    }

    static func writeList(_ list: StoredList, into writer: inout JSONWriter) {
        writer.key("name")
        writer.string(list.name)
        writer.key("kind")
        writer.string(list.kind.rawValue)
        writer.key("description")
        writer.optionalString(list.description)
        writer.key("item_count")
        writer.int(list.itemCount)
        writer.key("created_by")
        writer.string(list.createdBy)
        writer.key("created_at")
        writer.string(formatRFC3339(micros: list.createdAtMicros))
        writer.key("updated_at")
        writer.string(formatRFC3339(micros: list.updatedAtMicros))
    }

    private func normalize(_ values: [String], kind: ListKind, path: String, reader: inout JSONObjectReader) {
        var bad = 0
        for (index, value) in values.enumerated() where kind.normalize(value) == nil {
            bad += 1
            if bad <= 10 {
                reader.fail("\(path)[\(index)]", "is not a valid \(kind.rawValue) value")
            }
        }
        if bad > 10 { reader.fail(path, "has \(bad) values that are not valid \(kind.rawValue) values") }
    }

    // MARK: - Alerts

    /// `GET /v1/alerts`: newest first.
    public func alertList(kind: String?, subjectID: String?, limit: Int, beforeMicros: Int64?)
        async throws(ServiceError)
        -> [UInt8]
    {
        let items = try await storeRead {
            try await alerts.alerts(kind: kind, subjectID: subjectID, limit: limit, beforeMicros: beforeMicros)
        }
        var writer = JSONWriter(reservingCapacity: 512 * items.count + 32)
        writer.objectStart()
        writer.key("items")
        writer.arrayStart()
        for alert in items {
            writer.objectStart()
            writer.key("id")
            writer.string(alert.alertID)
            writer.key("kind")
            writer.string(alert.kind)
            writer.key("subject_type")
            writer.string(alert.subjectType)
            writer.key("subject_id")
            writer.string(alert.subjectID)
            writer.key("message")
            writer.string(alert.message)
            writer.key("details")
            writer.raw(Array(alert.details.utf8))
            writer.key("created_at")
            writer.string(formatRFC3339(micros: alert.createdAtMicros))
            writer.key("resolved_at")
            writer.optionalString(alert.resolvedAtMicros.map { formatRFC3339(micros: $0) })
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.objectEnd()
        return writer.bytes
    }
}

/// The rule settings from configuration.
public struct RuleSettings: Sendable, Equatable {
    public var strength: Double
    public var maxLive: Int
    public var precisionFloor: Double
    public var precisionMinLabels: Int
    public var precisionWindowDays: Int
    public var checkIntervalSeconds: Int

    public init(
        strength: Double = 1, maxLive: Int = 1000, precisionFloor: Double = 0.5, precisionMinLabels: Int = 20,
        precisionWindowDays: Int = 7, checkIntervalSeconds: Int = 60
    ) {
        self.strength = strength
        self.maxLive = maxLive
        self.precisionFloor = precisionFloor
        self.precisionMinLabels = precisionMinLabels
        self.precisionWindowDays = precisionWindowDays
        self.checkIntervalSeconds = checkIntervalSeconds
    }
}

extension String {
    func trimmingSpaces() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return String(view)
    }
}
