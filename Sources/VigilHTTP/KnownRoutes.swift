import HTTPTypes

/// Route templates and their methods, to tell "no such path" (404) from "not with this method" (405).
struct KnownRoutes: Sendable {
    private let entries: [(segments: [Substring], methods: [HTTPRequest.Method])]

    init(_ routes: [(String, [HTTPRequest.Method])]) {
        entries = routes.map { (path, methods) in (path.split(separator: "/"), methods) }
    }

    /// The methods allowed on the template that `path` matches, or nil when none matches.
    func methods(forPath path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/")
        for entry in entries where entry.segments.count == segments.count {
            let matches = zip(entry.segments, segments).allSatisfy { template, actual in
                template.first == "{" || template == actual
            }
            if matches { return entry.methods }
        }
        return nil
    }
}
