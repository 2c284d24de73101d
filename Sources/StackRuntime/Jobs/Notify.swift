import Foundation
import StackModel
import StackSystem

/// The notify step: an entry in each receiver's queue, read from `etc/notify`.
struct Notify {
    var context: JobContext
    var notifier: String

    func receivers() throws(RuntimeError) -> NotifierReceivers {
        guard let path = context.layout.resolve(notifier) else {
            throw RuntimeError(.layout, "--notifier must be a path inside the instance \(context.layout.directory)")
        }
        do { return try ContractCoding.decode(NotifierReceivers.self, from: try context.fileSystem.read(path)) } catch {
            throw RuntimeError(.layout, "cannot read the receivers in \(path)", remedy: "run 'stackc install' again", cause: ErrorText("\(error)"))
        }
    }

    func send(kind: QueueEntry.Kind, sequence: Int, epoch: Int, transaction: String, snapshot: String?) throws(RuntimeError) -> [String] {
        var notified: [String] = []
        for receiver in try receivers().receivers {
            let queue = Spool(directory: receiver.queue, fileSystem: context.fileSystem, clock: context.world.clock, holder: context.holder)
            let entry = QueueEntry(id: "", kind: kind, source: context.instance, sequence: sequence, epoch: epoch, transaction: transaction,
                                   enqueued: context.now, snapshot: snapshot)
            do {
                let stored = try queue.enqueue(entry)
                context.log.record(RuntimeEvent(time: context.now, instance: context.instance, step: "notify", outcome: .applied, transaction: transaction,
                                                source: receiver.instance, sequence: sequence, entry: stored.id, snapshot: snapshot))
            } catch {
                throw RuntimeError(.notify, "\(receiver.instance) could not be notified of sequence \(sequence) (queue \(receiver.queue))",
                                   remedy: notified.isEmpty ? "the data is in place; run the job again once the queue is writable"
                                       : "\(notified.joined(separator: ", ")) hold the entry; run the job again once the queue is writable", cause: error)
            }
            notified.append(receiver.instance)
        }
        return notified
    }
}
