// The fast search for repeated study labels (ForestPlot.repeatedASCIILabels) against a
// dictionary of first rows, the definition it replaces for ASCII labels.

import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("Repeated labels: the hash table finds what a dictionary finds")
struct RepeatedLabelTests {
    static func byDictionary(_ labels: [String]) -> [String: [Int]] {
        var first: [String: Int] = [:], groups: [String: [Int]] = [:]
        for (i, l) in labels.enumerated() {
            if let f = first[l] { groups[l, default: [f]].append(i) } else { first[l] = i }
        }
        return groups
    }

    @Test("random ASCII labels with repeats, and none for non-ASCII ones")
    func randomLabels() {
        var g = MetaPoolTestSupport.SplitMix64(seed: 15_004)
        for round in 0..<200 {
            let n = Int.random(in: 0...2_000, using: &g)
            let distinct = Int.random(in: 1...max(1, n), using: &g)
            let labels = (0..<n).map { _ in "S\(Int.random(in: 0..<distinct, using: &g))" + (round % 2 == 0 ? "" : " trial") }
            #expect(ForestPlot.repeatedASCIILabels(labels) == Self.byDictionary(labels))
        }
        #expect(ForestPlot.repeatedASCIILabels(["A", "Müller", "A"]) == nil)
        // U+212A KELVIN SIGN is canonically "K": left to the dictionary, which groups them.
        #expect(ForestPlot.repeatedASCIILabels(["K", "\u{212A}"]) == nil)
        #expect(Self.byDictionary(["K", "\u{212A}"]) == ["K": [0, 1]])
    }
}
