import StackRuntime
import Testing

@Suite struct InstanceLayoutTests {
    @Test func aWrappersRelativePathResolvesInsideTheInstanceAndNeverOutside() {
        let layout = InstanceLayout(directory: "/srv/stack/db0")
        #expect(layout.resolve("srv/backup/postgres") == "/srv/stack/db0/srv/backup/postgres")
        #expect(layout.resolve("./var/queue") == "/srv/stack/db0/var/queue")
        #expect(layout.resolve("../db1/var/queue") == nil)
        #expect(layout.resolve("/etc/passwd") == nil)
        #expect(layout.dump(of: "postgres") == "/srv/stack/db0/srv/backup/postgres")
    }
}
