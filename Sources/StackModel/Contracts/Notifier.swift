/// `etc/notify`: whom an instance notifies when it has new data, and where each receiver's queue
/// is. Written by the `notifier` recipe, read by the runtime's notify step.
public struct NotifierReceivers: Codable, Sendable, Equatable {
    public struct Receiver: Codable, Sendable, Equatable {
        /// The receiving instance.
        public var instance: String
        /// The absolute path of its queue directory.
        public var queue: String

        public init(instance: String, queue: String) {
            self.instance = instance
            self.queue = queue
        }
    }

    /// The notifying instance.
    public var instance: String
    public var receivers: [Receiver]

    public init(instance: String, receivers: [Receiver]) {
        self.instance = instance
        self.receivers = receivers
    }
}

/// `etc/service/<name>.json`: a long-running service of the instance, as `stackc up` supervises
/// it and `status` shows it. Written by the `service` recipe beside its script.
public struct ServiceDefinition: Codable, Sendable, Equatable {
    public var instance: String
    public var name: String
    /// The script that runs it in the foreground (`etc/service/<name>`), absolute.
    public var command: [String]
    public var address: String?
    public var port: Int?
    /// A command that succeeds once the service accepts work (postgres: pg_isready), run in the
    /// instance directory.
    public var ready: [String]
    /// Run once after it is first ready, in the instance directory with the service's
    /// environment (postgres: create the configured databases that do not exist).
    public var setup: [String]?
    /// The signal that stops it (TERM when absent; postgres: INT, its fast shutdown).
    public var stopSignal: String?
    /// The service's environment, which `setup` runs with too.
    public var environment: [String: String]?
    /// How a local client reaches it, usable as is (postgres: a libpq connection string).
    public var connection: String?

    public init(instance: String, name: String, command: [String], address: String?, port: Int?, ready: [String], setup: [String]? = nil, environment: [String: String]? = nil, connection: String?) {
        self.instance = instance
        self.name = name
        self.command = command
        self.address = address
        self.port = port
        self.ready = ready
        self.setup = setup
        self.environment = environment
        self.connection = connection
    }
}
