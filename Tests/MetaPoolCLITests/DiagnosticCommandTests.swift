// metapool regress, bias and funnel --trimfill through the built binary: the JSON carries the
// library's numbers (themselves checked against metafor in RegressionTests and BiasTests), and
// bad input fails with the documented status.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("metapool regress, bias, funnel --trimfill")
struct DiagnosticCommandTests {
    static let bcg = FixtureFolder.root.appendingPathComponent("Datasets/bcg-vaccine.csv").path

    static func json(_ arguments: [String]) throws -> [String: Any] {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let result = try MetapoolBinary.run(binary, arguments, in: FixtureFolder.root, stdinFile: nil)
        try #require(result.status == 0, "\(arguments): \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    /// A number of the JSON output, or nil.
    static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    @Test("regress: coefficients, QM, QE, R² and the permutation test as the library computes them")
    func regress() throws {
        let out = try Self.json(["regress", Self.bcg, "--measure", "RR", "--mods", "latitude,allocation", "--permutations", "200", "--format", "json"])
        let table = try DataTable.read(path: Self.bcg)
        let effects = try EffectSizes(table: table, measure: .riskRatio)
        let design = try ModeratorDesign(table: table, moderators: ["latitude", "allocation"])
        let fit = try MetaRegression(y: effects.yi, v: effects.vi, design: design.matrix, predictors: design.predictors)
        let coefficients = try #require(out["coefficients"] as? [[String: Any]])
        #expect(coefficients.map { $0["name"] as? String } == ["intrcpt", "latitude", "allocationrandom", "allocationsystematic"])
        for (j, c) in coefficients.enumerated() {
            #expect(isClose(Self.number(c["estimate"]), fit.coefficients[j], relative: 1e-12, absolute: 1e-12) && isClose(Self.number(c["se"]), fit.standardErrors[j], relative: 1e-12, absolute: 1e-12))
        }
        #expect(isClose(Self.number(out["qm"]), fit.moderatorTest?.statistic ?? .nan, relative: 1e-12, absolute: 1e-12) && isClose(Self.number(out["qe"]), fit.residualQ, relative: 1e-12, absolute: 1e-12))
        expectClose(Self.number(out["tau2"]), fit.tauSquaredEstimate, relative: 1e-12, absolute: 1e-12)
        expectClose(Self.number(out["r2"]), try fit.rSquared(y: effects.yi, v: effects.vi) ?? .nan, relative: 1e-12, absolute: 1e-12)
        // metafor prints QM(df = 3) = 11.0605 (p = 0.0114) for rma(yi, vi, mods = ~ ablat + alloc).
        #expect(abs(((out["qm"] as? Double) ?? 0) - 11.0605) < 1e-3)
        let permutation = try #require(out["permutation"] as? [String: Any])
        #expect((permutation["permutations"] as? Int) == 200 && (permutation["exact"] as? Bool) == false)
        let p = try #require(permutation["qm_p_value"] as? Double)
        #expect(p > 0 && p <= 1)
    }

    @Test("bias: Egger, rank correlation, Peters and trim-and-fill; the funnel shows the filled studies")
    func bias() throws {
        let out = try Self.json(["bias", Self.bcg, "--method", "FE", "--format", "json"])
        let effects = try EffectSizes(table: try DataTable.read(path: Self.bcg))
        let egger = try EggerTest(effects, model: .metaRegression, predictor: .standardError, method: .fixedEffect)
        expectClose(Self.number((out["egger"] as? [String: Any])?["statistic"]), egger.statistic, relative: 1e-12, absolute: 1e-12)
        // metafor: regtest z = -5.2840; ranktest tau = 0.0256, p = 0.9524; trimfill: 4 missing on the right (SE 2.3853).
        #expect(abs(egger.statistic - -5.2840) < 1e-4)
        let rank = try #require(out["rank_correlation"] as? [String: Any])
        #expect(abs(((rank["tau"] as? Double) ?? 0) - 0.0256) < 1e-4)
        #expect(out["peters"] != nil)
        let fill = try #require(out["trim_and_fill"] as? [String: Any])
        #expect((fill["k0"] as? Int) == 4 && (fill["side"] as? String) == "right")
        let binary = try #require(MetapoolBinary.url)
        let funnel = try MetapoolBinary.run(binary, ["funnel", Self.bcg, "--method", "FE", "--trimfill", "-o", "-"], in: FixtureFolder.root, stdinFile: nil)
        #expect(funnel.status == 0)
        let doc = try SVGCheck.parse(funnel.stdout)
        #expect(try SVGCheck.elements(doc, "//*[local-name()='circle'][@class='point filled']").count == 4)
        #expect(try SVGCheck.elements(doc, "//*[local-name()='circle'][@class='point']").count == 13)
    }

    @Test("bad input: unknown moderator 65, no --mods 64, too few studies for bias 65")
    func errors() throws {
        let binary = try #require(MetapoolBinary.url)
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let unknown = try MetapoolBinary.run(binary, ["regress", Self.bcg, "--mods", "nope"], in: dir, stdinFile: nil)
        #expect(unknown.status == 65 && unknown.stderr.contains("column \"nope\""), "\(unknown.stderr)")
        let none = try MetapoolBinary.run(binary, ["regress", Self.bcg], in: dir, stdinFile: nil)
        #expect(none.status == 64)
        try "study,yi,vi\nA,0.1,0.01\nB,0.3,0.02\n".write(to: dir.appendingPathComponent("two.csv"), atomically: true, encoding: .utf8)
        let few = try MetapoolBinary.run(binary, ["bias", "two.csv"], in: dir, stdinFile: nil)
        #expect(few.status == 65 && few.stdout.isEmpty && few.stderr.hasPrefix("error: two.csv"), "\(few.stderr)")
        let bad = try MetapoolBinary.run(binary, ["regress", "two.csv", "--mods", "yi", "--permutations", "0"], in: dir, stdinFile: nil)
        #expect(bad.status == 64)
        // Issue 18: one permutation printed p = 1; 2⁶³ − 1 ran for a day. 100 to 10⁶ are accepted.
        for count in ["1", "99", "1000001", "9223372036854775807"] {
            let refused = try MetapoolBinary.run(binary, ["regress", Self.bcg, "--mods", "latitude", "--permutations", count], in: dir, stdinFile: nil)
            #expect(refused.status == 64 && refused.stdout.isEmpty && refused.stderr.contains("--permutations must be"), "\(count): \(refused.stderr)")
        }
    }

    @Test("regress and sensitivity --order-by read numbers as the effect columns: nan, inf, 1e999 and hex are data errors at the cell; huge moderators exit 65")
    func moderatorNumbers() throws {
        let binary = try #require(MetapoolBinary.url)
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (i, cell) in ["nan", "inf", "1e999", "-1e999", "0x10"].enumerated() {
            let name = "m\(i).csv"
            try "study,yi,vi,x\nA,0.1,0.01,1\nB,0.3,0.02,2\nC,0.2,0.03,\(cell)\nD,0.4,0.02,4\n".write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
            let regress = try MetapoolBinary.run(binary, ["regress", name, "--mods", "x"], in: dir, stdinFile: nil)
            #expect(regress.status == 65 && regress.stdout.isEmpty, "\(cell): \(regress.status) \(regress.stderr)")
            #expect(regress.stderr.contains(name) && regress.stderr.contains("row 3") && regress.stderr.contains("column \"x\""), "\(cell): \(regress.stderr)")
            #expect(!regress.stdout.contains("x\(cell)"))
            let ordered = try MetapoolBinary.run(binary, ["sensitivity", name, "--order-by", "x"], in: dir, stdinFile: nil)
            #expect(ordered.status == 65 && ordered.stdout.isEmpty && ordered.stderr.contains("row 3") && ordered.stderr.contains("--order-by"), "\(cell): \(ordered.stderr)")
        }
        for (i, huge) in [["1e300", "-1e300"], ["1e160", "2"]].enumerated() {
            let name = "huge\(i).csv"
            try "study,yi,vi,x\nA,0.1,0.01,1\nB,0.3,0.02,\(huge[0])\nC,0.2,0.03,3\nD,0.4,0.02,\(huge[1])\n".write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
            let r = try MetapoolBinary.run(binary, ["regress", name, "--mods", "x"], in: dir, stdinFile: nil)
            #expect(r.status == 65 && r.stdout.isEmpty && r.stderr.contains("column \"x\"") && r.stderr.contains("rescale") && !r.stderr.contains("LAPACK"), "\(huge): \(r.stderr)")
        }
        // Factor levels differing only in case are one level, as --by groups them.
        try "study,yi,vi,arm\nA,0.1,0.01,Drug\nB,0.3,0.02,placebo\nC,0.2,0.03,drug\nD,0.4,0.02,Placebo\nE,0.5,0.04,DRUG\n".write(to: dir.appendingPathComponent("case.csv"), atomically: true, encoding: .utf8)
        let factor = try MetapoolBinary.run(binary, ["regress", "case.csv", "--mods", "arm", "--format", "json"], in: dir, stdinFile: nil)
        #expect(factor.status == 0, "\(factor.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(factor.stdout.utf8)) as? [String: Any])
        #expect(((out["coefficients"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String } == ["intrcpt", "armplacebo"])
        let by = try MetapoolBinary.run(binary, ["pool", "case.csv", "--by", "arm", "--format", "json"], in: dir, stdinFile: nil)
        let groups = try #require((try JSONSerialization.jsonObject(with: Data(by.stdout.utf8)) as? [String: Any])?["subgroups"] as? [[String: Any]])
        #expect(groups.count == 2)
    }

    @Test("sensitivity: leave-one-out, cumulative (ordered by a column) and influence as the library computes them")
    func sensitivity() throws {
        let out = try Self.json(["sensitivity", Self.bcg, "--method", "DL", "--order-by", "latitude", "--format", "json"])
        let table = try DataTable.read(path: Self.bcg)
        let fit = try MetaAnalysis(EffectSizes(table: table), method: .derSimonianLaird)
        let loo = try LeaveOneOut(fit)
        let rows = try #require((out["leave_one_out"] as? [String: Any])?["rows"] as? [[String: Any]])
        #expect(rows.count == 13)
        for (row, f) in zip(rows, loo.fits) { #expect(isClose(Self.number(row["estimate"]), f.estimate, relative: 1e-12, absolute: 1e-12) && isClose(Self.number(row["tau2"]), f.tauSquared ?? .nan, relative: 1e-12, absolute: 1e-12)) }
        let cumulative = try #require(out["cumulative"] as? [String: Any])
        let latitudes: [Double] = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]
        let expectedOrder = try CumulativeAnalysis(fit, sortedBy: latitudes).order
        #expect((cumulative["order"] as? [Int]) == expectedOrder)
        let influence = try #require((out["influence"] as? [String: Any])?["rows"] as? [[String: Any]])
        let diagnostics = try InfluenceDiagnostics(fit)
        for (row, s) in zip(influence, diagnostics.studies) {
            #expect(isClose(Self.number(row["cook_d"]), s.cooksDistance, relative: 1e-12, absolute: 1e-12) && (row["influential"] as? Bool) == s.isInfluential)
        }
        let binary = try #require(MetapoolBinary.url)
        let missing = try MetapoolBinary.run(binary, ["sensitivity", Self.bcg, "--order-by", "nope"], in: FixtureFolder.root, stdinFile: nil)
        #expect(missing.status == 65 && missing.stderr.contains("column \"nope\""))
    }

    @Test("pool --method GLMM: proportions and two-group odds ratios as the library fits them; usage errors")
    func glmm() throws {
        let pritz = FixtureFolder.root.appendingPathComponent("Datasets/pritz1997-hyperdynamic-therapy.csv").path
        let out = try Self.json(["pool", pritz, "--method", "GLMM", "--format", "json"])
        let model = try GeneralizedLinearMixedModel(table: try DataTable.read(path: pritz))
        #expect(isClose(Self.number(out["estimate"]), model.estimate, relative: 1e-12, absolute: 1e-12) && isClose(Self.number(out["tau2"]), model.tauSquared, relative: 1e-12, absolute: 1e-12))
        // metafor rma.glmm(measure = "PLO", xi, ni, data = dat.pritz1997): 1.3766 (SE 0.2884), Wld(13) = 25.0979.
        #expect(abs(model.estimate - 1.3766) < 1e-4 && abs(model.standardError - 0.2884) < 1e-4)
        let or = try Self.json(["pool", Self.bcg, "--method", "GLMM", "--quadrature-points", "1", "--format", "json"])
        #expect((or["model"] as? String) == "UM.FS")
        let options = try #require(or["options"] as? [String: Any])
        #expect((options["quadrature_points"] as? Int) == 1 && (options["method"] as? String) == "GLMM")
        let binary = try #require(MetapoolBinary.url)
        for args in [["--ci", "hksj"], ["--measure", "RR"], ["--quadrature-points", "0"], ["--by", "allocation", "--common-tau2"]] {
            let r = try MetapoolBinary.run(binary, ["pool", Self.bcg, "--method", "GLMM"] + args, in: FixtureFolder.root, stdinFile: nil)
            #expect(r.status == 64, "\(args): \(r.stderr)")
        }
        // Subgroups of GLMM fits: each subgroup fitted alone, the Wald test between them.
        let byAllocation = try Self.json(["pool", Self.bcg, "--method", "GLMM", "--quadrature-points", "1", "--by", "allocation", "--format", "json"])
        let groups = try #require(byAllocation["subgroups"] as? [[String: Any]])
        #expect(groups.map { $0["subgroup"] as? String } == ["random", "alternate", "systematic"])
        #expect(byAllocation["forest"] != nil && byAllocation["test_subgroup_differences"] != nil)
        let hr = FixtureFolder.root.appendingPathComponent("Datasets/her2-bm-hazard-ratios.csv").path
        let wrong = try MetapoolBinary.run(binary, ["pool", hr, "--method", "GLMM"], in: FixtureFolder.root, stdinFile: nil)
        #expect(wrong.status == 65 && wrong.stderr.contains("her2-bm-hazard-ratios.csv"), "\(wrong.stderr)")
    }
}
