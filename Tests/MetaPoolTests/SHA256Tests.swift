// SHA-256 (Sources/MetaPool/Input/SHA256.swift) against the standard's examples and coreutils:
// the FIPS 180-4 / NIST CSRC example messages ("abc", the 448-bit and 896-bit two-block
// messages, one million "a") and the empty message, then every length from 0 to 200 bytes,
// across the padding boundaries, against `sha256sum` (Fixtures/sha256/lengths.txt, written by
// Tests/Reference/generate_sha256.sh).

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("SHA-256 (FIPS 180-4)")
struct SHA256Tests {
    static func hex(_ text: String) -> String { SHA256.hexDigest(Array(text.utf8)) }

    @Test("the NIST example messages")
    func nistExamples() {
        // NIST CSRC "Cryptographic Standards and Guidelines: Examples with Intermediate Values", SHA-256.
        #expect(Self.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(Self.hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
                == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        #expect(Self.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("the digest is 32 bytes, the hex its 64 lowercase digits")
    func digestBytes() {
        let digest = SHA256.digest(Array("abc".utf8))
        #expect(digest.count == 32)
        #expect(digest.prefix(4) == [0xBA, 0x78, 0x16, 0xBF] && digest.suffix(3) == [0x00, 0x15, 0xAD])
    }

    @Test("every length from 0 to 200 bytes agrees with sha256sum")
    func lengthsAgainstCoreutils() throws {
        let text = try String(contentsOf: FixtureFolder.url("sha256/lengths.txt"), encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 201)
        for line in lines {
            let fields = line.split(separator: " ")
            let n = try #require(Int(fields[0]))
            let message = (0..<n).map { UInt8((167 * $0 + 13) % 256) }
            #expect(SHA256.hexDigest(message) == String(fields[1]), "length \(n)")
            // A buffer that does not start at a word boundary reads the same.
            let shifted = [UInt8(0)] + message
            let digest = shifted.withUnsafeBytes { SHA256.digest(UnsafeRawBufferPointer(rebasing: $0[1...])) }
            #expect(digest == SHA256.digest(message), "length \(n), unaligned")
        }
    }
}
