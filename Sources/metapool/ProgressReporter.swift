// Progress of long runs on standard error: a live line on a terminal, a line every few seconds off one.

import Dispatch
#if canImport(Glibc)
import Glibc  // getenv, isatty
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reports "TASK: DONE of TOTAL UNIT (ELAPSED)" on standard error while a long computation runs
/// (leave-one-out refits, permutations, GLMM iterations, batch analyses). On a terminal the line is
/// rewritten in place (at most ten times a second, from half a second on) and erased at the end; off a
/// terminal (a CI log, `2> file`) one line is printed every `interval` seconds, so a run that finishes
/// within the first interval prints nothing. Standard output is never touched.
/// `METAPOOL_PROGRESS_INTERVAL=SECONDS` sets that interval (0: a line at every update).
final class ProgressReporter: @unchecked Sendable {
    /// Seconds between lines off a terminal: `METAPOOL_PROGRESS_INTERVAL` when it is a number ≥ 0, else 5.
    static let defaultInterval: Double = {
        if let variable = getenv("METAPOOL_PROGRESS_INTERVAL"), let value = Double(String(cString: variable)),
           value >= 0, value.isFinite { return value }
        return 5
    }()

    let task: String
    let unit: String
    private(set) var total: Int?
    private let isTerminal: Bool
    private let interval: Double
    private let start = ContinuousClock.now
    private var lastReport: ContinuousClock.Instant
    private var drewLiveLine = false

    /// - Parameters:
    ///   - task: the command or stage, e.g. "sensitivity".
    ///   - unit: what is counted, e.g. "leave-one-out fits".
    ///   - total: how many there will be, or `nil` when unknown (iterations).
    ///   - interval: seconds between lines off a terminal.
    init(task: String, unit: String, total: Int?, interval: Double = defaultInterval, isTerminal: Bool = isatty(2) == 1) {
        self.task = task
        self.unit = unit
        self.total = total
        self.isTerminal = isTerminal
        self.interval = interval
        lastReport = start
    }

    private static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// "40,000 of 100,000 leave-one-out fits (12 s)".
    func line(done: Int, elapsed: Double) -> String {
        let count = total.map { "\(Self.grouped(done)) of \(Self.grouped($0)) \(unit)" } ?? "\(unit) \(Self.grouped(done))"
        return "\(task): \(count) (\(Int(elapsed.rounded(.down))) s)"
    }

    /// Records that `done` units are finished; prints when it is time to.
    func update(_ done: Int, total newTotal: Int? = nil) {
        if let newTotal { total = newTotal }
        let now = ContinuousClock.now
        let elapsed = Self.seconds(now - start)
        let sinceLast = Self.seconds(now - lastReport)
        if isTerminal {
            guard elapsed >= 0.5, sinceLast >= 0.1 else { return }
            lastReport = now
            drewLiveLine = true
            printError("\r\u{1B}[K" + line(done: done, elapsed: elapsed), terminator: "")
        } else {
            guard sinceLast >= interval else { return }
            lastReport = now
            printError(line(done: done, elapsed: elapsed))
        }
    }

    /// Erases the live line on a terminal.
    func finish() {
        if drewLiveLine { printError("\r\u{1B}[K", terminator: "") }
        drewLiveLine = false
    }

    /// Runs `body` with a line "TASK: WHAT (N s)" on standard error every `interval` seconds
    /// while it runs (live on a terminal, every second from the second second): for one long
    /// computation with no count to show (a GLMM fit to 10⁵ studies).
    static func whileRunning<T, E: Error>(_ task: String, _ what: String, interval: Double = defaultInterval,
                                          isTerminal: Bool = isatty(2) == 1, _ body: () throws(E) -> T) throws(E) -> T {
        let reporter = ProgressReporter(task: task, unit: what, total: nil, interval: interval, isTerminal: isTerminal)
        let stop = reporter.startHeartbeat()
        defer { stop() }
        return try body()
    }

    /// Starts ``tick()`` every second on a terminal, every `interval` seconds (at least 0.1) off
    /// one; the function returned stops it and erases the live line. No tick comes after it.
    func startHeartbeat() -> () -> Void {
        // The ticks run on a serial queue of their own, and stopping is a block on that queue:
        // a tick and the stop never overlap, and none runs after it.
        let queue = DispatchQueue(label: "metapool.progress", qos: .utility)
        let timer = DispatchSource.makeTimerSource(queue: queue)
        nonisolated(unsafe) var stopped = false
        let period = isTerminal ? 1 : max(interval, 0.1)
        timer.schedule(deadline: .now() + period, repeating: period)
        timer.setEventHandler { [self] in
            guard !stopped else { return }
            tick()
        }
        timer.resume()
        return { [self] in
            queue.sync {
                stopped = true
                timer.cancel()
                finish()
            }
        }
    }

    /// One heartbeat line: "TASK: WHAT (N s)", in place on a terminal.
    func tick() {
        let elapsed = Self.seconds(ContinuousClock.now - start)
        let text = "\(task): \(unit) (\(Int(elapsed.rounded(.down))) s)"
        if isTerminal {
            drewLiveLine = true
            printError("\r\u{1B}[K" + text, terminator: "")
        } else {
            printError(text)
        }
    }

    /// 100000 → "100,000".
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}
