import Foundation
import StackModel
import Testing

@Suite struct CronScheduleNextTests {
    let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    func next(_ schedule: String, after: String) throws -> String? {
        let parsed = try CronSchedule.parse(schedule).get()
        return parsed.next(after: try #require(Timestamp.parse(after)), calendar: utc).map(Timestamp.format)
    }

    @Test func theNextFireIsTheFirstMatchingMinuteStrictlyAfter() throws {
        #expect(try next("*/30 * * * *", after: "2026-12-01T00:00:00.000Z") == "2026-12-01T00:30:00.000Z")
        #expect(try next("*/30 * * * *", after: "2026-12-01T00:29:59.500Z") == "2026-12-01T00:30:00.000Z")
        #expect(try next("0 2 * * *", after: "2026-12-01T02:00:00.000Z") == "2026-12-02T02:00:00.000Z")
        #expect(try next("17-59/20 * * * *", after: "2026-12-01T00:40:00.000Z") == "2026-12-01T00:57:00.000Z")
        #expect(try next("@monthly", after: "2026-12-15T00:00:00.000Z") == "2027-01-01T00:00:00.000Z")
        #expect(try next("0 0 29 feb *", after: "2026-03-01T00:00:00.000Z") == "2028-02-29T00:00:00.000Z")
    }

    @Test func bothDayFieldsRestrictedMeansEitherAsCronReadsIt() throws {
        // 2026-12-01 is a Tuesday: the 15th or a Friday, whichever comes first.
        #expect(try next("0 0 15 * fri", after: "2026-12-01T00:00:00.000Z") == "2026-12-04T00:00:00.000Z")
        #expect(try next("0 0 * * 7", after: "2026-12-01T00:00:00.000Z") == "2026-12-06T00:00:00.000Z", "7 is Sunday")
    }
}
