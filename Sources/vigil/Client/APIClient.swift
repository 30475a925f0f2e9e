import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One answer from the server.
struct APIResponse: Sendable {
    var status: Int
    var body: Data
    var headers: [String: String]

    var json: JSONValue? { JSONValue.parse(body) }
    var text: String { String(decoding: body, as: UTF8.self) }
    var isSuccess: Bool { (200..<300).contains(status) }
}

/// Why a request got no answer, or got a failing one.
enum APIFailure: Error, Sendable, CustomStringConvertible {
    /// Nothing answered at the address (connection refused, unknown host, timeout, connection dropped).
    case unreachable(url: String, reason: String)
    /// The server answered with a 4xx or 5xx.
    case problem(method: String, path: String, response: APIResponse)
    case badURL(String)

    var description: String {
        switch self {
        case .unreachable(let url, let reason): "cannot reach \(url): \(reason)"
        case .badURL(let url): "not a usable server address: \(url) (expected something like http://127.0.0.1:8080)"
        case .problem(let method, let path, let response):
            ProblemText.render(status: response.status, body: response.body, request: "\(method) \(path)")
        }
    }
}

/// A small HTTP client for the Vigil API over FoundationNetworking's `URLSession`.
struct APIClient: Sendable {
    static let defaultURL = "http://127.0.0.1:8080"

    let baseURL: String
    let key: String?
    let session: URLSession

    init(baseURL: String, key: String?, maxConnections: Int = 4, timeoutSeconds: Double = 30) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.key = key
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = maxConnections
        configuration.timeoutIntervalForRequest = timeoutSeconds
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        self.session = URLSession(configuration: configuration)
    }

    /// Percent-encodes one path segment (an id may contain `/`, `?` or spaces).
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%;")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Sends one request. Transient failures (503 and dropped or refused connections when `retryUnreachable`) are
    /// retried `retries` times with exponential backoff; anything else is returned or thrown as it is.
    func send(
        _ method: String, _ path: String, query: [(String, String)] = [], json body: Data? = nil,
        headers: [String: String] = [:], key overrideKey: String? = nil, retries: Int = 0,
        retryUnreachable: Bool = false
    ) async throws(APIFailure) -> APIResponse {
        guard var components = URLComponents(string: baseURL + path), components.scheme != nil,
            components.host != nil
        else { throw .badURL(baseURL) }
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        guard let url = components.url else { throw .badURL(baseURL) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let key = overrideKey ?? key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        var attempt = 0
        while true {
            do {
                let (data, response) = try await session.data(for: request)
                let http = response as? HTTPURLResponse
                var fields: [String: String] = [:]
                for (name, value) in http?.allHeaderFields ?? [:] {
                    if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
                }
                let answer = APIResponse(status: http?.statusCode ?? 0, body: data, headers: fields)
                if answer.status == 503, attempt < retries {
                    attempt += 1
                    await Self.backoff(attempt)
                    continue
                }
                return answer
            } catch {
                let reason = Self.reason(error)
                if attempt < retries, retryUnreachable || reason.transient {
                    attempt += 1
                    await Self.backoff(attempt)
                    continue
                }
                throw .unreachable(url: baseURL, reason: reason.text)
            }
        }
    }

    /// Sends the request and returns the answer when it is a 2xx; a failing answer is thrown as a problem.
    func expectSuccess(
        _ method: String, _ path: String, query: [(String, String)] = [], json body: Data? = nil,
        headers: [String: String] = [:], retries: Int = 2
    ) async throws(APIFailure) -> APIResponse {
        let response = try await send(method, path, query: query, json: body, headers: headers, retries: retries)
        guard response.isSuccess else { throw .problem(method: method, path: path, response: response) }
        return response
    }

    static func backoff(_ attempt: Int) async {
        let seconds = min(2.0, 0.1 * pow(2.0, Double(attempt - 1)))
        try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
    }

    /// What went wrong at the transport level, in words, and whether trying again may help.
    static func reason(_ error: any Error) -> (text: String, transient: Bool) {
        guard let error = error as? URLError else { return ("\(error)", false) }
        switch error.code {
        case .cannotConnectToHost: return ("connection refused (is `vigil serve` running there?)", false)
        case .cannotFindHost, .dnsLookupFailed: return ("unknown host", false)
        case .timedOut: return ("no answer in time", true)
        case .networkConnectionLost: return ("the connection was dropped", true)
        case .notConnectedToInternet: return ("no network", false)
        default: return (error.localizedDescription, false)
        }
    }
}

/// RFC 9457 problem documents as readable lines for a terminal.
enum ProblemText {
    static func render(
        status: Int, body: Data, request: String, keyHint: String = "set VIGIL_KEY or pass --key; a review key"
    ) -> String {
        guard let problem = JSONValue.parse(body), let title = problem["title"]?.string else {
            let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return "HTTP \(status) from \(request)" + (text.isEmpty ? "" : ": \(text)")
        }
        var lines = ["\(status) \(title)" + (problem["detail"]?.string.map { $0.isEmpty ? "" : ": \($0)" } ?? "")]
        for error in problem["errors"]?.array ?? [] {
            let path = error["path"]?.string ?? "$"
            lines.append("  \(path): \(error["message"]?.string ?? error.text)")
        }
        switch status {
        case 401: lines.append("  (the key was missing or unknown: \(keyHint))")
        case 403: lines.append("  (the key's role may not call \(request): \(keyHint))")
        default: break
        }
        return lines.joined(separator: "\n")
    }
}
