// Reading a DataTable from a file path or standard input.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DataTable {
    /// Reads a CSV or JSON file; `-` reads standard input.
    public static func read(path: String) throws(MetaPoolError) -> DataTable {
        try read(bytes: readBytes(path: path), source: path)
    }

    /// The bytes of a file, or of standard input for `-`.
    public static func readBytes(path: String) throws(MetaPoolError) -> [UInt8] {
        let fd: Int32 = path == "-" ? 0 : open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason: String
            switch errno {
            case ENOENT: reason = "no such file; check the path"
            case EACCES: reason = "permission denied"
            default: reason = "cannot open the file (\(String(cString: strerror(errno))))"
            }
            throw MetaPoolError(.unreadableInput, reason, at: InputLocation(file: path))
        }
        defer { if fd != 0 { close(fd) } }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            throw MetaPoolError(.unreadableInput, "this is a directory, not a CSV or JSON file", at: InputLocation(file: path))
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw MetaPoolError(.unreadableInput, "reading failed (\(String(cString: strerror(errno))))", at: InputLocation(file: path))
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return bytes
    }
}
