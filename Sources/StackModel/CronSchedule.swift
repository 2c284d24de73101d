import Foundation

/// A cron schedule: five fields (minute hour day-of-month month day-of-week) with ranges, steps,
/// lists and names, or an `@hourly`-style nickname; checked when profiles are compiled and
/// rendered into cron.d entries and systemd OnCalendar expressions when they are installed.
public struct CronSchedule: Sendable, Equatable {
    public struct Field: Sendable, Equatable {
        public var text: String
        public let name: String
        public let range: ClosedRange<Int>
    }

    public var minute: Field
    public var hour: Field
    public var dayOfMonth: Field
    public var month: Field
    public var dayOfWeek: Field

    public var fields: [Field] { [minute, hour, dayOfMonth, month, dayOfWeek] }

    /// The five-field line, as cron reads it.
    public var expression: String { fields.map(\.text).joined(separator: " ") }

    private static let nicknames: [String: String] = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Parses `text`; the error says which field is wrong and why.
    public static func parse(_ text: String) -> Result<CronSchedule, CronError> {
        let trimmed = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        if trimmed.hasPrefix("@") {
            guard let expanded = nicknames[trimmed.lowercased()] else {
                return .failure(CronError("unknown schedule '\(trimmed)' (expected five fields or one of \(nicknames.keys.sorted().joined(separator: ", ")))"))
            }
            return parse(expanded)
        }
        let parts = trimmed.split(separator: " ").map(String.init)
        guard parts.count == 5 else {
            return .failure(CronError("a schedule has five fields (minute hour day-of-month month day-of-week), got \(parts.count)"))
        }
        let specs: [(String, ClosedRange<Int>, [String])] = [
            ("minute", 0...59, []), ("hour", 0...23, []), ("day-of-month", 1...31, []),
            ("month", 1...12, monthNames), ("day-of-week", 0...7, dayNames),
        ]
        var fields: [Field] = []
        for (text, (name, range, names)) in zip(parts, specs) {
            if let problem = validate(text, range: range, names: names, offset: name == "month" ? 1 : 0) {
                return .failure(CronError("\(name) field '\(text)': \(problem)"))
            }
            fields.append(Field(text: text, name: name, range: range))
        }
        return .success(CronSchedule(minute: fields[0], hour: fields[1], dayOfMonth: fields[2], month: fields[3], dayOfWeek: fields[4]))
    }

    private static func validate(_ text: String, range: ClosedRange<Int>, names: [String], offset: Int) -> String? {
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { return "empty list item" }
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else { return "more than one '/'" }
            if stepParts.count == 2 {
                guard let step = Int(stepParts[1]), step >= 1, step <= range.upperBound else {
                    return "step '\(stepParts[1])' must be a number from 1 to \(range.upperBound)"
                }
            }
            let base = stepParts[0]
            if base == "*" { continue }
            let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2 else { return "malformed range '\(base)'" }
            var values: [Int] = []
            for bound in bounds {
                if let value = Int(bound) {
                    guard range.contains(value) else { return "\(value) is outside \(range.lowerBound)-\(range.upperBound)" }
                    values.append(value)
                } else if let index = names.firstIndex(of: bound.lowercased()) {
                    values.append(index + offset)
                } else {
                    return "'\(bound)' is not a number" + (names.isEmpty ? "" : " or a name (\(names.joined(separator: ", ")))")
                }
            }
            if values.count == 2, values[0] > values[1] { return "range \(values[0])-\(values[1]) runs backwards" }
        }
        return nil
    }

    /// The same schedule with its minute shifted by a stable amount derived from `seed` (an instance
    /// name), so many instances with `0 * * * *` do not all fire at :00. Only a plain minute or a
    /// `*/N` minute is shifted; an explicit list or range is the author's choice and kept.
    public func jittered(by seed: String) -> CronSchedule {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable across runs and machines, unlike Hasher
        for byte in seed.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        var copy = self
        if let minute = Int(minute.text) {
            copy.minute.text = String((minute + Int(hash % 60)) % 60)
        } else if minute.text.hasPrefix("*/"), let step = Int(minute.text.dropFirst(2)), step > 1, 60 % step == 0 {
            copy.minute.text = "\(Int(hash % UInt64(step)))-59/\(step)"
        }
        return copy
    }

    /// The systemd OnCalendar equivalent (`DayOfWeek Year-Month-Day Hour:Minute:00`).
    public var onCalendar: String {
        func convert(_ field: Field) -> String {
            field.text.split(separator: ",").map { item -> String in
                let parts = item.split(separator: "/")
                var base = String(parts[0])
                if base.contains("-") { base = base.replacingOccurrences("-", "..") }
                if parts.count == 2 { return (base == "*" ? String(field.range.lowerBound) : base) + "/" + parts[1] }
                return base
            }.joined(separator: ",")
        }
        let days = dayOfWeek.text == "*" ? "" : convert(dayOfWeek).split(separator: ",").map { day -> String in
            let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
            if let number = Int(day) { return names[number] }
            return day.split(separator: ".").map { part in Int(part).map { names[$0] } ?? String(part).capitalized }.joined(separator: "..")
        }.joined(separator: ",") + " "
        var numericMonth = month
        numericMonth.text = month.text.lowercased().split(separator: ",").map { item in
            item.split(separator: "-", omittingEmptySubsequences: false).map { bound in
                Self.monthNames.firstIndex(of: String(bound)).map { String($0 + 1) } ?? String(bound)
            }.joined(separator: "-")
        }.joined(separator: ",")
        let monthText = convert(numericMonth)
        return "\(days)*-\(monthText)-\(convert(dayOfMonth)) \(convert(hour)):\(convert(minute)):00"
    }
}

extension CronSchedule {
    /// The values a field matches (names resolved, steps expanded; day-of-week 7 is Sunday, 0).
    public func values(of field: Field) -> Set<Int> {
        let names = field.name == "month" ? Self.monthNames : field.name == "day-of-week" ? Self.dayNames : []
        let offset = field.name == "month" ? 1 : 0
        func number(_ text: Substring) -> Int? {
            Int(text) ?? names.firstIndex(of: text.lowercased()).map { $0 + offset }
        }
        var result: Set<Int> = []
        for item in field.text.lowercased().split(separator: ",") {
            let stepParts = item.split(separator: "/")
            let step = stepParts.count == 2 ? Int(stepParts[1]) ?? 1 : 1
            let base = stepParts[0]
            var low = field.range.lowerBound, high = field.range.upperBound
            if base != "*" {
                let bounds = base.split(separator: "-")
                low = number(bounds[0]) ?? low
                high = bounds.count == 2 ? number(bounds[1]) ?? high : (stepParts.count == 2 ? field.range.upperBound : low)
            }
            for value in stride(from: low, through: high, by: max(1, step)) { result.insert(value) }
        }
        if field.name == "day-of-week", result.contains(7) { result.insert(0) }
        return result
    }

    /// The first minute strictly after `date` that the schedule fires at, in `calendar`'s time
    /// zone, as cron reads it: when both day fields are restricted, either one matching is enough.
    public func next(after date: Date, calendar: Calendar) -> Date? {
        let minutes = values(of: minute), hours = values(of: hour), days = values(of: dayOfMonth)
        let months = values(of: month), weekdays = values(of: dayOfWeek)
        let dayRestricted = dayOfMonth.text != "*", weekdayRestricted = dayOfWeek.text != "*"
        var candidate = Date(timeIntervalSince1970: (floor(date.timeIntervalSince1970 / 60) + 1) * 60)
        // Day by day (at most eight years: a 29 February on a given weekday can be that far), then within the day.
        for _ in 0..<(366 * 8) {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday, .hour, .minute], from: candidate)
            let weekday = (parts.weekday ?? 1) - 1
            let dayMatches: Bool = switch (dayRestricted, weekdayRestricted) {
            case (true, true): days.contains(parts.day ?? 0) || weekdays.contains(weekday)
            case (true, false): days.contains(parts.day ?? 0)
            case (false, true): weekdays.contains(weekday)
            case (false, false): true
            }
            if months.contains(parts.month ?? 0) && dayMatches {
                for hourValue in hours.sorted() where hourValue >= (parts.hour ?? 0) {
                    for minuteValue in minutes.sorted() where hourValue > (parts.hour ?? 0) || minuteValue >= (parts.minute ?? 0) {
                        if let fire = calendar.date(bySettingHour: hourValue, minute: minuteValue, second: 0, of: candidate) { return fire }
                    }
                }
            }
            guard let nextDay = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: candidate)) else { return nil }
            candidate = nextDay
        }
        return nil
    }
}

/// Why a schedule does not parse.
public struct CronError: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }

    fileprivate var capitalized: String { prefix(1).uppercased() + dropFirst().lowercased() }
}
