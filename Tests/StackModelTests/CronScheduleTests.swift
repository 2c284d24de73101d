import StackModel
import Testing

@Suite struct CronScheduleTests {
    @Test(arguments: ["0 * * * *", "*/15 2-5 1,15 jan-mar mon-fri", "@hourly", "@daily", "5 4 * * sun", "0 0 29 2 *", "0-59/7 * * * 7"])
    func validSchedulesParse(text: String) {
        #expect((try? CronSchedule.parse(text).get()) != nil)
    }

    @Test func invalidSchedulesSayWhichFieldAndWhy() {
        let cases: [(String, String)] = [
            ("0 * * *", "a schedule has five fields (minute hour day-of-month month day-of-week), got 4"),
            ("60 * * * *", "minute field '60': 60 is outside 0-59"),
            ("* 24 * * *", "hour field '24': 24 is outside 0-23"),
            ("* * 0 * *", "day-of-month field '0': 0 is outside 1-31"),
            ("* * * foo *", "month field 'foo': 'foo' is not a number or a name (jan, feb, mar, apr, may, jun, jul, aug, sep, oct, nov, dec)"),
            ("*/0 * * * *", "minute field '*/0': step '0' must be a number from 1 to 59"),
            ("5-1 * * * *", "minute field '5-1': range 5-1 runs backwards"),
            ("1,,2 * * * *", "minute field '1,,2': empty list item"),
            ("@sometimes", "unknown schedule '@sometimes' (expected five fields or one of @annually, @daily, @hourly, @midnight, @monthly, @weekly, @yearly)"),
        ]
        for (text, message) in cases {
            guard case .failure(let error) = CronSchedule.parse(text) else {
                Issue.record("'\(text)' parsed")
                continue
            }
            #expect(error.message == message)
        }
    }

    @Test func jitterIsStablePerNameAndSpreadsInstances() throws {
        let schedule = try CronSchedule.parse("0 * * * *").get()
        #expect(schedule.jittered(by: "db0") == schedule.jittered(by: "db0"))
        let minutes = Set((0..<100).map { schedule.jittered(by: "db\($0)").minute.text })
        #expect(minutes.count > 40, "a hundred instances do not all fire at the same minute")
        let stepped = try CronSchedule.parse("*/30 * * * *").get().jittered(by: "db0")
        #expect(stepped.minute.text.hasSuffix("-59/30"))
        let listed = try CronSchedule.parse("5,35 * * * *").get()
        #expect(listed.jittered(by: "x") == listed, "an explicit list is the author's choice")
    }

    @Test func systemdCalendarsMatchTheCronSchedule() throws {
        #expect(try CronSchedule.parse("0 * * * *").get().onCalendar == "*-*-* *:0:00")
        #expect(try CronSchedule.parse("*/15 2-5 1,15 jan-mar mon-fri").get().onCalendar == "Mon..Fri *-1..3-1,15 2..5:0/15:00")
        #expect(try CronSchedule.parse("@daily").get().onCalendar == "*-*-* 0:0:00")
        #expect(try CronSchedule.parse("30 4 * * 0").get().onCalendar == "Sun *-*-* 4:30:00")
    }
}
