// `metapool check --junit FILE`: the outcomes as a JUnit XML report, which CI services (GitHub
// Actions reporters, GitLab, Jenkins) show as test results.

#if canImport(FoundationEssentials)
import FoundationEssentials  // Date; full Foundation is not linked (start-up time, issue 15)
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc  // gmtime_r
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import MetaPool

/// One `<testsuite>` named "metapool check" with one `<testcase>` per baseline: a `<failure>`
/// for drift or a changed input, an `<error>` for a baseline or input that cannot be used.
struct JUnitReport {
    var outcomes: [CheckCommand.Outcome]
    var rtol: Double
    var timestamp = Date()

    func xml() -> String {
        let failures = outcomes.filter { $0.verdict == .moved }.count
        let errors = outcomes.filter { if case .error = $0.verdict { true } else { false } }.count
        let total = outcomes.reduce(0) { $0 + $1.seconds }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuite" + Self.attributes([
            ("name", "metapool check"), ("tests", "\(outcomes.count)"), ("failures", "\(failures)"), ("errors", "\(errors)"),
            ("skipped", "0"), ("time", Self.time(total)), ("timestamp", Self.iso8601(timestamp)),
        ]) + ">\n"
        out += "  <properties>\n"
        out += "    <property" + Self.attributes([("name", "metapool_version"), ("value", MetaPoolVersion.current)]) + "/>\n"
        out += "    <property" + Self.attributes([("name", "rtol"), ("value", "\(rtol)")]) + "/>\n"
        out += "  </properties>\n"
        for outcome in outcomes {
            out += "  <testcase" + Self.attributes([("name", outcome.baseline), ("classname", "metapool.check"),
                                                   ("time", Self.time(outcome.seconds))]) + ">\n"
            switch outcome.verdict {
            case .ok: break
            case .moved:
                out += "    <failure" + Self.attributes([("message", Self.failureMessage(outcome)), ("type", "drift")]) + ">"
                out += Self.escape(outcome.details.joined(separator: "\n"), attribute: false) + "</failure>\n"
            case .error(let status):
                out += "    <error" + Self.attributes([("message", outcome.headline), ("type", Self.errorType(status))]) + ">"
                out += Self.escape(outcome.errorDescription ?? outcome.headline, attribute: false) + "</error>\n"
            }
            let said = (outcome.verdict == .ok ? ["ok: " + outcome.headline] : []) + outcome.notes.map { "note: " + $0 }
            if !said.isEmpty {
                out += "    <system-out>" + Self.escape(said.joined(separator: "\n"), attribute: false) + "</system-out>\n"
            }
            out += "  </testcase>\n"
        }
        out += "</testsuite>\n"
        return out
    }

    /// The headline and the members that moved (the first 20; the element's text has every line).
    static func failureMessage(_ outcome: CheckCommand.Outcome) -> String {
        guard !outcome.moved.isEmpty else { return outcome.headline }
        let shown = outcome.moved.prefix(20).joined(separator: ", ")
        let more = outcome.moved.count > 20 ? " and \(outcome.moved.count - 20) more" : ""
        return outcome.headline + ": " + shown + more
    }

    static func errorType(_ status: Int32) -> String {
        switch status {
        case ExitStatus.usage: "usage error (64)"
        case ExitStatus.data: "data error (65)"
        case ExitStatus.noInput: "no input (66)"
        case ExitStatus.software: "no convergence (70)"
        default: "exit status \(status)"
        }
    }

    static func attributes(_ pairs: [(String, String)]) -> String {
        pairs.map { " \($0.0)=\"\(escape($0.1, attribute: true))\"" }.joined()
    }

    static func time(_ seconds: Double) -> String { NumberFormat.decimal(seconds, digits: 3) }

    /// `date` in UTC as RFC 3339 writes it, to the second: "2025-12-07T04:40:31Z", the text of
    /// Foundation's `ISO8601DateFormatter` with `.withInternetDateTime`, which rounds to the
    /// millisecond (ICU's unit) and then drops the fraction.
    static func iso8601(_ date: Date) -> String {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        var seconds = time_t((milliseconds / 1000).rounded(.down))
        var utc = tm()
        guard gmtime_r(&seconds, &utc) != nil else { return "" }
        func digits(_ n: Int32, _ width: Int) -> String {
            let text = String(n)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return digits(utc.tm_year + 1900, 4) + "-" + digits(utc.tm_mon + 1, 2) + "-" + digits(utc.tm_mday, 2)
            + "T" + digits(utc.tm_hour, 2) + ":" + digits(utc.tm_min, 2) + ":" + digits(utc.tm_sec, 2) + "Z"
    }

    /// XML text or attribute value: the one escaping of every XML MetaPool writes (SVG, the report, JUnit).
    static func escape(_ text: String, attribute: Bool) -> String { SafeText.xml(text, attribute: attribute) }
}
