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
