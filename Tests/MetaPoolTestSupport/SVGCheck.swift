// Reading the plots' SVG as XML in tests.

import Foundation
import FoundationXML
import Testing

/// Helpers to read the SVG as XML and map values to x positions the way the axis says.
enum SVGCheck {
    static func parse(_ svg: String) throws -> XMLDocument {
        try XMLDocument(data: Data(svg.utf8), options: [])
    }

    static func elements(_ doc: XMLDocument, _ xpath: String) throws -> [XMLElement] {
        try doc.nodes(forXPath: xpath).compactMap { $0 as? XMLElement }
    }

    /// An attribute's value (looked up in `attributes`: corelibs' `attribute(forName:)` misses
    /// hyphenated names on Linux).
    static func string(_ e: XMLElement, _ name: String) -> String? {
        e.attributes?.first { $0.name == name }?.stringValue
    }

    static func double(_ e: XMLElement, _ name: String) -> Double? {
        string(e, name).flatMap(Double.init)
    }

    /// The axis as the SVG describes it: scale, limits and pixel extent.
    struct Axis {
        var log: Bool, lower: Double, upper: Double, x0: Double, x1: Double
        func x(_ v: Double) -> Double {
            let f = log ? (Foundation.log(v) - Foundation.log(lower)) / (Foundation.log(upper) - Foundation.log(lower))
                        : (v - lower) / (upper - lower)
            return x0 + f * (x1 - x0)
        }
    }

    static func axis(_ doc: XMLDocument) throws -> Axis {
        let g = try #require(try elements(doc, "//*[local-name()='g'][@class='axis']").first, "no axis group")
        return Axis(log: string(g, "data-scale") == "log",
                    lower: try #require(double(g, "data-lower")), upper: try #require(double(g, "data-upper")),
                    x0: try #require(double(g, "data-x0")), x1: try #require(double(g, "data-x1")))
    }
}

