import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals
import VigilCore
import VigilHTTP
import VigilService
import VigilStore

@main
struct Vigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Fraud scoring with humans in the loop.",
        subcommands: [
            Serve.self, Migrate.self, Keys.self, CasesCommand.self, LabelCommand.self, StatsCommand.self,
            SimulateCommand.self, WorkerCommand.self,
        ],
        defaultSubcommand: Serve.self)
}

/// Options every command that reads the configuration shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: config/vigil.yaml when it exists).")
    var config: String?

    @Option(name: .long, help: "SQLite database file (database.path).")
    var database: String?

    func load(extraFlags: [(key: String, value: String)] = []) throws -> (config: VigilConfig, file: String?) {
        var flags = extraFlags
        if let database { flags.append(("database.path", database)) }
        do {
            return try ConfigLoader().load(file: config, environment: ProcessInfo.processInfo.environment, flags: flags)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP service.")

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "Address to listen on (server.host).")
    var host: String?

    @Option(name: .long, help: "Port to listen on, 0 for any free port (server.port).")
    var port: Int?

    func run() async throws {
        var flags: [(key: String, value: String)] = []
        if let host { flags.append(("server.host", host)) }
        if let port { flags.append(("server.port", String(port))) }
        let (config, file) = try common.load(extraFlags: flags)
        let level = Logger.Level(rawValue: config.logLevel) ?? .info
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        let logger = Logger(label: "vigil")
        let metrics = VigilMetrics()
        MemoryTrimmer.limitArenas(cores: ProcessInfo.processInfo.activeProcessorCount)
        let runtime: VigilRuntime
        do {
            runtime = try await VigilRuntime.open(
                config: config, logger: logger,
                commitObserver: { size, seconds, succeeded in
                    metrics.recordCommit(batchSize: size, seconds: seconds, succeeded: succeeded)
                })
        } catch {
            Console.error("vigil: cannot start: \(error)")
            throw ExitCode(2)
        }
        let created = try runtime.keys.bootstrap(
            roles: Role.allCases.map(\.rawValue), nowMicros: SystemWallClock().nowMicros())
        try await runtime.authenticator.refresh()
        Console.out("config: \(file ?? "embedded defaults (no config/vigil.yaml)")")
        for variable in ConfigLoader.unknownVariables(in: ProcessInfo.processInfo.environment) {
            Console.error("warning: \(variable) is not a Vigil setting and is ignored (see README, Configuration)")
        }
        Console.out("database: \(Console.absolute(config.databasePath))")
        let active = runtime.registry.active
        Console.out(
            "model: \(active.scorer.model.name) version \(active.scorer.model.version) (champion)"
                + (active.challenger.map { "; challenger \($0.model.name) version \($0.model.version)" } ?? ""))
        if !created.isEmpty {
            Console.out("API keys created (shown once, store them now):")
            for (key, record) in created {
                Console.out("  \(record.role.padding(toLength: 8, withPad: " ", startingAt: 0)) \(key)")
            }
        }
        let app = VigilServer.buildApplication(
            runtime: runtime, metrics: metrics, logger: logger,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? config.port
                Console.out("listening on http://\(config.host):\(port)")
            })
        do {
            var group = ServiceGroupConfiguration(
                services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            // In-flight requests get this long to finish after SIGTERM before they are cancelled.
            group.maximumGracefulShutdownDuration = .seconds(config.shutdownGraceSeconds)
            try await ServiceGroup(configuration: group).run()
        } catch {
            logger.error("server stopped with an error", metadata: ["error": "\(error)"])
            await runtime.close()
            LogSink.shared.flush()
            throw ExitCode(1)
        }
        await runtime.close()
        logger.info("stopped: every accepted decision is committed")
        LogSink.shared.flush()
    }
}

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run the background worker alone (mining, training, onset detection), without the HTTP service.",
        discussion: """
            Runs the jobs on their worker.* intervals against the configured database until SIGTERM or SIGINT. \
            With --once JOB, runs that job now, prints its run as JSON and exits (0 when it succeeded or was \
            skipped). Run it beside `vigil serve` with worker.enabled false there.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Run one job now (mine, train or onset), print the run and exit.")
    var once: String?

    func run() async throws {
        let (config, _) = try common.load()
        let level = Logger.Level(rawValue: config.logLevel) ?? .info
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        let logger = Logger(label: "vigil")
        var job: WorkerJob?
        if let once {
            guard let parsed = WorkerJob(rawValue: once) else {
                throw ValidationError("--once must be mine, train or onset, not \(once)")
            }
            job = parsed
        }
        let runtime: VigilRuntime
        do {
            runtime = try await VigilRuntime.open(config: config, logger: logger)
        } catch {
            Console.error("vigil worker: cannot start: \(error)")
            throw ExitCode(2)
        }
        if let job {
            let run: WorkerRun
            do {
                run = try await runtime.worker.run(job, trigger: "manual", wait: true)
            } catch {
                Console.error("vigil worker: \(error)")
                await runtime.close()
                throw ExitCode(1)
            }
            Console.out(String(decoding: Worker.runJSON(run), as: UTF8.self))
            await runtime.close()
            LogSink.shared.flush()
            if run.status == .failed { throw ExitCode(1) }
            return
        }
        Console.out("database: \(Console.absolute(config.databasePath))")
        Console.out(
            "worker running: mine every \(config.worker.miningIntervalMinutes) min, train every "
                + "\(config.worker.trainingIntervalMinutes) min, onset every \(config.worker.onsetIntervalMinutes) min")
        var group = ServiceGroupConfiguration(
            services: [WorkerService(worker: runtime.worker), LogFlusher()],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(config.shutdownGraceSeconds)
        try await ServiceGroup(configuration: group).run()
        await runtime.close()
        LogSink.shared.flush()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or migrate the database, then exit.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let (config, _) = try common.load()
        let database = try VigilDatabase(path: config.databasePath, synchronous: config.synchronous)
        Console.out("database: \(Console.absolute(config.databasePath))")
        for migration in try database.appliedMigrations() { Console.out("  applied \(migration)") }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage API keys.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it once.")
        @OptionGroup var common: CommonOptions
        @Option(help: "scoring, review or admin.") var role: String
        @Option(help: "Who or what uses the key (a reviewer's name, a service).") var name: String

        func validate() throws {
            guard Role(rawValue: role) != nil else { throw ValidationError("--role must be scoring, review or admin") }
            guard (1...100).contains(name.count) else { throw ValidationError("--name must be 1 to 100 characters") }
        }

        func run() async throws {
            let keys = try Console.keyStore(common)
            let (key, record) = try keys.create(name: name, role: role, nowMicros: SystemWallClock().nowMicros())
            Console.out("created \(record.keyID) (\(record.role), \(record.name)); the key is shown once:")
            Console.out(key)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never the keys themselves).")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let keys = try Console.keyStore(common)
            Console.out("KEY ID                 ROLE     PREFIX        STATUS   NAME")
            for record in try keys.list() {
                let status = record.revokedAtMicros == nil ? "active" : "revoked"
                Console.out(
                    [
                        record.keyID.padding(toLength: 22, withPad: " ", startingAt: 0),
                        record.role.padding(toLength: 8, withPad: " ", startingAt: 0),
                        (record.prefix + "…").padding(toLength: 13, withPad: " ", startingAt: 0),
                        status.padding(toLength: 8, withPad: " ", startingAt: 0), record.name,
                    ].joined(separator: " "))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its id.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The key id, as `vigil keys list` shows it.") var keyID: String

        func run() async throws {
            let keys = try Console.keyStore(common)
            guard try keys.revoke(keyID: keyID, nowMicros: SystemWallClock().nowMicros()) else {
                Console.error("no active key with id \(keyID)")
                throw ExitCode(1)
            }
            Console.out("revoked \(keyID); running servers stop accepting it within auth.key_refresh_seconds")
        }
    }
}

/// Plain terminal output for people (keys are printed here, never logged).
enum Console {
    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static func keyStore(_ common: CommonOptions) throws -> APIKeyStore {
        let (config, _) = try common.load()
        return APIKeyStore(database: try VigilDatabase(path: config.databasePath, synchronous: config.synchronous))
    }
}
