import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request body has not fully arrived `timeout` after its head: a client sending a
/// body a byte at a time would otherwise hold the connection (and the request's task) for as long as it likes,
/// because every byte counts as activity for the idle timeout. Slow headers are the idle timeout's job: no
/// request head is decoded until the headers are complete, so such a connection stays idle and is closed.
///
/// At most one timer per connection is pending: a head arms it when none is, and when it fires while a later
/// request is being read it waits until that request's deadline.
final class BodyTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let timeout: TimeAmount
    private var deadline: NIODeadline?
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            let deadline = NIODeadline.now() + timeout
            self.deadline = deadline
            if timer == nil { arm(context, at: deadline) }
        case .body:
            break
        case .end:
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    private func arm(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loop = context.eventLoop.assumeIsolated()
        timer = loop.scheduleTask(deadline: deadline) { [self] in
            timer = nil
            guard let current = self.deadline else { return }
            if current <= .now() {
                context.close(promise: nil)
            } else {
                arm(context, at: current)
            }
        }
    }
}
