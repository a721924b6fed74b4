// Reading a DataTable from a file path or standard input.

// swift-system's FileDescriptor: the same code on Linux, macOS and Windows.
import SystemPackage

extension DataTable {
    /// Reads a CSV or JSON file; `-` reads standard input. `delimiter` as for ``read(bytes:source:delimiter:)``.
    public static func read(path: String, delimiter: CSVDelimiter? = nil) throws(MetaPoolError) -> DataTable {
        try read(bytes: readBytes(path: path), source: path, delimiter: delimiter)
    }

    /// The bytes of a file, or of standard input for `-`, checked as text while they are read:
    /// reading stops at the first byte that cannot be UTF-8 text (a NUL, an invalid sequence;
    /// UTF-16 and UTF-32 are named), so a device such as `/dev/zero` or `/dev/urandom` is refused
    /// after one 64 KiB chunk. With `maximumSize`, a file of more bytes is refused as soon as
    /// they have been read (`what` names the file in the message, e.g. "a baseline").
    public static func readBytes(path: String, maximumSize: Int? = nil, what: String = "the input") throws(MetaPoolError) -> [UInt8] {
        let fd: FileDescriptor
        if path == "-" {
            fd = .standardInput
        } else {
            do {
                fd = try FileDescriptor.open(FilePath(path), .readOnly, retryOnInterrupt: true)
            } catch {
                let reason = switch error {
                case .noSuchFileOrDirectory: "no such file; check the path"
                case .permissionDenied: "permission denied"
                case .isDirectory: "this is a directory, not a CSV or JSON file"
                default: "cannot open the file (\(error))"
                }
                throw MetaPoolError(.unreadableInput, reason, at: InputLocation(file: path))
            }
        }
        defer { if path != "-" { try? fd.close() } }
        var bytes: [UInt8] = []
        var chunk = 1 << 16
        // A regular file's size, to read it without growing the array (a pipe cannot seek: no hint),
        // and through a buffer no larger than it: 64 KiB are 16 pages to fault in for a file of 12 KB.
        if path != "-", let size = try? fd.seek(offset: 0, from: .end), (try? fd.seek(offset: 0, from: .start)) == 0,
           size > 0, size < Int64(maximumSize ?? Int.max) {
            bytes.reserveCapacity(Int(size) + 1)
            chunk = min(chunk, Int(size) + 1)
        }
        var buffer = [UInt8](repeating: 0, count: chunk)
        var validator = TextValidator(source: path)
        while true {
            let n: Int
            do {
                n = try buffer.withUnsafeMutableBytes { try fd.read(into: $0, retryOnInterrupt: true) }
            } catch Errno.isDirectory {
                throw MetaPoolError(.unreadableInput, "this is a directory, not a CSV or JSON file", at: InputLocation(file: path))
            } catch {
                throw MetaPoolError(.unreadableInput, "reading failed (\(error))", at: InputLocation(file: path))
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
            if let maximumSize, bytes.count > maximumSize {
                throw MetaPoolError(.malformedInput,
                                    "the file is larger than \(Self.describeSize(maximumSize)), the most \(what) may be; check the path",
                                    at: InputLocation(file: path))
            }
            try validator.check(bytes, final: false)
        }
        try validator.check(bytes, final: true)
        return bytes
    }

    /// `64 MiB` for 64 × 2²⁰ bytes, else the number of bytes.
    static func describeSize(_ bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }
}
