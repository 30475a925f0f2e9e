import Hummingbird
import VigilService
import VigilStore

/// The background worker: `GET /v1/worker` (schedule, running jobs, last runs) and `POST /v1/worker/run`.
struct WorkerController {
    let worker: Worker
    let maxBodyBytes: Int

    func status(_ request: Request, context: VigilRequestContext) async throws -> Response {
        try RulesController.query(request, known: []) { _, _, _ in }
        return JSONResponse.make(try await worker.status(), request: request)
    }

    /// 202 with the run while it runs (`"wait": false`, the default); 200 with its result once it has finished.
    func run(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let body = try await RulesController.bytes(RequestBodyReader.jsonBody(request, limit: maxBodyBytes))
        let run = try await worker.runRequest(body: body)
        var response = JSONResponse.make(Worker.runJSON(run), request: request)
        response.status = run.status == .running ? .accepted : .ok
        return response
    }
}
