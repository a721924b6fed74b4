// The folders of reference fixtures under Tests/MetaPoolTests/Fixtures, shared by the suites
// that compare with metafor.

import Foundation

enum FixtureFolder {
    /// `Tests/MetaPoolTests/Fixtures/<name>`.
    static func url(_ name: String) -> URL {
        root.appendingPathComponent("Tests/MetaPoolTests/Fixtures/\(name)")
    }

    /// The package root (three levels above this file).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The names of the files in `folder` ending in `suffix`, without it, sorted; none if the
    /// folder cannot be read (each suite's "present" test then fails).
    static func names(in folder: URL, suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(suffix) }
            .map { String($0.dropLast(suffix.count)) }.sorted()
    }
}
