// Real renderers for the plot tests: rsvg-convert (librsvg2-bin) for SVG and headless Chromium
// for the HTML report, and a PNG decoder (zlib inflate + scanline filters, PNG spec §9) to check
// that what they drew is not blank.

import CZlib
import Foundation
import Testing

/// A decoded 8-bit RGB or RGBA PNG.
struct DecodedPNG {
    var width: Int
    var height: Int
    /// RGBA, row-major.
    var pixels: [UInt8]

    enum Failure: Error, CustomStringConvertible {
        case notPNG, unsupported(String), corrupt(String)
        var description: String {
            switch self {
            case .notPNG: "not a PNG file"
            case .unsupported(let what): "unsupported PNG: \(what)"
            case .corrupt(let what): "corrupt PNG: \(what)"
            }
        }
    }

    init(_ data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.count > 8, bytes[0..<8].elementsEqual([137, 80, 78, 71, 13, 10, 26, 10]) else { throw Failure.notPNG }
        func u32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        var i = 8
        var (w, h, colorType, bitDepth, interlace) = (0, 0, 0, 0, 0)
        var idat: [UInt8] = []
        while i + 8 <= bytes.count {
            let length = u32(i)
            let type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            let start = i + 8
            guard start + length + 4 <= bytes.count else { throw Failure.corrupt("chunk \(type) runs past the end") }
            switch type {
            case "IHDR":
                (w, h) = (u32(start), u32(start + 4))
                bitDepth = Int(bytes[start + 8]); colorType = Int(bytes[start + 9]); interlace = Int(bytes[start + 12])
            case "IDAT": idat += bytes[start..<(start + length)]
            default: break
            }
            i = start + length + 4
            if type == "IEND" { break }
        }
        guard bitDepth == 8, colorType == 2 || colorType == 6, interlace == 0 else {
            throw Failure.unsupported("bit depth \(bitDepth), colour type \(colorType), interlace \(interlace)")
        }
        let channels = colorType == 6 ? 4 : 3
        let stride = w * channels
        var raw = [UInt8](repeating: 0, count: h * (stride + 1))
        var rawLength = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            idat.withUnsafeBufferPointer { input in
                uncompress(out.baseAddress, &rawLength, input.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK, Int(rawLength) == raw.count else { throw Failure.corrupt("zlib status \(status)") }
        // Undo the per-scanline filters (PNG spec §9.2): none, sub, up, average, Paeth.
        var image = [UInt8](repeating: 0, count: h * stride)
        for y in 0..<h {
            let filter = raw[y * (stride + 1)]
            for x in 0..<stride {
                let value = Int(raw[y * (stride + 1) + 1 + x])
                let a = x >= channels ? Int(image[y * stride + x - channels]) : 0
                let b = y > 0 ? Int(image[(y - 1) * stride + x]) : 0
                let c = (x >= channels && y > 0) ? Int(image[(y - 1) * stride + x - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw Failure.corrupt("filter type \(filter)")
                }
                image[y * stride + x] = UInt8((value + predicted) & 0xFF)
            }
        }
        width = w
        height = h
        if channels == 4 {
            pixels = image
        } else {
            pixels = []
            pixels.reserveCapacity(w * h * 4)
            for p in 0..<(w * h) { pixels += [image[3 * p], image[3 * p + 1], image[3 * p + 2], 255] }
        }
    }

    /// The share of pixels that are visibly darker than white (ink on a white page).
    var inkFraction: Double {
        var ink = 0
        for p in 0..<(width * height) {
            let (r, g, b, a) = (pixels[4 * p], pixels[4 * p + 1], pixels[4 * p + 2], pixels[4 * p + 3])
            if a > 128 && (Int(r) + Int(g) + Int(b)) < 3 * 200 { ink += 1 }
        }
        return Double(ink) / Double(max(width * height, 1))
    }

    /// Whether any pixel in the box is dark (ink), for checking where things were drawn.
    func hasInk(x: ClosedRange<Int>, y: ClosedRange<Int>) -> Bool {
        for yy in y where yy >= 0 && yy < height {
            for xx in x where xx >= 0 && xx < width {
                let p = yy * width + xx
                if Int(pixels[4 * p]) + Int(pixels[4 * p + 1]) + Int(pixels[4 * p + 2]) < 3 * 160 { return true }
            }
        }
        return false
    }
}

enum Renderer {
    /// The path of `name` on PATH.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static var rsvg: String? { find("rsvg-convert") }
    static var chromium: String? { find("chromium") ?? find("chromium-browser") ?? find("google-chrome") }

    /// Runs a program to completion with output discarded; returns its exit status.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 120) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { process.terminate(); break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Renders an SVG file to PNG with rsvg-convert and decodes it.
    static func renderSVG(_ svg: URL) throws -> DecodedPNG {
        let tool = try #require(rsvg, "rsvg-convert not found: install librsvg2-bin (scripts/bootstrap.sh --test does)")
        let png = svg.deletingPathExtension().appendingPathExtension("png")
        let status = try run(tool, [svg.path, "-o", png.path])
        try #require(status == 0, "rsvg-convert failed with status \(status) on \(svg.path)")
        return try DecodedPNG(Data(contentsOf: png))
    }

    /// Renders an HTML file with headless Chromium (a screenshot of the page) and decodes it.
    static func renderHTML(_ html: URL, width: Int = 1280, height: Int = 2400) throws -> DecodedPNG {
        let tool = try #require(chromium, "Chromium not found: install chromium (scripts/bootstrap.sh --test does)")
        let png = html.deletingPathExtension().appendingPathExtension("png")
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let status = try run(tool, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                    "--user-data-dir=\(profile.path)", "--window-size=\(width),\(height)",
                                    "--screenshot=\(png.path)", html.absoluteString])
        try #require(status == 0, "chromium failed with status \(status)")
        return try DecodedPNG(Data(contentsOf: png))
    }
}

