// Large text fixtures kept compressed (zlib format, RFC 1950, as Python's zlib.compress writes it).

import CZlib
import Foundation

enum ZlibFixture {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The text of a zlib-compressed file.
    static func text(_ url: URL) throws -> String {
        let input = [UInt8](try Data(contentsOf: url))
        // The inflated size is not stored: grow the buffer until it holds it all.
        var capacity = max(1 << 16, input.count * 8)
        while capacity <= 1 << 30 {
            var output = [UInt8](repeating: 0, count: capacity)
            var length = uLongf(capacity)
            let status = output.withUnsafeMutableBufferPointer { out in
                input.withUnsafeBufferPointer { uncompress(out.baseAddress, &length, $0.baseAddress, uLong($0.count)) }
            }
            if status == Z_OK { return String(decoding: output[..<Int(length)], as: UTF8.self) }
            guard status == Z_BUF_ERROR else { throw Failure(description: "\(url.lastPathComponent): zlib status \(status)") }
            capacity *= 4
        }
        throw Failure(description: "\(url.lastPathComponent): larger than 1 GiB inflated")
    }
}
