// Text written as it is produced: standard output in pieces of 64 KiB, or collected for a
// caller that wants the whole text (tests, files). A table of 10⁶ studies is never one String.

#if canImport(Glibc)
@preconcurrency import Glibc  // stdout, fwrite
#elseif canImport(Darwin)
import Darwin
#endif

/// UTF-8 text collected in a buffer and, when `streaming`, written to standard output (C's
/// `stdout`, as `print` writes, so the two interleave in order) each time 64 KiB have gathered.
struct TextSink {
    /// The bytes not yet written (all of them when not streaming).
    private(set) var bytes: [UInt8] = []
    /// Whether the text goes to standard output as it is produced.
    let streaming: Bool
    static let chunkSize = 1 << 16

    init(streaming: Bool) {
        self.streaming = streaming
        bytes.reserveCapacity(streaming ? Self.chunkSize + 4096 : 4096)
    }

    mutating func write(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        if streaming && bytes.count >= Self.chunkSize { flush() }
    }

    /// Appends raw bytes (one line of a table, already UTF-8).
    mutating func write(bytes more: some Collection<UInt8>) {
        bytes.append(contentsOf: more)
        if streaming && bytes.count >= Self.chunkSize { flush() }
    }

    /// For writers that build a line in place: the buffer itself (call ``lineDone()`` after).
    mutating func withBuffer<R>(_ body: (inout [UInt8]) -> R) -> R {
        let result = body(&bytes)
        if streaming && bytes.count >= Self.chunkSize { flush() }
        return result
    }

    /// Writes what is buffered to standard output (streaming only; errors are seen by ``StandardOutput/finish()``).
    mutating func flush() {
        guard streaming, !bytes.isEmpty else { return }
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, stdout) }
        if written < bytes.count && StandardOutput.firstWriteError == 0 { StandardOutput.firstWriteError = errno }
        bytes.removeAll(keepingCapacity: true)
    }

    /// The collected text (not streaming).
    var text: String { String(decoding: bytes, as: UTF8.self) }
}
