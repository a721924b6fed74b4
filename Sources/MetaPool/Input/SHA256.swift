// SHA-256 of the input bytes, which `pool --format json` records and `check` compares: written
// here from the standard (NIST FIPS 180-4, August 2015) rather than taken from swift-crypto,
// which brought full Foundation into the CLI and with it start-up time (issue 15).

/// The SHA-256 message digest of FIPS 180-4 (section 6.2), in one call over the whole message.
package enum SHA256 {
    /// K⁽²⁵⁶⁾ (section 4.2.2): the first 32 bits of the fractional parts of the cube roots of the
    /// first 64 primes.
    private static let roundConstants: [UInt32] = [
        0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
        0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
        0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
        0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
        0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
        0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
        0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
        0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
    ]

    /// H⁽⁰⁾ (section 5.3.3): the first 32 bits of the fractional parts of the square roots of the
    /// first 8 primes.
    private static let initialHash: [UInt32] = [
        0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
    ]

    /// The 32-byte digest of `message`.
    package static func digest(_ message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { digest($0) }
    }

    /// The digest as 64 lowercase hexadecimal digits, as `sha256sum` prints it.
    package static func hexDigest(_ message: [UInt8]) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest(message) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The 32-byte digest of `message`: its whole 64-byte blocks read in place, then the padded
    /// rest (section 5.1.1: a 1 bit, zeros up to 56 bytes mod 64, the length in bits as a 64-bit
    /// big-endian integer), which makes one block or two.
    package static func digest(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        var hash = initialHash
        let wholeBlocks = message.count / 64
        let rest = message.count - wholeBlocks * 64
        var tail = [UInt8](repeating: 0, count: 128)
        if rest > 0, let base = message.baseAddress {
            tail.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + wholeBlocks * 64, count: rest)) }
        }
        tail[rest] = 0x80
        let tailBlocks = rest < 56 ? 1 : 2
        let bits = UInt64(message.count) &* 8  // the length ℓ is below 2⁶⁴ bits for any message in memory
        for i in 0..<8 { tail[tailBlocks * 64 - 1 - i] = UInt8(truncatingIfNeeded: bits >> (8 * i)) }

        roundConstants.withUnsafeBufferPointer { k in
            hash.withUnsafeMutableBufferPointer { h in
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                    if let base = message.baseAddress {
                        for block in 0..<wholeBlocks { compress(base + block * 64, into: h, schedule: w, constants: k) }
                    }
                    tail.withUnsafeBytes { padded in
                        for block in 0..<tailBlocks { compress(padded.baseAddress! + block * 64, into: h, schedule: w, constants: k) }
                    }
                }
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for word in hash { for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: word >> shift)) } }
        return out
    }

    /// One step of the hash computation (section 6.2.2) on the 64-byte block at `block`.
    @inline(__always)
    private static func compress(_ block: UnsafeRawPointer, into h: UnsafeMutableBufferPointer<UInt32>,
                                 schedule w: UnsafeMutableBufferPointer<UInt32>, constants k: UnsafeBufferPointer<UInt32>) {
        // Step 1, the message schedule W₀…W₆₃: the block's words (big-endian, section 3.1), then
        // Wₜ = σ₁(Wₜ₋₂) + Wₜ₋₇ + σ₀(Wₜ₋₁₅) + Wₜ₋₁₆ (section 4.1.2, equations 4.6 and 4.7).
        for t in 0..<16 { w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: 4 * t, as: UInt32.self)) }
        for t in 16..<64 {
            let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
            let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
            w[t] = s1 &+ w[t - 7] &+ s0 &+ w[t - 16]
        }
        // Steps 2 and 3: the eight working variables through 64 rounds, with Ch, Maj, Σ₀ and Σ₁
        // (equations 4.2 to 4.5).
        var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
        for t in 0..<64 {
            let sigma1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let choose = (e & f) ^ (~e & g)
            let t1 = hh &+ sigma1 &+ choose &+ k[t] &+ w[t]
            let sigma0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let majority = (a & b) ^ (a & c) ^ (b & c)
            let t2 = sigma0 &+ majority
            hh = g; g = f; f = e; e = d &+ t1
            d = c; c = b; b = a; a = t1 &+ t2
        }
        // Step 4: the intermediate hash value H⁽ⁱ⁾.
        h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d
        h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
    }

    /// ROTRⁿ(x) (section 3.2).
    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}
