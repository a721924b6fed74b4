// A subgroup fitted differently from the others (one study: reported as that study, fixed
// effect) is named in the table and in the JSON (`model`), through the built binary.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("pool --by names each subgroup's model")
struct SubgroupModelTests {
    static let arguments = ["pool", "Datasets/her2-bm-intracranial-response.csv", "--by", "drug_class",
                            "--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR", "--where", "role=experimental"]

    static func run(_ arguments: [String]) throws -> String {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let result = try MetapoolBinary.run(binary, arguments, in: FixtureFolder.root, stdinFile: nil)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    static func models(_ arguments: [String]) throws -> [String: String] {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run(arguments + ["--format", "json"]).utf8)) as? [String: Any])
        let groups = try #require(json["subgroups"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: groups.map { ($0["subgroup"] as? String ?? "", $0["model"] as? String ?? "absent") })
    }

    @Test("the one-study subgroup is named in the table; the others are not")
    func table() throws {
        let out = try Self.run(Self.arguments)
        let notes = out.split(separator: "\n").filter { $0.hasPrefix("Note: ") }
        #expect(notes == ["Note: monoclonal antibody has one study, reported as that study (fixed effect, Wald CI).",
                          "Note: radiotherapy combination has one study, reported as that study (fixed effect, Wald CI)."], "\(out)")
        let bcg = try Self.run(["pool", "Datasets/bcg-vaccine.csv", "--by", "allocation"])
        #expect(!bcg.contains("Note: "), "\(bcg)")
    }

    @Test("JSON: model is single study for that subgroup and names the model of the others")
    func json() throws {
        #expect(try Self.models(Self.arguments) == [
            "antibody-drug conjugate": "random-effects (REML)", "tyrosine kinase inhibitor": "random-effects (REML)",
            "monoclonal antibody": "single study", "radiotherapy combination": "single study",
        ])
        #expect(try Self.models(Self.arguments + ["--method", "DL", "--common-tau2"]).values.allSatisfy { $0 == "common tau^2 (DL)" })
        #expect(try Self.models(["pool", "Datasets/bcg-vaccine.csv", "--by", "allocation", "--method", "FE"]).values.allSatisfy { $0 == "common-effect (FE)" })
        #expect(try Self.models(["pool", "Datasets/bcg-vaccine.csv", "--by", "allocation", "--method", "MH"]) == [
            "random": "common-effect (MH)", "alternate": "common-effect (MH)", "systematic": "common-effect (MH)",
        ])
    }
}
