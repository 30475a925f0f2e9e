import Hummingbird
import VigilService

/// Per-request state: Hummingbird's core storage, the authenticated caller and the request id.
public struct VigilRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    public var requestID: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
        self.requestID = ""
    }
}
