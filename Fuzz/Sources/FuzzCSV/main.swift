// libFuzzer harness (a): arbitrary bytes read as a CSV file, through the whole pipeline.
import FuzzSupport
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    Check.pipeline(bytes: bytes, source: "fuzz.csv")
    return 0
}

exit(runFuzzer(fuzzCSV))
