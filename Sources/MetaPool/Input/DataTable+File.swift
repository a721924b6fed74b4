// Reading a DataTable from a file path or standard input.

// swift-system's FileDescriptor: the same code on Linux, macOS and Windows.
import SystemPackage

extension DataTable {
    /// Reads a CSV or JSON file; `-` reads standard input. `delimiter` as for ``read(bytes:source:delimiter:)``.
    public static func read(path: String, delimiter: CSVDelimiter? = nil) throws(MetaPoolError) -> DataTable {
        try read(bytes: readBytes(path: path), source: path, delimiter: delimiter)
    }

    /// The bytes of a file, or of standard input for `-`.
    public static func readBytes(path: String) throws(MetaPoolError) -> [UInt8] {
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
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
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
        }
        return bytes
    }
}
